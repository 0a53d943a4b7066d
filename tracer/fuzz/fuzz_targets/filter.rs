#![no_main]
//! Fuzzes the filter parser: an expression (and a frame it runs on); the program and the tree must agree.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::targets::filter(data));

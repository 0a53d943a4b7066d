#![no_main]
//! Fuzzes the printer in every output mode, on a frame of any link type `-r` reads.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::targets::printer(data));

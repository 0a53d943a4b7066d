#![no_main]
//! Fuzzes the application printer(s) of ports [23].
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::run(data, &[23]));

#![no_main]
//! Fuzzes the application printer(s) of ports [179].
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::run(data, &[179]));

#![no_main]
//! Fuzzes the application printer(s) of ports (all of print-tcp.c's).
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::run(data, tracer_fuzz::APP_PORTS));

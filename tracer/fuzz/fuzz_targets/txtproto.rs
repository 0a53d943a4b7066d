#![no_main]
//! Fuzzes the application printer(s) of ports [21, 25, 43, 80, 8080, 554, 8554, 22].
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::run(
    data,
    &[21, 25, 43, 80, 8080, 554, 8554, 22]
));

#![no_main]
//! Fuzzes the ring record decoder: one kernel record, decoded and printed as the live loop does.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::targets::live_record(data));

#![no_main]
//! Fuzzes the connection tracker (`-r --conn --http`): packets on three connections, records as text and JSON.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::targets::conn(data));

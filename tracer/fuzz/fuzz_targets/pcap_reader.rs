#![no_main]
//! Fuzzes the pcap/pcapng reader: a whole capture file, read and printed as `tracer -r` does.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tracer_fuzz::targets::pcap_reader(data));

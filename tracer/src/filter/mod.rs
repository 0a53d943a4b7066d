//! pcap-filter expressions: parsed, compiled to the kernel's instruction list
//! ([`tracer_common::FilterInsn`]), and run on captured packets.

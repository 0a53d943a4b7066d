//! Capture files: pcap and pcapng in (`-r`) and out (`-w`).

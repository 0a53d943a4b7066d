//! Bad input never panics: a corrupt or truncated capture yields the packets before the
//! damage, then exactly one one-line error, then `None`; failed writes are errors too.

mod support;

use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use tracer::packet::{LinkType, Packet, Timestamp};
use tracer::pcap::{Format, PcapError, PcapReader, PcapWriter};

/// The conformance corpus (tests/support: one lookup, one policy); these tests need it
/// even under a plain `cargo test`.
fn corpus() -> PathBuf {
    support::corpus_dir().expect("the conformance corpus (set TRACER_CONFORMANCE)")
}

type Got = (Timestamp, LinkType, Vec<u8>, u32);

/// Reads everything: the open error, or the packets and the one error after them.
fn read(bytes: &[u8]) -> Result<(Vec<Got>, Option<PcapError>), PcapError> {
    let mut r = PcapReader::from_reader(Cursor::new(bytes.to_vec()))?;
    let mut got = Vec::new();
    let mut err = None;
    while let Some(p) = r.next_packet() {
        match p {
            Ok(p) => {
                assert!(err.is_none(), "a packet after the error");
                got.push((p.ts, p.link, p.data.to_vec(), p.wire_len));
            }
            Err(e) => {
                assert!(err.is_none(), "a second error: {e}");
                err = Some(e);
            }
        }
    }
    for _ in 0..3 {
        assert!(r.next_packet().is_none(), "something after None");
    }
    if let Some(e) = &err {
        let msg = e.to_string();
        assert!(!msg.contains('\n') && !msg.is_empty(), "{msg:?}");
    }
    Ok((got, err))
}

/// The corpus file as classic pcap and in our pcapng, with the byte offsets where a record
/// or block ends (cutting there leaves a valid, shorter file).
fn variants(name: &str) -> Vec<(Vec<u8>, Vec<usize>)> {
    let pcap = std::fs::read(corpus().join(name)).unwrap();
    let (packets, err) = read(&pcap).unwrap();
    assert!(err.is_none());
    let mut pcap_ends = vec![24];
    for p in &packets {
        pcap_ends.push(pcap_ends.last().unwrap() + 16 + p.2.len());
    }
    let sink = Sink::default();
    let mut w = PcapWriter::from_writer(sink.clone(), Format::Pcapng, packets[0].1, 0).unwrap();
    let mut ng_ends = vec![44, 44 + 32];
    for p in &packets {
        w.write(&Packet {
            ts: p.0,
            link: p.1,
            data: &p.2,
            wire_len: p.3,
        })
        .unwrap();
        ng_ends.push(ng_ends.last().unwrap() + 32 + p.2.len().div_ceil(4) * 4);
    }
    w.flush().unwrap();
    let ng = sink.0.lock().unwrap().clone();
    assert_eq!(*ng_ends.last().unwrap(), ng.len());
    vec![(pcap, pcap_ends), (ng, ng_ends)]
}

#[derive(Clone, Default)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn truncation_at_every_byte_yields_a_prefix_then_one_error() {
    for (bytes, ends) in variants("pcaps/lo-nc.pcap") {
        let (full, _) = read(&bytes).unwrap();
        for cut in 0..bytes.len() {
            let r = read(&bytes[..cut]);
            if cut == 0 {
                assert!(matches!(r, Err(PcapError::Empty)));
                continue;
            }
            if cut < ends[0] {
                let e = r.unwrap_err();
                assert!(
                    matches!(e, PcapError::TruncatedHeader { .. }),
                    "cut {cut}: {e}"
                );
                continue;
            }
            let (got, err) = r.unwrap();
            assert_eq!(got[..], full[..got.len()], "cut {cut}");
            match err {
                None => assert!(ends.contains(&cut), "cut {cut} read cleanly"),
                Some(e) => {
                    assert!(!ends.contains(&cut), "cut {cut} at a boundary: {e}");
                    assert!(matches!(e, PcapError::Truncated { .. }), "cut {cut}: {e}");
                    let msg = e.to_string();
                    assert!(
                        msg.contains(&format!("(packet {})", got.len() + 1)),
                        "{msg}"
                    );
                }
            }
        }
    }
}

#[test]
fn truncated_record_error_says_where() {
    let bytes = std::fs::read(corpus().join("pcaps/lo-nc.pcap")).unwrap();
    let (got, err) = read(&bytes[..bytes.len() - 10]).unwrap();
    assert_eq!(got.len(), 11);
    let msg = err.unwrap().to_string();
    assert_eq!(
        msg,
        "file truncated in packet record at byte 984 (packet 12): 72 of 82 bytes present"
    );
}

#[test]
fn empty_short_and_foreign_files_are_clear_errors() {
    assert_eq!(
        read(b"").unwrap_err().to_string(),
        "empty file: no pcap or pcapng header"
    );
    let e = read(&[0xd4, 0xc3]).unwrap_err();
    assert!(
        matches!(
            e,
            PcapError::TruncatedHeader {
                have: 2,
                need: 4,
                ..
            }
        ),
        "{e}"
    );
    let e = read(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "truncated pcap file header: 8 of 24 bytes present"
    );
    let e = read(b"\x1f\x8b\x08\x00 gzip, not pcap").unwrap_err();
    assert_eq!(
        e.to_string(),
        "not a pcap or pcapng file: unknown magic number 0x1f8b0800 at byte 0"
    );
    let e = read(b"\x0a\x0d\x0d\x0a\x1c\0\0\0\x01\x02\x03\x04").unwrap_err();
    assert!(e.to_string().contains("byte-order magic"), "{e}");
    let mut v3 = std::fs::read(corpus().join("pcaps/rst.pcap")).unwrap();
    v3[4] = 3;
    assert_eq!(
        read(&v3).unwrap_err().to_string(),
        "unsupported pcap version 3.4"
    );
    let e = PcapReader::open("/nonexistent/x.pcap").unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/x.pcap: No such file or directory (os error 2)"
    );
}

#[test]
fn absurd_lengths_are_errors_not_allocations() {
    let mut bytes = std::fs::read(corpus().join("pcaps/rst.pcap")).unwrap();
    // Second record's caplen: 4 GB.
    let (first, _) = read(&bytes).unwrap();
    let second = 24 + 16 + first[0].2.len();
    bytes[second + 8..second + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let (got, err) = read(&bytes).unwrap();
    assert_eq!(got.len(), 1);
    let e = err.unwrap();
    assert!(
        matches!(
            e,
            PcapError::CaplenTooLarge {
                packet: 2,
                caplen: u32::MAX,
                max: 262_144,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "packet 2 at byte {second}: captured length 4294967295 is larger than the maximum \
             262144 (corrupt file?)"
        )
    );

    // pcapng: a block claiming 4 GB, a packet claiming more than its block, a bad trailer.
    let (ng, ends) = variants("pcaps/rst.pcap").pop().unwrap();
    let epb = ends[1];
    for (at, value, want) in [
        (epb + 4, 0xffff_fff0u32, "exceeds the maximum"),
        (epb + 4, 0x43, "not a multiple of 4"),
        (epb + 4, 0x10, "not a multiple of 4 of at least 32"),
        (epb + 20, 1 << 30, "larger than the maximum 262144"),
        (
            epb + 20,
            1000,
            "runs past the end of the 108-byte enhanced packet block",
        ),
        (
            ends[2] - 4,
            112,
            "trailing length 112 differs from its length 108",
        ),
        (epb + 8, 1, "interface 1 is not described"),
    ] {
        let mut bad = ng.clone();
        bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
        let (got, err) = read(&bad).unwrap();
        assert!(got.is_empty());
        let msg = err.unwrap().to_string();
        assert!(msg.contains(want), "{msg}");
        assert!(msg.contains(&format!("at byte {epb}")), "{msg}");
    }
}

/// xorshift64*: a seeded generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_bytes_never_panic() {
    let mut files = Vec::new();
    for name in [
        "pcaps/lo-nc.pcap",
        "pcaps/any-iface.pcap",
        "seeds/nc-hello.pcap",
    ] {
        files.extend(variants(name).into_iter().map(|v| v.0));
    }
    let mut rng = Rng(0x7261_6365_7221);
    // PCAP_MUTATIONS runs a longer sweep.
    let rounds: usize = std::env::var("PCAP_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6000);
    let mut errors = 0;
    for round in 0..rounds {
        let mut bytes = files[round % files.len()].clone();
        for _ in 0..1 + rng.below(6) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] = rng.next() as u8,
                1 => bytes[at] ^= 1 << rng.below(8),
                // Whole aligned words: lengths, types and magics.
                2 => {
                    let at = at & !3;
                    let v = [0, 1, 0xffff_ffff, 0x8000_0000, rng.next() as u32][rng.below(5)];
                    let end = (at + 4).min(bytes.len());
                    bytes[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
                }
                _ => bytes.truncate(at),
            }
        }
        match read(&bytes) {
            Ok((_, Some(_))) | Err(_) => errors += 1,
            Ok((_, None)) => {}
        }
    }
    assert!(
        errors > rounds / 6,
        "only {errors} of {rounds} mutations were errors"
    );
}

/// A source that fails after handing out some bytes.
struct Failing(Cursor<Vec<u8>>);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = buf.len().min(100);
        let n = self.0.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::other("device gone"));
        }
        Ok(n)
    }
}

#[test]
fn read_errors_come_after_the_packets_read() {
    let bytes = std::fs::read(corpus().join("pcaps/lo-nc.pcap")).unwrap();
    let mut r = PcapReader::from_reader(Failing(Cursor::new(bytes[..500].to_vec()))).unwrap();
    let mut n = 0;
    let err = loop {
        match r.next_packet() {
            Some(Ok(_)) => n += 1,
            Some(Err(e)) => break e,
            None => panic!("no error"),
        }
    };
    assert!(r.next_packet().is_none());
    assert!(n > 0);
    assert_eq!(err.to_string(), "read error at byte 500: device gone");
}

#[test]
fn full_disk_and_broken_pipe_are_write_errors() {
    let pkt = Packet {
        ts: Timestamp::new(1, 0),
        link: LinkType::Ethernet,
        data: &[0; 1500],
        wire_len: 1500,
    };
    if Path::new("/dev/full").exists() {
        let mut w = PcapWriter::create("/dev/full", Format::Pcap, LinkType::Ethernet, 0).unwrap();
        let mut res = Ok(());
        for _ in 0..1000 {
            res = w.write(&pkt);
            if res.is_err() {
                break;
            }
        }
        let e = res.and_then(|_| w.flush()).unwrap_err();
        assert!(
            e.to_string().starts_with("write error: No space left"),
            "{e}"
        );
    }

    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(b);
    let mut w = PcapWriter::from_writer(a, Format::Pcapng, LinkType::Ethernet, 0).unwrap();
    let e = w.write(&pkt).and_then(|_| w.flush()).unwrap_err();
    assert!(
        matches!(&e, PcapError::Write { source } if source.kind() == io::ErrorKind::BrokenPipe),
        "{e}"
    );

    let e =
        PcapWriter::create("/nonexistent/out.pcap", Format::Pcap, LinkType::Raw, 0).unwrap_err();
    assert!(matches!(e, PcapError::Open { .. }), "{e}");
}

#[test]
fn timestamps_out_of_range_for_the_format_are_errors() {
    let mut pkt = Packet {
        ts: Timestamp::new(-1, 0),
        link: LinkType::Raw,
        data: b"E",
        wire_len: 1,
    };
    for format in [Format::Pcap, Format::Pcapng] {
        let mut w = PcapWriter::from_writer(io::sink(), format, LinkType::Raw, 0).unwrap();
        let e = w.write(&pkt).unwrap_err();
        assert!(
            matches!(e, PcapError::TimestampRange { packet: 1, .. }),
            "{e}"
        );
    }
    pkt.ts.sec = 1 << 32;
    let mut w = PcapWriter::from_writer(io::sink(), Format::Pcap, LinkType::Raw, 0).unwrap();
    assert!(w.write(&pkt).is_err());
    let mut w = PcapWriter::from_writer(io::sink(), Format::Pcapng, LinkType::Raw, 0).unwrap();
    assert!(w.write(&pkt).is_ok());
}

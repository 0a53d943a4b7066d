//! Format variants built byte by byte: classic pcap in both byte orders and precisions,
//! pcapng sections in either byte order, timestamp resolutions and offsets, simple and
//! obsolete packet blocks, skipped blocks, and link types the tracer does not read.

use std::io::Cursor;

use tracer::packet::{LinkType, Timestamp, Timeval};
use tracer::pcap::{Format, PcapError, PcapReader};

/// A byte builder in either byte order.
struct Bytes {
    be: bool,
    b: Vec<u8>,
}

impl Bytes {
    fn new(be: bool) -> Bytes {
        Bytes { be, b: Vec::new() }
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        let x = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&x);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        let x = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&x);
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        let x = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&x);
        self
    }
    fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.b.extend_from_slice(v);
        self
    }
    fn pad4(&mut self) -> &mut Self {
        while !self.b.len().is_multiple_of(4) {
            self.b.push(0);
        }
        self
    }
}

/// One pcapng block: type, length, body padded to 4, length.
fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let len = 12 + body.len().div_ceil(4) * 4;
    let mut b = Bytes::new(be);
    b.u32(btype)
        .u32(len as u32)
        .raw(body)
        .pad4()
        .u32(len as u32);
    b.b
}

fn shb(be: bool) -> Vec<u8> {
    let mut body = Bytes::new(be);
    body.u32(0x1A2B_3C4D).u16(1).u16(0).u64(u64::MAX);
    block(be, 0x0A0D_0D0A, &body.b)
}

/// An IDB with optional `if_tsresol` and `if_tsoffset` options.
fn idb(
    be: bool,
    linktype: u16,
    snaplen: u32,
    tsresol: Option<u8>,
    tsoffset: Option<i64>,
) -> Vec<u8> {
    let mut body = Bytes::new(be);
    body.u16(linktype).u16(0).u32(snaplen);
    if let Some(r) = tsresol {
        body.u16(9).u16(1).raw(&[r]).pad4();
    }
    if let Some(o) = tsoffset {
        body.u16(14).u16(8).u64(o as u64);
    }
    if tsresol.is_some() || tsoffset.is_some() {
        body.u16(0).u16(0);
    }
    block(be, 1, &body.b)
}

fn epb(be: bool, iface: u32, ts: u64, data: &[u8], wire_len: u32) -> Vec<u8> {
    let mut body = Bytes::new(be);
    body.u32(iface)
        .u32((ts >> 32) as u32)
        .u32(ts as u32)
        .u32(data.len() as u32)
        .u32(wire_len)
        .raw(data)
        .pad4();
    // An epb_flags option, which the reader must step over.
    body.u16(2).u16(4).u32(1).u16(0).u16(0);
    block(be, 6, &body.b)
}

fn spb(be: bool, data: &[u8], wire_len: u32) -> Vec<u8> {
    let mut body = Bytes::new(be);
    body.u32(wire_len).raw(data);
    block(be, 3, &body.b)
}

fn pb(be: bool, iface: u16, ts: u64, data: &[u8], wire_len: u32) -> Vec<u8> {
    let mut body = Bytes::new(be);
    body.u16(iface)
        .u16(0)
        .u32((ts >> 32) as u32)
        .u32(ts as u32)
        .u32(data.len() as u32)
        .u32(wire_len)
        .raw(data);
    block(be, 2, &body.b)
}

fn classic(
    be: bool,
    magic: u32,
    linktype: u32,
    records: &[(u32, u32, &[u8], u32)],
    extra: usize,
) -> Vec<u8> {
    let mut b = Bytes::new(be);
    b.u32(magic)
        .u16(2)
        .u16(4)
        .u32(0)
        .u32(0)
        .u32(65535)
        .u32(linktype);
    for &(sec, frac, data, wire_len) in records {
        b.u32(sec).u32(frac).u32(data.len() as u32).u32(wire_len);
        b.raw(&vec![0; extra]).raw(data);
    }
    b.b
}

type Got = (Timestamp, LinkType, Vec<u8>, u32);

fn read(bytes: Vec<u8>) -> (Vec<Got>, Option<PcapError>) {
    let mut r = PcapReader::from_reader(Cursor::new(bytes)).unwrap();
    let mut got = Vec::new();
    let mut err = None;
    while let Some(p) = r.next_packet() {
        match p {
            Ok(p) => got.push((p.ts, p.link, p.data.to_vec(), p.wire_len)),
            Err(e) => {
                assert!(err.is_none(), "two errors");
                err = Some(e);
            }
        }
    }
    assert!(r.next_packet().is_none());
    (got, err)
}

fn ts(sec: i64, nsec: u32) -> Timestamp {
    Timestamp::new(sec, nsec)
}

#[test]
fn classic_pcap_in_both_byte_orders_and_precisions() {
    let recs: &[(u32, u32, &[u8], u32)] = &[(100, 999_999, b"abc", 60), (4_000_000_000, 5, b"", 0)];
    for be in [false, true] {
        let (got, err) = read(classic(be, 0xa1b2_c3d4, 1, recs, 0));
        assert!(err.is_none());
        assert_eq!(
            got,
            vec![
                (
                    ts(100, 999_999_000),
                    LinkType::Ethernet,
                    b"abc".to_vec(),
                    60
                ),
                // libpcap reads the seconds as a signed 32-bit number: tcpdump's time.
                (
                    Timestamp {
                        tv: Some(Timeval {
                            sec: 4_000_000_000 - (1 << 32),
                            usec: 5
                        }),
                        ..ts(4_000_000_000, 5_000)
                    },
                    LinkType::Ethernet,
                    vec![],
                    0
                ),
            ]
        );
        let mut r =
            PcapReader::from_reader(Cursor::new(classic(be, 0xa1b2_3c4d, 101, recs, 0))).unwrap();
        assert_eq!(r.format(), Format::PcapNanos);
        assert_eq!((r.link_type(), r.snaplen()), (Some(LinkType::Raw), 65535));
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!((p.ts, p.link), (ts(100, 999_999), LinkType::Raw));
        // The "modified" (Kuznetsov) format has 8 more bytes per record header.
        let (got, err) = read(classic(be, 0xa1b2_cd34, 113, recs, 8));
        assert!(err.is_none());
        assert_eq!(
            got[0],
            (
                ts(100, 999_999_000),
                LinkType::LinuxSll,
                b"abc".to_vec(),
                60
            )
        );
    }
}

#[test]
fn classic_pcap_carries_an_oversized_fraction_into_seconds() {
    let (got, _) = read(classic(
        false,
        0xa1b2_c3d4,
        1,
        &[(10, 2_500_000, b"x", 1)],
        0,
    ));
    assert_eq!((got[0].0.sec, got[0].0.nsec), (12, 500_000_000));
    // What tcpdump prints: the fraction as the file holds it.
    assert_eq!(
        got[0].0.tv,
        Some(Timeval {
            sec: 10,
            usec: 2_500_000
        })
    );
}

#[test]
fn raw_ip_platform_values_read_as_raw() {
    for lt in [12, 14, 101] {
        let (got, err) = read(classic(false, 0xa1b2_c3d4, lt, &[(1, 0, b"E", 1)], 0));
        assert!(err.is_none());
        assert_eq!(got[0].1, LinkType::Raw);
    }
}

#[test]
fn pcapng_sections_in_either_byte_order() {
    let mut f = Vec::new();
    f.extend(shb(false));
    f.extend(idb(false, 1, 0, None, None));
    f.extend(epb(false, 0, 1_500_000_000_000_001, b"first", 100));
    // A new section forgets the old interfaces and may change the byte order.
    f.extend(shb(true));
    f.extend(idb(true, 101, 96, Some(9), None));
    f.extend(idb(true, 276, 0, Some(3), None));
    f.extend(epb(true, 1, 42_123, b"third!", 6));
    f.extend(epb(true, 0, 7_000_000_001, b"second", 6));
    f.extend(shb(false));
    f.extend(idb(false, 113, 0, None, None));
    f.extend(pb(false, 0, 3_000_000, b"obsolete", 80));
    let mut r = PcapReader::from_reader(Cursor::new(f.clone())).unwrap();
    assert_eq!(r.format(), Format::Pcapng);
    assert_eq!(
        (r.link_type(), r.snaplen()),
        (Some(LinkType::Ethernet), 262_144)
    );
    drop(r.next_packet());
    let (got, err) = read(f);
    assert!(err.is_none(), "{}", err.unwrap());
    assert_eq!(
        got,
        vec![
            (
                ts(1_500_000_000, 1_000),
                LinkType::Ethernet,
                b"first".to_vec(),
                100
            ),
            (
                ts(42, 123_000_000),
                LinkType::LinuxSll2,
                b"third!".to_vec(),
                6
            ),
            (ts(7, 1), LinkType::Raw, b"second".to_vec(), 6),
            (ts(3, 0), LinkType::LinuxSll, b"obsolete".to_vec(), 80),
        ]
    );
}

#[test]
fn pcapng_timestamp_resolutions_and_offsets() {
    // (if_tsresol, if_tsoffset, raw timestamp, expected)
    let cases = [
        (0u8, 0i64, 17u64, ts(17, 0)),
        (1, 0, 175, ts(17, 500_000_000)),
        (6, 0, 1_700_000_000_654_321, ts(1_700_000_000, 654_321_000)),
        (
            9,
            0,
            1_700_000_000_987_654_321,
            ts(1_700_000_000, 987_654_321),
        ),
        (12, 0, 3_000_000_123_456, ts(3, 123)),
        (19, 0, 12_345_678_901_234_567_890, ts(1, 234_567_890)),
        (0x80, 0, 5, ts(5, 0)),
        (0x80 | 1, 0, 11, ts(5, 500_000_000)),
        (0x80 | 10, 0, (3 << 10) | 256, ts(3, 250_000_000)),
        (0x80 | 32, 0, (9 << 32) | (1 << 30), ts(9, 250_000_000)),
        (0x80 | 63, 0, 1 << 62, ts(0, 500_000_000)),
        (6, 1_000_000_000, 2_500_000, ts(1_000_000_002, 500_000_000)),
        (6, -100, 2_500_000, ts(-98, 500_000_000)),
    ];
    for (tsresol, offset, raw, want) in cases {
        let mut f = shb(false);
        f.extend(idb(false, 1, 0, Some(tsresol), Some(offset)));
        f.extend(epb(false, 0, raw, b"x", 1));
        let (got, err) = read(f);
        assert!(err.is_none(), "tsresol {tsresol:#x}: {}", err.unwrap());
        assert_eq!(got[0].0, want, "tsresol {tsresol:#x} offset {offset}");
    }
}

#[test]
fn pcapng_unsupported_tsresol_is_an_error() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, Some(20), None));
    f.extend(epb(false, 0, 1, b"x", 1));
    let (got, err) = read(f);
    assert!(got.is_empty());
    let e = err.unwrap().to_string();
    assert!(e.contains("if_tsresol 0x14"), "{e}");
}

#[test]
fn simple_packet_blocks_use_interface_zero_and_its_snaplen() {
    let mut f = shb(false);
    f.extend(idb(false, 101, 4, None, None));
    f.extend(spb(false, b"abcd", 50));
    f.extend(spb(false, b"ab", 2));
    let (got, err) = read(f);
    assert!(err.is_none());
    assert_eq!(
        got,
        vec![
            (ts(0, 0), LinkType::Raw, b"abcd".to_vec(), 50),
            (ts(0, 0), LinkType::Raw, b"ab".to_vec(), 2),
        ]
    );
}

#[test]
fn unknown_blocks_of_any_size_are_skipped() {
    let mut f = shb(false);
    f.extend(block(false, 0x0BAD, b"custom block"));
    f.extend(idb(false, 1, 0, None, None));
    f.extend(block(false, 4, &[0; 16])); // name resolution
    f.extend(epb(false, 0, 1, b"one", 3));
    f.extend(block(false, 0x4000_0BAD, &vec![7; 3 << 20])); // bigger than the read buffer
    f.extend(block(false, 5, &[0; 20])); // interface statistics
    f.extend(epb(false, 0, 2, b"two", 3));
    let mut r = PcapReader::from_reader(Cursor::new(f.clone())).unwrap();
    assert_eq!(r.link_type(), Some(LinkType::Ethernet));
    drop(r.next_packet());
    let (got, err) = read(f);
    assert!(err.is_none(), "{}", err.unwrap());
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].2, b"two");
}

#[test]
fn unsupported_link_type_is_named_after_the_readable_packets() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, None, None));
    f.extend(idb(false, 105, 0, None, None));
    f.extend(epb(false, 0, 1, b"eth", 3));
    f.extend(epb(false, 1, 2, b"wifi", 4));
    f.extend(epb(false, 0, 3, b"never", 5));
    let (got, err) = read(f);
    assert_eq!(got.len(), 1);
    let e = err.unwrap();
    assert!(
        matches!(
            e,
            PcapError::UnsupportedLinkType {
                packet: 2,
                linktype: 105,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("IEEE802_11"), "{e}");

    let (got, err) = read(classic(false, 0xa1b2_c3d4, 117, &[(1, 0, b"x", 1)], 0));
    assert!(got.is_empty());
    let e = err.unwrap().to_string();
    assert!(e.contains("unsupported link type 117 (PFLOG)"), "{e}");

    let mut r =
        PcapReader::from_reader(Cursor::new(classic(false, 0xa1b2_c3d4, 147, &[], 0))).unwrap();
    assert_eq!((r.link_type(), r.linktype_number()), (None, Some(147)));
    assert!(r.next_packet().is_none());
}

#[test]
fn packet_on_an_undescribed_interface_is_an_error() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, None, None));
    f.extend(epb(false, 3, 1, b"x", 1));
    let (got, err) = read(f);
    assert!(got.is_empty());
    assert!(matches!(
        err,
        Some(PcapError::UnknownInterface {
            id: 3,
            count: 1,
            ..
        })
    ));

    let mut f = shb(false);
    f.extend(spb(false, b"x", 1));
    let (_, err) = read(f);
    assert!(matches!(
        err,
        Some(PcapError::UnknownInterface {
            id: 0,
            count: 0,
            ..
        })
    ));
}

#[test]
fn header_only_files_have_no_packets() {
    let (got, err) = read(classic(false, 0xa1b2_c3d4, 1, &[], 0));
    assert!(got.is_empty() && err.is_none());

    let r = PcapReader::from_reader(Cursor::new(shb(true))).unwrap();
    assert_eq!((r.link_type(), r.linktype_number()), (None, None));
    let (got, err) = read(shb(true));
    assert!(got.is_empty() && err.is_none());
}

#[test]
fn reads_standard_input_for_dash() {
    let dir = tracer_testkit::TempDir::new("pcap-stdin");
    let path = dir.join("stdin.pcap");
    std::fs::write(
        &path,
        classic(false, 0xa1b2_c3d4, 1, &[(1, 2, b"in", 2)], 0),
    )
    .unwrap();
    let file = std::fs::File::open(&path).unwrap();
    // SAFETY: dup2 on two valid descriptors; it makes the file this process's stdin.
    use std::os::fd::AsRawFd;
    assert!(unsafe { libc::dup2(file.as_raw_fd(), 0) } == 0);
    let mut r = PcapReader::open("-").unwrap();
    let p = r.next_packet().unwrap().unwrap();
    assert_eq!((p.ts, p.data), (ts(1, 2_000), &b"in"[..]));
    assert!(r.next_packet().is_none());
    std::fs::remove_file(path).unwrap();
}

//! `--conn --http` on bad input, offline: every cut of every packet of an HTTP exchange,
//! absurd lengths and header sizes, bytes that are not HTTP on port 80, and thousands of
//! random mutations. tracer must exit 0 and print only well-formed records (JSON that parses;
//! counts that add up), never panic.

mod support;

use std::process::Command;

use support::{craft, write_pcap, Record};
use tracer::packet::{LinkType, Timestamp};

const C: [u8; 4] = [10, 77, 0, 1];
const S: [u8; 4] = [10, 77, 0, 2];
use tracer_common::tcp_flag::{ACK, FIN, PSH, SYN};

fn frame(from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) = if from_client {
        (C, S, 40000, 80)
    } else {
        (S, C, 80, 40000)
    };
    craft::eth(
        0x0800,
        &craft::ipv4(
            src,
            dst,
            6,
            &[],
            &craft::tcp(sp, dp, seq, ack, flags, &[], payload),
        ),
    )
}

/// A whole HTTP exchange: handshake, request, response, FIN, FIN, ACK.
fn exchange() -> Vec<Vec<u8>> {
    let req = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    vec![
        frame(true, 100, 0, SYN, b""),
        frame(false, 900, 101, SYN | ACK, b""),
        frame(true, 101, 901, ACK, b""),
        frame(true, 101, 901, ACK | PSH, req),
        frame(false, 901, 101 + req.len() as u32, ACK | PSH, resp),
        frame(
            true,
            101 + req.len() as u32,
            901 + resp.len() as u32,
            FIN | ACK,
            b"",
        ),
        frame(
            false,
            901 + resp.len() as u32,
            102 + req.len() as u32,
            FIN | ACK,
            b"",
        ),
        frame(
            true,
            102 + req.len() as u32,
            902 + resp.len() as u32,
            ACK,
            b"",
        ),
    ]
}

/// Deterministic xorshift, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The bad packets: cuts, absurd lengths, non-HTTP payloads, mutations.
fn bad_packets() -> Vec<Vec<u8>> {
    let good = exchange();
    let mut out = Vec::new();
    // Every cut of every packet (a snaplen anywhere, the frame's wire length kept).
    for p in &good {
        for cut in 0..p.len() {
            out.push(p[..cut].to_vec());
        }
    }
    // IP total length: 0, below the header, a little, a lot.
    for total in [0u16, 10, 19, 20, 39, 41, 1500, 65535] {
        let mut p = good[3].clone();
        p[16..18].copy_from_slice(&total.to_be_bytes());
        out.push(p);
    }
    // Every IPv4 header length and every TCP data offset.
    for ihl in 0..16u8 {
        let mut p = good[3].clone();
        p[14] = 0x40 | ihl;
        out.push(p);
    }
    for off in 0..16u8 {
        let mut p = good[3].clone();
        p[14 + 20 + 12] = off << 4;
        out.push(p);
    }
    // Payloads on port 80 that are not HTTP, or only nearly.
    for payload in [
        &b"\x00\x01\x02\x03 binary"[..],
        b"G",
        b"GET",
        b"GETX / HTTP/1.1\r\n",
        b"get / HTTP/1.1\r\n",
        b"HTTP/1.1",
        b"HTTP/1.1 2",
        b"HTTP/1.1 abc\r\n",
        b"HTTP/9.9 200 OK\r\n",
        &[0xff; 1400],
        &[b' '; 64],
        b"BASELINE-CONTROLX / HTTP/1.1\r\n",
    ] {
        out.push(frame(true, 5000, 1, ACK | PSH, payload));
        out.push(frame(false, 7000, 1, ACK | PSH, payload));
    }
    // Mutations: a few random bytes of a good packet changed, and random lengths.
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..5000 {
        let mut p = good[rng.below(good.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(p.len());
            p[i] = rng.next() as u8;
        }
        if rng.below(4) == 0 {
            p.truncate(rng.below(p.len() + 1));
        }
        out.push(p);
    }
    out
}

fn run_tracer(args: &[&str], pcap: &std::path::Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tracer"))
        .arg("-r")
        .arg(pcap)
        .args(args)
        .output()
        .expect("run tracer");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "tracer {args:?} failed ({}): {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stdout, stderr)
}

#[test]
fn bad_packets_give_well_formed_records_and_no_panic() {
    let dir = tracer_testkit::TempDir::new("conn-bad");
    let pcap = dir.join("bad.pcap");
    let packets = bad_packets();
    // Good exchanges between the bad packets, so half-built state meets garbage.
    let good = exchange();
    let mut records = Vec::new();
    let mut t = 1_700_000_000i64 * 1_000_000;
    for (i, p) in packets.iter().enumerate() {
        let data = if i % 50 == 0 {
            good[i / 50 % good.len()].clone()
        } else {
            p.clone()
        };
        t += 100;
        records.push(Record {
            ts: Timestamp::from_nanos(t as i128 * 1000),
            // The wire length of the uncut packet, at least what was captured.
            wire_len: (data.len() as u32).max(good[3].len() as u32),
            data,
        });
    }
    write_pcap(&pcap, LinkType::Ethernet, &records);

    let (json, _) = run_tracer(&["--conn", "--http", "--json", "--conn-idle", "1"], &pcap);
    let mut conns = 0;
    let mut packets_in_records = 0u64;
    for line in json.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        match v["type"].as_str() {
            Some("conn") => {
                conns += 1;
                packets_in_records +=
                    v["packets_c2s"].as_u64().unwrap() + v["packets_s2c"].as_u64().unwrap();
                assert!(v["duration_us"].as_u64().is_some(), "{line}");
                assert!(
                    ["fin", "rst", "idle", "open"].contains(&v["close"].as_str().unwrap()),
                    "{line}"
                );
            }
            Some("http") => {
                assert!(v["method"].is_null() || v["method"].is_string(), "{line}");
                assert!(
                    v["uri"].as_str().is_none_or(|u| u.len() <= 64 * 6),
                    "{line}"
                );
            }
            other => panic!("unexpected record type {other:?}: {line}"),
        }
    }
    assert!(conns > 0, "no connection at all");
    assert!(
        packets_in_records <= records.len() as u64,
        "records count {packets_in_records} packets of {}",
        records.len()
    );
    // Text lines too, every mode a user might pick.
    let (text, _) = run_tracer(&["--conn", "--http", "-v"], &pcap);
    assert_eq!(text.lines().count(), json.lines().count());
    let (packets_json, _) = run_tracer(&["--json"], &pcap);
    for line in packets_json.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["type"], "packet", "{line}");
    }
}

#[test]
fn a_limit_on_records_stops_after_that_many() {
    let dir = tracer_testkit::TempDir::new("conn-c");
    let pcap = dir.join("three.pcap");
    let mut records = Vec::new();
    let mut t = 1_700_000_000i64 * 1_000_000;
    for k in 0..3u16 {
        for p in exchange() {
            let mut p = p;
            // Another client port per exchange.
            let at = if p[14 + 20 + 2] == 0 && p[14 + 20 + 3] == 80 {
                34
            } else {
                36
            };
            p[at..at + 2].copy_from_slice(&(40000 + k).to_be_bytes());
            t += 1000;
            records.push(Record {
                ts: Timestamp::from_nanos(t as i128 * 1000),
                wire_len: p.len() as u32,
                data: p,
            });
        }
    }
    write_pcap(&pcap, LinkType::Ethernet, &records);
    let (all, _) = run_tracer(&["--conn", "--http", "--json"], &pcap);
    assert_eq!(all.lines().count(), 6, "{all}");
    let (two, _) = run_tracer(&["--conn", "--http", "--json", "-c", "2"], &pcap);
    assert_eq!(two.lines().count(), 2, "{two}");
}

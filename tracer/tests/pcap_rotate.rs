//! Capture-file rotation (`-C`, `-W`, `-G`, `-z`) against tcpdump 4.99 beside it: the same
//! file names, byte for byte the same files, the same post-rotate commands, the same flag
//! errors; and every file a capture tshark reads without a warning.
//!
//! tcpdump runs with `-Z root`: Debian's tcpdump drops to the `tcpdump` user after opening
//! the first file, and could then not create the next ones in a root-owned directory.

mod common;
mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{tracer_bin, TempDir};
use support::craft;
use tracer::packet::{LinkType, Timestamp};

/// Packets in the generated capture (about 3.5 MB: four files at `-C 1`).
const PACKETS: usize = 4000;

fn require(tool: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{tool} is the oracle of this test and does not run here"
    );
}

/// A capture of TCP segments of varied sizes (so file boundaries fall anywhere), all
/// TCP since tracer writes only TCP.
fn big_capture(dir: &TempDir) -> PathBuf {
    let path = dir.join("big.pcap");
    let records: Vec<support::Record> = (0..PACKETS)
        .map(|i| {
            let len = 200 + (i * 373) % 1200;
            let payload: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
            let seg = craft::tcp(40000, 80, (i * 1500) as u32, 1, 0x18, &[], &payload);
            let ip = craft::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, &[], &seg);
            let frame = craft::eth(0x0800, &ip);
            support::Record {
                ts: Timestamp::new(
                    1_700_000_000 + (i / 100) as i64,
                    (i % 100) as u32 * 10_000_000,
                ),
                wire_len: frame.len() as u32,
                data: frame,
            }
        })
        .collect();
    support::write_pcap(&path, LinkType::Ethernet, &records);
    path
}

fn tcpdump(args: &[&std::ffi::OsStr]) -> Output {
    Command::new("tcpdump")
        .arg("-Z")
        .arg("root")
        .args(args)
        .output()
        .expect("run tcpdump")
}

fn tracer(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(tracer_bin())
        .args(args)
        .output()
        .expect("run tracer")
}

fn os<'a>(v: &'a [&'a str]) -> Vec<&'a std::ffi::OsStr> {
    v.iter().map(std::ffi::OsStr::new).collect()
}

/// Both tools: `-r input -w dir/out FLAGS`, each into its own directory.
fn rewrite_both(input: &Path, name: &str, flags: &[&str]) -> (TempDir, TempDir) {
    let ours = TempDir::new("rot-tracer");
    let theirs = TempDir::new("rot-tcpdump");
    for (dir, run) in [
        (&ours, tracer as fn(&[&std::ffi::OsStr]) -> Output),
        (&theirs, tcpdump),
    ] {
        let out = dir.join(name);
        let mut args = vec![
            "-r".as_ref(),
            input.as_os_str(),
            "-w".as_ref(),
            out.as_os_str(),
        ];
        args.extend(os(flags));
        let o = run(&args);
        assert!(
            o.status.success(),
            "{flags:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    (ours, theirs)
}

/// The files of a directory, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// `tshark -n -r FILE`: exits 0 with nothing on stderr (but the notice of running as root,
/// which is about tshark, not the file); returns the number of packets it lists.
fn tshark_packets(file: &Path) -> usize {
    let o = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .output()
        .expect("run tshark");
    let err = String::from_utf8_lossy(&o.stderr);
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("Running as user \"root\""))
        .collect();
    assert!(
        o.status.success() && warnings.is_empty(),
        "tshark -r {}: {}\n{err}",
        file.display(),
        o.status
    );
    String::from_utf8_lossy(&o.stdout).lines().count()
}

#[test]
fn size_rotation_gives_tcpdumps_names_and_bytes() {
    require("tcpdump");
    require("tshark");
    let scratch = TempDir::new("rot-in");
    let input = big_capture(&scratch);
    for (flags, names) in [
        (&["-C", "1"][..], &["out", "out1", "out2", "out3"][..]),
        (&["-C", "1", "-W", "3"], &["out0", "out1", "out2"]),
        (
            &["-C", "1", "-W", "11"],
            &["out00", "out01", "out02", "out03"],
        ),
        (&["-C", "1", "-W", "1"], &["out"]),
        (
            &["-C", "2", "-W", "2", "-z", "/bin/true"],
            &["out0", "out1"],
        ),
        // -W and -z without -C or -G change nothing, for either tool.
        (&["-W", "3", "-z", "/bin/false"], &["out"]),
    ] {
        let (ours, theirs) = rewrite_both(&input, "out", flags);
        let (a, b) = (files(&ours.path), files(&theirs.path));
        assert_eq!(
            b.keys().collect::<Vec<_>>(),
            names,
            "tcpdump {flags:?} (the test's expectation is off)"
        );
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "{flags:?}"
        );
        let mut total = 0;
        for (name, bytes) in &a {
            assert!(
                bytes == &b[name],
                "{flags:?}: {name} differs: {} bytes, tcpdump's {}",
                bytes.len(),
                b[name].len()
            );
            total += tshark_packets(&ours.path.join(name));
        }
        if flags[..2] == ["-C", "1"] && flags.len() == 2 {
            assert_eq!(total, PACKETS, "{flags:?}: every packet in some file");
        }
    }
}

/// Waits (bounded) until no file of `dir` has its `.gz` beside it: the gzips are done.
fn wait_compressed(dir: &Path, expect_gz: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let names: Vec<String> = files(dir).into_keys().collect();
        let gz = names.iter().filter(|n| n.ends_with(".gz")).count();
        let pending = names
            .iter()
            .any(|n| !n.ends_with(".gz") && names.contains(&format!("{n}.gz")));
        if gz == expect_gz && !pending {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: gzip did not finish: {names:?}",
            dir.display()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut c = Command::new("gzip")
        .args(["-dc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = c.stdin.take().unwrap();
    let data = bytes.to_vec();
    let feeder = thread::spawn(move || stdin.write_all(&data));
    let o = c.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(o.status.success());
    o.stdout
}

#[test]
fn post_rotate_gzip_compresses_the_closed_files_like_tcpdump() {
    require("tcpdump");
    require("tshark");
    require("gzip");
    let scratch = TempDir::new("rot-in");
    let input = big_capture(&scratch);
    let (ours, theirs) = rewrite_both(&input, "out", &["-C", "1", "-z", "gzip"]);
    // The file open at the end is not compressed, by either.
    wait_compressed(&ours.path, 3);
    wait_compressed(&theirs.path, 3);
    let (a, b) = (files(&ours.path), files(&theirs.path));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        ["out.gz", "out1.gz", "out2.gz", "out3"]
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let mut total = 0;
    for (name, bytes) in &a {
        let (x, y) = if name.ends_with(".gz") {
            (gunzip(bytes), gunzip(&b[name]))
        } else {
            (bytes.clone(), b[name].clone())
        };
        assert!(x == y, "{name}: contents differ from tcpdump's");
        let plain = scratch.join(name.trim_end_matches(".gz"));
        std::fs::write(&plain, &x).unwrap();
        total += tshark_packets(&plain);
    }
    assert_eq!(total, PACKETS);
}

#[test]
fn post_rotate_command_gets_the_file_name_alone_at_nice_19() {
    require("tcpdump");
    let scratch = TempDir::new("rot-in");
    let input = big_capture(&scratch);
    let script = scratch.join("record.sh");
    // Logs beside the script, one per output directory.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$# $(basename \"$1\") $(nice)\" >> {}/$(basename \"$(dirname \"$1\")\").log\n",
            scratch.path.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (ours, theirs) = rewrite_both(
        &input,
        "out",
        &["-C", "1", "-W", "2", "-z", script.to_str().unwrap()],
    );
    let logs: Vec<PathBuf> = [&ours, &theirs]
        .iter()
        .map(|d| {
            let name = d.path.file_name().unwrap().to_string_lossy();
            scratch.join(&format!("{name}.log"))
        })
        .collect();
    // Three rotations: out0, out1, out0 closed; out1 open at the end. Not waited for by
    // either tool: wait for the three lines.
    let deadline = Instant::now() + Duration::from_secs(20);
    let read = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    while logs.iter().any(|l| read(l).len() < 3) {
        assert!(
            Instant::now() < deadline,
            "the -z script did not run thrice"
        );
        thread::sleep(Duration::from_millis(50));
    }
    let (a, b) = (read(&logs[0]), read(&logs[1]));
    assert_eq!(b, ["1 out0 19", "1 out0 19", "1 out1 19"], "tcpdump's");
    assert_eq!(a, b);
}

/// A child killed on drop, fed on stdin.
struct Fed(Child);

impl Drop for Fed {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Sleeps until the wall clock's fraction of a second is `frac`.
fn sleep_until_fraction(frac: f64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let f = f64::from(now.subsec_nanos()) / 1e9;
    let wait = (frac - f).rem_euclid(1.0);
    thread::sleep(Duration::from_secs_f64(if wait < 0.01 {
        wait + 1.0
    } else {
        wait
    }));
}

#[test]
fn time_rotation_with_a_count_stops_after_that_many_files_like_tcpdump() {
    require("tcpdump");
    require("tshark");
    let scratch = TempDir::new("rot-in");
    let input = std::fs::read(big_capture(&scratch)).unwrap();
    let ours = TempDir::new("rot-tracer");
    let theirs = TempDir::new("rot-tcpdump");
    // -G rotates by the wall clock as packets arrive: both read one slow stream, packets
    // sent at .25 and .75 of a second, far from the second boundaries where the file
    // names (%S) change. Both start at .25 too, so their first files share a second.
    sleep_until_fraction(0.25);
    let spawn = |mut c: Command, dir: &TempDir| {
        c.arg("-r")
            .arg("-")
            .arg("-w")
            .arg(dir.join("o-%S"))
            .args(["-G", "1", "-W", "2"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Fed(c.spawn().expect("spawn"))
    };
    let mut td = Command::new("tcpdump");
    td.args(["-Z", "root"]);
    let mut procs = [spawn(Command::new(tracer_bin()), &ours), spawn(td, &theirs)];
    let mut sinks: Vec<_> = procs
        .iter_mut()
        .map(|p| Some(p.0.stdin.take().unwrap()))
        .collect();
    let mut send = |bytes: &[u8]| {
        for s in sinks.iter_mut() {
            // A tool that reached its limit has closed its end.
            if s.as_mut().is_some_and(|w| w.write_all(bytes).is_err()) {
                *s = None;
            }
        }
    };
    send(&input[..24]);
    let mut off = 24;
    // Two packets a second: the third second's first packet ends both captures.
    for _ in 0..10 {
        let len = u32::from_le_bytes(input[off + 8..off + 12].try_into().unwrap()) as usize;
        send(&input[off..off + 16 + len]);
        off += 16 + len;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let f = f64::from(now.subsec_nanos()) / 1e9;
        sleep_until_fraction(if f < 0.5 { 0.75 } else { 0.25 });
    }
    drop(sinks);
    let mut errs = Vec::new();
    for p in &mut procs {
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = p.0.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "no exit at the file limit");
            thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(p.0.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(status.success(), "{status}: {err}");
        errs.push(err);
    }
    for e in &errs {
        assert!(e.contains("Maximum file limit reached: 2\n"), "{e}");
    }
    let (a, b) = (files(&ours.path), files(&theirs.path));
    assert_eq!(b.len(), 2, "tcpdump's files: {:?}", b.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(name.starts_with("o-") && name.len() == 4, "{name}");
        assert!(bytes == &b[name], "{name} differs from tcpdump's");
        assert!(tshark_packets(&ours.path.join(name)) >= 1, "{name}");
    }
}

#[test]
fn pcapng_rotates_into_whole_sections() {
    require("tshark");
    let scratch = TempDir::new("rot-in");
    let input = big_capture(&scratch);
    let dir = TempDir::new("rot-ng");
    let out = dir.join("out.pcapng");
    let o = tracer(&[
        "-r".as_ref(),
        input.as_os_str(),
        "-w".as_ref(),
        out.as_os_str(),
        "-C".as_ref(),
        "1".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = files(&dir.path);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        ["out.pcapng", "out.pcapng1", "out.pcapng2", "out.pcapng3"]
    );
    let mut total = 0;
    for (name, bytes) in &got {
        assert_eq!(
            &bytes[..4],
            &[0x0a, 0x0d, 0x0d, 0x0a],
            "{name}: a section header"
        );
        total += tshark_packets(&dir.path.join(name));
    }
    assert_eq!(total, PACKETS);
}

#[test]
fn bad_rotation_values_get_tcpdumps_message_on_one_line() {
    require("tcpdump");
    for (flag, value) in [
        ("-C", "0"),
        ("-C", "-1"),
        ("-C", "1k"),
        ("-C", "x"),
        ("-C", "9223372036855"),
        ("-W", "0"),
        ("-W", "-2"),
        ("-G", "-1"),
    ] {
        let theirs = tcpdump(&os(&["-r", "/dev/null", "-w", "/dev/null", flag, value]));
        let msg = String::from_utf8_lossy(&theirs.stderr);
        let msg = msg.trim_end().strip_prefix("tcpdump: ").unwrap_or(&msg);
        let ours = tracer(&os(&["-r", "/dev/null", "-w", "/dev/null", flag, value]));
        let err = String::from_utf8_lossy(&ours.stderr);
        assert_eq!(ours.status.code(), Some(1), "{flag} {value}: {err}");
        assert_eq!(err.lines().count(), 1, "{flag} {value}: {err}");
        assert!(
            err.starts_with("tracer: ") && err.contains(&format!("{msg} (see tracer --help)")),
            "{flag} {value}: tracer said {err:?}, tcpdump {msg:?}"
        );
    }
}

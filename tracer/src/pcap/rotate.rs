//! Capture-file rotation: tcpdump's `-C`, `-W`, `-G` and `-z`, as tcpdump 4.99.3 does them.
//!
//! [`RotatingWriter`] owns the [`PcapWriter`] of the file being written and tcpdump's policy
//! (`dump_packet_and_trunc` and `MakeFilename` in tcpdump.c):
//!
//! - `-G SECS`: before each packet, if the wall clock (whole seconds, `time(NULL)`) is `SECS` or
//!   more past the time the current file was opened, a new file is opened. The `-w` name goes
//!   through `strftime` in local time (`cap-%H%M%S.pcap`) with the time the file opens. With
//!   `-W N` and no `-C`, the capture ends when the `N`th file is closed ("Maximum file limit
//!   reached: N"): no packet arrives means no new file, and the packet that would have opened
//!   the next one is not written.
//! - `-C SIZE`: before each packet, if the current file holds more than `SIZE` × 1,000,000 bytes
//!   (header included), a new file is opened, named like the first one with a number appended:
//!   `NAME`, `NAME1`, `NAME2`, ... With `-W N` the files are a ring of `N` names whose numbers
//!   are zero-padded to the digits of `N-1`: `NAME0`, `NAME1`, ..., `NAME0` again. With `-G`
//!   too, every time-rotation starts the numbering again with the newly formatted name.
//! - `-z CMD`: after a rotation closes a file, `CMD FILE` runs at the lowest priority (`nice`
//!   19), found on the `PATH` like `execlp` finds it, and is not waited for. The file open at
//!   exit is not handed to it, as tcpdump does not.
//!
//! Every file is a whole capture with its own header, in the same format and link type.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::PcapError;
use super::format::Format;
use super::writer::PcapWriter;
use crate::packet::{LinkType, Packet};

/// `-C`'s unit: millions of bytes (not MiB), as in tcpdump 4.99.
pub const FILE_SIZE_UNIT: u64 = 1_000_000;

/// tcpdump's limit for a file name (its `PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// Why a rotating capture could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// Creating or writing a capture file failed.
    #[error(transparent)]
    Pcap(#[from] PcapError),

    /// The `-w` name is empty (tcpdump's own message).
    #[error("an empty string is not a valid file name")]
    EmptyName,

    /// `strftime` turned the `-w` name into nothing, or into more than `PATH_MAX` bytes.
    #[error(
        "MakeFilename: strftime: {name:?} formats to an empty name or to more than {} bytes",
        PATH_MAX - 1
    )]
    Strftime { name: String },

    /// The local time of the rotation could not be computed.
    #[error("MakeFilename: localtime: no local time for {time}")]
    Localtime { time: i64 },

    /// The name with its number is longer than `PATH_MAX` (tcpdump's own message).
    #[error("too many output files or filename is too long (> {PATH_MAX})")]
    NameTooLong,
}

/// tcpdump's rotation flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// `-C`, in bytes: a new file once the current one is larger than this.
    pub file_size: Option<u64>,
    /// `-W`: with `-C`, a ring of this many files; with `-G` alone, stop after this many.
    pub file_count: Option<u32>,
    /// `-G`: a new file every this many seconds (`None` or 0: never).
    pub seconds: Option<u32>,
    /// `-z`: run with each file a rotation closes.
    pub post_rotate: Option<OsString>,
}

impl Rotation {
    /// Whether files rotate at all (`-C` or `-G`); `-W` and `-z` alone change nothing, as
    /// with tcpdump.
    pub fn rotates(&self) -> bool {
        self.file_size.is_some() || self.time_secs().is_some()
    }

    fn time_secs(&self) -> Option<u32> {
        self.seconds.filter(|&s| s > 0)
    }

    /// The width of the number appended with `-C`: the digits of `-W`'s count minus one
    /// (tcpdump's `getWflagChars`), 0 without `-W`.
    pub fn digits(&self) -> usize {
        let mut x = self.file_count.map_or(0, |w| w.saturating_sub(1));
        let mut c = 0;
        while x > 0 {
            c += 1;
            x /= 10;
        }
        c
    }
}

/// C's `strtol` prefix: leading white space, a sign, decimal digits. Returns the value
/// (saturated, like `strtol`'s `ERANGE` result), whether it overflowed, and the rest.
fn strtol(s: &str) -> (Option<i64>, bool, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (None, false, s);
    }
    let mut v: i64 = 0;
    let mut overflow = false;
    for b in body[..digits].bytes() {
        let d = i64::from(b - b'0');
        let next = v.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        });
        match next {
            Some(n) => v = n,
            None => {
                overflow = true;
                v = if neg { i64::MIN } else { i64::MAX };
                break;
            }
        }
    }
    (Some(v), overflow, &body[digits..])
}

/// C's `atoi` as glibc has it: `(int) strtol(s, NULL, 10)`, 0 when there is no number.
fn atoi(s: &str) -> i32 {
    strtol(s).0.unwrap_or(0) as i32
}

/// `-C`: a positive whole number of millions of bytes (no unit suffix in tcpdump 4.99),
/// in bytes. The errors are tcpdump's messages.
pub fn parse_file_size(s: &str) -> Result<u64, String> {
    let (v, overflow, rest) = strtol(s);
    match v {
        Some(n) if !overflow && rest.is_empty() && n > 0 => {
            if n > i64::MAX / FILE_SIZE_UNIT as i64 {
                Err(format!("file size {s} is too large"))
            } else {
                Ok(n as u64 * FILE_SIZE_UNIT)
            }
        }
        _ => Err(format!("invalid file size {s}")),
    }
}

/// `-W`: tcpdump reads it with `atoi` (so `3x` is 3) and wants it positive.
pub fn parse_file_count(s: &str) -> Result<u32, String> {
    match atoi(s) {
        n if n > 0 => Ok(n as u32),
        _ => Err(format!("invalid number of output files {s}")),
    }
}

/// `-G`: tcpdump reads it with `atoi` (so `x` is 0, no rotation) and refuses a negative one.
pub fn parse_seconds(s: &str) -> Result<u32, String> {
    match atoi(s) {
        n if n >= 0 => Ok(n as u32),
        _ => Err(format!("invalid number of seconds {s}")),
    }
}

/// `name` through `strftime` in local time at `time` (Unix seconds), as tcpdump formats
/// `-w` with `-G`.
fn strftime_local(name: &OsStr, time: i64) -> Result<OsString, RotateError> {
    let bad = || RotateError::Strftime {
        name: name.to_string_lossy().into_owned(),
    };
    let fmt = CString::new(name.as_bytes()).map_err(|_| bad())?;
    let t = time as libc::time_t;
    // SAFETY: zeroed `tm` is a valid value; localtime_r fills it from `t` or returns null.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return Err(RotateError::Localtime { time });
    }
    let mut buf = vec![0u8; PATH_MAX];
    // SAFETY: the buffer holds PATH_MAX bytes, which strftime is told; fmt is NUL-terminated.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), PATH_MAX, fmt.as_ptr(), &tm) };
    if n == 0 {
        return Err(bad());
    }
    buf.truncate(n);
    Ok(OsString::from_vec(buf))
}

/// tcpdump's `MakeFilename`: the `-w` name (through `strftime` at `time` with `-G`), then
/// `count` zero-padded to `digits`, unless both are 0.
pub fn make_filename(
    name: &OsStr,
    time: Option<i64>,
    count: u32,
    digits: usize,
) -> Result<PathBuf, RotateError> {
    if name.is_empty() {
        return Err(RotateError::EmptyName);
    }
    let base = match time {
        Some(t) => strftime_local(name, t)?,
        None => name.to_os_string(),
    };
    if count == 0 && digits == 0 {
        return Ok(PathBuf::from(base));
    }
    let mut v = base.into_vec();
    v.extend_from_slice(format!("{count:0digits$}").as_bytes());
    if v.len() > PATH_MAX {
        return Err(RotateError::NameTooLong);
    }
    Ok(PathBuf::from(OsString::from_vec(v)))
}

/// What [`RotatingWriter::write`] did with a packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// The packet is in the current file.
    Packet,
    /// `-G` with `-W N` (no `-C`): the `N`th file is closed and the capture is over; the
    /// packet was not written.
    FileLimitReached(u32),
}

/// The wall clock in whole seconds, tcpdump's `time(NULL)`.
fn wall_seconds() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    }
}

/// Writes packets to a series of capture files as tcpdump `-w` with `-C`/`-W`/`-G`/`-z` does
/// (see the module documentation); without `-C` or `-G` it writes the one file `-w` names.
pub struct RotatingWriter {
    /// The `-w` name as given (a `strftime` format with `-G`).
    template: OsString,
    format: Format,
    link: LinkType,
    snaplen: u32,
    rotation: Rotation,
    digits: usize,
    /// The file being written; `None` once the `-W` limit of `-G` ended the capture.
    writer: Option<PcapWriter>,
    name: PathBuf,
    /// tcpdump's `Cflag_count`: the number of the current file in the `-C` series.
    size_index: u32,
    /// tcpdump's `Gflag_count`: files closed by `-G`.
    time_files: u32,
    /// tcpdump's `Gflag_time`: when the current `-G` period started.
    period_start: i64,
    clock: Box<dyn FnMut() -> i64 + Send>,
    /// `-z` commands not yet reaped.
    children: Vec<Child>,
}

impl RotatingWriter {
    /// Opens the first file: the `-w` name, formatted by `strftime` with `-G`, with `0`
    /// appended with `-C -W`. A `snaplen` of 0 means 262144.
    pub fn create(
        path: impl AsRef<Path>,
        format: Format,
        link: LinkType,
        snaplen: u32,
        rotation: Rotation,
    ) -> Result<RotatingWriter, RotateError> {
        RotatingWriter::with_clock(
            path,
            format,
            link,
            snaplen,
            rotation,
            Box::new(wall_seconds),
        )
    }

    /// As [`create`](Self::create), with `clock` instead of the wall clock (seconds since
    /// the epoch) for `-G`.
    pub fn with_clock(
        path: impl AsRef<Path>,
        format: Format,
        link: LinkType,
        snaplen: u32,
        rotation: Rotation,
        mut clock: Box<dyn FnMut() -> i64 + Send>,
    ) -> Result<RotatingWriter, RotateError> {
        let template = path.as_ref().as_os_str().to_os_string();
        let digits = rotation.digits();
        let period_start = clock();
        let mut w = RotatingWriter {
            template,
            format,
            link,
            snaplen,
            digits,
            writer: None,
            name: PathBuf::new(),
            size_index: 0,
            time_files: 0,
            period_start,
            clock,
            children: Vec::new(),
            rotation,
        };
        let name = w.file_name(0)?;
        w.open(name)?;
        Ok(w)
    }

    /// The name of the file being written.
    pub fn current_name(&self) -> &Path {
        &self.name
    }

    /// The format every file is written in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The name of the `-C` file numbered `count` in the current `-G` period.
    fn file_name(&self, count: u32) -> Result<PathBuf, RotateError> {
        let time = self.rotation.time_secs().map(|_| self.period_start);
        let digits = if self.rotation.file_size.is_some() {
            self.digits
        } else {
            0
        };
        make_filename(&self.template, time, count, digits)
    }

    fn open(&mut self, name: PathBuf) -> Result<(), RotateError> {
        self.writer = Some(PcapWriter::create(
            &name,
            self.format,
            self.link,
            self.snaplen,
        )?);
        self.name = name;
        Ok(())
    }

    /// Flushes and closes the current file, then hands it to `-z`.
    fn close(&mut self) -> Result<(), RotateError> {
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
            drop(w);
            if let Some(cmd) = self.rotation.post_rotate.clone() {
                self.post_rotate(&cmd);
            }
        }
        Ok(())
    }

    /// tcpdump's `compress_savefile`: `cmd FILE` at the lowest priority, not waited for. A
    /// command that cannot start is reported and the capture goes on.
    fn post_rotate(&mut self, cmd: &OsStr) {
        self.children
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
        let mut c = Command::new(cmd);
        c.arg(&self.name);
        // SAFETY: setpriority is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            c.pre_exec(|| {
                libc::setpriority(libc::PRIO_PROCESS, 0, 19);
                Ok(())
            });
        }
        match c.spawn() {
            Ok(child) => self.children.push(child),
            Err(e) => {
                let why = e.to_string();
                let why = why.split(" (os error").next().unwrap_or(&why);
                eprintln!(
                    "tracer: compress_savefile: execlp({}, {}) failed: {why}",
                    cmd.to_string_lossy(),
                    self.name.display()
                );
            }
        }
    }

    /// Writes one packet, first opening a new file where `-G` or `-C` says so.
    pub fn write(&mut self, pkt: &Packet<'_>) -> Result<Written, RotateError> {
        if let Some(limit) = self.limit_reached() {
            return Ok(Written::FileLimitReached(limit));
        }
        if let Some(secs) = self.rotation.time_secs() {
            let now = (self.clock)();
            if now - self.period_start >= i64::from(secs) {
                self.period_start = now;
                self.time_files += 1;
                self.close()?;
                if let Some(limit) = self.limit_reached() {
                    return Ok(Written::FileLimitReached(limit));
                }
                self.size_index = 0;
                let name = self.file_name(0)?;
                self.open(name)?;
            }
        }
        if let Some(size) = self.rotation.file_size {
            let current = self.writer.as_ref().map_or(0, PcapWriter::bytes_written);
            if current > size {
                self.close()?;
                self.size_index += 1;
                if self
                    .rotation
                    .file_count
                    .is_some_and(|w| self.size_index >= w)
                {
                    self.size_index = 0;
                }
                let name = self.file_name(self.size_index)?;
                self.open(name)?;
            }
        }
        let w = self.writer.as_mut().expect("a file is open");
        w.write(pkt)?;
        Ok(Written::Packet)
    }

    /// `-G -W N` without `-C`: `N` files are closed.
    fn limit_reached(&self) -> Option<u32> {
        match self.rotation.file_count {
            Some(n) if self.rotation.file_size.is_none() && self.time_files >= n => Some(n),
            _ => None,
        }
    }

    /// Writes out what the current file has buffered.
    pub fn flush(&mut self) -> Result<(), RotateError> {
        match &mut self.writer {
            Some(w) => Ok(w.flush()?),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for RotatingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingWriter")
            .field("name", &self.name)
            .field("rotation", &self.rotation)
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Timestamp;
    use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
    use std::sync::Arc;

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "tracer-rotate-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }

        fn names(&self) -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        }

        fn size(&self, name: &str) -> u64 {
            std::fs::metadata(self.0.join(name)).unwrap().len()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A 100-byte Ethernet frame: 116 bytes in a classic pcap.
    const FRAME: [u8; 100] = [0u8; 100];

    fn packet(sec: i64) -> Packet<'static> {
        Packet {
            ts: Timestamp::new(sec, 0),
            link: LinkType::Ethernet,
            data: &FRAME,
            wire_len: 100,
        }
    }

    fn sized(bytes: u64, count: Option<u32>) -> Rotation {
        Rotation {
            file_size: Some(bytes),
            file_count: count,
            ..Rotation::default()
        }
    }

    #[test]
    fn file_size_parses_like_tcpdump_4_99() {
        assert_eq!(parse_file_size("1"), Ok(1_000_000));
        assert_eq!(parse_file_size("+2"), Ok(2_000_000));
        assert_eq!(parse_file_size(" 3"), Ok(3_000_000));
        for bad in ["0", "-1", "x", "", "1k", "1m", "1 ", "9999999999999999999"] {
            assert_eq!(
                parse_file_size(bad),
                Err(format!("invalid file size {bad}")),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_file_size("9223372036854"),
            Ok(9_223_372_036_854_000_000)
        );
        assert_eq!(
            parse_file_size("9223372036855"),
            Err("file size 9223372036855 is too large".into())
        );
    }

    #[test]
    fn counts_and_seconds_parse_with_atoi() {
        assert_eq!(parse_file_count("3"), Ok(3));
        assert_eq!(parse_file_count("3x"), Ok(3));
        assert_eq!(parse_file_count(" 11"), Ok(11));
        for bad in ["0", "-2", "x", ""] {
            assert_eq!(
                parse_file_count(bad),
                Err(format!("invalid number of output files {bad}"))
            );
        }
        assert_eq!(parse_seconds("2"), Ok(2));
        assert_eq!(parse_seconds("1x"), Ok(1));
        assert_eq!(parse_seconds("x"), Ok(0));
        assert_eq!(
            parse_seconds("-1"),
            Err("invalid number of seconds -1".into())
        );
        // glibc's atoi is strtol cut to int: LONG_MAX becomes -1.
        assert!(parse_seconds("99999999999999999999").is_err());
    }

    #[test]
    fn numbers_are_padded_to_the_digits_of_the_count_minus_one() {
        let digits = |w| sized(1, w).digits();
        assert_eq!(
            [None, Some(1), Some(2), Some(10), Some(11), Some(101)].map(digits),
            [0, 0, 1, 1, 2, 3]
        );
        let n = |c, d| make_filename(OsStr::new("out"), None, c, d).unwrap();
        assert_eq!(n(0, 0), PathBuf::from("out"));
        assert_eq!(n(1, 0), PathBuf::from("out1"));
        assert_eq!(n(0, 1), PathBuf::from("out0"));
        assert_eq!(n(7, 3), PathBuf::from("out007"));
        assert!(matches!(
            make_filename(OsStr::new(""), None, 0, 0),
            Err(RotateError::EmptyName)
        ));
        let long = "x".repeat(PATH_MAX);
        assert!(matches!(
            make_filename(OsStr::new(&long), None, 1, 0),
            Err(RotateError::NameTooLong)
        ));
    }

    #[test]
    fn strftime_formats_the_name_in_local_time() {
        // %s is the epoch whatever the time zone; %% a percent sign.
        let p = make_filename(OsStr::new("cap-%s-%%.pcap"), Some(1_700_000_000), 2, 0).unwrap();
        assert_eq!(p, PathBuf::from("cap-1700000000-%.pcap2"));
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let t: libc::time_t = 1_700_000_000;
        unsafe { libc::localtime_r(&t, &mut tm) };
        let p = make_filename(OsStr::new("c-%H%M%S"), Some(1_700_000_000), 0, 0).unwrap();
        assert_eq!(
            p,
            PathBuf::from(format!(
                "c-{:02}{:02}{:02}",
                tm.tm_hour, tm.tm_min, tm.tm_sec
            ))
        );
    }

    #[test]
    fn size_rotation_happens_once_the_file_is_larger_than_the_limit() {
        let dir = Scratch::new("size");
        // Header 24 + 116 per packet: after 2 packets 256 bytes. A limit of 256 lets a third
        // packet in (256 is not larger), a limit of 255 does not.
        for (limit, per_file) in [(256u64, 3usize), (255, 2)] {
            let base = dir.0.join(format!("l{limit}-"));
            let mut w = RotatingWriter::create(
                &base,
                Format::Pcap,
                LinkType::Ethernet,
                0,
                sized(limit, None),
            )
            .unwrap();
            for i in 0..7 {
                assert_eq!(w.write(&packet(i)).unwrap(), Written::Packet);
            }
            w.flush().unwrap();
            let files: Vec<String> = dir
                .names()
                .into_iter()
                .filter(|n| n.starts_with(&format!("l{limit}-")))
                .collect();
            let want = 7usize.div_ceil(per_file);
            let mut expect = vec![format!("l{limit}-")];
            expect.extend((1..want).map(|i| format!("l{limit}-{i}")));
            expect.sort();
            assert_eq!(files, expect, "limit {limit}");
            assert_eq!(dir.size(&format!("l{limit}-")), 24 + 116 * per_file as u64);
        }
    }

    #[test]
    fn a_ring_of_w_files_wraps_to_number_zero() {
        let dir = Scratch::new("ring");
        let base = dir.0.join("out");
        // One packet per file: 24 + 116 > 100 after the first packet.
        let mut w = RotatingWriter::create(
            &base,
            Format::Pcap,
            LinkType::Ethernet,
            0,
            sized(100, Some(3)),
        )
        .unwrap();
        for i in 0..5 {
            w.write(&packet(i)).unwrap();
        }
        assert_eq!(w.current_name(), dir.0.join("out1"));
        w.flush().unwrap();
        assert_eq!(dir.names(), ["out0", "out1", "out2"]);
        // Packets 3 and 4 overwrote out0 and out1: each file holds one packet.
        for n in ["out0", "out1", "out2"] {
            assert_eq!(dir.size(n), 140, "{n}");
        }
        let first = std::fs::read(dir.0.join("out0")).unwrap();
        assert_eq!(u32::from_le_bytes(first[24..28].try_into().unwrap()), 3);
    }

    #[test]
    fn a_ring_of_one_file_keeps_rewriting_it() {
        let dir = Scratch::new("one");
        let base = dir.0.join("out");
        let mut w = RotatingWriter::create(
            &base,
            Format::Pcap,
            LinkType::Ethernet,
            0,
            sized(100, Some(1)),
        )
        .unwrap();
        for i in 0..3 {
            w.write(&packet(i)).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(dir.names(), ["out"]);
        assert_eq!(dir.size("out"), 140);
    }

    #[test]
    fn pcapng_files_each_start_with_their_own_section() {
        let dir = Scratch::new("ng");
        let base = dir.0.join("out.pcapng");
        let mut w = RotatingWriter::create(
            &base,
            Format::Pcapng,
            LinkType::Ethernet,
            0,
            sized(150, None),
        )
        .unwrap();
        for i in 0..4 {
            w.write(&packet(i)).unwrap();
        }
        w.flush().unwrap();
        let names = dir.names();
        assert!(names.len() >= 2, "{names:?}");
        for n in names {
            let b = std::fs::read(dir.0.join(&n)).unwrap();
            assert_eq!(&b[..4], &0x0A0D_0D0Au32.to_le_bytes(), "{n}");
            let mut r = super::super::PcapReader::open(dir.0.join(&n)).unwrap();
            assert!(r.next_packet().unwrap().is_ok(), "{n}");
        }
    }

    fn clocked(dir: &Scratch, name: &str, rotation: Rotation) -> (RotatingWriter, Arc<AtomicI64>) {
        let now = Arc::new(AtomicI64::new(1_700_000_000));
        let c = now.clone();
        let w = RotatingWriter::with_clock(
            dir.0.join(name),
            Format::Pcap,
            LinkType::Ethernet,
            0,
            rotation,
            Box::new(move || c.load(Ordering::Relaxed)),
        )
        .unwrap();
        (w, now)
    }

    #[test]
    fn time_rotation_opens_a_file_on_the_first_packet_of_a_new_period() {
        let dir = Scratch::new("time");
        let rotation = Rotation {
            seconds: Some(2),
            ..Rotation::default()
        };
        let (mut w, now) = clocked(&dir, "t-%s", rotation);
        w.write(&packet(0)).unwrap();
        now.fetch_add(1, Ordering::Relaxed);
        w.write(&packet(1)).unwrap();
        // Ten quiet seconds open no file; the next packet opens one named by its time.
        now.fetch_add(10, Ordering::Relaxed);
        w.write(&packet(2)).unwrap();
        now.fetch_add(2, Ordering::Relaxed);
        w.write(&packet(3)).unwrap();
        w.flush().unwrap();
        assert_eq!(
            dir.names(),
            ["t-1700000000", "t-1700000011", "t-1700000013"]
        );
        assert_eq!(dir.size("t-1700000000"), 24 + 2 * 116);
    }

    #[test]
    fn time_rotation_with_a_count_stops_after_that_many_files() {
        let dir = Scratch::new("timew");
        let rotation = Rotation {
            seconds: Some(1),
            file_count: Some(2),
            ..Rotation::default()
        };
        let (mut w, now) = clocked(&dir, "t-%s", rotation);
        assert_eq!(w.write(&packet(0)).unwrap(), Written::Packet);
        now.fetch_add(1, Ordering::Relaxed);
        assert_eq!(w.write(&packet(1)).unwrap(), Written::Packet);
        now.fetch_add(1, Ordering::Relaxed);
        assert_eq!(w.write(&packet(2)).unwrap(), Written::FileLimitReached(2));
        assert_eq!(w.write(&packet(3)).unwrap(), Written::FileLimitReached(2));
        w.flush().unwrap();
        assert_eq!(dir.names(), ["t-1700000000", "t-1700000001"]);
    }

    #[test]
    fn time_and_size_number_the_files_of_each_period() {
        let dir = Scratch::new("both");
        let rotation = Rotation {
            seconds: Some(5),
            file_size: Some(100),
            file_count: Some(2),
            ..Rotation::default()
        };
        let (mut w, now) = clocked(&dir, "t-%s-", rotation);
        for i in 0..3 {
            w.write(&packet(i)).unwrap();
        }
        now.fetch_add(5, Ordering::Relaxed);
        // -W does not end a capture that -C also rotates.
        for i in 3..5 {
            assert_eq!(w.write(&packet(i)).unwrap(), Written::Packet);
        }
        w.flush().unwrap();
        assert_eq!(
            dir.names(),
            [
                "t-1700000000-0",
                "t-1700000000-1",
                "t-1700000005-0",
                "t-1700000005-1"
            ]
        );
    }

    #[test]
    fn post_rotate_command_gets_each_closed_file() {
        let dir = Scratch::new("z");
        let log = dir.0.join("log");
        let script = dir.0.join("record.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$# $1 $(nice)\" >> {}\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let rotation = Rotation {
            file_size: Some(100),
            post_rotate: Some(script.clone().into_os_string()),
            ..Rotation::default()
        };
        let base = dir.0.join("out");
        let mut w =
            RotatingWriter::create(&base, Format::Pcap, LinkType::Ethernet, 0, rotation).unwrap();
        for i in 0..3 {
            w.write(&packet(i)).unwrap();
        }
        w.flush().unwrap();
        for c in &mut w.children {
            c.wait().unwrap();
        }
        let mut lines: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        // The open file (out2) is not handed over; the command runs at nice 19.
        assert_eq!(
            lines,
            [
                format!("1 {} 19", base.display()),
                format!("1 {}1 19", base.display())
            ]
        );
    }
}

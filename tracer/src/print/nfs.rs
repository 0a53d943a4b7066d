//! NFS over TCP (tcpdump's print-nfs.c and parsenfsfh.c, as print-tcp.c calls them for
//! port 2049): `NFS request xid X LEN getattr fh M,m/ino`, `NFS reply xid X reply ok LEN
//! getattr REG 100644 ids 0/0 sz 6`, for NFSv2 and NFSv3 calls and replies. Replies are
//! decoded through the procedure of their call, which tcpdump remembers in a ring of 64
//! (xid, client, server) entries: `xid::XidMap`, kept per printer like the sequence table.

use super::ctx::{Ctx, R};
use super::util::Tok;
use super::write;
use super::xid::{XidEntry, XIDMAPSIZE};

const NFSPROC_NOOP: u32 = 25;
const NFSV3_PROCID: [u32; 26] = [
    0, 1, 2, 25, 3, 5, 6, 25, 7, 8, 12, 14, 15, 10, 9, 13, 16, 18, 25, 25, 25, 25, 25, 25, 25, 25,
];

const NFSPROC_STR: &Tok = &[
    (NFSPROC_NOOP, "nop"),
    (0, "null"),
    (1, "getattr"),
    (2, "setattr"),
    (3, "lookup"),
    (4, "access"),
    (5, "readlink"),
    (6, "read"),
    (7, "write"),
    (8, "create"),
    (9, "mkdir"),
    (10, "symlink"),
    (11, "mknod"),
    (12, "remove"),
    (13, "rmdir"),
    (14, "rename"),
    (15, "link"),
    (16, "readdir"),
    (17, "readdirplus"),
    (18, "fsstat"),
    (19, "fsinfo"),
    (20, "pathconf"),
    (21, "commit"),
];

const STATUS2STR: &Tok = &[
    (1, "Operation not permitted"),
    (2, "No such file or directory"),
    (5, "Input/output error"),
    (6, "Device not configured"),
    (11, "Resource deadlock avoided"),
    (12, "Cannot allocate memory"),
    (13, "Permission denied"),
    (17, "File exists"),
    (18, "Cross-device link"),
    (19, "Operation not supported by device"),
    (20, "Not a directory"),
    (21, "Is a directory"),
    (22, "Invalid argument"),
    (26, "Text file busy"),
    (27, "File too large"),
    (28, "No space left on device"),
    (30, "Read-only file system"),
    (31, "Too many links"),
    (45, "Operation not supported"),
    (62, "Too many levels of symbolic links"),
    (63, "File name too long"),
    (66, "Directory not empty"),
    (69, "Disc quota exceeded"),
    (70, "Stale NFS file handle"),
    (71, "Too many levels of remote in path"),
    (99, "Write cache flushed to disk"),
    (10001, "Illegal NFS file handle"),
    (10002, "Update synchronization mismatch"),
    (10003, "READDIR/READDIRPLUS cookie is stale"),
    (10004, "Operation not supported"),
    (10005, "Buffer or request is too small"),
    (10006, "Unspecified error on server"),
    (10007, "Object of that type not supported"),
    (10008, "Request couldn't be completed in time"),
];

const WRITEMODES: &Tok = &[(0, "unstable"), (1, "datasync"), (2, "filesync")];

const TYPE2STR: &Tok = &[
    (0, "NON"),
    (1, "REG"),
    (2, "DIR"),
    (3, "BLK"),
    (4, "CHR"),
    (5, "LNK"),
    (7, "FIFO"),
];

const AUTH_STR: &Tok = &[
    (0, "OK"),
    (1, "Bogus Credentials (seal broken)"),
    (2, "Rejected Credentials (client should begin new session)"),
    (3, "Bogus Verifier (seal broken)"),
    (4, "Verifier expired or was replayed"),
    (5, "Credentials are too weak"),
    (6, "Bogus response verifier"),
    (7, "Unknown failure"),
];

const SUNRPC_STR: &Tok = &[
    (1, "PROG_UNAVAIL"),
    (2, "PROG_MISMATCH"),
    (3, "PROC_UNAVAIL"),
    (4, "GARBAGE_ARGS"),
    (5, "SYSTEM_ERR"),
];

/// `%o`.
fn octal(c: &mut Ctx, v: u32) {
    let mut buf = [0u8; 11];
    let mut k = buf.len();
    let mut x = v;
    loop {
        k -= 1;
        buf[k] = b'0' + (x & 7) as u8;
        x >>= 3;
        if x == 0 {
            break;
        }
    }
    c.out.extend_from_slice(&buf[k..]);
}

/// `%u.%06u`.
fn time(c: &mut Ctx, s: u32, f: u32) {
    c.num(s);
    c.b(b'.');
    write::dec_pad(c.out, f as u64, 6);
}

/// `%d`.
fn signed(c: &mut Ctx, v: u32) {
    let v = v as i32;
    if v < 0 {
        c.b(b'-');
    }
    c.num((v as i64).unsigned_abs());
}

/// The IP version and addresses of the header at `ip`.
fn ip_addrs(c: &Ctx, ip: usize) -> R<(u8, [u8; 16], [u8; 16])> {
    let v = c.u8(ip)? >> 4;
    let (mut s, mut d) = ([0u8; 16], [0u8; 16]);
    match v {
        4 => {
            s[..4].copy_from_slice(c.bytes(ip + 12, 4)?);
            d[..4].copy_from_slice(c.bytes(ip + 16, 4)?);
        }
        6 => {
            s.copy_from_slice(c.bytes(ip + 8, 16)?);
            d.copy_from_slice(c.bytes(ip + 24, 16)?);
        }
        _ => {}
    }
    Ok((v, s, d))
}

/// `xid_map_enter`: false if the call's procedure was not captured.
fn xid_map_enter(c: &mut Ctx, rp: usize, ip: usize) -> R<bool> {
    if !c.ttest(rp + 20, 4) {
        return Ok(false);
    }
    let (v, s, d) = ip_addrs(c, ip)?;
    if v != 4 && v != 6 {
        return Ok(true);
    }
    let xid = c.be32(rp)?;
    let proc_ = c.be32(rp + 20)?;
    let vers = c.be32(rp + 16)?;
    let m = &mut *c.nfs;
    let e = &mut m.map[m.next];
    m.next = (m.next + 1) % XIDMAPSIZE;
    *e = XidEntry {
        xid,
        ipver: v,
        client: s,
        server: d,
        proc_,
        vers,
    };
    Ok(true)
}

/// `xid_map_find`: the call's (procedure, version).
fn xid_map_find(c: &mut Ctx, rp: usize, ip: usize) -> R<Option<(u32, u32)>> {
    let xid = c.be32(rp)?;
    let (v, s, d) = ip_addrs(c, ip)?;
    let m = &mut *c.nfs;
    let mut i = m.hint;
    loop {
        let e = &m.map[i];
        if e.ipver == v && e.xid == xid {
            let n = if v == 4 { 4 } else { 16 };
            let ok = (v == 4 || v == 6) && s[..n] == e.server[..n] && d[..n] == e.client[..n];
            if ok {
                m.hint = i;
                return Ok(Some((e.proc_, e.vers)));
            }
        }
        i = (i + 1) % XIDMAPSIZE;
        if i == m.hint {
            return Ok(None);
        }
    }
}

/// The start of the call's arguments after credentials and verifier (`parsereq`).
fn parsereq(c: &Ctx, rp: usize, length: u32) -> R<Option<usize>> {
    let dp = rp + 24;
    if length < 8 {
        return Ok(None);
    }
    let len = c.be32(dp + 4)?;
    // roundup2() of a u_int: wraps to 0 for the last three values.
    let rounded = (len.wrapping_add(3) & !3) as u64;
    if !c.ttest(dp + 8, rounded as usize) {
        return Ok(None);
    }
    if 8 + rounded > length as u64 {
        return Ok(None);
    }
    let dp = dp + ((len as u64 + 11) / 4 * 4) as usize;
    let length = length as u64 - (8 + rounded);
    if length < 8 {
        return Ok(None);
    }
    let len = c.be32(dp + 4)?;
    let rounded = (len.wrapping_add(3) & !3) as u64;
    if !c.ttest(dp + 8, rounded as usize) {
        return Ok(None);
    }
    if 8 + rounded < length {
        return Ok(Some(dp + ((len as u64 + 11) / 4 * 4) as usize));
    }
    Ok(None)
}

/// `Parse_fh` + `nfs_printfh`: ` fh MAJOR,MINOR/INODE` (or the server's name for it).
fn printfh(c: &mut Ctx, dp: usize, len: u32) -> R<()> {
    let fh = dp;
    let g = |o: usize| c.u8(fh + o);
    let (major, minor, ino): (u32, u32, u32);
    // fsname: Some(Err(())) is "Unknown", Some(Ok(off)) a name in the handle (VMS).
    let mut fsname: Option<Result<usize, ()>> = None;
    let mut opaque = [0u8; 65];
    let mut opaque_len = 0;
    #[derive(PartialEq)]
    enum T {
        Unknown,
        Auspex,
        DecOsf,
        Irix4,
        SunOs4,
        SunOs5,
        Ultrix,
        VmsUcx,
        Hpux9,
        Bsd44,
    }
    let fhtype = if len < 4 {
        T::Unknown
    } else if g(0)? == 0 && g(1)? == 0 {
        if g(2)? == 0 && g(3)? == 0 {
            T::Auspex
        } else if g(4)? != 0 && g(5)? == 0 && g(8)? == 12 && g(9)? == 0 {
            T::DecOsf
        } else if g(4)? == 0 && g(5)? == 8 && g(6)? == 0 && g(7)? == 0 {
            T::Irix4
        } else {
            T::SunOs4
        }
    } else if g(2)? == 0 && g(3)? == 0 {
        if g(6)? == 0 && g(7)? == 0 {
            T::Bsd44
        } else if len >= 6 && g(21)? == 0 && g(23)? == 0 {
            T::Ultrix
        } else if g(9)? == 10 {
            T::SunOs5
        } else {
            T::Unknown
        }
    } else if g(8)? == 12 && g(9)? == 0 {
        T::DecOsf
    } else if g(8)? == 0 && g(9)? == 10 {
        if g(7)? == 0 && g(6)? == 0 && g(5)? == 0 && g(4)? == 0 {
            T::Hpux9
        } else {
            T::SunOs5
        }
    } else if is_ucx(c, fh, len)? {
        T::VmsUcx
    } else {
        T::Unknown
    };
    let le32 = |o: usize| -> R<u32> {
        let b = c.bytes(fh + o, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    match fhtype {
        T::Auspex => {
            minor = g(7)? as u32;
            major = g(6)? as u32;
            ino = c.be32(fh + 12)?;
        }
        T::Bsd44 => {
            minor = g(0)? as u32;
            major = g(1)? as u32;
            ino = le32(12)?;
        }
        T::DecOsf => {
            le32(4)?;
            let t = le32(0)?;
            minor = t & 0xfffff;
            major = (t >> 20) & 0xfff;
            ino = le32(12)?;
        }
        T::Irix4 => {
            minor = g(3)? as u32;
            major = g(2)? as u32;
            ino = c.be32(fh + 8)?;
        }
        T::SunOs4 => {
            minor = g(3)? as u32;
            major = g(2)? as u32;
            c.be32(fh + 4)?;
            ino = c.be32(fh + 12)?;
        }
        T::SunOs5 => {
            major = (c.be16(fh)? as u32 >> 2) & 0x3fff;
            let b = c.bytes(fh + 1, 3)?;
            minor = ((b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32) & 0x3ffff;
            c.be32(fh + 4)?;
            ino = c.be32(fh + 12)?;
        }
        T::Ultrix => {
            minor = g(0)? as u32;
            major = g(1)? as u32;
            ino = le32(4)?;
        }
        T::VmsUcx => {
            // The first 14 bytes of the handle overlay tcpdump's my_fsid (on a
            // little-endian host): Minor, Major, then the start of Opaque_Handle.
            let b = c.bytes(fh, 14)?;
            minor = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            major = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            opaque[..6].copy_from_slice(&b[8..14]);
            opaque_len = opaque[..6].iter().position(|&x| x == 0).unwrap_or(6);
            let lo = c.bytes(fh + 22, 2)?;
            ino = (g(26)? as u32) << 24
                | (g(27)? as u32) << 16
                | u16::from_le_bytes([lo[0], lo[1]]) as u32;
            fsname = Some(Ok(fh + 1));
        }
        T::Hpux9 => {
            major = g(0)? as u32;
            let b = c.bytes(fh + 1, 3)?;
            minor = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            c.be32(fh + 4)?;
            ino = c.be32(fh + 12)?;
        }
        T::Unknown => {
            const H: &[u8; 16] = b"0123456789ABCDEF";
            let mut i = 0usize;
            while i < (len as usize) * 4 && i * 2 < 64 {
                let b = g(i)?;
                opaque[i * 2] = H[(b >> 4) as usize];
                opaque[i * 2 + 1] = H[(b & 15) as usize];
                i += 1;
            }
            opaque_len = i * 2;
            minor = 257;
            major = 257;
            ino = 1;
            fsname = Some(Err(()));
        }
    }
    match fsname {
        Some(name) => {
            let n = (len as usize).min(64);
            c.s(" fh ");
            let src: &[u8] = match name {
                Ok(off) => {
                    let end = (off + n).min(c.snapend);
                    &c.d[off..end]
                }
                Err(()) => b"Unknown",
            };
            let mut k = 0;
            while k < n && k < src.len() && src[k] != 0 && src[k] != b' ' {
                k += 1;
            }
            c.out.extend_from_slice(&src[..k]);
            c.b(b'/');
        }
        None => {
            c.s(" fh ");
            c.num(major);
            c.b(b',');
            c.num(minor);
            c.b(b'/');
        }
    }
    if minor == 257 {
        c.out.extend_from_slice(&opaque[..opaque_len]);
    } else {
        c.num(ino);
    }
    Ok(())
}

/// `is_UCX`.
fn is_ucx(c: &Ctx, fh: usize, len: u32) -> R<bool> {
    if len < 7 {
        return Ok(false);
    }
    let mut seen_null = false;
    for i in 1..14 {
        let b = c.u8(fh + i)?;
        if (0x20..=0x7e).contains(&b) {
            if seen_null {
                return Ok(false);
            }
        } else if b == 0 {
            seen_null = true;
        } else {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `parsefh`.
fn parsefh(c: &mut Ctx, dp: usize, v3: bool) -> R<Option<usize>> {
    let (len, dp) = if v3 {
        (c.be32(dp)? / 4, dp + 4)
    } else {
        (32 / 4, dp)
    };
    if c.ttest(dp, len as usize * 4) {
        printfh(c, dp, len)?;
        Ok(Some(dp + len as usize * 4))
    } else {
        Ok(None)
    }
}

/// `parsefn`: `"name"`.
fn parsefn(c: &mut Ctx, dp: usize) -> R<Option<usize>> {
    let len = c.be32(dp)?;
    let dp = dp + 4;
    if u32::MAX - len < 3 {
        c.s("[cannot pad to 32-bit boundaries]");
        c.invalid();
        return Ok(None);
    }
    let rounded = (len + 3) & !3;
    if !c.ttest(dp, rounded as usize) {
        return Ok(None);
    }
    c.b(b'"');
    if c.printn(dp, len) {
        c.b(b'"');
        return Ok(None);
    }
    c.b(b'"');
    Ok(Some(dp + rounded as usize))
}

fn parsefhn(c: &mut Ctx, dp: usize, v3: bool) -> R<Option<usize>> {
    let Some(dp) = parsefh(c, dp, v3)? else {
        return Ok(None);
    };
    c.b(b' ');
    parsefn(c, dp)
}

#[derive(Default)]
struct Sattr3 {
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
    atime: Option<(u32, u32)>,
    mtime: Option<(u32, u32)>,
}

/// `parse_sattr3`.
fn parse_sattr3(c: &Ctx, dp: usize) -> R<(usize, Sattr3)> {
    let mut dp = dp;
    let mut sa = Sattr3::default();
    let word = |dp: &mut usize| -> R<u32> {
        let v = c.be32(*dp)?;
        *dp += 4;
        Ok(v)
    };
    if word(&mut dp)? != 0 {
        sa.mode = Some(word(&mut dp)?);
    }
    if word(&mut dp)? != 0 {
        sa.uid = Some(word(&mut dp)?);
    }
    if word(&mut dp)? != 0 {
        sa.gid = Some(word(&mut dp)?);
    }
    if word(&mut dp)? != 0 {
        word(&mut dp)?;
    }
    if word(&mut dp)? == 2 {
        sa.atime = Some((word(&mut dp)?, word(&mut dp)?));
    }
    if word(&mut dp)? == 2 {
        sa.mtime = Some((word(&mut dp)?, word(&mut dp)?));
    }
    Ok((dp, sa))
}

fn print_sattr3(c: &mut Ctx, sa: &Sattr3, verbose: u8) {
    if let Some(m) = sa.mode {
        c.s(" mode ");
        octal(c, m);
    }
    if let Some(u) = sa.uid {
        c.s(" uid ");
        c.num(u);
    }
    if let Some(g) = sa.gid {
        c.s(" gid ");
        c.num(g);
    }
    if verbose > 1 {
        if let Some((s, n)) = sa.atime {
            c.s(" atime ");
            time(c, s, n);
        }
        if let Some((s, n)) = sa.mtime {
            c.s(" mtime ");
            time(c, s, n);
        }
    }
}

/// `nfsreq_noaddr_print`: a call.
pub(crate) fn request(c: &mut Ctx, rp: usize, length: u32, ip: usize) -> R<()> {
    c.proto = "nfs";
    c.num(length);
    if !req(c, rp, length, ip)? {
        c.trunc();
    }
    Ok(())
}

fn req(c: &mut Ctx, rp: usize, length: u32, ip: usize) -> R<bool> {
    macro_rules! q {
        ($e:expr) => {
            match $e? {
                Some(v) => v,
                None => return Ok(false),
            }
        };
    }
    if !xid_map_enter(c, rp, ip)? {
        return Ok(false);
    }
    let v3 = c.be32(rp + 16)? == 3;
    let mut proc_ = c.be32(rp + 20)?;
    if !v3 && proc_ < 26 {
        proc_ = NFSV3_PROCID[proc_ as usize];
    }
    c.b(b' ');
    c.tok(NFSPROC_STR, "proc-%u", proc_);
    let verbose = c.opts.verbose;
    match proc_ {
        1 | 2 | 5 | 18 | 19 | 20 => {
            let dp = q!(parsereq(c, rp, length));
            q!(parsefh(c, dp, v3));
        }
        3 | 8 | 9 | 12 | 13 => {
            let dp = q!(parsereq(c, rp, length));
            q!(parsefhn(c, dp, v3));
        }
        4 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefh(c, dp, v3));
            let f = c.be32(dp)?;
            if f & !0x3f != 0 {
                c.b(b' ');
                c.hex(f, 4);
            } else if f & 0x3f == 0x3f {
                c.s(" NFS_ACCESS_FULL");
            } else {
                let mut sep = b' ';
                for (bit, name) in [
                    (0x01, "NFS_ACCESS_READ"),
                    (0x02, "NFS_ACCESS_LOOKUP"),
                    (0x04, "NFS_ACCESS_MODIFY"),
                    (0x08, "NFS_ACCESS_EXTEND"),
                    (0x10, "NFS_ACCESS_DELETE"),
                    (0x20, "NFS_ACCESS_EXECUTE"),
                ] {
                    if f & bit != 0 {
                        c.b(sep);
                        c.s(name);
                        sep = b'|';
                    }
                }
            }
        }
        6 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefh(c, dp, v3));
            if v3 {
                let (n, off) = (c.be32(dp + 8)?, c.be64(dp)?);
                c.b(b' ');
                c.num(n);
                c.s(" bytes @ ");
                c.num(off);
            } else {
                let (n, off) = (c.be32(dp + 4)?, c.be32(dp)?);
                c.b(b' ');
                c.num(n);
                c.s(" bytes @ ");
                c.num(off);
            }
        }
        7 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefh(c, dp, v3));
            if v3 {
                let (a, b, off) = (c.be32(dp + 16)?, c.be32(dp + 8)?, c.be64(dp)?);
                c.b(b' ');
                c.num(a);
                c.s(" (");
                c.num(b);
                c.s(") bytes @ ");
                c.num(off);
                if verbose > 0 {
                    let m = c.be32(dp + 12)?;
                    c.s(" <");
                    c.tok(WRITEMODES, "#%d", m);
                    c.b(b'>');
                }
            } else {
                let (a, b, d, e) = (
                    c.be32(dp + 12)?,
                    c.be32(dp + 8)?,
                    c.be32(dp + 4)?,
                    c.be32(dp)?,
                );
                c.b(b' ');
                c.num(a);
                c.s(" (");
                c.num(b);
                c.s(") bytes @ ");
                c.num(d);
                c.s(" (");
                c.num(e);
                c.b(b')');
            }
        }
        10 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefhn(c, dp, v3));
            c.s(" ->");
            let (dp, sa) = if v3 {
                let (d, s) = parse_sattr3(c, dp)?;
                (d, Some(s))
            } else {
                (dp, None)
            };
            q!(parsefn(c, dp));
            if let Some(sa) = sa {
                if verbose > 0 {
                    print_sattr3(c, &sa, verbose);
                }
            }
        }
        11 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefhn(c, dp, v3));
            let t = c.be32(dp)?;
            let (dp, sa) = parse_sattr3(c, dp + 4)?;
            c.b(b' ');
            c.tok(TYPE2STR, "unk-ft %u", t);
            if verbose > 0 && (t == 4 || t == 3) {
                let (a, b) = (c.be32(dp)?, c.be32(dp + 4)?);
                c.b(b' ');
                c.num(a);
                c.b(b'/');
                c.num(b);
            }
            if verbose > 0 {
                print_sattr3(c, &sa, verbose);
            }
        }
        14 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefhn(c, dp, v3));
            c.s(" ->");
            q!(parsefhn(c, dp, v3));
        }
        15 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefh(c, dp, v3));
            c.s(" ->");
            q!(parsefhn(c, dp, v3));
        }
        16 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefh(c, dp, v3));
            if v3 {
                let (n, off) = (c.be32(dp + 16)?, c.be64(dp)?);
                c.b(b' ');
                c.num(n);
                c.s(" bytes @ ");
                signed64(c, off);
                if verbose > 0 {
                    let (a, b) = (c.be32(dp + 8)?, c.be32(dp + 12)?);
                    c.s(" verf ");
                    c.hex(a, 8);
                    c.hex(b, 8);
                }
            } else {
                let (n, off) = (c.be32(dp + 4)?, c.be32(dp)?);
                c.b(b' ');
                c.num(n);
                c.s(" bytes @ ");
                c.num(off);
            }
        }
        17 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefh(c, dp, v3));
            let (n, off) = (c.be32(dp + 16)?, c.be64(dp)?);
            c.b(b' ');
            c.num(n);
            c.s(" bytes @ ");
            signed64(c, off);
            if verbose > 0 {
                let (m, a, b) = (c.be32(dp + 20)?, c.be32(dp + 8)?, c.be32(dp + 12)?);
                c.s(" max ");
                c.num(m);
                c.s(" verf ");
                c.hex(a, 8);
                c.hex(b, 8);
            }
        }
        21 => {
            let dp = q!(parsereq(c, rp, length));
            let dp = q!(parsefh(c, dp, v3));
            let (n, off) = (c.be32(dp + 8)?, c.be64(dp)?);
            c.b(b' ');
            c.num(n);
            c.s(" bytes @ ");
            c.num(off);
        }
        _ => {}
    }
    Ok(true)
}

/// `%" PRId64`.
fn signed64(c: &mut Ctx, v: u64) {
    let v = v as i64;
    if v < 0 {
        c.b(b'-');
    }
    c.num(v.unsigned_abs());
}

/// `nfsreply_noaddr_print`: a reply.
pub(crate) fn reply(c: &mut Ctx, rp: usize, length: u32, ip: usize) -> R<()> {
    c.proto = "nfs";
    if !c.ttest(rp + 8, 4) {
        c.trunc();
        return Ok(());
    }
    match c.be32(rp + 8)? {
        0 => {
            c.s("reply ok ");
            c.num(length);
            if let Some((p, v)) = xid_map_find(c, rp, ip)? {
                interp_reply(c, rp, p, v, length)?;
            }
        }
        1 => {
            c.s("reply ERR ");
            c.num(length);
            c.s(": ");
            if !c.ttest(rp + 12, 4) {
                c.trunc();
                return Ok(());
            }
            match c.be32(rp + 12)? {
                0 => {
                    if !c.ttest(rp + 20, 4) {
                        c.trunc();
                        return Ok(());
                    }
                    let (lo, hi) = (c.be32(rp + 16)?, c.be32(rp + 20)?);
                    c.s("RPC Version mismatch (");
                    c.num(lo);
                    c.b(b'-');
                    c.num(hi);
                    c.b(b')');
                }
                1 => {
                    if !c.ttest(rp + 16, 4) {
                        c.trunc();
                        return Ok(());
                    }
                    let why = c.be32(rp + 16)?;
                    c.s("Auth ");
                    c.tok(AUTH_STR, "Invalid failure code %u", why);
                }
                r => {
                    c.s("Unknown reason for rejecting rpc message ");
                    c.num(r);
                }
            }
        }
        s => {
            c.s("reply Unknown rpc response code=");
            c.num(s);
            c.b(b' ');
            c.num(length);
        }
    }
    Ok(())
}

/// Parsing state of a reply: tcpdump's `nfserr` (an NFS error was printed, so a
/// failure does not add ` [|nfs]`).
struct Rep {
    nfserr: bool,
}

type P = R<Option<usize>>;

/// `parserep`: the start of the results.
fn parserep(c: &mut Ctx, st: &mut Rep, rp: usize, length: u32) -> P {
    let dp = rp + 12;
    let len = c.be32(dp + 4)?;
    if len >= length {
        return Ok(None);
    }
    let dp = dp + ((len as u64 + 11) / 4 * 4) as usize;
    let astat = c.be32(dp)?;
    if astat != 0 {
        c.b(b' ');
        c.tok(SUNRPC_STR, "ar_stat %u", astat);
        st.nfserr = true;
        return Ok(None);
    }
    if !c.ttest(dp, 4) {
        return Ok(None);
    }
    Ok(Some(dp + 4))
}

/// `parsestatus`: (next, error number).
fn parsestatus(c: &mut Ctx, st: &mut Rep, dp: usize) -> R<(usize, u32)> {
    let e = c.be32(dp)?;
    if e != 0 {
        if !c.opts.quiet {
            c.s(" ERROR: ");
            c.tok(STATUS2STR, "unk %u", e);
        }
        st.nfserr = true;
    }
    Ok((dp + 4, e))
}

/// `parsefattr`.
fn parsefattr(c: &mut Ctx, dp: usize, verbose: u8, v3: bool) -> P {
    if !c.ttest(dp + 16, 4) {
        return Ok(None);
    }
    if verbose > 0 {
        let (t, mode, uid, gid) = (
            c.be32(dp)?,
            c.be32(dp + 4)?,
            c.be32(dp + 12)?,
            c.be32(dp + 16)?,
        );
        c.b(b' ');
        c.tok(TYPE2STR, "unk-ft %u ", t);
        c.b(b' ');
        octal(c, mode);
        c.s(" ids ");
        signed(c, uid);
        c.b(b'/');
        signed(c, gid);
        if v3 {
            let sz = c.be64(dp + 20)?;
            c.s(" sz ");
            c.num(sz);
        } else {
            let sz = c.be32(dp + 20)?;
            c.s(" sz ");
            c.num(sz);
        }
    }
    if verbose > 1 {
        if v3 {
            if !c.ttest(dp + 76, 8) {
                return Ok(None);
            }
            let (nl, r1, r2) = (c.be32(dp + 8)?, c.be32(dp + 36)?, c.be32(dp + 40)?);
            c.s(" nlink ");
            c.num(nl);
            c.s(" rdev ");
            c.num(r1);
            c.b(b'/');
            c.num(r2);
            let fsid = c.be64(dp + 44)?;
            c.s(" fsid ");
            c.hex(fsid, 1);
            let fid = c.be64(dp + 52)?;
            c.s(" fileid ");
            c.hex(fid, 1);
            for (k, lead) in [" a/m/ctime ", " ", " "].into_iter().enumerate() {
                let (s, n) = (c.be32(dp + 60 + 8 * k)?, c.be32(dp + 64 + 8 * k)?);
                c.s(lead);
                time(c, s, n);
            }
        } else {
            if !c.ttest(dp + 60, 8) {
                return Ok(None);
            }
            let (nl, rdev, fsid, fid) = (
                c.be32(dp + 8)?,
                c.be32(dp + 28)?,
                c.be32(dp + 36)?,
                c.be32(dp + 40)?,
            );
            c.s(" nlink ");
            c.num(nl);
            c.s(" rdev 0x");
            c.hex(rdev, 1);
            c.s(" fsid 0x");
            c.hex(fsid, 1);
            c.s(" nodeid 0x");
            c.hex(fid, 1);
            c.s(" a/m/ctime");
            for k in 0..3 {
                let (s, n) = (c.be32(dp + 44 + 8 * k)?, c.be32(dp + 48 + 8 * k)?);
                c.b(b' ');
                time(c, s, n);
            }
        }
    }
    Ok(Some(dp + if v3 { 84 } else { 68 }))
}

fn parseattrstat(c: &mut Ctx, st: &mut Rep, dp: usize, verbose: u8, v3: bool) -> R<bool> {
    let (dp, er) = parsestatus(c, st, dp)?;
    if er != 0 {
        return Ok(true);
    }
    Ok(parsefattr(c, dp, verbose, v3)?.is_some())
}

fn parsediropres(c: &mut Ctx, st: &mut Rep, dp: usize) -> R<bool> {
    let (dp, er) = parsestatus(c, st, dp)?;
    if er != 0 {
        return Ok(true);
    }
    let Some(dp) = parsefh(c, dp, false)? else {
        return Ok(false);
    };
    let v = c.opts.verbose;
    Ok(parsefattr(c, dp, v, false)?.is_some())
}

fn parselinkres(c: &mut Ctx, st: &mut Rep, dp: usize, v3: bool) -> R<bool> {
    let (mut dp, er) = parsestatus(c, st, dp)?;
    if er != 0 {
        return Ok(true);
    }
    if v3 {
        let v = c.opts.verbose;
        match parse_post_op_attr(c, dp, v)? {
            Some(p) => dp = p,
            None => return Ok(false),
        }
    }
    c.b(b' ');
    Ok(parsefn(c, dp)?.is_some())
}

fn parsestatfs(c: &mut Ctx, st: &mut Rep, dp: usize, v3: bool) -> R<bool> {
    let (mut dp, er) = parsestatus(c, st, dp)?;
    if !v3 && er != 0 {
        return Ok(true);
    }
    if c.opts.quiet {
        return Ok(true);
    }
    let v = c.opts.verbose;
    if v3 {
        if v > 0 {
            c.s(" POST:");
        }
        match parse_post_op_attr(c, dp, v)? {
            Some(p) => dp = p,
            None => return Ok(false),
        }
    }
    if !c.ttest(dp, if v3 { 52 } else { 20 }) {
        return Ok(false);
    }
    if v3 {
        let (t, f, a) = (c.be64(dp)?, c.be64(dp + 8)?, c.be64(dp + 16)?);
        c.s(" tbytes ");
        c.num(t);
        c.s(" fbytes ");
        c.num(f);
        c.s(" abytes ");
        c.num(a);
        if v > 0 {
            let (t, f, a, i) = (
                c.be64(dp + 24)?,
                c.be64(dp + 32)?,
                c.be64(dp + 40)?,
                c.be32(dp + 48)?,
            );
            c.s(" tfiles ");
            c.num(t);
            c.s(" ffiles ");
            c.num(f);
            c.s(" afiles ");
            c.num(a);
            c.s(" invar ");
            c.num(i);
        }
    } else {
        let w: [u32; 5] = [
            c.be32(dp)?,
            c.be32(dp + 4)?,
            c.be32(dp + 8)?,
            c.be32(dp + 12)?,
            c.be32(dp + 16)?,
        ];
        for (name, v) in [" tsize ", " bsize ", " blocks ", " bfree ", " bavail "]
            .into_iter()
            .zip(w)
        {
            c.s(name);
            c.num(v);
        }
    }
    Ok(true)
}

fn parserddires(c: &mut Ctx, st: &mut Rep, dp: usize) -> R<bool> {
    let (dp, er) = parsestatus(c, st, dp)?;
    if er != 0 || c.opts.quiet {
        return Ok(true);
    }
    let (o, s) = (c.be32(dp)?, c.be32(dp + 4)?);
    c.s(" offset 0x");
    c.hex(o, 1);
    c.s(" size ");
    c.num(s);
    c.b(b' ');
    if c.be32(dp + 8)? != 0 {
        c.s(" eof");
    }
    Ok(true)
}

fn parse_wcc_attr(c: &mut Ctx, dp: usize) -> R<usize> {
    let sz = c.be64(dp)?;
    c.s(" sz ");
    c.num(sz);
    let w = [
        c.be32(dp + 8)?,
        c.be32(dp + 12)?,
        c.be32(dp + 16)?,
        c.be32(dp + 20)?,
    ];
    c.s(" mtime ");
    time(c, w[0], w[1]);
    c.s(" ctime ");
    time(c, w[2], w[3]);
    Ok(dp + 24)
}

fn parse_pre_op_attr(c: &mut Ctx, dp: usize, verbose: u8) -> P {
    if c.be32(dp)? == 0 {
        return Ok(Some(dp + 4));
    }
    let dp = dp + 4;
    if !c.ttest(dp, 24) {
        return Ok(None);
    }
    if verbose > 1 {
        Ok(Some(parse_wcc_attr(c, dp)?))
    } else {
        Ok(Some(dp + 24))
    }
}

fn parse_post_op_attr(c: &mut Ctx, dp: usize, verbose: u8) -> P {
    if c.be32(dp)? == 0 {
        return Ok(Some(dp + 4));
    }
    let dp = dp + 4;
    if verbose > 0 {
        parsefattr(c, dp, verbose, true)
    } else {
        Ok(Some(dp + 84))
    }
}

fn parse_wcc_data(c: &mut Ctx, dp: usize, verbose: u8) -> P {
    if verbose > 1 {
        c.s(" PRE:");
    }
    let Some(dp) = parse_pre_op_attr(c, dp, verbose)? else {
        return Ok(None);
    };
    if verbose > 0 {
        c.s(" POST:");
    }
    parse_post_op_attr(c, dp, verbose)
}

fn parsecreateopres(c: &mut Ctx, st: &mut Rep, dp: usize, verbose: u8) -> P {
    let (dp, er) = parsestatus(c, st, dp)?;
    if er != 0 {
        return parse_wcc_data(c, dp, verbose);
    }
    if c.be32(dp)? == 0 {
        return Ok(Some(dp + 4));
    }
    let Some(mut dp) = parsefh(c, dp + 4, true)? else {
        return Ok(None);
    };
    if verbose > 0 {
        match parse_post_op_attr(c, dp, verbose)? {
            Some(p) => dp = p,
            None => return Ok(None),
        }
        if c.opts.verbose > 1 {
            c.s(" dir attr:");
            return parse_wcc_data(c, dp, verbose);
        }
    }
    Ok(Some(dp))
}

fn parsewccres(c: &mut Ctx, st: &mut Rep, dp: usize, verbose: u8) -> P {
    let (dp, _) = parsestatus(c, st, dp)?;
    parse_wcc_data(c, dp, verbose)
}

fn parsev3rddirres(c: &mut Ctx, st: &mut Rep, dp: usize, verbose: u8) -> P {
    let (dp, er) = parsestatus(c, st, dp)?;
    if c.opts.verbose > 0 {
        c.s(" POST:");
    }
    let Some(mut dp) = parse_post_op_attr(c, dp, verbose)? else {
        return Ok(None);
    };
    if er != 0 {
        return Ok(Some(dp));
    }
    if c.opts.verbose > 0 {
        let (a, b) = (c.be32(dp)?, c.be32(dp + 4)?);
        c.s(" verf ");
        c.hex(a, 8);
        c.hex(b, 8);
        dp += 8;
    }
    Ok(Some(dp))
}

fn parsefsinfo(c: &mut Ctx, st: &mut Rep, dp: usize) -> R<bool> {
    let (dp, er) = parsestatus(c, st, dp)?;
    let v = c.opts.verbose;
    if v > 0 {
        c.s(" POST:");
    }
    let Some(dp) = parse_post_op_attr(c, dp, v)? else {
        return Ok(false);
    };
    if er != 0 {
        return Ok(true);
    }
    if !c.ttest(dp, 48) {
        return Ok(false);
    }
    // struct nfsv3_fsinfo: rtmax rtpref rtmult wtmax wtpref wtmult dtpref maxfilesize
    // timedelta properties.
    let w = [
        c.be32(dp)?,
        c.be32(dp + 4)?,
        c.be32(dp + 12)?,
        c.be32(dp + 16)?,
        c.be32(dp + 24)?,
    ];
    for (name, x) in [" rtmax ", " rtpref ", " wtmax ", " wtpref ", " dtpref "]
        .into_iter()
        .zip(w)
    {
        c.s(name);
        c.num(x);
    }
    if v > 0 {
        let (rm, wm, mx) = (c.be32(dp + 8)?, c.be32(dp + 20)?, c.be64(dp + 28)?);
        c.s(" rtmult ");
        c.num(rm);
        c.s(" wtmult ");
        c.num(wm);
        c.s(" maxfsz ");
        c.num(mx);
        let (s, n) = (c.be32(dp + 36)?, c.be32(dp + 40)?);
        c.s(" delta ");
        time(c, s, n);
        c.b(b' ');
    }
    Ok(true)
}

fn parsepathconf(c: &mut Ctx, st: &mut Rep, dp: usize) -> R<bool> {
    let (dp, er) = parsestatus(c, st, dp)?;
    let v = c.opts.verbose;
    if v > 0 {
        c.s(" POST:");
    }
    let Some(dp) = parse_post_op_attr(c, dp, v)? else {
        return Ok(false);
    };
    if er != 0 {
        return Ok(true);
    }
    if !c.ttest(dp, 24) {
        return Ok(false);
    }
    let w = [
        c.be32(dp)?,
        c.be32(dp + 4)?,
        c.be32(dp + 8)?,
        c.be32(dp + 12)?,
        c.be32(dp + 16)?,
        c.be32(dp + 20)?,
    ];
    c.s(" linkmax ");
    c.num(w[0]);
    c.s(" namemax ");
    c.num(w[1]);
    for (x, name) in w[2..]
        .iter()
        .zip(["notrunc", "chownres", "igncase", "keepcase"])
    {
        c.b(b' ');
        if *x != 0 {
            c.s(name);
        }
    }
    Ok(true)
}

/// `interp_reply`.
fn interp_reply(c: &mut Ctx, rp: usize, proc_: u32, vers: u32, length: u32) -> R<()> {
    let mut st = Rep { nfserr: false };
    if !interp(c, &mut st, rp, proc_, vers, length)? && !st.nfserr {
        c.trunc();
    }
    Ok(())
}

fn interp(c: &mut Ctx, st: &mut Rep, rp: usize, proc_: u32, vers: u32, length: u32) -> R<bool> {
    macro_rules! q {
        ($e:expr) => {
            match $e? {
                Some(v) => v,
                None => return Ok(false),
            }
        };
    }
    macro_rules! b {
        ($e:expr) => {
            if !$e? {
                return Ok(false);
            }
        };
    }
    let v3 = vers == 3;
    let mut proc_ = proc_;
    if !v3 && proc_ < 26 {
        proc_ = NFSV3_PROCID[proc_ as usize];
    }
    c.b(b' ');
    c.tok(NFSPROC_STR, "proc-%u", proc_);
    let v = c.opts.verbose;
    let notq = if c.opts.quiet { 0 } else { 1 };
    match proc_ {
        1 => {
            let dp = q!(parserep(c, st, rp, length));
            b!(parseattrstat(c, st, dp, notq, v3));
        }
        2 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                q!(parsewccres(c, st, dp, v));
            } else {
                b!(parseattrstat(c, st, dp, notq, false));
            }
        }
        3 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                let (dp, er) = parsestatus(c, st, dp)?;
                if er != 0 {
                    if v > 1 {
                        c.s(" post dattr:");
                        q!(parse_post_op_attr(c, dp, v));
                    }
                } else {
                    let dp = q!(parsefh(c, dp, v3));
                    let dp = q!(parse_post_op_attr(c, dp, v));
                    if v > 1 {
                        c.s(" post dattr:");
                        q!(parse_post_op_attr(c, dp, v));
                    }
                }
            } else {
                b!(parsediropres(c, st, dp));
            }
        }
        4 => {
            let dp = q!(parserep(c, st, rp, length));
            let (dp, er) = parsestatus(c, st, dp)?;
            if v > 0 {
                c.s(" attr:");
            }
            let dp = q!(parse_post_op_attr(c, dp, v));
            if er == 0 {
                let x = c.be32(dp)?;
                c.s(" c ");
                c.hex(x, 4);
            }
        }
        5 => {
            let dp = q!(parserep(c, st, rp, length));
            b!(parselinkres(c, st, dp, v3));
        }
        6 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                let (dp, er) = parsestatus(c, st, dp)?;
                let dp = q!(parse_post_op_attr(c, dp, v));
                if er == 0 && v > 0 {
                    let n = c.be32(dp)?;
                    c.b(b' ');
                    c.num(n);
                    c.s(" bytes");
                    if c.be32(dp + 4)? != 0 {
                        c.s(" EOF");
                    }
                }
            } else {
                b!(parseattrstat(c, st, dp, v, false));
            }
        }
        7 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                let (dp, er) = parsestatus(c, st, dp)?;
                let dp = q!(parse_wcc_data(c, dp, v));
                if er == 0 && v > 0 {
                    let n = c.be32(dp)?;
                    c.b(b' ');
                    c.num(n);
                    c.s(" bytes");
                    if v > 1 {
                        let m = c.be32(dp + 4)?;
                        c.s(" <");
                        c.tok(WRITEMODES, "#%d", m);
                        c.b(b'>');
                        let verf = c.be64(dp + 8)?;
                        c.s(" verf ");
                        c.hex(verf, 1);
                    }
                }
                return Ok(true);
            } else {
                b!(parseattrstat(c, st, dp, v, v3));
            }
        }
        8 | 9 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                q!(parsecreateopres(c, st, dp, v));
            } else {
                b!(parsediropres(c, st, dp));
            }
        }
        10 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                q!(parsecreateopres(c, st, dp, v));
            } else {
                parsestatus(c, st, dp)?;
            }
        }
        11 => {
            let dp = q!(parserep(c, st, rp, length));
            q!(parsecreateopres(c, st, dp, v));
        }
        12 | 13 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                q!(parsewccres(c, st, dp, v));
            } else {
                parsestatus(c, st, dp)?;
            }
        }
        14 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                let (dp, _) = parsestatus(c, st, dp)?;
                if v > 0 {
                    c.s(" from:");
                    let dp = q!(parse_wcc_data(c, dp, v));
                    c.s(" to:");
                    q!(parse_wcc_data(c, dp, v));
                }
            } else {
                parsestatus(c, st, dp)?;
            }
        }
        15 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                let (dp, _) = parsestatus(c, st, dp)?;
                if v > 0 {
                    c.s(" file POST:");
                    let dp = q!(parse_post_op_attr(c, dp, v));
                    c.s(" dir:");
                    q!(parse_wcc_data(c, dp, v));
                }
                return Ok(true);
            } else {
                parsestatus(c, st, dp)?;
            }
        }
        16 => {
            let dp = q!(parserep(c, st, rp, length));
            if v3 {
                q!(parsev3rddirres(c, st, dp, v));
            } else {
                b!(parserddires(c, st, dp));
            }
        }
        17 => {
            let dp = q!(parserep(c, st, rp, length));
            q!(parsev3rddirres(c, st, dp, v));
        }
        18 => {
            let dp = q!(parserep(c, st, rp, length));
            b!(parsestatfs(c, st, dp, v3));
        }
        19 => {
            let dp = q!(parserep(c, st, rp, length));
            b!(parsefsinfo(c, st, dp));
        }
        20 => {
            let dp = q!(parserep(c, st, rp, length));
            b!(parsepathconf(c, st, dp));
        }
        21 => {
            let dp = q!(parserep(c, st, rp, length));
            let dp = q!(parsewccres(c, st, dp, v));
            if v > 1 {
                let verf = c.be64(dp)?;
                c.s(" verf ");
                c.hex(verf, 1);
            }
        }
        _ => {}
    }
    Ok(true)
}

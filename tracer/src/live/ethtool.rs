//! Device features through the ethtool ioctls (what `ethtool -k` shows): which offloads a
//! device does decides what the packet taps see (see `csum`, `gso`, and the ingress hook
//! choice).

use std::{ffi::c_void, io, mem, sync::OnceLock};

/// The active features of one device, by name.
pub struct Features {
    names: Vec<String>,
    active: Vec<u32>,
}

impl Features {
    /// Reads the feature names and active bits of `dev`.
    pub fn of_device(dev: &str) -> io::Result<Features> {
        let sock = socket()?;
        let names = feature_names(sock, dev)?;
        let active = active_features(sock, dev, names.len())?;
        Ok(Features { names, active })
    }

    /// Whether the feature called `name` (e.g. `rx-gro-hw`) is on.
    pub fn on(&self, name: &str) -> bool {
        self.names.iter().position(|n| n == name).is_some_and(|i| {
            self.active
                .get(i / 32)
                .is_some_and(|w| w & (1 << (i % 32)) != 0)
        })
    }
}

// The ethtool ioctls (linux/ethtool.h, linux/sockios.h).
const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_GSTRINGS: u32 = 0x1b;
const ETHTOOL_GSSET_INFO: u32 = 0x37;
const ETHTOOL_GFEATURES: u32 = 0x3a;
const ETH_SS_FEATURES: u32 = 4;
const ETH_GSTRING_LEN: usize = 32;
/// More feature words than any kernel has (NETDEV_FEATURE_COUNT is below 70).
const MAX_FEATURES: usize = 1024;

struct Socket(libc::c_int);

/// The one socket every ethtool ioctl of the process goes through, opened on first use: the
/// offloads are read again every second, and a socket per read would come and go in the
/// descriptor table (`cargo xtask soak` counts descriptors).
fn socket() -> io::Result<&'static Socket> {
    static SOCKET: OnceLock<Socket> = OnceLock::new();
    if let Some(s) = SOCKET.get() {
        return Ok(s);
    }
    let s = Socket::new()?;
    Ok(SOCKET.get_or_init(move || s))
}

impl Socket {
    fn new() -> io::Result<Socket> {
        // SAFETY: plain syscall; the fd is owned by the returned value.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Socket(fd))
    }

    /// `SIOCETHTOOL` on `dev` with `data` (an ethtool command struct, first field `cmd`).
    fn ethtool(&self, dev: &str, data: *mut c_void) -> io::Result<()> {
        // SAFETY: an all-zero ifreq is valid.
        let mut ifr: libc::ifreq = unsafe { mem::zeroed() };
        if dev.len() >= ifr.ifr_name.len() {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        for (d, s) in ifr.ifr_name.iter_mut().zip(dev.bytes()) {
            *d = s as libc::c_char;
        }
        ifr.ifr_ifru.ifru_data = data as *mut libc::c_char;
        // SAFETY: ifr is a valid ifreq whose data points to a command buffer the caller
        // sized for the kernel's answer.
        if unsafe { libc::ioctl(self.0, SIOCETHTOOL as _, &mut ifr) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe { libc::close(self.0) };
    }
}

/// The names of the feature bits, by bit number.
fn feature_names(sock: &Socket, dev: &str) -> io::Result<Vec<String>> {
    // struct ethtool_sset_info: cmd, reserved, sset_mask, then one u32 per set in the mask.
    #[repr(C)]
    struct SsetInfo {
        cmd: u32,
        reserved: u32,
        mask: u64,
        len: u32,
    }
    let mut info = SsetInfo {
        cmd: ETHTOOL_GSSET_INFO,
        reserved: 0,
        mask: 1 << ETH_SS_FEATURES,
        len: 0,
    };
    sock.ethtool(dev, &mut info as *mut SsetInfo as *mut c_void)?;
    let n = info.len as usize;
    if info.mask & (1 << ETH_SS_FEATURES) == 0 || n > MAX_FEATURES {
        return Err(io::Error::from(io::ErrorKind::Unsupported));
    }
    // struct ethtool_gstrings: cmd, string_set, len, then len names of 32 bytes.
    let mut buf = vec![0u32; 3 + n * ETH_GSTRING_LEN / 4];
    buf[0] = ETHTOOL_GSTRINGS;
    buf[1] = ETH_SS_FEATURES;
    buf[2] = n as u32;
    sock.ethtool(dev, buf.as_mut_ptr() as *mut c_void)?;
    let bytes: Vec<u8> = buf[3..].iter().flat_map(|w| w.to_ne_bytes()).collect();
    Ok(bytes
        .chunks_exact(ETH_GSTRING_LEN)
        .take((buf[2] as usize).min(n))
        .map(|s| {
            let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
            String::from_utf8_lossy(&s[..end]).into_owned()
        })
        .collect())
}

/// The active feature bits, 32 to a word.
fn active_features(sock: &Socket, dev: &str, count: usize) -> io::Result<Vec<u32>> {
    let words = count.div_ceil(32);
    // struct ethtool_gfeatures: cmd, size, then per word {available, requested, active,
    // never_changed}.
    let mut buf = vec![0u32; 2 + 4 * words];
    buf[0] = ETHTOOL_GFEATURES;
    buf[1] = words as u32;
    sock.ethtool(dev, buf.as_mut_ptr() as *mut c_void)?;
    let got = (buf[1] as usize).min(words);
    Ok((0..got).map(|w| buf[2 + 4 * w + 2]).collect())
}

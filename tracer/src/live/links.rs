//! Interfaces that come and go: a netlink socket subscribed to the kernel's link
//! notifications (RTMGRP_LINK) of tracer's network namespace.
//!
//! A captured interface that is deleted ends the capture (tcpdump: "The interface
//! disappeared"); under `-i any` new interfaces get the hooks and deleted ones are let go.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
};

use tokio::io::unix::AsyncFd;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTMGRP_LINK: u32 = 1;
const IFLA_IFNAME: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;

/// What the kernel said about one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Created, or changed (flags, name): `flags` are its IFF_* flags now.
    New {
        index: u32,
        name: String,
        flags: u32,
    },
    /// Deleted (or moved to another namespace).
    Deleted { index: u32, name: String },
}

/// The subscription.
pub struct LinkMonitor {
    fd: AsyncFd<OwnedFd>,
    buf: Vec<u8>,
}

impl LinkMonitor {
    /// Subscribes; needs a tokio runtime.
    pub fn open() -> io::Result<LinkMonitor> {
        // SAFETY: plain socket(2) call; the fd is owned below.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_nl is plain data; all-zero is valid.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        addr.nl_groups = RTMGRP_LINK;
        // SAFETY: addr is a valid sockaddr_nl of the size given.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the AsyncFd owns the OwnedFd, so the fd stays open exactly as long as it is
        // registered.
        let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)? };
        Ok(LinkMonitor {
            fd,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Waits for the next batch of notifications. An overrun socket (ENOBUFS: more changes
    /// than its buffer held) is reported as an error the caller answers with a full rescan.
    pub async fn next(&mut self) -> io::Result<Vec<LinkEvent>> {
        loop {
            let mut guard = self.fd.readable().await?;
            let fd: RawFd = guard.get_inner().as_raw_fd();
            // SAFETY: recv into our buffer of its length.
            let n = unsafe {
                libc::recv(
                    fd,
                    self.buf.as_mut_ptr() as *mut libc::c_void,
                    self.buf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    guard.clear_ready();
                    continue;
                }
                return Err(e);
            }
            return Ok(parse(&self.buf[..n as usize]));
        }
    }
}

/// The link messages of one netlink datagram (malformed parts are skipped).
pub fn parse(mut b: &[u8]) -> Vec<LinkEvent> {
    let mut out = Vec::new();
    while b.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let kind = u16::from_ne_bytes([b[4], b[5]]);
        if len < NLMSG_HDRLEN || len > b.len() {
            break;
        }
        let msg = &b[NLMSG_HDRLEN..len];
        if (kind == RTM_NEWLINK || kind == RTM_DELLINK) && msg.len() >= IFINFOMSG_LEN {
            let index = i32::from_ne_bytes([msg[4], msg[5], msg[6], msg[7]]) as u32;
            let flags = u32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]]);
            let name = attr_name(&msg[IFINFOMSG_LEN..]).unwrap_or_else(|| format!("if{index}"));
            out.push(if kind == RTM_NEWLINK {
                LinkEvent::New { index, name, flags }
            } else {
                LinkEvent::Deleted { index, name }
            });
        }
        let next = (len + 3) & !3;
        b = b.get(next..).unwrap_or(&[]);
    }
    out
}

/// IFLA_IFNAME among rtattrs.
fn attr_name(mut a: &[u8]) -> Option<String> {
    while a.len() >= 4 {
        let len = u16::from_ne_bytes([a[0], a[1]]) as usize;
        let kind = u16::from_ne_bytes([a[2], a[3]]);
        if len < 4 || len > a.len() {
            return None;
        }
        if kind == IFLA_IFNAME {
            let v = &a[4..len];
            let v = v.split(|&c| c == 0).next().unwrap_or(v);
            return Some(String::from_utf8_lossy(v).into_owned());
        }
        a = a.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u16, index: i32, flags: u32, name: &str) -> Vec<u8> {
        let mut attr = Vec::new();
        let alen = 4 + name.len() + 1;
        attr.extend_from_slice(&(alen as u16).to_ne_bytes());
        attr.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        attr.extend_from_slice(name.as_bytes());
        attr.push(0);
        while attr.len() % 4 != 0 {
            attr.push(0);
        }
        let mut ifi = vec![0u8; 16];
        ifi[4..8].copy_from_slice(&index.to_ne_bytes());
        ifi[8..12].copy_from_slice(&flags.to_ne_bytes());
        let len = 16 + ifi.len() + attr.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend(ifi);
        m.extend(attr);
        m
    }

    #[test]
    fn link_messages_become_events() {
        let mut b = msg(RTM_NEWLINK, 7, 1, "veth-x");
        b.extend(msg(RTM_DELLINK, 8, 0, "tun0"));
        b.extend(msg(24, 9, 0, "route")); // RTM_NEWROUTE: ignored
        assert_eq!(
            parse(&b),
            vec![
                LinkEvent::New {
                    index: 7,
                    name: "veth-x".into(),
                    flags: 1
                },
                LinkEvent::Deleted {
                    index: 8,
                    name: "tun0".into()
                },
            ]
        );
    }

    #[test]
    fn malformed_datagrams_yield_what_parses() {
        let b = msg(RTM_NEWLINK, 7, 1, "a");
        for cut in 0..b.len() {
            let _ = parse(&b[..cut]);
        }
        let mut bad = b.clone();
        bad[0] = 3; // length below the header
        assert!(parse(&bad).is_empty());
    }
}

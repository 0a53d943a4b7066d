//! The dissection context: tcpdump's `netdissect_options` reduced to what the TCP path uses.
//!
//! tcpdump bounds every read against `ndo_snapend` and `longjmp`s out of the printers when a
//! read runs past it; the top level then prints ` [|proto]`. Here a failed read returns
//! [`Trunc`] and `?` carries it to the top level, so every printer keeps tcpdump's exact
//! control flow (including the places where tcpdump checks bounds itself and prints
//! something else instead).

use super::names::Names;
use super::options::PrintOptions;
use super::seq::SeqTable;
use super::write;
use super::xid::XidMap;

/// A read ran past the captured data (tcpdump's `nd_trunc_longjmp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trunc;

pub(crate) type R<T> = Result<T, Trunc>;

pub(crate) struct Ctx<'p, 'o> {
    /// Captured bytes, starting at the link-layer header.
    pub d: &'p [u8],
    /// Index one past the last byte printers may read (shrunk to the IP datagram length).
    pub snapend: usize,
    /// tcpdump's `ndo_protocol`: the name ` [|name]` reports on truncation.
    pub proto: &'static str,
    pub out: &'o mut Vec<u8>,
    pub opts: &'o PrintOptions,
    pub names: &'o mut Names,
    pub seq: &'o mut SeqTable,
    /// NFS calls seen, to decode their replies (tcpdump's `xid_map`).
    pub nfs: &'o mut XidMap,
    /// Length of the link-layer header (what `-x` skips), as the link printers report it.
    pub ll_hdr_len: usize,
    /// How many packets deep the printers are (an MSDP data packet is one level in).
    pub depth: u8,
    /// The IPv4 printer, for a packet inside a payload (MSDP's SA data): handed down by the
    /// dispatch so that an application printer does not import a lower layer.
    pub ip_print: fn(&mut Ctx, usize, u32) -> R<()>,
}

impl<'p, 'o> Ctx<'p, 'o> {
    /// `ND_TTEST_LEN(off, len)`: are `len` bytes at `off` inside the captured data?
    #[inline]
    pub fn ttest(&self, off: usize, len: usize) -> bool {
        off <= self.snapend && len <= self.snapend - off
    }

    /// Bytes captured from `off` on (`ND_BYTES_AVAILABLE_AFTER`).
    #[inline]
    pub fn avail(&self, off: usize) -> usize {
        self.snapend.saturating_sub(off)
    }

    #[inline]
    pub fn u8(&self, off: usize) -> R<u8> {
        if off < self.snapend {
            Ok(self.d[off])
        } else {
            Err(Trunc)
        }
    }

    #[inline]
    pub fn be16(&self, off: usize) -> R<u16> {
        if self.ttest(off, 2) {
            Ok(u16::from_be_bytes([self.d[off], self.d[off + 1]]))
        } else {
            Err(Trunc)
        }
    }

    #[inline]
    pub fn be32(&self, off: usize) -> R<u32> {
        if self.ttest(off, 4) {
            Ok(u32::from_be_bytes([
                self.d[off],
                self.d[off + 1],
                self.d[off + 2],
                self.d[off + 3],
            ]))
        } else {
            Err(Trunc)
        }
    }

    #[inline]
    pub fn be64(&self, off: usize) -> R<u64> {
        Ok(((self.be32(off)? as u64) << 32) | self.be32(off + 4)? as u64)
    }

    #[inline]
    pub fn bytes(&self, off: usize, len: usize) -> R<&'p [u8]> {
        if self.ttest(off, len) {
            Ok(&self.d[off..off + len])
        } else {
            Err(Trunc)
        }
    }

    /// Cuts the captured data to `len` bytes from `off` if that is shorter
    /// (`nd_push_snaplen`); returns the previous end for [`Ctx::pop_snaplen`].
    #[inline]
    pub fn push_snaplen(&mut self, off: usize, len: usize) -> usize {
        let saved = self.snapend;
        if off <= self.snapend && len <= self.snapend - off {
            self.snapend = off + len;
        }
        saved
    }

    #[inline]
    pub fn pop_snaplen(&mut self, saved: usize) {
        self.snapend = saved;
    }

    #[inline]
    pub fn s(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    #[inline]
    pub fn b(&mut self, c: u8) {
        self.out.push(c);
    }

    #[inline]
    pub fn num(&mut self, v: impl Into<u64>) {
        write::dec(self.out, v.into());
    }

    #[inline]
    pub fn hex(&mut self, v: impl Into<u64>, width: usize) {
        write::hex(self.out, v.into(), width);
    }

    /// `nd_print_trunc`: ` [|proto]`.
    pub fn trunc(&mut self) {
        self.out.extend_from_slice(b" [|");
        self.out.extend_from_slice(self.proto.as_bytes());
        self.out.push(b']');
    }

    /// `nd_print_invalid`.
    pub fn invalid(&mut self) {
        self.s(" (invalid)");
    }

    /// `nd_print_protocol_caps`: the protocol name in capitals.
    pub fn proto_caps(&mut self) {
        for c in self.proto.bytes() {
            self.out.push(c.to_ascii_uppercase());
        }
    }

    /// `GET_IPADDR_STRING`: the IPv4 address at `off`, as a name unless `-n`.
    pub fn ipaddr(&mut self, off: usize) -> R<()> {
        let a = self.bytes(off, 4)?;
        self.names.write_v4(self.out, [a[0], a[1], a[2], a[3]]);
        Ok(())
    }

    /// `GET_IP6ADDR_STRING`: the IPv6 address at `off`, as a name unless `-n`.
    pub fn ip6addr(&mut self, off: usize) -> R<()> {
        let a = self.bytes(off, 16)?;
        let mut b = [0u8; 16];
        b.copy_from_slice(a);
        self.names.write_v6(self.out, b);
        Ok(())
    }

    /// `fn_print_char`: a byte with non-printables escaped as `M-` / `^X`.
    pub fn print_char(&mut self, c: u8) {
        let mut c = c;
        if c & 0x80 != 0 {
            c &= 0x7f;
            self.s("M-");
        }
        if !(0x20..=0x7e).contains(&c) {
            c ^= 0x40;
            self.b(b'^');
        }
        self.b(c);
    }
}

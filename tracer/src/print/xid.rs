//! tcpdump's NFS `xid_map`: the recent calls (xid, client, server, procedure, version),
//! so that `nfs` can decode their replies. Kept per printer, like the sequence table.

pub(crate) const XIDMAPSIZE: usize = 64;

#[derive(Clone, Copy, Default)]
pub(crate) struct XidEntry {
    pub(crate) xid: u32,
    pub(crate) ipver: u8,
    pub(crate) client: [u8; 16],
    pub(crate) server: [u8; 16],
    pub(crate) proc_: u32,
    pub(crate) vers: u32,
}

/// tcpdump's `xid_map`: the recent calls, to decode their replies.
pub struct XidMap {
    pub(crate) map: [XidEntry; XIDMAPSIZE],
    pub(crate) next: usize,
    pub(crate) hint: usize,
}

impl Default for XidMap {
    fn default() -> Self {
        XidMap {
            map: [XidEntry::default(); XIDMAPSIZE],
            next: 0,
            hint: 0,
        }
    }
}

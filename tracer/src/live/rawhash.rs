//! The hash-map commands aya 0.14 does not offer for hash maps, as `bpf(2)` calls:
//! lookup-and-delete (kernel 5.14) and batched lookup (5.6).

use std::{
    io,
    marker::PhantomData,
    mem::{size_of, MaybeUninit},
    os::fd::{AsFd, AsRawFd, RawFd},
};

use aya::{
    maps::{Map, MapError},
    Ebpf, Pod,
};

use super::LiveError;

const BPF_MAP_LOOKUP_BATCH: libc::c_long = 24;
const BPF_MAP_LOOKUP_AND_DELETE_ELEM: libc::c_long = 21;

/// Entries read per batch.
const BATCH: usize = 1024;

/// A hash or LRU hash map of the object whose key and value are `K` and `V` (checked when
/// opened).
pub struct RawHash<'a, K, V> {
    fd: RawFd,
    name: &'static str,
    _map: PhantomData<(&'a Ebpf, K, V)>,
}

/// The `map_elem` part of `union bpf_attr`.
#[repr(C)]
struct ElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// The `batch` part of `union bpf_attr`.
#[repr(C)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

impl<'a, K: Pod, V: Pod> RawHash<'a, K, V> {
    pub fn open(ebpf: &'a Ebpf, name: &'static str) -> Result<Self, LiveError> {
        let err = |source| LiveError::Map { map: name, source };
        let map = match ebpf.map(name) {
            Some(Map::HashMap(d) | Map::LruHashMap(d)) => d,
            _ => return Err(err(MapError::InvalidName { name: name.into() })),
        };
        let info = map.info().map_err(err)?;
        let (k, v) = (size_of::<K>(), size_of::<V>());
        if info.key_size() as usize != k {
            return Err(err(MapError::InvalidKeySize {
                size: k,
                expected: info.key_size() as usize,
            }));
        }
        if info.value_size() as usize != v {
            return Err(err(MapError::InvalidValueSize {
                size: v,
                expected: info.value_size() as usize,
            }));
        }
        Ok(RawHash {
            fd: map.fd().as_fd().as_raw_fd(),
            name,
            _map: PhantomData,
        })
    }

    fn error(&self, call: &'static str, io_error: io::Error) -> LiveError {
        LiveError::Map {
            map: self.name,
            source: MapError::SyscallError(aya::sys::SyscallError { call, io_error }),
        }
    }

    /// The value at the moment its entry was deleted; None when the key is not there.
    pub fn lookup_and_delete(&self, key: &K) -> Result<Option<V>, LiveError> {
        let mut value = MaybeUninit::<V>::zeroed();
        let mut attr = ElemAttr {
            map_fd: self.fd as u32,
            _pad: 0,
            key: key as *const K as u64,
            value: value.as_mut_ptr() as u64,
            flags: 0,
        };
        // SAFETY: attr is a valid bpf_attr prefix; key and value are the map's sizes.
        if unsafe { bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM, &mut attr) } == 0 {
            // SAFETY: the kernel wrote a whole value (Pod: any bytes are valid).
            return Ok(Some(unsafe { value.assume_init() }));
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            e => Err(self.error("bpf_map_lookup_and_delete_elem", e)),
        }
    }

    /// Calls `f` for every entry, read [`BATCH`] at a time while the kernel changes the map
    /// (an entry added or deleted meanwhile may or may not be seen).
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) -> Result<(), LiveError> {
        // SAFETY: Pod types: all-zero bytes are valid values.
        let mut keys: Vec<K> = (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
        let mut values: Vec<V> = (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
        // For hash maps the batch position is a bucket index (u32).
        let (mut pos, mut next) = (0u32, 0u32);
        let mut first = true;
        loop {
            let mut attr = BatchAttr {
                in_batch: if first { 0 } else { &pos as *const u32 as u64 },
                out_batch: &mut next as *mut u32 as u64,
                keys: keys.as_mut_ptr() as u64,
                values: values.as_mut_ptr() as u64,
                count: BATCH as u32,
                map_fd: self.fd as u32,
                elem_flags: 0,
                flags: 0,
            };
            // SAFETY: attr is a valid bpf_attr prefix; keys and values hold `count` entries
            // of the map's sizes.
            let r = unsafe { bpf(BPF_MAP_LOOKUP_BATCH, &mut attr) };
            let e = (r != 0).then(io::Error::last_os_error);
            let n = (attr.count as usize).min(BATCH);
            for i in 0..n {
                f(&keys[i], &values[i]);
            }
            match e {
                None => {}
                // The end of the map (the last entries came with it).
                Some(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
                Some(e) => return Err(self.error("bpf_map_lookup_batch", e)),
            }
            pos = next;
            first = false;
        }
    }
}

/// `bpf(cmd, attr, sizeof attr)`; the kernel may write `attr` back (a batch's count).
///
/// # Safety
/// `attr` must be the part of `union bpf_attr` that `cmd` reads, its pointers valid.
unsafe fn bpf<A>(cmd: libc::c_long, attr: &mut A) -> libc::c_long {
    // SAFETY: as the caller promises.
    unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut A, size_of::<A>()) }
}

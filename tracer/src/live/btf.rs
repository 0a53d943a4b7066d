//! Offsets of kernel struct members, read from the kernel's own BTF (/sys/kernel/btf/vmlinux).
//!
//! The socket programs read `struct sock` and `struct tcp_sock` fields whose offsets change
//! between kernel builds. C programs get them relocated by libbpf (CO-RE); Rust has no
//! `preserve_access_index`, so the loader looks the offsets up here and hands them to the
//! programs in a map (`tracer_common::SockOffsets`).

use std::{collections::HashMap, fs, path::Path};

use thiserror::Error;

/// Why an offset could not be found.
#[derive(Debug, Error)]
pub enum BtfError {
    /// The BTF file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not BTF, or is cut short.
    #[error("{0}: not a BTF file this reader understands")]
    Malformed(String),
    /// The kernel has no such struct, or the struct no such member.
    #[error("kernel BTF has no {0}")]
    Missing(String),
    /// The member is a bitfield (no byte offset).
    #[error("kernel BTF: {0} is a bitfield")]
    Bitfield(String),
}

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

#[derive(Clone, Debug)]
struct Member {
    name: u32,
    ty: u32,
    /// Bit offset (with kflag: the low 24 bits).
    bit_offset: u32,
    bitfield: bool,
}

#[derive(Clone, Debug)]
struct Type {
    name: u32,
    kind: u32,
    /// The referenced type (typedefs, modifiers).
    ty: u32,
    members: Vec<Member>,
}

/// The parsed types of a BTF blob.
pub struct Btf {
    types: Vec<Type>,
    strings: Vec<u8>,
    /// Struct (and union) ids by name.
    by_name: HashMap<String, u32>,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

impl Btf {
    /// The running kernel's BTF.
    pub fn kernel() -> Result<Btf, BtfError> {
        Btf::from_file(Path::new("/sys/kernel/btf/vmlinux"))
    }

    pub fn from_file(path: &Path) -> Result<Btf, BtfError> {
        let data = fs::read(path).map_err(|source| BtfError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Btf::parse(&data).ok_or_else(|| BtfError::Malformed(path.display().to_string()))
    }

    /// Parses little-endian BTF (every BPF target this runs on).
    fn parse(b: &[u8]) -> Option<Btf> {
        if b.get(0..2)? != [0x9f, 0xeb] {
            return None;
        }
        let hdr_len = u32_at(b, 4)? as usize;
        let type_off = u32_at(b, 8)? as usize;
        let type_len = u32_at(b, 12)? as usize;
        let str_off = u32_at(b, 16)? as usize;
        let str_len = u32_at(b, 20)? as usize;
        let types_b = b.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
        let strings = b
            .get(hdr_len + str_off..hdr_len + str_off + str_len)?
            .to_vec();
        // Type id 0 is void.
        let mut types = vec![Type {
            name: 0,
            kind: 0,
            ty: 0,
            members: Vec::new(),
        }];
        let mut o = 0;
        while o < types_b.len() {
            let name = u32_at(types_b, o)?;
            let info = u32_at(types_b, o + 4)?;
            let size_or_type = u32_at(types_b, o + 8)?;
            o += 12;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let kflag = info >> 31 != 0;
            let mut members = Vec::new();
            match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => o += 4,
                KIND_ARRAY => o += 12,
                KIND_STRUCT | KIND_UNION => {
                    for _ in 0..vlen {
                        let name = u32_at(types_b, o)?;
                        let ty = u32_at(types_b, o + 4)?;
                        let off = u32_at(types_b, o + 8)?;
                        let (bit_offset, bitfield) = if kflag {
                            (off & 0x00ff_ffff, off >> 24 != 0)
                        } else {
                            (off, false)
                        };
                        members.push(Member {
                            name,
                            ty,
                            bit_offset,
                            bitfield,
                        });
                        o += 12;
                    }
                }
                KIND_ENUM | KIND_FUNC_PROTO => o += 8 * vlen,
                KIND_DATASEC | KIND_ENUM64 => o += 12 * vlen,
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => {}
                _ => return None,
            }
            types.push(Type {
                name,
                kind,
                ty: size_or_type,
                members,
            });
        }
        let mut btf = Btf {
            types,
            strings,
            by_name: HashMap::new(),
        };
        for (id, t) in btf.types.iter().enumerate() {
            if matches!(t.kind, KIND_STRUCT | KIND_UNION) && t.name != 0 {
                let n = btf.name(t.name).to_string();
                btf.by_name.entry(n).or_insert(id as u32);
            }
        }
        Some(btf)
    }

    fn name(&self, off: u32) -> &str {
        let s = self.strings.get(off as usize..).unwrap_or(&[]);
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        std::str::from_utf8(&s[..end]).unwrap_or("")
    }

    /// Follows typedefs and modifiers to the underlying type.
    fn resolve(&self, mut id: u32) -> u32 {
        for _ in 0..32 {
            match self.types.get(id as usize).map(|t| t.kind) {
                Some(KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG) => {
                    id = self.types[id as usize].ty
                }
                _ => break,
            }
        }
        id
    }

    /// The bit offset of member `name` in struct/union `id`, looking into anonymous
    /// members; and the member's type.
    fn member(&self, id: u32, name: &str) -> Option<(u32, u32, bool)> {
        let t = self.types.get(self.resolve(id) as usize)?;
        for m in &t.members {
            if m.name == 0 {
                if let Some((off, ty, bf)) = self.member(m.ty, name) {
                    return Some((m.bit_offset + off, ty, bf));
                }
            } else if self.name(m.name) == name {
                return Some((m.bit_offset, m.ty, m.bitfield));
            }
        }
        None
    }

    /// The byte offset of `path` (members, dot-separated) in `struct name`.
    pub fn offset(&self, name: &str, path: &str) -> Result<u32, BtfError> {
        let what = || format!("struct {name} member {path}");
        let mut id = *self
            .by_name
            .get(name)
            .ok_or_else(|| BtfError::Missing(format!("struct {name}")))?;
        let mut bits = 0;
        for part in path.split('.') {
            let (off, ty, bitfield) = self
                .member(id, part)
                .ok_or_else(|| BtfError::Missing(what()))?;
            if bitfield || off % 8 != 0 {
                return Err(BtfError::Bitfield(what()));
            }
            bits += off;
            id = ty;
        }
        Ok(bits / 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernels_socket_offsets_are_found() {
        let Ok(btf) = Btf::kernel() else {
            eprintln!("SKIPPED: no /sys/kernel/btf/vmlinux");
            return;
        };
        // struct sock starts with struct sock_common; skc_daddr is its first word.
        assert_eq!(btf.offset("sock", "__sk_common.skc_daddr").unwrap(), 0);
        assert_eq!(btf.offset("sock", "__sk_common.skc_rcv_saddr").unwrap(), 4);
        let dport = btf.offset("sock", "__sk_common.skc_dport").unwrap();
        assert_eq!(
            btf.offset("sock", "__sk_common.skc_num").unwrap(),
            dport + 2
        );
        assert!(btf.offset("tcp_sock", "srtt_us").unwrap() > 1000);
        assert!(btf.offset("net", "ns.inum").unwrap() > 0);
        assert!(matches!(
            btf.offset("sock", "no_such_member"),
            Err(BtfError::Missing(_))
        ));
        assert!(matches!(
            btf.offset("no_such_struct", "x"),
            Err(BtfError::Missing(_))
        ));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(Btf::parse(b"not btf").is_none());
        assert!(
            Btf::parse(&[0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255]).is_none()
        );
    }
}

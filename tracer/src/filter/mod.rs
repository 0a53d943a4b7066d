//! pcap-filter expressions: parsed, compiled to the kernel's instruction list
//! ([`tracer_common::FilterInsn`]), and run on captured packets.
//! (Interim: only `[tcp] port N`; the full language replaces this.)

use tracer_common::{extract_fields, filter, FilterInsn, FilterOp, PacketFields};

use crate::packet::Packet;

#[derive(Debug, thiserror::Error)]
#[error("filter: unsupported expression '{0}'")]
pub struct FilterError(String);

pub struct Filter {
    prog: Vec<FilterInsn>,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let words: Vec<&str> = text.split_whitespace().filter(|w| *w != "tcp").collect();
        let prog = match words.as_slice() {
            [] => vec![],
            ["port", n] => {
                let p: u32 = n.parse().map_err(|_| FilterError(text.into()))?;
                let mut i = FilterInsn::new(FilterOp::Port);
                i.a = p;
                i.b = p;
                vec![i]
            }
            _ => return Err(FilterError(text.into())),
        };
        Ok(Filter { prog })
    }
    pub fn kernel_program(&self) -> &[FilterInsn] {
        &self.prog
    }
    pub fn is_decided_in_kernel(&self) -> bool {
        true
    }
    pub fn matches(&self, pkt: &Packet) -> bool {
        filter::run(&self.prog, &packet_fields(pkt))
    }
}

pub fn packet_fields(pkt: &Packet) -> PacketFields {
    extract_fields(pkt.data, pkt.wire_len)
}

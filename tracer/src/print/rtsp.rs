//! RTSP (tcpdump's print-rtsp.c): `txtproto_print` with the RTSP methods.

use super::ctx::{Ctx, R};
use super::txtproto;

const RTSP_CMDS: &[&str] = &[
    "DESCRIBE",
    "ANNOUNCE",
    "GET_PARAMETER",
    "OPTIONS",
    "PAUSE",
    "PLAY",
    "RECORD",
    "REDIRECT",
    "SETUP",
    "SET_PARAMETER",
    "TEARDOWN",
];

/// `rtsp_print`.
pub(crate) fn print(c: &mut Ctx, p: usize, len: u32) -> R<()> {
    c.proto = "rtsp";
    txtproto::print(c, p, len, Some(RTSP_CMDS))
}

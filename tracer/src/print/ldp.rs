//! LDP over TCP (tcpdump's print-ldp.c): `LDP, Label-Space-ID: A:0, pdu-length: N`, and
//! with `-v` every message and TLV (hello, session, address lists, FECs with Martini VCs,
//! labels, status, fault-tolerance, MTU).

use super::bgp::{buffered, decode_prefix4, decode_prefix6, AF_VALUES};
use super::ctx::{Ctx, Trunc, R};
use super::util::Tok;

const MSG: &Tok = &[
    (0x0001, "Notification"),
    (0x0100, "Hello"),
    (0x0200, "Initialization"),
    (0x0201, "Keepalive"),
    (0x0300, "Address"),
    (0x0301, "Address Withdraw"),
    (0x0400, "Label Mapping"),
    (0x0401, "Label Request"),
    (0x0402, "Label Withdraw"),
    (0x0403, "Label Release"),
    (0x0404, "Label Abort Request"),
];

const TLV: &Tok = &[
    (0x0100, "FEC"),
    (0x0101, "Address List"),
    (0x0103, "Hop Count"),
    (0x0104, "Path Vector"),
    (0x0200, "Generic Label"),
    (0x0201, "ATM Label"),
    (0x0202, "Frame-Relay Label"),
    (0x0300, "Status"),
    (0x0301, "Extended Status"),
    (0x0302, "Returned PDU"),
    (0x0303, "Returned Message"),
    (0x0400, "Common Hello Parameters"),
    (0x0401, "IPv4 Transport Address"),
    (0x0402, "Configuration Sequence Number"),
    (0x0403, "IPv6 Transport Address"),
    (0x0500, "Common Session Parameters"),
    (0x0501, "ATM Session Parameters"),
    (0x0502, "Frame-Relay Session Parameters"),
    (0x0503, "Fault-Tolerant Session Parameters"),
    (0x0600, "Label Request Message ID"),
    (0x0601, "MTU"),
];

const FEC: &Tok = &[
    (0x01, "Wildcard"),
    (0x02, "Prefix"),
    (0x03, "Host address"),
    (0x80, "Martini VC"),
];

const IFPARM: &Tok = &[(0x01, "MTU"), (0x03, "Description"), (0x0c, "VCCV")];
const VCCV_CC: &Tok = &[
    (0x01, "PWE3 control word"),
    (0x02, "MPLS Router Alert Label"),
    (0x04, "MPLS inner label TTL = 1"),
];
const VCCV_CV: &Tok = &[(0x01, "ICMP Ping"), (0x02, "LSP Ping"), (0x04, "BFD")];

/// l2vpn.c's `mpls_pw_types_values`.
const PW_TYPES: &Tok = &[
    (0x0000, "Reserved"),
    (0x0001, "Frame Relay DLCI (Martini Mode)"),
    (0x0002, "ATM AAL5 SDU VCC transport"),
    (0x0003, "ATM transparent cell transport"),
    (0x0004, "Ethernet VLAN"),
    (0x0005, "Ethernet"),
    (0x0006, "Cisco-HDLC"),
    (0x0007, "PPP"),
    (0x0008, "SONET/SDH Circuit Emulation Service over MPLS"),
    (0x0009, "ATM n-to-one VCC cell transport"),
    (0x000a, "ATM n-to-one VPC cell transport"),
    (0x000b, "IP Layer2 Transport"),
    (0x000c, "ATM one-to-one VCC Cell Mode"),
    (0x000d, "ATM one-to-one VPC Cell Mode"),
    (0x000e, "ATM AAL5 PDU VCC transport"),
    (0x000f, "Frame-Relay Port mode"),
    (0x0010, "SONET/SDH Circuit Emulation over Packet"),
    (0x0011, "Structure-agnostic E1 over Packet"),
    (0x0012, "Structure-agnostic T1 (DS1) over Packet"),
    (0x0013, "Structure-agnostic E3 over Packet"),
    (0x0014, "Structure-agnostic T3 (DS3) over Packet"),
    (0x0015, "CESoPSN basic mode"),
    (0x0016, "TDMoIP basic mode"),
    (0x0017, "CESoPSN TDM with CAS"),
    (0x0018, "TDMoIP TDM with CAS"),
    (0x0019, "Frame Relay DLCI"),
    (0x0040, "IP-interworking"),
];

/// `TLV_TCHECK`: false (after the marker) if the TLV is shorter than `min`.
fn tlv_check(c: &mut Ctx, tlv_tlen: u16, min: u32) -> bool {
    if (tlv_tlen as u32) < min {
        c.s(" [tlv length ");
        c.num(tlv_tlen);
        c.s(" < ");
        c.num(min);
        c.b(b']');
        c.invalid();
        return false;
    }
    true
}

/// `ldp_tlv_print`: the bytes taken, 0 to stop.
fn tlv(c: &mut Ctx, tptr: usize, msg_tlen: u32) -> R<u32> {
    if !c.ttest(tptr, 4) {
        return Err(Trunc);
    }
    let tlv_len = c.be16(tptr + 2)?;
    if tlv_len as u32 + 4 > msg_tlen {
        c.s("\n\t\t TLV contents go past end of message");
        return Ok(0);
    }
    let done = tlv_len as u32 + 4;
    let mut tlv_tlen = tlv_len;
    let raw = c.be16(tptr)?;
    let t = raw & 0x3fff;
    c.s("\n\t    ");
    c.tok(TLV, "Unknown", t as u32);
    c.s(" TLV (0x");
    c.hex(t, 4);
    c.s("), length: ");
    c.num(tlv_len);
    c.s(", Flags: [");
    c.s(if raw & 0x8000 != 0 {
        "continue processing"
    } else {
        "ignore"
    });
    c.s(" and ");
    c.s(if raw & 0x4000 != 0 { "do" } else { "don't" });
    c.s(" forward if unknown]");
    let mut tptr = tptr + 4;
    macro_rules! check {
        ($m:expr) => {
            if !tlv_check(c, tlv_tlen, $m) {
                return Ok(done);
            }
        };
    }
    match t {
        0x0400 => {
            check!(4);
            let (h, f) = (c.be16(tptr)?, c.be16(tptr + 2)?);
            c.s("\n\t      Hold Time: ");
            c.num(h);
            c.s("s, Flags: [");
            c.s(if f & 0x8000 != 0 { "Targeted" } else { "Link" });
            c.s(" Hello");
            if f & 0x4000 != 0 {
                c.s(", Request for targeted Hellos");
            }
            c.b(b']');
        }
        0x0401 => {
            check!(4);
            c.bytes(tptr, 4)?;
            c.s("\n\t      IPv4 Transport Address: ");
            c.ipaddr(tptr)?;
        }
        0x0403 => {
            check!(16);
            c.bytes(tptr, 16)?;
            c.s("\n\t      IPv6 Transport Address: ");
            c.ip6addr(tptr)?;
        }
        0x0402 => {
            check!(4);
            let v = c.be32(tptr)?;
            c.s("\n\t      Sequence Number: ");
            c.num(v);
        }
        0x0101 => {
            check!(2);
            let af = c.be16(tptr)?;
            tptr += 2;
            tlv_tlen -= 2;
            c.s("\n\t      Address Family: ");
            c.tok(AF_VALUES, "Unknown (%u)", af as u32);
            c.s(", addresses");
            match af {
                1 => {
                    while tlv_tlen >= 4 {
                        c.bytes(tptr, 4)?;
                        c.b(b' ');
                        c.ipaddr(tptr)?;
                        tlv_tlen -= 4;
                        tptr += 4;
                    }
                }
                2 => {
                    while tlv_tlen >= 16 {
                        c.bytes(tptr, 16)?;
                        c.b(b' ');
                        c.ip6addr(tptr)?;
                        tlv_tlen -= 16;
                        tptr += 16;
                    }
                }
                _ => {}
            }
        }
        0x0500 => {
            check!(8);
            let (v, k, f) = (c.be16(tptr)?, c.be16(tptr + 2)?, c.be16(tptr + 6)?);
            c.s("\n\t      Version: ");
            c.num(v);
            c.s(", Keepalive: ");
            c.num(k);
            c.s("s, Flags: [Downstream ");
            c.s(if f & 0x8000 != 0 {
                "On Demand"
            } else {
                "Unsolicited"
            });
            c.s(", Loop Detection ");
            c.s(if f & 0x4000 != 0 {
                "Enabled"
            } else {
                "Disabled"
            });
            c.b(b']');
        }
        0x0100 => {
            check!(1);
            let fec = c.u8(tptr)?;
            c.s("\n\t      ");
            c.tok(FEC, "Unknown", fec as u32);
            c.s(" FEC (0x");
            c.hex(fec, 2);
            c.b(b')');
            tptr += 1;
            tlv_tlen -= 1;
            match fec {
                0x02 => {
                    check!(2);
                    let af = c.be16(tptr)?;
                    tptr += 2;
                    tlv_tlen -= 2;
                    if af == 1 || af == 2 {
                        let mark = c.out.len();
                        c.s(if af == 1 {
                            ": IPv4 prefix "
                        } else {
                            ": IPv6 prefix "
                        });
                        let r = buffered(c, 99, |c| {
                            if af == 1 {
                                decode_prefix4(c, tptr, tlv_tlen as u32)
                            } else {
                                decode_prefix6(c, tptr, tlv_tlen as u32)
                            }
                        });
                        match r {
                            Ok(-1) => {
                                c.out.truncate(mark);
                                c.s(if af == 1 {
                                    ": IPv4 prefix (invalid length)"
                                } else {
                                    ": IPv6 prefix (invalid length)"
                                });
                            }
                            Ok(v) if v < 0 => {
                                c.out.truncate(mark);
                                return Err(Trunc);
                            }
                            Ok(_) => {}
                            Err(e) => {
                                c.out.truncate(mark);
                                return Err(e);
                            }
                        }
                    } else {
                        c.s(": Address family ");
                        c.num(af);
                        c.s(" prefix");
                    }
                }
                0x80 => {
                    check!(7);
                    let mut vc_info_len = c.u8(tptr + 2)? as u32;
                    if vc_info_len == 0 {
                        let pw = c.be16(tptr)?;
                        let group = c.be32(tptr + 3)?;
                        c.s(": ");
                        c.tok(PW_TYPES, "Unknown", (pw & 0x7fff) as u32);
                        c.s(if pw & 0x8000 != 0 { ", " } else { ", no " });
                        c.s("control word, group-ID ");
                        c.num(group);
                        c.s(", VC-info-length: 0");
                        return Ok(done);
                    }
                    check!(11);
                    let pw = c.be16(tptr)?;
                    let group = c.be32(tptr + 3)?;
                    let vcid = c.be32(tptr + 7)?;
                    c.s(": ");
                    c.tok(PW_TYPES, "Unknown", (pw & 0x7fff) as u32);
                    c.s(if pw & 0x8000 != 0 { ", " } else { ", no " });
                    c.s("control word, group-ID ");
                    c.num(group);
                    c.s(", VC-ID ");
                    c.num(vcid);
                    c.s(", VC-info-length: ");
                    c.num(vc_info_len);
                    if vc_info_len < 4 {
                        c.s(" (invalid, < 4");
                        return Ok(done);
                    }
                    vc_info_len -= 4;
                    tptr += 11;
                    tlv_tlen -= 11;
                    check!(vc_info_len);
                    while vc_info_len > 2 {
                        let it = c.u8(tptr)?;
                        let il = c.u8(tptr + 1)? as u32;
                        if il < 2 || vc_info_len < il {
                            break;
                        }
                        c.s("\n\t\tInterface Parameter: ");
                        c.tok(IFPARM, "Unknown", it as u32);
                        c.s(" (0x");
                        c.hex(it, 2);
                        c.s("), len ");
                        c.num(il);
                        match it {
                            0x01 => {
                                let v = c.be16(tptr + 2)?;
                                c.s(": ");
                                c.num(v);
                            }
                            0x03 => {
                                c.s(": ");
                                for idx in 2..il as usize {
                                    let ch = c.u8(tptr + idx)?;
                                    c.print_char(ch);
                                }
                            }
                            0x0c => {
                                let cc = c.u8(tptr + 2)?;
                                c.s("\n\t\t  Control Channels (0x");
                                c.hex(cc, 2);
                                c.s(") = [");
                                c.bittok(VCCV_CC, "none", cc as u32);
                                c.b(b']');
                                let cv = c.u8(tptr + 3)?;
                                c.s("\n\t\t  CV Types (0x");
                                c.hex(cv, 2);
                                c.s(") = [");
                                c.bittok(VCCV_CV, "none", cv as u32);
                                c.b(b']');
                            }
                            _ => {
                                c.unknown_data(tptr + 2, "\n\t\t  ", il - 2);
                            }
                        }
                        vc_info_len -= il;
                        tptr += il as usize;
                    }
                }
                _ => {}
            }
        }
        0x0200 => {
            check!(4);
            let v = c.be32(tptr)?;
            c.s("\n\t      Label: ");
            c.num(v & 0xfffff);
        }
        0x0300 => {
            check!(8);
            let ui = c.be32(tptr)?;
            c.s("\n\t      Status: 0x");
            c.hex(ui & 0x3fff_ffff, 2);
            c.s(", Flags: [");
            c.s(if ui & 0x8000_0000 != 0 {
                "Fatal error"
            } else {
                "Advisory Notification"
            });
            c.s(" and ");
            c.s(if ui & 0x4000_0000 != 0 { "do" } else { "don't" });
            c.s(" forward]");
            let ui = c.be32(tptr + 4)?;
            if ui != 0 {
                c.s(", causing Message ID: 0x");
                c.hex(ui, 8);
            }
        }
        0x0503 => {
            check!(12);
            let f = c.be16(tptr)?;
            c.s("\n\t      Flags: [");
            c.s(if f & 0x8000 != 0 { "" } else { "No " });
            c.s("Reconnect, ");
            c.s(if f & 0x8 != 0 { "" } else { "Don't " });
            c.s("Save State, ");
            c.s(if f & 0x4 != 0 { "" } else { "No " });
            c.s("All-Label Protection, ");
            c.s(if f & 0x2 != 0 {
                "Sequence Numbered Label"
            } else {
                "All Labels"
            });
            c.s(" Checkpoint, ");
            c.s(if f & 0x1 != 0 { "" } else { "Don't " });
            c.s("Re-Learn State]");
            let ui = c.be32(tptr + 4)?;
            if ui != 0 {
                c.s(", Reconnect Timeout: ");
                c.num(ui);
                c.s("ms");
            }
            let ui = c.be32(tptr + 8)?;
            if ui != 0 {
                c.s(", Recovery Time: ");
                c.num(ui);
                c.s("ms");
            }
        }
        0x0601 => {
            check!(2);
            let v = c.be16(tptr)?;
            c.s("\n\t      MTU: ");
            c.num(v);
        }
        _ => {
            if c.opts.verbose <= 1 {
                c.unknown_data(tptr, "\n\t      ", tlv_tlen as u32);
            }
        }
    }
    Ok(done)
}

/// `ldp_pdu_print`: the bytes taken, 0 to stop.
fn pdu(c: &mut Ctx, pptr: usize) -> R<u32> {
    if !c.ttest(pptr, 10) {
        return Err(Trunc);
    }
    let lead = if c.opts.verbose < 1 { "" } else { "\n\t" };
    let ver = c.be16(pptr)?;
    if ver != 1 {
        c.s(lead);
        c.s("LDP version ");
        c.num(ver);
        c.s(" packet not supported");
        return Ok(0);
    }
    let pdu_len = c.be16(pptr + 2)?;
    if pdu_len < 6 {
        c.s(lead);
        c.s("LDP, pdu-length: ");
        c.num(pdu_len);
        c.s(" (too short, < 6)");
        return Ok(0);
    }
    let ls = c.be16(pptr + 8)?;
    c.s(lead);
    c.s("LDP, Label-Space-ID: ");
    c.ipaddr(pptr + 4)?;
    c.b(b':');
    c.num(ls);
    c.s(", pdu-length: ");
    c.num(pdu_len);
    if c.opts.verbose < 1 {
        return Ok(0);
    }
    let mut tptr = pptr + 10;
    let mut tlen: u16 = pdu_len - 6;
    while tlen > 0 {
        if !c.ttest(tptr, 8) {
            return Err(Trunc);
        }
        let msg_len = c.be16(tptr + 2)?;
        let raw = c.be16(tptr)?;
        let mt = raw & 0x7fff;
        if msg_len < 4 {
            c.s("\n\t  ");
            c.tok(MSG, "Unknown", mt as u32);
            c.s(" Message (0x");
            c.hex(mt, 4);
            c.s("), length: ");
            c.num(msg_len);
            c.s(" (too short, < 4)");
            return Ok(0);
        }
        let id = c.be32(tptr + 4)?;
        c.s("\n\t  ");
        c.tok(MSG, "Unknown", mt as u32);
        c.s(" Message (0x");
        c.hex(mt, 4);
        c.s("), length: ");
        c.num(msg_len);
        c.s(", Message ID: 0x");
        c.hex(id, 8);
        c.s(", Flags: [");
        c.s(if raw & 0x8000 != 0 {
            "continue processing"
        } else {
            "ignore"
        });
        c.s(" if unknown]");
        let mut msg_tptr = tptr + 8;
        let mut msg_tlen = msg_len as u32 - 4;
        if !c.ttest(tptr, msg_len as usize) {
            return Err(Trunc);
        }
        match mt {
            0x0001 | 0x0100 | 0x0200 | 0x0201 | 0x0300 | 0x0400 | 0x0301 | 0x0402 => {
                while msg_tlen >= 4 {
                    let n = tlv(c, msg_tptr, msg_tlen)?;
                    if n == 0 {
                        break;
                    }
                    msg_tlen -= n;
                    msg_tptr += n as usize;
                }
            }
            _ => {
                if c.opts.verbose <= 1 {
                    c.unknown_data(msg_tptr, "\n\t  ", msg_tlen);
                }
            }
        }
        if c.opts.verbose > 1 {
            c.unknown_data(tptr + 8, "\n\t  ", msg_len as u32);
        }
        tptr += msg_len as usize + 4;
        tlen = tlen.wrapping_sub(msg_len.wrapping_add(4));
    }
    Ok(pdu_len as u32 + 4)
}

/// `ldp_print`.
pub(crate) fn print(c: &mut Ctx, pptr: usize, len: u32) -> R<()> {
    c.proto = "ldp";
    let mut pptr = pptr;
    let mut len = len;
    while len > 18 {
        let n = pdu(c, pptr)?;
        if n == 0 {
            return Ok(());
        }
        if len < n {
            c.s(" [remaining length ");
            c.num(len);
            c.s(" < ");
            c.num(n);
            c.b(b']');
            c.invalid();
            break;
        }
        len -= n;
        pptr += n as usize;
    }
    Ok(())
}

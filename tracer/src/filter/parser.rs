//! libpcap 1.10's grammar (grammar.y), by recursive descent.
//!
//! `not` binds tightest; `and` and `or` have equal precedence and group left to right.
//! After `and`/`or`, a bare value (`host a or b`, `port 80 or 443`, `host a and not b`,
//! `port 80 or (443 or 8080)`) repeats the qualifiers of the primitive before it, exactly as
//! yacc's `$<blk>0` does there: a parenthesized expression passes on the qualifiers in force
//! before it, `tcp`, `less 10` and relations pass on none (so `tcp or 80` is an error).
//! Values become primitives the way gencode.c builds them (`net 10` is 10.0.0.0/8,
//! `host 10.0` is 10.0.0.0/16, names resolve to every address).

use super::ast::{Cmp, Dir, Expr, Prim};
use super::error::{FilterError, Location};
use super::lexer::{tokenize, Kw, Tok, Token};
use super::names::Names;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Deepest nesting of parentheses, `not`s and unary minuses the parser follows.
const MAX_NESTING: usize = 100;
/// Most changes between `and` and `or` in one expression (each one nests the tree).
const MAX_ALTERNATIONS: usize = 256;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Proto {
    Default,
    Ip,
    Ip6,
    Tcp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum AddrQ {
    Default,
    Host,
    Net,
    Port,
    Portrange,
}

/// The qualifiers of a primitive: `tcp src port` is (Tcp, Src, Port).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Qual {
    proto: Proto,
    dir: Dir,
    addr: AddrQ,
}

/// Which transport protocols a port name stands for in /etc/services.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum PortProto {
    Tcp,
    Udp,
    Both,
}

#[derive(Clone, Debug)]
enum Arith {
    Num(u32),
    Len,
    /// `proto[idx]` or `proto[idx:size]`; `tok` is the protocol name's token.
    Load {
        tok: usize,
        idx: Box<Arith>,
        size: Option<(u32, usize)>,
    },
    Neg(usize, Box<Arith>),
    Bin(Tok, usize, Box<Arith>, Box<Arith>),
}

/// What an arithmetic expression reduces to: tracer only compares constants, the frame
/// length and the (masked) TCP flags byte.
#[derive(Copy, Clone, Debug)]
enum Val {
    Const(u32),
    Len,
    Flags(u8),
}

pub(crate) fn parse(src: &str, names: &dyn Names) -> Result<Expr, FilterError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        names,
        nesting: 0,
        alternations: 0,
    };
    if p.peek() == &Tok::End {
        return Ok(Expr::Const(true));
    }
    let (e, _) = p.expr(None)?;
    match p.peek() {
        Tok::End => Ok(e),
        Tok::RParen => Err(p.unexpected("the end: this ')' has no matching '('")),
        _ => Err(p.unexpected("'and', 'or' or the end of the expression")),
    }
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token<'a>>,
    pos: usize,
    names: &'a dyn Names,
    nesting: usize,
    alternations: usize,
}

fn is_relop(t: &Tok) -> bool {
    matches!(t, Tok::Gt | Tok::Ge | Tok::Eq | Tok::Lt | Tok::Le | Tok::Ne)
}

/// Binary arithmetic operators and their yacc precedence (higher binds tighter).
fn binop(t: &Tok) -> Option<u8> {
    Some(match t {
        Tok::Pipe => 1,
        Tok::Caret => 2,
        Tok::Amp => 3,
        Tok::Shl | Tok::Shr => 4,
        Tok::Plus | Tok::Minus => 5,
        Tok::Star | Tok::Slash | Tok::Percent => 6,
        _ => return None,
    })
}

fn proto_why(name: &str) -> String {
    match name {
        "udp" | "sctp" | "icmp" | "icmp6" | "igmp" | "igrp" | "pim" | "vrrp" | "carp" | "ah"
        | "esp" => format!(
            "tracer only sees TCP packets, so '{name}' could never match (use 'tcp', 'host', 'port', ...)"
        ),
        _ => "tracer filters on IPv4/IPv6 and TCP fields only".to_string(),
    }
}

impl<'a> Parser<'a> {
    fn tok(&self, i: usize) -> &Tok {
        &self.toks[i.min(self.toks.len() - 1)].tok
    }

    fn peek(&self) -> &Tok {
        self.tok(self.pos)
    }

    fn text(&self, i: usize) -> &'a str {
        self.toks[i.min(self.toks.len() - 1)].text
    }

    fn loc(&self, i: usize) -> Location {
        Location {
            column: self.toks[i.min(self.toks.len() - 1)].col,
            expr: self.src.to_string(),
        }
    }

    fn unexpected(&self, expected: &'static str) -> FilterError {
        self.unexpected_at(self.pos, expected)
    }

    fn unexpected_at(&self, i: usize, expected: &'static str) -> FilterError {
        if self.tok(i) == &Tok::End {
            FilterError::UnexpectedEnd {
                expected,
                at: self.loc(i),
            }
        } else {
            FilterError::Unexpected {
                token: self.text(i).to_string(),
                expected,
                at: self.loc(i),
            }
        }
    }

    fn unsupported(&self, i: usize, why: impl Into<String>) -> FilterError {
        FilterError::Unsupported {
            token: self.text(i).to_string(),
            why: why.into(),
            at: self.loc(i),
        }
    }

    fn invalid(&self, i: usize, why: impl Into<String>) -> FilterError {
        FilterError::Invalid {
            token: self.text(i).to_string(),
            why: why.into(),
            at: self.loc(i),
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(FilterError::TooComplex {
                why: format!("nested more than {MAX_NESTING} deep"),
                at: self.loc(self.pos),
            });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    fn expect_rparen(&mut self) -> Result<(), FilterError> {
        if self.peek() != &Tok::RParen {
            return Err(self.unexpected("')'"));
        }
        self.pos += 1;
        Ok(())
    }

    // expr: term | expr and term | expr and id | expr or term | expr or id
    fn expr(&mut self, q0: Option<Qual>) -> Result<(Expr, Option<Qual>), FilterError> {
        let (mut e, mut q) = self.term(q0)?;
        let mut last_op = None;
        loop {
            let is_and = match self.peek() {
                Tok::And => true,
                Tok::Or => false,
                _ => break,
            };
            if last_op.is_some_and(|o| o != is_and) {
                self.alternations += 1;
                if self.alternations > MAX_ALTERNATIONS {
                    return Err(FilterError::TooComplex {
                        why: format!(
                            "more than {MAX_ALTERNATIONS} switches between 'and' and 'or'"
                        ),
                        at: self.loc(self.pos),
                    });
                }
            }
            last_op = Some(is_and);
            self.pos += 1;
            let (rhs, q2) = if let Some(bare) = self.bare_ahead() {
                let Some(qual) = q else {
                    return Err(self.unexpected_at(
                        bare,
                        "a primitive: a bare value only repeats the qualifiers of a primitive like 'host' or 'port' just before it",
                    ));
                };
                (self.id(qual)?, q)
            } else {
                self.term(q)?
            };
            e = if is_and {
                Expr::and(e, rhs)
            } else {
                Expr::or(e, rhs)
            };
            q = q2;
        }
        Ok((e, q))
    }

    /// After `and`/`or`: does a bare value (yacc's `id`) follow, rather than a `term`?
    /// Returns the value's token index.
    fn bare_ahead(&self) -> Option<usize> {
        let mut i = self.pos;
        while matches!(self.tok(i), Tok::Not | Tok::LParen) {
            i += 1;
        }
        match self.tok(i) {
            Tok::Id(_) | Tok::Hid | Tok::Hid6(_) | Tok::Eid => Some(i),
            Tok::Num(_) => {
                // A number followed by an operator starts a relation (`port 80 or 2 > 1`).
                let mut j = i + 1;
                while self.tok(j) == &Tok::RParen {
                    j += 1;
                }
                let t = self.tok(j);
                (binop(t).is_none() && !is_relop(t)).then_some(i)
            }
            _ => None,
        }
    }

    // term: rterm | not term
    fn term(&mut self, q: Option<Qual>) -> Result<(Expr, Option<Qual>), FilterError> {
        if self.peek() == &Tok::Not {
            self.pos += 1;
            self.enter()?;
            let (e, q) = self.term(q)?;
            self.leave();
            return Ok((Expr::Not(Box::new(e)), q));
        }
        self.rterm(q)
    }

    // rterm: head id | paren expr ')' | pname | arth relop arth | other
    fn rterm(&mut self, q: Option<Qual>) -> Result<(Expr, Option<Qual>), FilterError> {
        let i = self.pos;
        match self.tok(i).clone() {
            Tok::LParen => {
                if self.relation_ahead() {
                    return Ok((self.relation()?, None));
                }
                self.pos += 1;
                self.enter()?;
                let (e, _) = self.expr(q)?;
                self.expect_rparen()?;
                self.leave();
                // `(...) or b` gives b the qualifiers in force before the '('.
                Ok((e, q))
            }
            Tok::Kw(k @ (Kw::Ip | Kw::Ip6 | Kw::Tcp)) => match self.tok(i + 1) {
                Tok::LBracket => Ok((self.relation()?, None)),
                Tok::Kw(Kw::Src | Kw::Dst | Kw::Host | Kw::Net | Kw::Port | Kw::Portrange) => {
                    self.head()
                }
                Tok::Kw(Kw::Other(w)) => Err(self.unsupported(
                    i + 1,
                    format!("the '{w}' qualifier or primitive is not implemented"),
                )),
                _ => {
                    self.pos += 1;
                    let p = match k {
                        Kw::Ip => Prim::Ip,
                        Kw::Ip6 => Prim::Ip6,
                        _ => Prim::Tcp,
                    };
                    Ok((Expr::Prim(p), None))
                }
            },
            Tok::Kw(Kw::Src | Kw::Dst | Kw::Host | Kw::Net | Kw::Port | Kw::Portrange) => {
                self.head()
            }
            Tok::Kw(k @ (Kw::Less | Kw::Greater)) => {
                self.pos += 1;
                let Tok::Num(v) = *self.peek() else {
                    return Err(self.unexpected("a number (the frame length)"));
                };
                self.pos += 1;
                let cmp = if k == Kw::Less { Cmp::Le } else { Cmp::Ge };
                Ok((Expr::Prim(Prim::Len { cmp, value: v }), None))
            }
            Tok::Num(_) | Tok::Minus | Tok::Kw(Kw::Len) => Ok((self.relation()?, None)),
            Tok::Kw(Kw::OtherProto(name)) => {
                if self.tok(i + 1) == &Tok::LBracket {
                    return Err(self.unsupported(
                        i,
                        format!("loads from '{name}[...]'; of the packet bytes only tcp[13] (tcp[tcpflags]) can be tested"),
                    ));
                }
                Err(self.unsupported(i, proto_why(name)))
            }
            Tok::Kw(Kw::Other(w)) => Err(self.unsupported(
                i,
                format!("the '{w}' qualifier or primitive is not implemented"),
            )),
            Tok::Id(_) | Tok::Hid | Tok::Hid6(_) => Err(self.unexpected(
                "a primitive: put a qualifier such as 'host', 'net' or 'port' before an address, name or number",
            )),
            Tok::Eid => Err(self.unsupported(i, "Ethernet addresses ('ether host') are not implemented")),
            _ => Err(self.unexpected("a primitive such as 'host', 'port', 'tcp' or 'less'")),
        }
    }

    // head: pqual dqual aqual | pqual dqual | pqual aqual
    fn head(&mut self) -> Result<(Expr, Option<Qual>), FilterError> {
        let proto = match self.peek() {
            Tok::Kw(Kw::Ip) => Proto::Ip,
            Tok::Kw(Kw::Ip6) => Proto::Ip6,
            Tok::Kw(Kw::Tcp) => Proto::Tcp,
            _ => Proto::Default,
        };
        if proto != Proto::Default {
            self.pos += 1;
        }
        let dir = match self.peek() {
            Tok::Kw(d @ (Kw::Src | Kw::Dst)) => {
                let d = *d;
                let other = if d == Kw::Src { Kw::Dst } else { Kw::Src };
                self.pos += 1;
                match (self.peek(), self.tok(self.pos + 1)) {
                    (Tok::Or, Tok::Kw(k)) if *k == other => {
                        self.pos += 2;
                        Dir::Any
                    }
                    (Tok::And, Tok::Kw(k)) if *k == other => {
                        self.pos += 2;
                        Dir::Both
                    }
                    _ if d == Kw::Src => Dir::Src,
                    _ => Dir::Dst,
                }
            }
            _ => Dir::Any,
        };
        let addr = match self.peek() {
            Tok::Kw(Kw::Host) => AddrQ::Host,
            Tok::Kw(Kw::Net) => AddrQ::Net,
            Tok::Kw(Kw::Port) => AddrQ::Port,
            Tok::Kw(Kw::Portrange) => AddrQ::Portrange,
            Tok::Kw(Kw::Other(w)) => {
                return Err(self.unsupported(
                    self.pos,
                    format!("the '{w}' qualifier or primitive is not implemented"),
                ))
            }
            _ => AddrQ::Default,
        };
        if addr != AddrQ::Default {
            self.pos += 1;
        }
        let q = Qual { proto, dir, addr };
        let e = self.id(q)?;
        Ok((e, Some(q)))
    }

    // id: nid | pnum | paren pid ')'
    fn id(&mut self, q: Qual) -> Result<Expr, FilterError> {
        if self.peek() != &Tok::LParen {
            return self.nid(q);
        }
        // pid: nid | qid and id | qid or id; qid: pnum | pid
        self.pos += 1;
        self.enter()?;
        let mut e = if self.peek() == &Tok::LParen {
            let (v, i) = self.paren_num()?;
            self.ncode(None, v, q, i)?
        } else {
            self.nid(q)?
        };
        loop {
            let is_and = match self.peek() {
                Tok::And => true,
                Tok::Or => false,
                _ => break,
            };
            self.pos += 1;
            let r = self.id(q)?;
            e = if is_and {
                Expr::and(e, r)
            } else {
                Expr::or(e, r)
            };
        }
        self.expect_rparen()?;
        self.leave();
        Ok(e)
    }

    /// `(NUM)`, `((NUM))`, ...: yacc's parenthesized `pnum`.
    fn paren_num(&mut self) -> Result<(u32, usize), FilterError> {
        self.pos += 1;
        self.enter()?;
        let r = match *self.peek() {
            Tok::LParen => self.paren_num()?,
            Tok::Num(v) => {
                self.pos += 1;
                (v, self.pos - 1)
            }
            _ => return Err(self.unexpected("a number")),
        };
        self.expect_rparen()?;
        self.leave();
        Ok(r)
    }

    // nid: ID | HID '/' NUM | HID mask HID | HID | HID6 '/' NUM | HID6 | not id; plus pnum
    fn nid(&mut self, q: Qual) -> Result<Expr, FilterError> {
        let i = self.pos;
        match self.tok(i).clone() {
            Tok::Not => {
                self.pos += 1;
                self.enter()?;
                let e = self.id(q)?;
                self.leave();
                Ok(Expr::Not(Box::new(e)))
            }
            Tok::Num(v) => {
                self.pos += 1;
                self.ncode(None, v, q, i)
            }
            Tok::Hid => {
                self.pos += 1;
                match self.peek() {
                    Tok::Slash => {
                        self.pos += 1;
                        let Tok::Num(len) = *self.peek() else {
                            return Err(self.unexpected("a prefix length"));
                        };
                        self.pos += 1;
                        self.mcode(i, None, len, q)
                    }
                    Tok::Kw(Kw::Mask) => {
                        self.pos += 1;
                        if self.peek() != &Tok::Hid {
                            return Err(self.unexpected("a dotted netmask such as 255.255.0.0"));
                        }
                        self.pos += 1;
                        self.mcode(i, Some(self.pos - 1), 0, q)
                    }
                    _ => self.ncode(Some(i), 0, q, i),
                }
            }
            Tok::Hid6(a) => {
                self.pos += 1;
                if self.peek() == &Tok::Slash {
                    self.pos += 1;
                    let Tok::Num(len) = *self.peek() else {
                        return Err(self.unexpected("a prefix length"));
                    };
                    self.pos += 1;
                    return self.mcode6(i, a, len, self.pos - 1, q);
                }
                self.mcode6(i, a, 128, i, q)
            }
            Tok::Id(name) => {
                self.pos += 1;
                self.scode(i, &name, q)
            }
            Tok::Eid => {
                Err(self.unsupported(i, "Ethernet addresses ('ether host') are not implemented"))
            }
            _ => Err(self.unexpected("an address, a number or a name")),
        }
    }

    fn dotted(&self, i: usize) -> Result<(u32, u32), FilterError> {
        // __pcap_atoin: decimal parts of at most 255; the number of parts gives the width.
        let s = self.text(i);
        let mut v: u32 = 0;
        let mut bits = 0;
        for part in s.split('.') {
            let p = (part.len() <= 3 && part.bytes().all(|c| c.is_ascii_digit()))
                .then(|| part.parse::<u32>().ok())
                .flatten()
                .filter(|&p| p <= 255)
                .ok_or_else(|| self.invalid(i, format!("'{s}' is not an IPv4 address")))?;
            v = (v << 8) | p;
            bits += 8;
        }
        Ok((v, bits))
    }

    fn dir_proto_host4(
        &self,
        addr: u32,
        mask: u32,
        q: Qual,
        i: usize,
    ) -> Result<Expr, FilterError> {
        match q.proto {
            Proto::Default | Proto::Ip => Ok(Expr::Prim(Prim::Host4 {
                dir: q.dir,
                addr: Ipv4Addr::from(addr & mask),
                mask: Ipv4Addr::from(mask),
            })),
            Proto::Ip6 => Err(self.invalid(i, "'ip6' cannot qualify an IPv4 host or net")),
            Proto::Tcp => Err(self.invalid(
                i,
                "'tcp' cannot qualify a host or net (write 'tcp and host ...')",
            )),
        }
    }

    fn host6(&self, addr: Ipv6Addr, prefix: u8, q: Qual, i: usize) -> Result<Expr, FilterError> {
        match q.proto {
            Proto::Default | Proto::Ip6 => Ok(Expr::Prim(Prim::Host6 {
                dir: q.dir,
                addr,
                prefix,
            })),
            Proto::Ip => Err(self.invalid(i, "'ip' cannot qualify an IPv6 host or net")),
            Proto::Tcp => Err(self.invalid(
                i,
                "'tcp' cannot qualify a host or net (write 'tcp and host ...')",
            )),
        }
    }

    fn port_proto_ok(&self, q: Qual, i: usize) -> Result<(), FilterError> {
        match q.proto {
            Proto::Default | Proto::Tcp => Ok(()),
            _ => Err(self.invalid(
                i,
                "'ip' and 'ip6' cannot qualify 'port' or 'portrange' (write 'tcp port ...')",
            )),
        }
    }

    fn port_check(&self, v: i64, i: usize) -> Result<u16, FilterError> {
        if v < 0 {
            return Err(self.invalid(i, format!("illegal port number {v} < 0")));
        }
        u16::try_from(v).map_err(|_| self.invalid(i, format!("illegal port number {v} > 65535")))
    }

    /// gen_ncode: a number or dotted address under qualifiers `q`.
    fn ncode(&self, hid: Option<usize>, v: u32, q: Qual, i: usize) -> Result<Expr, FilterError> {
        match q.addr {
            AddrQ::Default | AddrQ::Host | AddrQ::Net => {
                let (addr, mask) = if let Some(h) = hid {
                    // A short dotted address is a prefix: `host 10.0` is 10.0.0.0/16.
                    let (v, bits) = self.dotted(h)?;
                    (v << (32 - bits), u32::MAX << (32 - bits))
                } else if q.addr == AddrQ::Net {
                    // `net 10` is 10.0.0.0/8: shift the number up to the top byte.
                    let (mut v, mut m) = (v, u32::MAX);
                    while v != 0 && v & 0xff00_0000 == 0 {
                        v <<= 8;
                        m <<= 8;
                    }
                    (v, m)
                } else {
                    (v, u32::MAX)
                };
                self.dir_proto_host4(addr, mask, q, i)
            }
            AddrQ::Port | AddrQ::Portrange => {
                if hid.is_some() {
                    return Err(
                        self.invalid(i, "'port' and 'portrange' need a port, not an IP address")
                    );
                }
                self.port_proto_ok(q, i)?;
                let p = self.port_check(v as i64, i)?;
                Ok(Expr::Prim(Prim::Port {
                    dir: q.dir,
                    lo: p,
                    hi: p,
                }))
            }
        }
    }

    /// gen_mcode: `net A/len` and `net A mask M`.
    fn mcode(
        &self,
        i: usize,
        mask_tok: Option<usize>,
        len: u32,
        q: Qual,
    ) -> Result<Expr, FilterError> {
        let (n, nbits) = self.dotted(i)?;
        let n = n << (32 - nbits);
        let m = if let Some(j) = mask_tok {
            let (m, mbits) = self.dotted(j)?;
            let m = m << (32 - mbits);
            if n & !m != 0 {
                return Err(self.invalid(
                    i,
                    format!(
                        "non-network bits set in \"{} mask {}\"",
                        self.text(i),
                        self.text(j)
                    ),
                ));
            }
            m
        } else {
            if len > 32 {
                return Err(self.invalid(i + 2, "mask length must be <= 32"));
            }
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            if n & !m != 0 {
                return Err(self.invalid(
                    i,
                    format!("non-network bits set in \"{}/{len}\"", self.text(i)),
                ));
            }
            m
        };
        if q.addr != AddrQ::Net {
            return Err(self.invalid(i, "mask syntax is for networks only (write 'net ...')"));
        }
        self.dir_proto_host4(n, m, q, i)
    }

    /// gen_mcode6: `host A6`, `net A6/len`.
    fn mcode6(
        &self,
        i: usize,
        a: Ipv6Addr,
        len: u32,
        len_tok: usize,
        q: Qual,
    ) -> Result<Expr, FilterError> {
        if len > 128 {
            return Err(self.invalid(len_tok, "mask length must be <= 128"));
        }
        let m = u128::MAX.checked_shl(128 - len).unwrap_or(0);
        if u128::from(a) & !m != 0 {
            return Err(self.invalid(
                i,
                format!("non-network bits set in \"{}/{len}\"", self.text(i)),
            ));
        }
        match q.addr {
            AddrQ::Default | AddrQ::Host if len != 128 => {
                Err(self.invalid(i, "mask syntax is for networks only (write 'net ...')"))
            }
            AddrQ::Default | AddrQ::Host | AddrQ::Net => self.host6(a, len as u8, q, i),
            AddrQ::Port | AddrQ::Portrange => {
                Err(self.invalid(i, "'port' and 'portrange' need a port, not an IPv6 address"))
            }
        }
    }

    /// gen_scode: a name under qualifiers `q`.
    fn scode(&self, i: usize, name: &str, q: Qual) -> Result<Expr, FilterError> {
        match q.addr {
            AddrQ::Default | AddrQ::Host => {
                let addrs = self.names.host(name);
                if addrs.is_empty() {
                    return Err(FilterError::UnknownHost {
                        name: name.to_string(),
                        family: false,
                        at: self.loc(i),
                    });
                }
                let mut alts = Vec::new();
                for a in addrs {
                    match a {
                        IpAddr::V4(v4) if q.proto != Proto::Ip6 => {
                            alts.push(self.dir_proto_host4(u32::from(v4), u32::MAX, q, i)?)
                        }
                        IpAddr::V6(v6) if q.proto != Proto::Ip => {
                            alts.push(self.host6(v6, 128, q, i)?)
                        }
                        _ => {}
                    }
                }
                alts.into_iter()
                    .reduce(Expr::or)
                    .ok_or_else(|| FilterError::UnknownHost {
                        name: name.to_string(),
                        family: true,
                        at: self.loc(i),
                    })
            }
            AddrQ::Net => {
                let Some(mut v) = self.names.network(name).filter(|&v| v != 0) else {
                    return Err(FilterError::UnknownName {
                        what: "network",
                        name: name.to_string(),
                        at: self.loc(i),
                    });
                };
                // Left-justify the network number, as gen_scode does.
                let mut m = u32::MAX;
                while v != 0 && v & 0xff00_0000 == 0 {
                    v <<= 8;
                    m <<= 8;
                }
                self.dir_proto_host4(v, m, q, i)
            }
            AddrQ::Port => {
                self.port_proto_ok(q, i)?;
                let Some((p, pp)) = self.port_by_name(name) else {
                    return Err(FilterError::UnknownName {
                        what: "port",
                        name: name.to_string(),
                        at: self.loc(i),
                    });
                };
                self.not_udp(pp, q, i, "port")?;
                Ok(Expr::Prim(Prim::Port {
                    dir: q.dir,
                    lo: p,
                    hi: p,
                }))
            }
            AddrQ::Portrange => {
                self.port_proto_ok(q, i)?;
                let Some((a, b, pp)) = self.portrange_by_name(name) else {
                    return Err(FilterError::UnknownName {
                        what: "port range",
                        name: name.to_string(),
                        at: self.loc(i),
                    });
                };
                let (a, b) = (self.port_check(a, i)?, self.port_check(b, i)?);
                self.not_udp(pp, q, i, "port range")?;
                Ok(Expr::Prim(Prim::Port {
                    dir: q.dir,
                    lo: a.min(b),
                    hi: a.max(b),
                }))
            }
        }
    }

    /// A UDP-only service name would match UDP only: refuse it rather than match nothing.
    fn not_udp(&self, pp: PortProto, q: Qual, i: usize, what: &str) -> Result<(), FilterError> {
        if pp != PortProto::Udp {
            return Ok(());
        }
        if q.proto == Proto::Tcp {
            return Err(self.invalid(i, format!("{what} '{}' is udp", self.text(i))));
        }
        Err(self.unsupported(
            i,
            format!(
                "{what} '{}' is a UDP service and tracer only sees TCP packets",
                self.text(i)
            ),
        ))
    }

    /// pcap_nametoport: a service name (or a decimal number inside a range).
    fn port_by_name(&self, name: &str) -> Option<(u16, PortProto)> {
        if !name.is_empty() && name.bytes().all(|c| c.is_ascii_digit()) {
            return name.parse().ok().map(|p| (p, PortProto::Both));
        }
        match self.names.service(name) {
            (Some(t), Some(u)) if t == u => Some((t, PortProto::Both)),
            (Some(t), _) => Some((t, PortProto::Tcp)),
            (None, Some(u)) => Some((u, PortProto::Udp)),
            (None, None) => None,
        }
    }

    /// pcap_nametoportrange: `sscanf("%d-%d")`, else two names around the first '-'.
    fn portrange_by_name(&self, name: &str) -> Option<(i64, i64, PortProto)> {
        if let Some((a, rest)) = scan_int(name) {
            if let Some((b, _)) = rest.strip_prefix('-').and_then(scan_int) {
                return Some((a, b, PortProto::Both));
            }
        }
        let (a, b) = name.split_once('-')?;
        let (a, pa) = self.port_by_name(a)?;
        let (b, pb) = self.port_by_name(b)?;
        let pp = if pa == pb { pa } else { PortProto::Both };
        Some((a as i64, b as i64, pp))
    }

    /// At '(': a parenthesized arithmetic expression followed by a comparison?
    fn relation_ahead(&mut self) -> bool {
        let (pos, nesting) = (self.pos, self.nesting);
        let ok = self.arith(1).is_ok() && is_relop(self.peek());
        self.pos = pos;
        self.nesting = nesting;
        ok
    }

    // arth relop arth | arth irelop arth
    fn relation(&mut self) -> Result<Expr, FilterError> {
        let l = self.arith(1)?;
        let op = self.pos;
        let cmp = match self.peek() {
            Tok::Gt => Cmp::Gt,
            Tok::Ge => Cmp::Ge,
            Tok::Eq => Cmp::Eq,
            Tok::Lt => Cmp::Lt,
            Tok::Le => Cmp::Le,
            Tok::Ne => Cmp::Ne,
            _ => return Err(self.unexpected("a comparison (=, ==, !=, <, <=, >, >=)")),
        };
        self.pos += 1;
        let r = self.arith(1)?;
        let (lv, rv) = (self.fold(&l)?, self.fold(&r)?);
        Ok(match (lv, rv) {
            (Val::Const(a), Val::Const(b)) => Expr::Const(cmp.eval(a, b)),
            (Val::Flags(mask), Val::Const(value)) => Expr::Prim(Prim::TcpFlags { mask, cmp, value }),
            (Val::Const(value), Val::Flags(mask)) => Expr::Prim(Prim::TcpFlags {
                mask,
                cmp: cmp.swapped(),
                value,
            }),
            (Val::Len, Val::Const(value)) => Expr::Prim(Prim::Len { cmp, value }),
            (Val::Const(value), Val::Len) => Expr::Prim(Prim::Len {
                cmp: cmp.swapped(),
                value,
            }),
            _ => {
                return Err(self.unsupported(
                    op,
                    "comparisons between two packet fields are not implemented (compare 'len' or 'tcp[tcpflags]' with a constant)",
                ))
            }
        })
    }

    /// Binary operators of precedence `min` and up, grouping left to right.
    fn arith(&mut self, min: u8) -> Result<Arith, FilterError> {
        let mut l = self.arith_unary()?;
        while let Some(prec) = binop(self.peek()).filter(|&p| p >= min) {
            let i = self.pos;
            let op = self.peek().clone();
            self.pos += 1;
            let r = self.arith(prec + 1)?;
            l = Arith::Bin(op, i, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn arith_unary(&mut self) -> Result<Arith, FilterError> {
        let i = self.pos;
        match *self.peek() {
            Tok::Minus => {
                self.pos += 1;
                self.enter()?;
                let a = self.arith_unary()?;
                self.leave();
                Ok(Arith::Neg(i, Box::new(a)))
            }
            Tok::Num(v) => {
                self.pos += 1;
                Ok(Arith::Num(v))
            }
            Tok::Kw(Kw::Len) => {
                self.pos += 1;
                Ok(Arith::Len)
            }
            Tok::LParen => {
                self.pos += 1;
                self.enter()?;
                let a = self.arith(1)?;
                self.expect_rparen()?;
                self.leave();
                Ok(a)
            }
            Tok::Kw(Kw::Ip | Kw::Ip6 | Kw::Tcp | Kw::OtherProto(_))
                if self.tok(i + 1) == &Tok::LBracket =>
            {
                self.pos += 2;
                self.enter()?;
                let idx = self.arith(1)?;
                let size = if self.peek() == &Tok::Colon {
                    self.pos += 1;
                    let Tok::Num(s) = *self.peek() else {
                        return Err(self.unexpected("a size (1, 2 or 4)"));
                    };
                    self.pos += 1;
                    Some((s, self.pos - 1))
                } else {
                    None
                };
                if self.peek() != &Tok::RBracket {
                    return Err(self.unexpected("']'"));
                }
                self.pos += 1;
                self.leave();
                Ok(Arith::Load {
                    tok: i,
                    idx: Box::new(idx),
                    size,
                })
            }
            _ => Err(self.unexpected("a number, 'len' or 'tcp[tcpflags]'")),
        }
    }

    /// Reduces arithmetic to a constant, `len`, or `tcp[13] & mask`, refusing the rest.
    fn fold(&self, a: &Arith) -> Result<Val, FilterError> {
        let data = "arithmetic on packet data is not implemented, except 'tcp[tcpflags] & mask'";
        Ok(match a {
            Arith::Num(v) => Val::Const(*v),
            Arith::Len => Val::Len,
            Arith::Neg(i, x) => match self.fold(x)? {
                Val::Const(v) => Val::Const(v.wrapping_neg()),
                _ => return Err(self.unsupported(*i, data)),
            },
            Arith::Bin(op, i, l, r) => {
                let (lv, rv) = (self.fold(l)?, self.fold(r)?);
                if let Val::Const(c) = rv {
                    match op {
                        Tok::Slash if c == 0 => return Err(self.invalid(*i, "division by zero")),
                        Tok::Percent if c == 0 => return Err(self.invalid(*i, "modulus by zero")),
                        Tok::Shl | Tok::Shr if c > 31 => {
                            return Err(self.invalid(*i, "shift by more than 31 bits"))
                        }
                        _ => {}
                    }
                }
                match (lv, rv, op) {
                    (Val::Const(x), Val::Const(y), _) => Val::Const(match op {
                        Tok::Pipe => x | y,
                        Tok::Caret => x ^ y,
                        Tok::Amp => x & y,
                        Tok::Shl => x << y,
                        Tok::Shr => x >> y,
                        Tok::Plus => x.wrapping_add(y),
                        Tok::Minus => x.wrapping_sub(y),
                        Tok::Star => x.wrapping_mul(y),
                        Tok::Slash => x / y,
                        _ => x % y,
                    }),
                    (Val::Flags(m), Val::Const(c), Tok::Amp)
                    | (Val::Const(c), Val::Flags(m), Tok::Amp) => Val::Flags(m & (c & 0xff) as u8),
                    _ => return Err(self.unsupported(*i, data)),
                }
            }
            Arith::Load { tok, idx, size } => {
                if self.tok(*tok) != &Tok::Kw(Kw::Tcp) {
                    return Err(self.unsupported(
                        *tok,
                        format!(
                            "loads from '{}[...]'; of the packet bytes only tcp[13] (tcp[tcpflags]) can be tested",
                            self.text(*tok)
                        ),
                    ));
                }
                let width = match size {
                    None => 1,
                    Some((s @ (1 | 2 | 4), _)) => *s,
                    Some((_, si)) => return Err(self.invalid(*si, "data size must be 1, 2, or 4")),
                };
                match (self.fold(idx)?, width) {
                    (Val::Const(13), 1) => Val::Flags(0xff),
                    _ => {
                        return Err(self.unsupported(
                            *tok,
                            "of the TCP header only the flags byte tcp[13] (tcp[tcpflags]) can be tested",
                        ))
                    }
                }
            }
        })
    }
}

/// `%d` of sscanf: optional sign and decimal digits; the rest of the string.
fn scan_int(s: &str) -> Option<(i64, &str)> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let n = body.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    // Saturate: anything this large is refused as a port anyway.
    let v = body[..n].parse::<i64>().unwrap_or(i64::MAX);
    Some((if neg { -v } else { v }, &body[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixed names, so the tests do not depend on the machine's files.
    struct FakeNames;

    impl Names for FakeNames {
        fn host(&self, name: &str) -> Vec<IpAddr> {
            match name {
                "both" => vec!["10.0.0.1".parse().unwrap(), "fd00::1".parse().unwrap()],
                "four" => vec!["10.0.0.4".parse().unwrap()],
                "six" => vec!["fd00::6".parse().unwrap()],
                _ => vec![],
            }
        }
        fn service(&self, name: &str) -> (Option<u16>, Option<u16>) {
            match name {
                "http" => (Some(80), None),
                "domain" => (Some(53), Some(53)),
                "bootps" => (None, Some(67)),
                "ntp" => (None, Some(123)),
                _ => (None, None),
            }
        }
        fn network(&self, name: &str) -> Option<u32> {
            match name {
                "loopback" => Some(0x7f00_0000),
                "ten" => Some(10),
                _ => None,
            }
        }
    }

    fn p(s: &str) -> Result<Expr, FilterError> {
        parse(s, &FakeNames).map(Expr::simplify)
    }

    fn ok(s: &str) -> String {
        match p(s) {
            Ok(e) => e.to_string(),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match p(s) {
            Ok(e) => panic!("{s}: accepted as {e}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn and_or_have_equal_precedence_left_to_right() {
        assert_eq!(
            ok("port 1 or port 2 and port 3"),
            "(port 1 or port 2) and port 3"
        );
        assert_eq!(
            ok("port 1 and port 2 or port 3"),
            "(port 1 and port 2) or port 3"
        );
        assert_eq!(
            ok("port 1 and (port 2 or port 3)"),
            "port 1 and (port 2 or port 3)"
        );
        assert_eq!(
            ok("port 1 && port 2 || port 3"),
            "(port 1 and port 2) or port 3"
        );
    }

    #[test]
    fn not_binds_tightest() {
        assert_eq!(ok("not port 1 and port 2"), "not port 1 and port 2");
        assert_eq!(ok("! port 1 or port 2"), "not port 1 or port 2");
        assert_eq!(ok("not (port 1 or port 2)"), "not (port 1 or port 2)");
        assert_eq!(ok("not not tcp"), "tcp");
    }

    #[test]
    fn bare_values_repeat_the_qualifiers() {
        assert_eq!(
            ok("host 1.2.3.4 or 1.2.3.5"),
            "host 1.2.3.4 or host 1.2.3.5"
        );
        assert_eq!(ok("port 80 or 443"), "port 80 or port 443");
        assert_eq!(ok("tcp dst port 80 or 443"), "dst port 80 or dst port 443");
        assert_eq!(
            ok("src host 1.2.3.4 and 1.2.3.5"),
            "src host 1.2.3.4 and src host 1.2.3.5"
        );
        assert_eq!(
            ok("host 1.2.3.4 and not 1.2.3.5"),
            "host 1.2.3.4 and not host 1.2.3.5"
        );
        assert_eq!(
            ok("port 80 or (443 or 8080)"),
            "port 80 or port 443 or port 8080"
        );
        assert_eq!(ok("port (80 or 443)"), "port 80 or port 443");
        assert_eq!(ok("port ((80))"), "port 80");
        // A parenthesized expression passes on the qualifiers in force before it.
        assert_eq!(
            ok("port 80 or (port 443) or 8080"),
            "port 80 or port 443 or port 8080"
        );
        assert_eq!(
            ok("host 1.2.3.4 and ((tcp) or 1.2.3.5)"),
            "host 1.2.3.4 and (tcp or host 1.2.3.5)"
        );
        assert_eq!(ok("src 1.2.3.4"), "src host 1.2.3.4");
        assert_eq!(ok("dst 80"), "dst host 0.0.0.80");
        assert_eq!(
            ok("not host 1.2.3.4 or 1.2.3.5"),
            "not host 1.2.3.4 or host 1.2.3.5"
        );
    }

    #[test]
    fn bare_values_without_qualifiers_are_refused() {
        for s in [
            "80",
            "tcp or 80",
            "port 80 and tcp or 443",
            "(host 1.2.3.4) or 1.2.3.5",
            "not (port 80) or 443",
            "len > 100 or 200",
            "host 1.2.3.4 or (1.2.3.5 and tcp)",
            "host 1.2.3.4 or ((1.2.3.5))",
            "host 1.2.3.4 and (tcp or 1.2.3.5)",
        ] {
            assert!(p(s).is_err(), "{s}");
        }
        assert_eq!(
            err("port 80 and tcp or 443"),
            "filter: unexpected '443' at column 20 in 'port 80 and tcp or 443': expected a primitive: a bare value only repeats the qualifiers of a primitive like 'host' or 'port' just before it"
        );
    }

    #[test]
    fn directions() {
        assert_eq!(ok("src or dst host 1.2.3.4"), "host 1.2.3.4");
        assert_eq!(ok("dst or src port 1"), "port 1");
        assert_eq!(ok("src and dst host 1.2.3.4"), "src and dst host 1.2.3.4");
        assert_eq!(ok("dst and src port 1"), "src and dst port 1");
        assert_eq!(ok("tcp src or dst port 80"), "port 80");
    }

    #[test]
    fn addresses_and_nets_like_gencode() {
        assert_eq!(ok("net 10"), "net 10.0.0.0/8");
        assert_eq!(ok("net 10.0"), "net 10.0.0.0/16");
        assert_eq!(ok("host 10.0"), "net 10.0.0.0/16");
        assert_eq!(ok("net 1.2.3"), "net 1.2.3.0/24");
        assert_eq!(ok("host 300"), "host 0.0.1.44");
        assert_eq!(ok("net 10.0.0.0/8"), "net 10.0.0.0/8");
        assert_eq!(
            ok("net 10.0.0.0 mask 255.0.255.0"),
            "net 10.0.0.0 mask 255.0.255.0"
        );
        assert_eq!(ok("net 0.0.0.0/0"), "net 0.0.0.0/0");
        assert_eq!(ok("host 010.0.0.1"), "host 10.0.0.1");
        assert_eq!(ok("net fd77::/16"), "net fd77::/16");
        assert_eq!(ok("host ::1"), "host ::1");
        assert_eq!(ok("ip6 src net fd77::1"), "src host fd77::1");
        assert_eq!(ok("ip host 1.2.3.4"), "host 1.2.3.4");
        assert_eq!(ok("host both"), "host 10.0.0.1 or host fd00::1");
        assert_eq!(ok("ip host both"), "host 10.0.0.1");
        assert_eq!(ok("ip6 host both"), "host fd00::1");
        assert_eq!(ok("net loopback"), "host 127.0.0.0");
        assert_eq!(ok("net ten"), "net 10.0.0.0/8");
    }

    #[test]
    fn ports_like_gencode() {
        assert_eq!(ok("port http"), "port 80");
        assert_eq!(ok("tcp port domain"), "port 53");
        assert_eq!(ok("portrange 30-20"), "portrange 20-30");
        assert_eq!(ok("portrange 20-30x"), "portrange 20-30");
        assert_eq!(ok("portrange 80"), "port 80");
        assert_eq!(ok("portrange http-8080"), "portrange 80-8080");
        assert_eq!(ok("portrange bootps-80"), "portrange 67-80");
        assert_eq!(ok("src portrange 1-1"), "src port 1");
        assert_eq!(ok("port 0x50 or 0120"), "port 80 or port 80");
    }

    #[test]
    fn relations() {
        assert_eq!(ok("tcp[13] & 2 != 0"), "tcp[tcpflags] & 0x2 != 0x0");
        assert_eq!(
            ok("tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"),
            "tcp[tcpflags] & 0x12 = 0x2"
        );
        assert_eq!(ok("(tcp[13] & 2) != 0"), "tcp[tcpflags] & 0x2 != 0x0");
        assert_eq!(
            ok("((tcp[13] & 2)) != 0 and port 1"),
            "tcp[tcpflags] & 0x2 != 0x0 and port 1"
        );
        assert_eq!(ok("(tcp[13] & 2 != 0)"), "tcp[tcpflags] & 0x2 != 0x0");
        assert_eq!(ok("0x12 & tcp[13] = 0x12"), "tcp[tcpflags] & 0x12 = 0x12");
        assert_eq!(ok("tcp[13:1] > 0x10"), "tcp[tcpflags] > 0x10");
        assert_eq!(ok("2 < tcp[(13)]"), "tcp[tcpflags] > 0x2");
        assert_eq!(ok("len <= 100"), "less 100");
        assert_eq!(ok("200 > len"), "len < 200");
        assert_eq!(ok("less tcp-syn"), "less 2");
        assert_eq!(ok("greater 0x40"), "greater 64");
        assert_eq!(ok("1 = 1"), "1 = 1");
        assert_eq!(ok("port 1 and 2 ^ 3 & 1 = 3"), "port 1");
        assert_eq!(ok("6 ^ 3 | 1 = 5 and port 1"), "port 1");
        assert_eq!(ok("1 | 2 ^ 3 = 0"), "1 = 0");
        assert_eq!(ok("-1 = 4294967295"), "1 = 1");
        assert_eq!(ok("port 80 or 2 = 2"), "1 = 1");
        assert_eq!(ok("port 80 or (2) = 2"), "1 = 1");
        assert_eq!(ok("tcp[13] = 2 or 1 = 1"), "1 = 1");
        assert_eq!(ok("2 * 3 + 1 = 7 and port 1"), "port 1");
    }

    #[test]
    fn syntax_errors_point_at_the_token() {
        assert_eq!(
            err("port 80 and foo"),
            "filter: unknown port 'foo' at column 13 in 'port 80 and foo'"
        );
        assert_eq!(
            err("port 80 and"),
            "filter: unexpected end at column 12 in 'port 80 and': expected a primitive such as 'host', 'port', 'tcp' or 'less'"
        );
        assert_eq!(
            err("host"),
            "filter: unexpected end at column 5 in 'host': expected an address, a number or a name"
        );
        assert_eq!(
            err("(port 80"),
            "filter: unexpected end at column 9 in '(port 80': expected ')'"
        );
        assert_eq!(
            err("port 80)"),
            "filter: unexpected ')' at column 8 in 'port 80)': expected the end: this ')' has no matching '('"
        );
        assert_eq!(
            err("less (100)"),
            "filter: unexpected '(' at column 6 in 'less (100)': expected a number (the frame length)"
        );
        assert!(err("ip 10.0.0.1").contains("unexpected '10.0.0.1' at column 4"));
        assert!(err("tcp[13]").contains("expected a comparison"));
        assert!(err("tcp[14-1] = 2").contains("'14-1'"));
        assert!(err("net 10/8").contains("unexpected '/'"));
        assert!(err("net 10 mask 255.0.0.0").contains("unexpected 'mask'"));
        assert!(err("host fd77::1 mask ffff::").contains("unexpected 'mask'"));
        assert!(err("host 1.2.3.4 ! 1.2.3.5").contains("unexpected '!'"));
        assert!(err("()").contains("unexpected ')'"));
        assert!(err("not").contains("unexpected end"));
        assert!(err("tcp-syn").contains("expected a comparison"));
    }

    #[test]
    fn invalid_values_like_tcpdump() {
        for (s, want) in [
            ("port 70000", "illegal port number 70000 > 65535"),
            ("portrange 70000-70001", "illegal port number 70000 > 65535"),
            ("portrange 20--30", "illegal port number -30 < 0"),
            ("net 10.1.2.3/8", "non-network bits set in \"10.1.2.3/8\""),
            ("net 10.0.0.0/33", "mask length must be <= 32"),
            ("net fd77::1/16", "non-network bits set"),
            ("net fd77::/129", "mask length must be <= 128"),
            ("host 10.0.0.0/8", "mask syntax is for networks only"),
            ("src 10.0.0.0/8", "mask syntax is for networks only"),
            ("host fd77::/16", "mask syntax is for networks only"),
            ("host 256.1.1.1", "is not an IPv4 address"),
            ("host 0x7f.0.0.1", "is not an IPv4 address"),
            ("port 1.2.3.4", "need a port"),
            ("port fd77::1", "need a port"),
            ("ip port 80", "cannot qualify 'port'"),
            ("ip6 host 1.2.3.4", "'ip6' cannot qualify an IPv4"),
            ("ip host fd77::1", "'ip' cannot qualify an IPv6"),
            ("tcp host 1.2.3.4", "'tcp' cannot qualify a host"),
            ("tcp net 10.0.0.0/8", "'tcp' cannot qualify a host or net"),
            ("tcp port bootps", "port 'bootps' is udp"),
            ("2/0 = 1", "division by zero"),
            ("2%0 = 1", "modulus by zero"),
            ("1 << 32 = 0", "shift by more than 31 bits"),
            ("tcp[13:3] = 1", "data size must be 1, 2, or 4"),
            ("port 089", "contains non-octal digit"),
            ("host 4294967296", "overflows 32 bits"),
        ] {
            let e = err(s);
            assert!(e.contains(want), "{s}: {e}");
            assert!(e.starts_with("filter: invalid '"), "{s}: {e}");
        }
    }

    #[test]
    fn unknown_names() {
        assert_eq!(
            err("host nosuch"),
            "filter: unknown host 'nosuch' at column 6 in 'host nosuch'"
        );
        assert_eq!(
            err("ip6 host four"),
            "filter: unknown host 'four' at column 10 in 'ip6 host four' for the specified address family"
        );
        assert!(err("port nosuch").contains("unknown port 'nosuch'"));
        assert!(err("port 80and").contains("unknown port '80and'"));
        assert!(err("port 0x").contains("unknown port '0x'"));
        assert!(err("portrange a-b").contains("unknown port range 'a-b'"));
        assert!(err("net nosuch").contains("unknown network 'nosuch'"));
    }

    #[test]
    fn unsupported_is_said_precisely() {
        for (s, tok) in [
            ("udp", "'udp' at column 1"),
            ("icmp or tcp", "'icmp' at column 1"),
            ("tcp or udp port 53", "'udp' at column 8"),
            ("ether host 1:2:3:4:5:6", "'ether' at column 1"),
            ("host 1:2:3:4:5:6", "'1:2:3:4:5:6' at column 6"),
            ("vlan", "'vlan' at column 1"),
            ("vlan and tcp", "'vlan' at column 1"),
            ("ip proto 6", "'proto' at column 4"),
            ("proto 6", "'proto' at column 1"),
            ("ip[0] = 0x45", "'ip' at column 1"),
            ("ip6[6] = 6", "'ip6' at column 1"),
            ("ether[0] = 1", "'ether' at column 1"),
            ("tcp[0:2] = 80", "'tcp' at column 1"),
            ("tcp[12] = 0x50", "'tcp' at column 1"),
            ("len - 14 > 50", "'-' at column 5"),
            ("tcp[13] & tcp[13] = 2", "'&' at column 9"),
            ("len = len", "'=' at column 5"),
            ("gateway foo", "'gateway' at column 1"),
            ("broadcast", "'broadcast' at column 1"),
            ("ip broadcast", "'broadcast' at column 4"),
            ("port bootps", "'bootps' at column 6"),
            ("portrange bootps-ntp", "'bootps-ntp' at column 11"),
            ("inbound", "'inbound' at column 1"),
            ("src addr1 foo", "'addr1' at column 5"),
        ] {
            let e = err(s);
            assert!(
                e.contains(tok) && e.contains("is not supported by tracer"),
                "{s}: {e}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}tcp{}", "(".repeat(500), ")".repeat(500));
        assert!(matches!(p(&deep), Err(FilterError::TooComplex { .. })));
        let nots = format!("{}tcp", "not ".repeat(500));
        assert!(matches!(p(&nots), Err(FilterError::TooComplex { .. })));
        let alt: Vec<String> = (0..600)
            .map(|i| format!("port {i} {}", if i % 2 == 0 { "and" } else { "or" }))
            .collect();
        let alt = format!("{} tcp", alt.join(" "));
        assert!(matches!(p(&alt), Err(FilterError::TooComplex { .. })));
        let long: Vec<String> = (0..5000).map(|i| format!("port {i}")).collect();
        assert_eq!(p(&long.join(" or ")).unwrap().prim_count(), 5000);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "host 1.2.3.4 and (port 80 or 443) and not tcp[13] & 4 != 0",
            "src net 10.0/16 or dst net fd77::/64 and less 100",
            "ip and tcp or ip6 and not greater 1000",
            "src and dst portrange 1-1023 or len != 60 or len > 10",
            "net 10.0.0.0 mask 255.0.255.0 or tcp[13] >= 2",
            "host both",
        ] {
            let e = p(s).unwrap();
            let again = p(&e.to_string()).unwrap();
            assert_eq!(e, again, "{s} -> {e}");
        }
    }
}

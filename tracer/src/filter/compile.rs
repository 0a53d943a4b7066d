//! Code generation: each primitive becomes exactly one instruction, and `and`/`or`/`not`
//! become nothing but jump targets (short circuits by wiring, `not` by swapping the true and
//! false targets). Instructions are laid out in expression order, so every jump goes forward.

use super::ast::{Cmp, Expr, Prim};
use tracer_common::filter::{FilterInsn, ACCEPT, REJECT};

/// Most instructions of a userspace program: jump targets are `u16` below [`REJECT`].
pub const MAX_USERSPACE_INSNS: usize = 0xff00;

/// A test that is always true; a constant becomes it with both targets set alike.
const ALWAYS: Prim = Prim::Len {
    cmp: Cmp::Ge,
    value: 0,
};

fn size(e: &Expr) -> usize {
    match e {
        Expr::Const(_) | Expr::Prim(_) => 1,
        Expr::Not(x) => size(x),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().map(size).sum(),
    }
}

/// Compiles `e`; an always-true expression compiles to the empty program (accept all).
/// The caller keeps `e` within [`MAX_USERSPACE_INSNS`] primitives.
pub fn compile(e: &Expr) -> Vec<FilterInsn> {
    if *e == Expr::Const(true) {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(size(e));
    emit(e, ACCEPT, REJECT, &mut out);
    out
}

fn emit(e: &Expr, t: u16, f: u16, out: &mut Vec<FilterInsn>) {
    match e {
        Expr::Const(b) => {
            let to = if *b { t } else { f };
            out.push(ALWAYS.insn(to, to));
        }
        Expr::Prim(p) => out.push(p.insn(t, f)),
        Expr::Not(x) => emit(x, f, t, out),
        Expr::And(xs) | Expr::Or(xs) => {
            let is_and = matches!(e, Expr::And(_));
            for (k, x) in xs.iter().enumerate() {
                // Where to go when this operand does not decide the chain: the next operand,
                // which starts right after this one's instructions.
                let next = if k + 1 == xs.len() {
                    if is_and {
                        t
                    } else {
                        f
                    }
                } else {
                    (out.len() + size(x)) as u16
                };
                if is_and {
                    emit(x, next, f, out);
                } else {
                    emit(x, t, next, out);
                }
            }
        }
    }
}

/// Checks the shape the kernel relies on: every target is a later instruction, [`ACCEPT`]
/// or [`REJECT`]. Returns the index of the first bad instruction.
pub fn check(prog: &[FilterInsn]) -> Result<(), usize> {
    for (pc, insn) in prog.iter().enumerate() {
        for t in [insn.jt, insn.jf] {
            let ok = t == ACCEPT || t == REJECT || (t as usize > pc && (t as usize) < prog.len());
            if !ok {
                return Err(pc);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::ast::Dir;

    fn p(n: u16) -> Expr {
        Expr::Prim(Prim::Port {
            dir: Dir::Any,
            lo: n,
            hi: n,
        })
    }

    fn jumps(prog: &[FilterInsn]) -> Vec<(u32, u16, u16)> {
        prog.iter().map(|i| (i.a, i.jt, i.jf)).collect()
    }

    #[test]
    fn and_or_not_by_wiring() {
        // (1 or 2) and not 3
        let e = Expr::And(vec![Expr::Or(vec![p(1), p(2)]), Expr::Not(Box::new(p(3)))]);
        let prog = compile(&e);
        assert_eq!(
            jumps(&prog),
            [(1, 2, 1), (2, 2, REJECT), (3, REJECT, ACCEPT)]
        );
        assert_eq!(check(&prog), Ok(()));
    }

    #[test]
    fn or_of_ands() {
        // 1 and 2 or 3 and 4
        let e = Expr::Or(vec![
            Expr::And(vec![p(1), p(2)]),
            Expr::And(vec![p(3), p(4)]),
        ]);
        let prog = compile(&e);
        assert_eq!(
            jumps(&prog),
            [
                (1, 1, 2),
                (2, ACCEPT, 2),
                (3, 3, REJECT),
                (4, ACCEPT, REJECT)
            ]
        );
    }

    #[test]
    fn constants() {
        assert!(compile(&Expr::Const(true)).is_empty());
        let f = compile(&Expr::Const(false));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].jt, f[0].jf), (REJECT, REJECT));
    }

    #[test]
    fn bad_shapes_are_found() {
        let mut prog = compile(&Expr::Or(vec![p(1), p(2)]));
        assert_eq!(check(&prog), Ok(()));
        prog[1].jt = 1;
        assert_eq!(check(&prog), Err(1));
        prog[1].jt = 5;
        assert_eq!(check(&prog), Err(1));
    }
}

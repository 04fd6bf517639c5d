// SPDX-License-Identifier: GPL-2.0
//! The verbs: the context they run in and the checks they share. Each verb
//! lives in the module of its concept; they are re-exported here.

mod list;
mod load;
mod output;
mod switch;
#[cfg(test)]
mod testing;
mod wait;

pub use list::{list, status};
pub use load::{load, load_all, unload, unload_all, LoadHow};
pub(crate) use output::{print_json, report};
pub use switch::{force, set_enabled};
pub use wait::{blockers, progress, wait, wait_transition, Progress, Waited};

use crate::error::{KlpError, Result};
use crate::kernel::Kernel;
use crate::model::{self, Env};
use crate::tasks::{self, Scan};
use std::io::{BufRead, Write};
use std::time::Duration;

pub struct Ctx {
    pub env: Env,
    pub kernel: Box<dyn Kernel>,
    /// `--json`: machine-readable output on stdout.
    pub json: bool,
    /// How often a wait polls the patch's `transition` attribute.
    pub poll: Duration,
    /// How often a wait scans every task in procfs for its progress.
    pub scan_every: Duration,
    /// stderr is a terminal: the progress display rewrites one line.
    pub tty: bool,
}

pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
}

pub(super) fn require_root(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.kernel.is_root() {
        Ok(())
    } else {
        Err(KlpError::permission(format!(
            "{what} requires root: run klp as root"
        )))
    }
}

pub(super) fn scan(env: &Env) -> Result<Scan> {
    tasks::scan(&env.proc).map_err(|e| KlpError::io(env.proc.display(), &e))
}

pub(super) fn busy_with_other(env: &Env, name: &str) -> Result<()> {
    match model::transition_patch(env) {
        Some(other) if other != name => Err(KlpError::busy(format!(
            "the transition of '{other}' is still running; only one livepatch transition \
             runs at a time (`klp wait {other}`, `klp blockers {other}`)"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::error::Kind;

    #[test]
    fn writes_need_root_but_reads_do_not() {
        let t = FakeTree::temp();
        demo(&t);
        let mut k = sim(&t);
        k.root = false;
        let c = ctx(&t, k);
        for f in [
            &|io: &mut Io| set_enabled(&c, io, "lp", false, true, None) as Result<()>,
            &|io: &mut Io| unload(&c, io, "lp", None),
            &|io: &mut Io| force(&c, io, "lp", true, false, None),
        ] as [&dyn Fn(&mut Io) -> Result<()>; 3]
        {
            let e = Out::new().run("", f).unwrap_err();
            assert_eq!(e.kind, Kind::Permission, "{}", e.message);
        }
        assert_eq!(t.get("kernel/livepatch/lp/enabled"), "1");
        let mut o = Out::new();
        o.run("", |io| list(&c, io)).unwrap();
        assert!(o.out().starts_with("lp  enabled=1"), "{}", o.out());
    }

    #[test]
    fn another_transition_makes_writes_busy_without_writing() {
        let t = FakeTree::temp();
        demo(&t);
        t.patch("other", true, true);
        let c = ctx(&t, sim(&t));
        let e = Out::new()
            .run("", |io| set_enabled(&c, io, "lp", false, true, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Busy);
        assert!(e.message.contains("'other'"), "{}", e.message);
        assert_eq!(t.get("kernel/livepatch/lp/enabled"), "1");
        assert!(t.calls().is_empty(), "{}", t.calls());
    }
}

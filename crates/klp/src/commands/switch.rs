// SPDX-License-Identifier: GPL-2.0
//! `klp enable`, `klp disable` and `klp force`: start, reverse or force a
//! transition, and wait for its end.

use super::output::{plural, report};
use super::wait::{finished, wait_transition};
use super::{busy_with_other, require_root, scan, Ctx, Io};
use crate::error::{describe_io, KlpError, Result};
use crate::model;
use std::io;
use std::path::Path;
use std::time::Duration;

pub(super) fn write_enabled_error(
    name: &str,
    enable: bool,
    path: &Path,
    e: &io::Error,
) -> KlpError {
    let verb = if enable { "enable" } else { "disable" };
    match e.raw_os_error() {
        Some(libc::EINVAL) if enable => KlpError::error(format!(
            "the kernel refused to enable '{name}': {} \
             (in Linux 6.12 a disabled patch cannot be re-enabled: \
             `klp unload {name}` and load the module again)",
            describe_io(e)
        )),
        Some(libc::EINVAL) => KlpError::error(format!(
            "the kernel refused to disable '{name}': {} (it is already disabled)",
            describe_io(e)
        )),
        Some(libc::EBUSY) => KlpError::busy(format!(
            "the kernel refused to {verb} '{name}': {} \
             (another livepatch transition is running: see `klp status`)",
            describe_io(e)
        )),
        _ => KlpError::io(format!("writing {} to {}", enable as u8, path.display()), e),
    }
}

pub fn set_enabled(
    ctx: &Ctx,
    io: &mut Io,
    name: &str,
    enable: bool,
    wait: bool,
    timeout: Option<Duration>,
) -> Result<()> {
    let action = if enable { "enable" } else { "disable" };
    let name = &model::patch_name(name)?;
    ctx.env.check_support()?;
    require_root(
        ctx,
        if enable {
            "enabling a livepatch"
        } else {
            "disabling a livepatch"
        },
    )?;
    let p = model::read_patch(&ctx.env, name)?;
    if p.enabled != enable {
        busy_with_other(&ctx.env, name)?;
        if p.transition {
            let _ = writeln!(
                io.err,
                "klp: reversing the {} transition of '{name}'",
                p.state()
            );
        }
        let path = ctx.env.patch_dir(name).join("enabled");
        ctx.kernel
            .write_attr(&path, if enable { "1" } else { "0" })
            .map_err(|e| write_enabled_error(name, enable, &path, &e))?;
    } else if !p.transition {
        let msg = format!("{name}: already {action}d ({})", p.state());
        return report(ctx, io, action, name, p.state(), msg);
    }
    if !wait {
        let p = model::read_patch(&ctx.env, name);
        let state = p.as_ref().map(|p| p.state()).unwrap_or("removed");
        let msg = format!("{name}: {state} (not waiting: `klp wait {name}`)");
        return report(ctx, io, action, name, state, msg);
    }
    let w = wait_transition(ctx, io, name, timeout)?;
    finished(ctx, io, action, name, w)
}

pub fn force(
    ctx: &Ctx,
    io: &mut Io,
    name: &str,
    yes: bool,
    wait: bool,
    timeout: Option<Duration>,
) -> Result<()> {
    let name = &model::patch_name(name)?;
    ctx.env.check_support()?;
    require_root(ctx, "forcing a transition")?;
    let p = model::read_patch(&ctx.env, name)?;
    let Some(target) = p.target_state() else {
        return Err(KlpError::error(format!(
            "'{name}' is not in transition ({}): there is nothing to force",
            p.state()
        )));
    };
    let scan = scan(&ctx.env)?;
    let remaining = scan.remaining(target);
    let _ = writeln!(
        io.err,
        "WARNING: forcing the {dir} transition of '{name}' skips the livepatch consistency model.\n\
         - {n} not yet switched ({blocked}) will be marked {state} without a stack check:\n\
         \x20 tasks may run old and new code mixed, which the patch may not be safe for.\n\
         - The module of '{name}' can never be removed afterwards (until reboot).\n\
         Force only with a clearance from the patch's author or distributor.",
        dir = p.state(),
        n = plural(remaining, "task"),
        blocked = if remaining == 1 { "it blocks the transition" } else { "they block the transition" },
        state = if target == 1 { "patched" } else { "unpatched" },
    );
    if !yes {
        let _ = write!(
            io.err,
            "Force the transition of '{name}'? Type 'yes' to confirm: "
        );
        let _ = io.err.flush();
        let mut answer = String::new();
        let _ = io.input.read_line(&mut answer);
        let answer = answer.trim().to_ascii_lowercase();
        if answer != "yes" && answer != "y" {
            let _ = writeln!(io.err);
            return Err(KlpError::error(
                "not forced: no confirmation (answer 'yes', or pass --yes)",
            ));
        }
    }
    let path = ctx.env.patch_dir(name).join("force");
    ctx.kernel
        .write_attr(&path, "1")
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EINVAL) => KlpError::error(format!(
                "the kernel refused to force '{name}': {} (it is no longer in transition)",
                describe_io(&e)
            )),
            _ => KlpError::io(format!("writing 1 to {}", path.display()), &e),
        })?;
    let _ = writeln!(io.err, "klp: forced the transition of '{name}'");
    if !wait {
        let msg = format!("{name}: transition forced");
        return report(ctx, io, "force", name, p.state(), msg);
    }
    let w = wait_transition(ctx, io, name, timeout)?;
    finished(ctx, io, "force", name, w)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::error::Kind;
    use std::time::Instant;

    #[test]
    fn disable_waits_until_the_kernel_frees_the_patch() {
        let t = FakeTree::temp();
        demo(&t);
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        let start = Instant::now();
        o.run("", |io| {
            set_enabled(&c, io, "lp", false, true, Some(Duration::from_secs(5)))
        })
        .unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(150),
            "did not wait"
        );
        assert!(
            o.out().contains("lp: disabled; the kernel freed the patch"),
            "{}",
            o.out()
        );
        assert!(o.err().contains("klp: unpatching 'lp'"), "{}", o.err());
    }

    #[test]
    fn enable_reverses_an_unpatching_transition_and_waits() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/enabled", "0");
        t.set("kernel/livepatch/lp/transition", "1");
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        o.run("", |io| {
            set_enabled(&c, io, "lp", true, true, Some(Duration::from_secs(5)))
        })
        .unwrap();
        assert!(
            o.err().contains("reversing the unpatching transition"),
            "{}",
            o.err()
        );
        assert_eq!(o.out().trim(), "lp: applied");
        assert_eq!(t.get("kernel/livepatch/lp/enabled"), "1");
    }

    #[test]
    fn kernel_errors_on_enabled_are_explained() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/enabled", "0");
        let mut k = sim(&t);
        k.fail_writes = Some(libc::EINVAL);
        let c = ctx(&t, k);
        let e = Out::new()
            .run("", |io| set_enabled(&c, io, "lp", true, true, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Error);
        assert!(e.message.contains("EINVAL"), "{}", e.message);
        assert!(e.message.contains("cannot be re-enabled"), "{}", e.message);

        let mut k = sim(&t);
        k.fail_writes = Some(libc::EBUSY);
        let c = ctx(&t, k);
        let e = Out::new()
            .run("", |io| set_enabled(&c, io, "lp", true, true, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Busy);
        assert!(
            e.message.contains("another livepatch transition"),
            "{}",
            e.message
        );
    }

    #[test]
    fn force_asks_and_only_writes_on_yes() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/transition", "1");
        t.task(7, 7, "a", 0, &[]);
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        let e = o
            .run("no\n", |io| force(&c, io, "lp", false, false, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Error);
        assert!(o.err().contains("consistency model"), "{}", o.err());
        assert!(o.err().contains("can never be removed"), "{}", o.err());
        assert!(o.err().contains("1 task not yet switched"), "{}", o.err());
        assert_eq!(t.get("kernel/livepatch/lp/force"), "");
        let e = Out::new()
            .run("", |io| force(&c, io, "lp", false, false, None))
            .unwrap_err();
        assert!(e.message.contains("--yes"), "{}", e.message);
        assert_eq!(t.get("kernel/livepatch/lp/force"), "");
        let mut o = Out::new();
        o.run("yes\n", |io| force(&c, io, "lp", false, false, None))
            .unwrap();
        assert_eq!(t.get("kernel/livepatch/lp/force"), "1");
        assert!(o.out().contains("lp: transition forced"), "{}", o.out());
    }

    #[test]
    fn force_refuses_when_not_in_transition() {
        let t = FakeTree::temp();
        demo(&t);
        let c = ctx(&t, sim(&t));
        let e = Out::new()
            .run("yes\n", |io| force(&c, io, "lp", true, false, None))
            .unwrap_err();
        assert!(e.message.contains("not in transition"), "{}", e.message);
        assert!(t.calls().is_empty());
    }
}

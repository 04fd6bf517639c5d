// SPDX-License-Identifier: GPL-2.0
//! Which code keeps a task from switching, by the transition's direction.
//!
//! The kernel's rule (kernel/livepatch/transition.c, klp_check_stack_func):
//! a task cannot switch while a frame of its stack is in
//!
//! * when patching: the function the patch replaces, which is the
//!   `new_func` of the previous func on the function's stack (the next-older
//!   enabled patch that patches the same function), or else the original
//!   function;
//! * when unpatching: this patch's `new_func`.
//!
//! sysfs names a patch's functions but not its `new_func`s, so a `new_func`
//! is recognised by its module: every frame in that patch module is marked.

use crate::model::Patch;
use crate::stack;
use crate::tasks::Frame;

/// Code that blocks the transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocking {
    /// The original `function` of `object` (vmlinux or a module).
    Function {
        object: String,
        function: String,
        reason: String,
    },
    /// Any function of a patch module (its `new_func`s).
    Module { module: String, reason: String },
}

/// The code that blocks `patch`'s transition; `stack` is every loaded
/// patch, oldest first ([`stack::oldest_first`]). Nothing when `patch` is
/// not in transition.
pub fn blocking_code(patch: &Patch, stack: &[&Patch]) -> Vec<Blocking> {
    let mut v = Vec::new();
    match patch.target_state() {
        None => {}
        Some(0) => v.push(Blocking::Module {
            module: patch.name.clone(),
            reason: format!(
                "in the patch module {} (its new code, which unpatching replaces)",
                patch.name
            ),
        }),
        Some(_) => {
            // Per previous patch module, the functions whose version it has.
            let mut replaced: Vec<(&str, Vec<String>)> = Vec::new();
            for o in &patch.objects {
                for f in &o.functions {
                    match stack::previous(stack, patch, &o.name, f) {
                        Some(prev) => {
                            let what = format!("{} ({})", f.name, o.name);
                            match replaced.iter_mut().find(|(m, _)| *m == prev.name) {
                                Some((_, fs)) => fs.push(what),
                                None => replaced.push((&prev.name, vec![what])),
                            }
                        }
                        None => v.push(Blocking::Function {
                            object: o.name.clone(),
                            function: f.name.clone(),
                            reason: format!("patched function {} ({})", f.name, o.name),
                        }),
                    }
                }
            }
            for (module, fs) in replaced {
                v.push(Blocking::Module {
                    module: module.to_string(),
                    reason: format!(
                        "in the patch module {module}, whose version of {} this patch replaces",
                        fs.join(", ")
                    ),
                });
            }
        }
    }
    v
}

/// Mark the frames in blocking code, with the reason.
pub fn mark_frames(frames: &mut [Frame], blocking: &[Blocking]) {
    for f in frames {
        let Some(func) = f.function.as_deref() else {
            continue;
        };
        let obj = f.module.as_deref().unwrap_or("vmlinux");
        let hit = blocking.iter().find_map(|b| match b {
            Blocking::Function {
                object,
                function,
                reason,
            } if object == obj && function == func => Some(reason),
            Blocking::Module { module, reason } if f.module.as_deref() == Some(module) => {
                Some(reason)
            }
            _ => None,
        });
        if let Some(reason) = hit {
            f.patched = true;
            f.reason = Some(reason.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::list_patches;
    use crate::tasks::parse_frame;
    use crate::testkit::FakeTree;

    const STACK: [&str; 5] = [
        "[<0>] msleep+0x2b/0x40",
        "[<0>] busymod_work_func+0x2e/0x60 [busy]",
        "[<0>] livepatch_busymod_work_func+0x1/0x2 [lp]",
        "[<0>] livepatch_busymod_work_func+0x1/0x2 [old_lp]",
        "[<0>] busymod_work_func+0x1/0x2 [other]",
    ];

    /// Which of [`STACK`]'s frames are marked for `name`'s transition.
    fn marked(t: &FakeTree, name: &str) -> Vec<bool> {
        let ps = list_patches(&t.env()).unwrap();
        let stack = stack::oldest_first(&t.env(), &ps);
        let p = ps.iter().find(|p| p.name == name).unwrap();
        let mut frames: Vec<Frame> = STACK.iter().map(|l| parse_frame(l)).collect();
        mark_frames(&mut frames, &blocking_code(p, &stack));
        frames.iter().map(|f| f.patched).collect()
    }

    #[test]
    fn patching_blocks_on_the_original_function_only() {
        let t = FakeTree::temp();
        t.patch("lp", true, true)
            .object("vmlinux", true, &["cmdline_proc_show,1"])
            .object("busy", true, &["busymod_work_func,1"]);
        assert_eq!(marked(&t, "lp"), [false, true, false, false, false]);
    }

    #[test]
    fn unpatching_blocks_on_the_patch_module_only() {
        let t = FakeTree::temp();
        t.patch("lp", false, true)
            .object("busy", true, &["busymod_work_func,1"]);
        assert_eq!(marked(&t, "lp"), [false, false, true, false, false]);
    }

    #[test]
    fn patching_over_another_patch_blocks_on_its_new_code() {
        let t = FakeTree::temp();
        t.patch("old_lp", true, false)
            .object("busy", true, &["busymod_work_func,1"]);
        t.patch("lp", true, true)
            .object("busy", true, &["busymod_work_func,1"]);
        t.set("kernel/livepatch/old_lp/stack_order", "1");
        t.set("kernel/livepatch/lp/stack_order", "2");
        assert_eq!(marked(&t, "lp"), [false, false, false, true, false]);
        let ps = list_patches(&t.env()).unwrap();
        let stack = stack::oldest_first(&t.env(), &ps);
        let b = blocking_code(&ps[0], &stack);
        assert_eq!(
            b,
            [Blocking::Module {
                module: "old_lp".into(),
                reason: "in the patch module old_lp, whose version of busymod_work_func (busy) \
                         this patch replaces"
                    .into()
            }]
        );
    }

    #[test]
    fn a_disabled_older_patch_is_not_on_the_stack() {
        let t = FakeTree::temp();
        t.patch("old_lp", false, false)
            .object("busy", true, &["busymod_work_func,1"]);
        t.patch("lp", true, true)
            .object("busy", true, &["busymod_work_func,1"]);
        t.set("kernel/livepatch/old_lp/stack_order", "1");
        t.set("kernel/livepatch/lp/stack_order", "2");
        assert_eq!(marked(&t, "lp"), [false, true, false, false, false]);
    }

    #[test]
    fn no_transition_blocks_nothing() {
        let t = FakeTree::temp();
        t.patch("lp", true, false)
            .object("busy", true, &["busymod_work_func,1"]);
        assert_eq!(marked(&t, "lp"), [false; 5]);
    }
}

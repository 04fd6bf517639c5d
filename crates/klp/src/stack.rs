// SPDX-License-Identifier: GPL-2.0
//! The order of the loaded patches on the kernel's function stacks.
//!
//! Each patched function has a `func_stack` (kernel/livepatch/patch.c): the
//! funcs of the enabled patches that patch it, newest on top. The top one
//! runs; a patch going on top of another replaces that one's `new_func`, not
//! the original function.
//!
//! The order is the patches' `stack_order` (Linux 6.14,
//! `/sys/kernel/livepatch/<patch>/stack_order`, 1 for the oldest) when every
//! patch has it. Otherwise it is the module load order: a livepatch module
//! enables its patch in its init function, and `/proc/modules` lists the
//! modules newest first. Patches missing from `/proc/modules` are taken as
//! older than the others, by name.

use crate::model::{Env, Function, Patch};
use std::fs;

/// The patches oldest first (see the module docs).
pub fn oldest_first<'a>(env: &Env, patches: &'a [Patch]) -> Vec<&'a Patch> {
    let mut v: Vec<&Patch> = patches.iter().collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    if v.iter().all(|p| p.stack_order.is_some()) {
        v.sort_by_key(|p| p.stack_order);
        return v;
    }
    let modules = fs::read_to_string(env.proc.join("modules")).unwrap_or_default();
    // Newest first in /proc/modules: a higher index is an older module.
    let loaded: Vec<&str> = modules
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let age = |p: &Patch| {
        loaded
            .iter()
            .position(|m| *m == p.name)
            .map(|i| loaded.len() - i)
    };
    // Stable sort: unknown ages (None) first, by name.
    v.sort_by_key(|p| age(p));
    v
}

/// Does `patch` patch `function` of `object`?
pub fn patches(patch: &Patch, object: &str, function: &Function) -> bool {
    patch
        .objects
        .iter()
        .any(|o| o.name == object && o.functions.contains(function))
}

/// The enabled patch just below `patch` on the stack of `function`
/// (`object`): the one whose `new_func` runs until `patch` takes over.
pub fn previous<'a>(
    stack: &[&'a Patch],
    patch: &Patch,
    object: &str,
    function: &Function,
) -> Option<&'a Patch> {
    let pos = stack.iter().position(|p| p.name == patch.name)?;
    stack[..pos]
        .iter()
        .rev()
        .find(|p| p.enabled && patches(p, object, function))
        .copied()
}

/// The enabled patch whose version of `function` (`object`) runs, outside a transition: the
/// newest that patches it.
pub fn live<'a>(stack: &[&'a Patch], object: &str, function: &Function) -> Option<&'a Patch> {
    stack
        .iter()
        .rev()
        .find(|p| p.enabled && patches(p, object, function))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::list_patches;
    use crate::testkit::FakeTree;

    fn names(v: &[&Patch]) -> Vec<String> {
        v.iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn order_comes_from_stack_order_when_every_patch_has_it() {
        let t = FakeTree::temp();
        t.patch("a", true, false);
        t.patch("b", true, false);
        t.set("kernel/livepatch/a/stack_order", "2");
        t.set("kernel/livepatch/b/stack_order", "1");
        let ps = list_patches(&t.env()).unwrap();
        assert_eq!(names(&oldest_first(&t.env(), &ps)), ["b", "a"]);
    }

    #[test]
    fn order_falls_back_to_the_module_load_order() {
        let t = FakeTree::temp();
        t.patch("a", true, false);
        t.patch("b", true, false);
        t.patch("c", true, false);
        // Newest first, as the kernel lists them; "c" is not listed.
        std::fs::write(
            t.proc().join("modules"),
            "a 16384 0 - Live 0x0 (K)\nb 16384 0 - Live 0x0 (K)\n",
        )
        .unwrap();
        let ps = list_patches(&t.env()).unwrap();
        assert_eq!(names(&oldest_first(&t.env(), &ps)), ["c", "b", "a"]);
    }

    #[test]
    fn previous_skips_disabled_and_unrelated_patches() {
        let t = FakeTree::temp();
        let f = |n: &str| crate::model::parse_function_dir(n);
        t.patch("p1", true, false).object("vmlinux", true, &["f,1"]);
        t.patch("p2", false, false)
            .object("vmlinux", true, &["f,1"]);
        t.patch("p3", true, false).object("vmlinux", true, &["g,1"]);
        t.patch("p4", true, true)
            .object("vmlinux", true, &["f,1", "g,1"]);
        let ps = list_patches(&t.env()).unwrap();
        let stack = oldest_first(&t.env(), &ps);
        let p4 = &ps[3];
        assert_eq!(
            previous(&stack, p4, "vmlinux", &f("f,1")).unwrap().name,
            "p1"
        );
        assert_eq!(
            previous(&stack, p4, "vmlinux", &f("g,1")).unwrap().name,
            "p3"
        );
        assert!(previous(&stack, &ps[0], "vmlinux", &f("f,1")).is_none());
        assert!(previous(&stack, p4, "mod", &f("f,1")).is_none());
        assert_eq!(live(&stack, "vmlinux", &f("f,1")).unwrap().name, "p4");
        assert!(live(&stack, "vmlinux", &f("h,1")).is_none());
    }
}

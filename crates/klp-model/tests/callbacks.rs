// SPDX-License-Identifier: GPL-2.0-or-later

//! Callback symmetry (`model::callbacks`) in the simulated core.

mod common;

use common::{op, CallbackSpec, CbEvent, FuncSpec, Op, PatchSpec, Sim};
use klp_model::callbacks::KlpCallback::{self, *};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Checks, object by object, that the callbacks ran in mirror order: `post_unpatch` only
/// after a successful `pre_patch` and at most once for it; `post_patch` and `pre_unpatch` only
/// between the two; the first `pre_unpatch` after a `post_patch`; no `pre_patch` while
/// patched.
fn check_mirror_order(log: &[CbEvent]) -> Result<(), String> {
    #[derive(Default)]
    struct Bracket {
        open: bool,
        post_patched: bool,
    }
    let mut objects: BTreeMap<(usize, usize), Bracket> = BTreeMap::new();
    for (i, e) in log.iter().enumerate() {
        let b = objects.entry((e.patch, e.obj)).or_default();
        let fail = |what: &str| Err(format!("event {i} {e:?}: {what}; log: {log:#?}"));
        match e.cb {
            PrePatch => {
                if b.open {
                    return fail("pre_patch of a patched object");
                }
                *b = Bracket {
                    open: e.ok,
                    post_patched: false,
                };
            }
            PostPatch => {
                if !b.open {
                    return fail("post_patch without a successful pre_patch");
                }
                b.post_patched = true;
            }
            PreUnpatch => {
                if e.ran && !(b.open && b.post_patched) {
                    return fail(
                        "pre_unpatch before post_patch or outside pre_patch..post_unpatch",
                    );
                }
            }
            PostUnpatch => {
                if e.ran && !b.open {
                    return fail("post_unpatch without a successful pre_patch, or twice");
                }
                b.open = false;
            }
        }
    }
    Ok(())
}

fn all_callbacks(pre_patch: i32) -> CallbackSpec {
    CallbackSpec {
        pre_patch: Some(pre_patch),
        post_patch: true,
        pre_unpatch: true,
        post_unpatch: true,
    }
}

/// A patch of one function in vmlinux (object 0) and one in module 1, with every callback of
/// each object; object `i`'s pre_patch callback returns `pre_patch[i]`.
fn two_objects(pre_patch: [i32; 3]) -> PatchSpec {
    let func = |obj| FuncSpec {
        obj,
        name: 0,
        sympos: 0,
    };
    PatchSpec {
        funcs: vec![func(0), func(1)],
        replace: false,
        states: vec![],
        callbacks: pre_patch.map(all_callbacks),
    }
}

fn ran(sim: &Sim, patch: usize, obj: usize) -> Vec<KlpCallback> {
    sim.log
        .iter()
        .filter(|e| e.ran && e.patch == patch && e.obj == obj)
        .map(|e| e.cb)
        .collect()
}

#[test]
fn enable_disable_runs_all_four_in_order() {
    let mut sim = Sim::new(2);
    let spec = two_objects([0, 0, 0]);
    sim.apply(&Op::Enable(spec)).unwrap();
    sim.apply(&Op::Load(0)).unwrap();
    sim.apply(&Op::WriteEnabled(0, false)).unwrap();
    sim.check();
    assert!(sim.patches.is_empty());
    for obj in [0, 1] {
        assert_eq!(
            ran(&sim, 0, obj),
            [PrePatch, PostPatch, PreUnpatch, PostUnpatch]
        );
    }
    check_mirror_order(&sim.log).unwrap();
}

#[test]
fn failing_pre_patch_stops_and_skips_post_unpatch() {
    let mut sim = Sim::new(1);
    let spec = two_objects([0, -16, 0]);
    sim.apply(&Op::Load(0)).unwrap();
    assert_eq!(sim.apply(&Op::Enable(spec)), Err(-16));
    sim.check();
    assert!(sim.patches.is_empty() && sim.stacks.is_empty());
    // vmlinux was patched, then unpatched by the cancel; m1 refused.
    assert_eq!(ran(&sim, 0, 0), [PrePatch, PostUnpatch]);
    assert_eq!(ran(&sim, 0, 1), [PrePatch]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever happens (failing pre_patch, reversals, force, modules coming and going), an
    /// unpatch callback runs only after its patch callback, once, in mirror order.
    #[test]
    fn callbacks_mirror(ntasks in 1..4usize, ops in prop::collection::vec(op(), 1..60)) {
        let mut sim = Sim::new(ntasks);
        for op in &ops {
            let _ = sim.apply(op);
        }
        if let Err(e) = check_mirror_order(&sim.log) {
            return Err(TestCaseError::fail(e));
        }
    }
}

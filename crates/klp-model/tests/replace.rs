// SPDX-License-Identifier: GPL-2.0-or-later

//! Atomic replace (`model::replace`): the nops, and the end state of a replace transition.

mod common;

use common::{op, patch_spec, Addr, Op, Sim, NAMES, OBJS};
use klp_model::replace::*;
use klp_model::state::KLP_TRANSITION_PATCHED;
use klp_model::states::{klp_states, KlpStateRef};
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// A func of the new patch, and whether it is a nop.
type NewFunc = (KlpFuncRef<'static>, bool);

/// `klp_add_nops()` as C does it, over mutable lists: objects found by name, funcs found in
/// the object's list, which grows with the nops.
fn c_add_nops(
    installed: &[KlpFuncRef<'static>],
    new: &[KlpFuncRef<'static>],
) -> Vec<KlpFuncRef<'static>> {
    // The new patch's objects and their funcs (the nops marked).
    let mut objects: Vec<(Option<&[u8]>, Vec<NewFunc>)> = Vec::new();
    for f in new {
        match objects.iter_mut().find(|(name, _)| *name == f.objname) {
            Some((_, funcs)) => funcs.push((*f, false)),
            None => objects.push((f.objname, vec![(*f, false)])),
        }
    }
    for old in installed {
        let oi = match objects
            .iter()
            .position(|(name, _)| klp_is_same_object(old.objname, *name))
        {
            Some(oi) => oi,
            None => {
                objects.push((old.objname, Vec::new()));
                objects.len() - 1
            }
        };
        let found = objects[oi].1.iter().any(|(f, _)| {
            f.old_name == old.old_name
                && (f.old_sympos == old.old_sympos
                    || (old.old_sympos == 0 && f.old_sympos == 1)
                    || (old.old_sympos == 1 && f.old_sympos == 0))
        });
        if !found {
            objects[oi].1.push((*old, true));
        }
    }
    objects
        .into_iter()
        .flat_map(|(_, funcs)| funcs)
        .filter(|(_, nop)| *nop)
        .map(|(f, _)| f)
        .collect()
}

/// `klp_add_nops()` as the kernel runs it: the model's `klp_add_object_nops()` for every object
/// of the patches in use (here each run of funcs of one object in `installed`), into the new
/// patch's object of that name, created empty if the patch has none. Returns the nops.
fn model_add_nops(
    installed: &[KlpFuncRef<'static>],
    new: &[KlpFuncRef<'static>],
) -> Vec<KlpFuncRef<'static>> {
    let mut objects: Vec<(Option<&[u8]>, RefCell<Vec<NewFunc>>)> = Vec::new();
    for f in new {
        match objects.iter().find(|(name, _)| *name == f.objname) {
            Some((_, funcs)) => funcs.borrow_mut().push((*f, false)),
            None => objects.push((f.objname, RefCell::new(vec![(*f, false)]))),
        }
    }
    for old_obj in installed.chunk_by(|a, b| a.objname == b.objname) {
        let objname = old_obj[0].objname;
        let oi = match objects
            .iter()
            .position(|(name, _)| klp_is_same_object(objname, *name))
        {
            Some(oi) => oi,
            None => {
                objects.push((objname, RefCell::new(Vec::new())));
                objects.len() - 1
            }
        };
        let funcs = &objects[oi].1;
        let added = klp_add_object_nops(
            old_obj.iter().map(|f| (*f, *f)),
            || {
                funcs
                    .borrow()
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .into_iter()
            },
            |f| Ok::<(), ()>(funcs.borrow_mut().push((f, true))),
        );
        assert!(added.is_ok());
    }
    objects
        .into_iter()
        .flat_map(|(_, funcs)| funcs.into_inner())
        .filter(|(_, nop)| *nop)
        .map(|(f, _)| f)
        .collect()
}

fn func_ref() -> impl Strategy<Value = KlpFuncRef<'static>> {
    (0..3usize, 0..2usize, 0..4usize).prop_map(|(o, n, s)| KlpFuncRef {
        objname: OBJS[o],
        old_name: NAMES[n],
        old_sympos: s,
    })
}

/// After a replace patch's transition to `PATCHED` completed: it is the only patch, enabled,
/// without nops, and every function runs its func or, if it dropped it, the original code.
fn check_replaced(sim: &Sim, id: usize) {
    assert_eq!(sim.patches.len(), 1, "only the replace patch is left");
    let p = &sim.patches[0];
    assert!(p.id == id && p.enabled);
    assert!(
        p.funcs().all(|f| !f.0.nop) && p.objects.iter().all(|o| !o.dynamic),
        "nops discarded"
    );
    for addr in Addr::all() {
        let want = p
            .objects
            .iter()
            .filter(|o| o.patched)
            .flat_map(|o| &o.funcs)
            .find(|f| f.0.addr == addr);
        for t in 0..sim.tasks.len() {
            let got = sim.handler(t, addr);
            assert_eq!(
                got.map(|f| (f.patch, f.addr)),
                want.map(|f| (f.0.patch, f.0.addr)),
                "{addr:?}"
            );
        }
    }
}

/// The replace patch that the last completed transition installed, if nothing changed since.
fn replaced_by(sim: &Sim) -> Option<usize> {
    let c = sim.completions.last()?;
    let last = sim.patches.last().map(|p| p.id);
    let installed = c.replace && c.target == KLP_TRANSITION_PATCHED;
    (installed && sim.transition_patch.is_none() && last == Some(c.patch)).then_some(c.patch)
}

/// Every state of the patches in use, at its newest version: what a replace patch carries.
fn newest_states(sim: &Sim) -> Vec<KlpStateRef> {
    let mut states = BTreeMap::new();
    for s in sim.patches.iter().flat_map(|p| klp_states(&p.states)) {
        let v = states.entry(s.id).or_insert(s.version);
        *v = (*v).max(s.version);
    }
    states
        .into_iter()
        .map(|(id, version)| KlpStateRef { id, version })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The nops are those C adds.
    #[test]
    fn nops_match_c(
        installed in prop::collection::vec(func_ref(), 0..12),
        new in prop::collection::vec(func_ref(), 0..6),
    ) {
        // Objects of the new patch have distinct names: group its funcs by object.
        let mut new = new;
        new.sort_by_key(|f| f.objname);
        let mut got = model_add_nops(&installed, &new);
        let mut want = c_add_nops(&installed, &new);
        // C groups the nops by object, as the model does; sort both to compare the sets.
        got.sort_by_key(|f| (f.objname, f.old_name, f.old_sympos));
        want.sort_by_key(|f| (f.objname, f.old_name, f.old_sympos));
        prop_assert_eq!(got, want);
    }

    /// Whatever patches are in use, once a replace patch is enabled and its transition
    /// completes, only it remains enabled and the functions it dropped run the original code.
    #[test]
    fn atomic_replace(
        ntasks in 1..4usize,
        ops in prop::collection::vec(op(), 0..40),
        mut spec in patch_spec(),
        force in any::<bool>(),
    ) {
        let mut sim = Sim::new(ntasks);
        for op in &ops {
            let _ = sim.apply(op);
            if let Some(id) = replaced_by(&sim) {
                check_replaced(&sim, id);
            }
        }
        // Let any running transition finish.
        if force {
            let _ = sim.apply(&Op::Force);
        }
        for t in 0..sim.tasks.len() {
            sim.apply(&Op::Block(t, false)).unwrap();
        }
        sim.apply(&Op::SetReliable(true)).unwrap();
        sim.apply(&Op::Work).unwrap();
        prop_assert!(sim.transition_patch.is_none());
        // Now the replace patch, made compatible and harmless.
        spec.replace = true;
        spec.states = newest_states(&sim);
        for cb in &mut spec.callbacks {
            cb.pre_patch = cb.pre_patch.map(|_| 0);
        }
        let completions = sim.completions.len();
        sim.apply(&Op::Enable(spec)).unwrap();
        sim.check();
        sim.apply(&Op::Work).unwrap();
        prop_assert!(sim.transition_patch.is_none());
        prop_assert_eq!(sim.completions.len(), completions + 1);
        let id = sim.completions[completions].patch;
        check_replaced(&sim, id);
    }
}

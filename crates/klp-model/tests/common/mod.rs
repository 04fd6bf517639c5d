// SPDX-License-Identifier: GPL-2.0-or-later

//! A simulated livepatch core: the flows of `core.c` and `transition.c` (enable, disable,
//! reverse, force, the transition work, module coming and going) wired to the model exactly
//! as the C core and the kernel shell wire them, over simulated tasks, func_stacks and
//! objects. The tests drive it with random operations and check its invariants.

// Each test binary uses a part of the simulator.
#![allow(dead_code)]

use klp_model::callbacks::{klp_complete_callback, KlpCallback, KlpCallbacks};
pub mod func_stack;
pub mod tasks;

use func_stack::{FuncStack, KlpFunc};
use klp_model::replace::{
    klp_add_object_nops, klp_replaced_patches, klp_replaces_on_complete, KlpFuncRef,
};
use klp_model::state::{
    KlpTransitionState, KLP_TRANSITION_IDLE, KLP_TRANSITION_PATCHED, KLP_TRANSITION_UNPATCHED,
};
use klp_model::states::{klp_is_patch_compatible, KlpStateRef};
use klp_model::transition::{klp_copy_process, KlpSwitchError, KlpTask};
use proptest::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use tasks::{KlpTaskState, KlpTransition, KlpTryComplete};

/// The objects: vmlinux and two modules.
pub const OBJS: [Option<&[u8]>; 3] = [None, Some(b"m1"), Some(b"m2")];
/// The function names in every object.
pub const NAMES: [&[u8]; 2] = [b"f", b"g"];
/// The most patches in use at once (the func_stacks hold 16).
pub const MAX_PATCHES: usize = 12;
/// The most tasks.
pub const MAX_TASKS: usize = 8;

pub const EINVAL: i32 = -22;
pub const EBUSY: i32 = -16;
pub const ENOSPC: i32 = -28;

/// A patched function's address: its object, name and position (0 and 1 are the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr {
    pub obj: usize,
    pub name: usize,
    pub sympos: usize,
}

impl Addr {
    pub fn new(obj: usize, name: usize, sympos: usize) -> Self {
        Addr {
            obj,
            name,
            sympos: if sympos == 0 { 1 } else { sympos },
        }
    }

    /// Every address a func can have.
    pub fn all() -> impl Iterator<Item = Addr> {
        (0..OBJS.len()).flat_map(|obj| {
            (0..NAMES.len()).flat_map(move |name| (1..=2).map(move |s| Addr::new(obj, name, s)))
        })
    }
}

/// A func of a patch spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncSpec {
    pub obj: usize,
    pub name: usize,
    pub sympos: usize,
}

impl FuncSpec {
    pub fn addr(&self) -> Addr {
        Addr::new(self.obj, self.name, self.sympos)
    }

    pub fn func_ref(&self) -> KlpFuncRef<'static> {
        KlpFuncRef {
            objname: OBJS[self.obj],
            old_name: NAMES[self.name],
            old_sympos: self.sympos,
        }
    }
}

/// The callbacks of an object: which exist, and what `pre_patch` returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackSpec {
    pub pre_patch: Option<i32>,
    pub post_patch: bool,
    pub pre_unpatch: bool,
    pub post_unpatch: bool,
}

/// A livepatch module's `struct klp_patch`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchSpec {
    pub funcs: Vec<FuncSpec>,
    pub replace: bool,
    pub states: Vec<KlpStateRef>,
    pub callbacks: [CallbackSpec; 3],
}

/// A `struct klp_func` in use.
#[derive(Debug)]
pub struct SimFunc {
    pub patch: usize,
    pub addr: Addr,
    pub spec: FuncSpec,
    pub nop: bool,
    pub transition: Cell<bool>,
    pub patched: Cell<bool>,
}

/// A func on a func_stack.
#[derive(Clone, Debug)]
pub struct FuncRef(pub Rc<SimFunc>);

impl PartialEq for FuncRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl KlpFunc for FuncRef {
    fn transition(&self) -> bool {
        self.0.transition.get()
    }
    fn nop(&self) -> bool {
        self.0.nop
    }
}

/// A `struct klp_object` in use.
#[derive(Debug)]
pub struct SimObject {
    pub obj: usize,
    pub dynamic: bool,
    pub funcs: Vec<FuncRef>,
    pub patched: bool,
    pub callbacks: KlpCallbacks,
    pub spec: CallbackSpec,
}

/// A `struct klp_patch` on `klp_patches`.
#[derive(Debug)]
pub struct SimPatch {
    pub id: usize,
    pub replace: bool,
    pub enabled: bool,
    pub forced: bool,
    pub objects: Vec<SimObject>,
    pub states: Vec<KlpStateRef>,
}

impl SimPatch {
    pub fn funcs(&self) -> impl Iterator<Item = &FuncRef> {
        self.objects.iter().flat_map(|o| o.funcs.iter())
    }
}

/// A task with the verdict on its stack: whether it sleeps in a function being changed.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimTask {
    pub st: KlpTaskState,
    pub blocked: bool,
}

impl KlpTask for SimTask {
    fn patch_state(&self) -> i32 {
        self.st.patch_state
    }
    fn set_patch_state(&mut self, state: i32) {
        self.st.patch_state = state;
    }
    fn patch_pending(&self) -> bool {
        self.st.patch_pending
    }
    fn set_patch_pending(&mut self, pending: bool) {
        self.st.patch_pending = pending;
    }
}

/// A callback call: `ran` if the object has the callback and it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CbEvent {
    pub patch: usize,
    pub obj: usize,
    pub cb: KlpCallback,
    pub ran: bool,
    pub ok: bool,
}

/// A completed transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    pub patch: usize,
    pub target: i32,
    pub replace: bool,
}

/// What the user and the system do.
#[derive(Clone, Debug)]
pub enum Op {
    /// `insmod` of a livepatch module: `klp_enable_patch()`.
    Enable(PatchSpec),
    /// `echo V > /sys/kernel/livepatch/<patch>/enabled` (`enabled_store()`).
    WriteEnabled(usize, bool),
    /// Writes the opposite of `enabled` of the patch in transition: reverses it.
    Reverse,
    /// `echo 1 > .../force` on the patch in transition.
    Force,
    /// The delayed transition work runs.
    Work,
    /// Whether the architecture has reliable stack traces.
    SetReliable(bool),
    /// Task `i` sleeps, or stops sleeping, in a function being changed.
    Block(usize, bool),
    /// Task `i` returns to user space.
    KernelExit(usize),
    /// Task `i` forks.
    Fork(usize),
    /// Module `m` loads.
    Load(usize),
    /// Module `m` unloads.
    Unload(usize),
}

/// The simulated core.
#[derive(Debug)]
pub struct Sim {
    pub patches: Vec<SimPatch>,
    pub transition_patch: Option<usize>,
    pub klp: KlpTransition,
    pub tasks: Vec<SimTask>,
    pub reliable: bool,
    pub loaded: [bool; 3],
    pub stacks: BTreeMap<Addr, FuncStack<FuncRef, 16>>,
    pub log: Vec<CbEvent>,
    pub completions: Vec<Completion>,
    next_id: usize,
}

impl Sim {
    pub fn new(tasks: usize) -> Self {
        Sim {
            patches: Vec::new(),
            transition_patch: None,
            klp: KlpTransition::new(),
            tasks: vec![SimTask::default(); tasks],
            reliable: true,
            loaded: [true, false, false],
            stacks: BTreeMap::new(),
            log: Vec::new(),
            completions: Vec::new(),
            next_id: 0,
        }
    }

    fn index(&self, id: usize) -> usize {
        self.patches
            .iter()
            .position(|p| p.id == id)
            .expect("patch on klp_patches")
    }

    fn is_transition_patch(&self, pi: usize) -> bool {
        self.transition_patch == Some(self.patches[pi].id)
    }

    /// `klp_is_object_loaded()`.
    fn object_loaded(&self, obj: usize) -> bool {
        self.loaded[obj]
    }

    /// Runs `op`; `Err(errno)` as the kernel would return.
    pub fn apply(&mut self, op: &Op) -> Result<(), i32> {
        match op {
            Op::Enable(spec) => self.klp_enable_patch(spec),
            Op::WriteEnabled(i, enabled) => {
                if self.patches.is_empty() {
                    return Err(EINVAL);
                }
                self.enabled_store(i % self.patches.len(), *enabled)
            }
            Op::Reverse => match self.transition_patch {
                Some(id) => {
                    let pi = self.index(id);
                    let enabled = !self.patches[pi].enabled;
                    self.enabled_store(pi, enabled)
                }
                None => Err(EINVAL),
            },
            Op::Force => {
                let id = self.transition_patch.ok_or(EINVAL)?;
                self.klp_force_transition(id);
                Ok(())
            }
            Op::Work => {
                if self.transition_patch.is_some() {
                    self.klp_try_complete_transition();
                }
                Ok(())
            }
            Op::SetReliable(r) => {
                self.reliable = *r;
                Ok(())
            }
            Op::Block(i, b) => {
                let n = self.tasks.len();
                self.tasks[i % n].blocked = *b;
                Ok(())
            }
            Op::KernelExit(i) => {
                let n = self.tasks.len();
                self.klp.klp_update_patch_state(&mut self.tasks[i % n]);
                Ok(())
            }
            Op::Fork(i) => {
                if self.tasks.len() >= MAX_TASKS {
                    return Err(ENOSPC);
                }
                let parent = self.tasks[i % self.tasks.len()];
                // The child runs no function being changed yet.
                let mut child = SimTask {
                    st: KlpTaskState {
                        patch_state: 42,
                        patch_pending: false,
                    },
                    blocked: false,
                };
                klp_copy_process(&mut child, &parent);
                self.tasks.push(child);
                Ok(())
            }
            Op::Load(m) => {
                let m = 1 + m % 2;
                if self.loaded[m] {
                    return Err(EINVAL);
                }
                self.klp_module_coming(m)
            }
            Op::Unload(m) => {
                let m = 1 + m % 2;
                if !self.loaded[m] {
                    return Err(EINVAL);
                }
                self.klp_module_going(m);
                Ok(())
            }
        }
    }

    // Callbacks (core.h), logged.

    fn log_cb(&mut self, pi: usize, oi: usize, cb: KlpCallback, ran: bool, ok: bool) {
        let event = CbEvent {
            patch: self.patches[pi].id,
            obj: self.patches[pi].objects[oi].obj,
            cb,
            ran,
            ok,
        };
        self.log.push(event);
    }

    fn pre_patch(&mut self, pi: usize, oi: usize) -> i32 {
        let obj = &mut self.patches[pi].objects[oi];
        let mut ran = false;
        let cb = obj.spec.pre_patch.map(|ret| {
            let ran = &mut ran;
            move || {
                *ran = true;
                ret
            }
        });
        let ret = obj.callbacks.klp_pre_patch_callback(cb);
        self.log_cb(pi, oi, KlpCallback::PrePatch, ran, ret == 0);
        ret
    }

    fn simple_cb(&mut self, pi: usize, oi: usize, which: KlpCallback) {
        let obj = &mut self.patches[pi].objects[oi];
        let mut ran = false;
        let run = || ran = true;
        match which {
            KlpCallback::PostPatch => obj
                .callbacks
                .klp_post_patch_callback(obj.spec.post_patch.then_some(run)),
            KlpCallback::PreUnpatch => obj
                .callbacks
                .klp_pre_unpatch_callback(obj.spec.pre_unpatch.then_some(run)),
            KlpCallback::PostUnpatch => obj
                .callbacks
                .klp_post_unpatch_callback(obj.spec.post_unpatch.then_some(run)),
            KlpCallback::PrePatch => unreachable!(),
        }
        self.log_cb(pi, oi, which, ran, true);
    }

    // patch.c

    fn klp_patch_object(&mut self, pi: usize, oi: usize) {
        let obj = &mut self.patches[pi].objects[oi];
        assert!(!obj.patched);
        for func in &obj.funcs {
            assert!(!func.0.patched.get());
            let stack = self.stacks.entry(func.0.addr).or_default();
            assert!(stack.push(func.clone()).is_ok(), "func_stack full");
            func.0.patched.set(true);
        }
        obj.patched = true;
    }

    fn unpatch_object(
        stacks: &mut BTreeMap<Addr, FuncStack<FuncRef, 16>>,
        obj: &mut SimObject,
        nops_only: bool,
    ) {
        for func in &obj.funcs {
            if nops_only && !func.0.nop {
                continue;
            }
            if func.0.patched.get() {
                let stack = stacks.get_mut(&func.0.addr).expect("ops of a patched func");
                assert!(stack.remove(|f| f == func).is_some());
                if stack.is_empty() {
                    stacks.remove(&func.0.addr);
                }
                func.0.patched.set(false);
            }
        }
        if obj.dynamic || !nops_only {
            obj.patched = false;
        }
    }

    fn klp_unpatch_objects(&mut self, pi: usize, nops_only: bool) {
        let stacks = &mut self.stacks;
        for obj in self.patches[pi].objects.iter_mut().filter(|o| o.patched) {
            Self::unpatch_object(stacks, obj, nops_only);
        }
    }

    // transition.c

    fn set_funcs_transition(&mut self, pi: usize, transition: bool) {
        for func in self.patches[pi].funcs() {
            func.0.transition.set(transition);
        }
    }

    fn klp_init_transition(&mut self, pi: usize, state: i32) {
        self.transition_patch = Some(self.patches[pi].id);
        let warned = self.klp.klp_init_transition(&mut self.tasks[..], state);
        assert!(!warned, "klp_init_transition() warned");
        self.set_funcs_transition(pi, true);
    }

    fn klp_complete_transition(&mut self) {
        let id = self.transition_patch.expect("a patch in transition");
        let pi = self.index(id);
        let target = self.klp.klp_target_state();
        let replace = self.patches[pi].replace;
        if klp_replaces_on_complete(replace, target) {
            // klp_unpatch_replaced_patches()
            let ids: Vec<usize> = self.patches.iter().map(|p| p.id).collect();
            for old in klp_replaced_patches(ids, &id) {
                let oi = self.index(old);
                self.patches[oi].enabled = false;
                self.klp_unpatch_objects(oi, false);
            }
            // klp_discard_nops()
            self.klp_unpatch_objects(pi, true);
            for obj in &mut self.patches[pi].objects {
                obj.funcs.retain(|f| !f.0.nop);
            }
            self.patches[pi].objects.retain(|o| !o.dynamic);
        }
        if target == KLP_TRANSITION_UNPATCHED {
            self.klp_unpatch_objects(pi, false);
        }
        self.set_funcs_transition(pi, false);
        let pending = self.tasks.iter().any(|t| t.st.patch_pending);
        assert!(
            !pending,
            "a task is still pending when the transition completes"
        );
        let reached = self.klp.klp_complete_transition(&mut self.tasks[..]);
        assert_eq!(reached, target);
        for oi in 0..self.patches[pi].objects.len() {
            if !self.object_loaded(self.patches[pi].objects[oi].obj) {
                continue;
            }
            match klp_complete_callback(target) {
                Some(cb) => self.simple_cb(pi, oi, cb),
                None => panic!("completed to no target"),
            }
        }
        self.transition_patch = None;
        self.completions.push(Completion {
            patch: id,
            target,
            replace,
        });
    }

    fn klp_try_complete_transition(&mut self) {
        let reliable = self.reliable;
        let check = |t: &SimTask| {
            if t.blocked {
                Err(KlpSwitchError::FuncOnStack)
            } else {
                Ok(())
            }
        };
        match self
            .klp
            .klp_try_complete_transition(&mut self.tasks[..], reliable, check)
        {
            KlpTryComplete::Retry { .. } => {}
            KlpTryComplete::Complete => {
                let id = self.transition_patch.expect("a patch in transition");
                self.klp_complete_transition();
                let pi = self.index(id);
                if !self.patches[pi].enabled {
                    // klp_free_patch_async()
                    self.patches.remove(pi);
                } else if self.patches[pi].replace {
                    // klp_free_replaced_patches_async()
                    self.patches.drain(..pi);
                }
            }
        }
    }

    fn klp_force_transition(&mut self, id: usize) {
        self.klp.klp_force_transition(&mut self.tasks[..]);
        let pi = self.index(id);
        if self.klp.klp_target_state() == KLP_TRANSITION_UNPATCHED {
            self.patches[pi].forced = true;
        } else if self.patches[pi].replace {
            for p in self.patches.iter_mut().filter(|p| p.id != id) {
                p.forced = true;
            }
        }
    }

    // core.c

    /// `klp_add_nops()`: the model's `klp_add_object_nops()` for every object of the patches
    /// in use, into the new patch's object of that name (a dynamic one if it has none).
    fn klp_add_nops(&self, patch: &mut SimPatch) {
        for old_obj in self.patches.iter().flat_map(|p| &p.objects) {
            let oi = match patch.objects.iter().position(|o| o.obj == old_obj.obj) {
                Some(oi) => oi,
                None => {
                    patch.objects.push(SimObject {
                        obj: old_obj.obj,
                        dynamic: true,
                        funcs: Vec::new(),
                        patched: false,
                        callbacks: KlpCallbacks::default(),
                        spec: CallbackSpec::default(),
                    });
                    patch.objects.len() - 1
                }
            };
            let id = patch.id;
            let funcs = RefCell::new(std::mem::take(&mut patch.objects[oi].funcs));
            let added = klp_add_object_nops(
                old_obj
                    .funcs
                    .iter()
                    .map(|f| (f.0.spec.func_ref(), f.0.spec.clone())),
                || {
                    let refs: Vec<_> = funcs.borrow().iter().map(|f| f.0.spec.func_ref()).collect();
                    refs.into_iter()
                },
                |spec| {
                    let func = SimFunc {
                        patch: id,
                        addr: spec.addr(),
                        spec,
                        nop: true,
                        transition: Cell::new(false),
                        patched: Cell::new(false),
                    };
                    funcs.borrow_mut().push(FuncRef(Rc::new(func)));
                    Ok::<(), ()>(())
                },
            );
            assert!(added.is_ok(), "the simulator's nops cannot fail");
            patch.objects[oi].funcs = funcs.into_inner();
        }
    }

    fn klp_enable_patch(&mut self, spec: &PatchSpec) -> Result<(), i32> {
        let old_states = self.patches.iter().map(|p| &p.states[..]);
        if !klp_is_patch_compatible(&spec.states, spec.replace, old_states) {
            return Err(EINVAL);
        }
        if self.patches.len() >= MAX_PATCHES {
            return Err(ENOSPC);
        }
        if self.transition_patch.is_some() {
            return Err(EBUSY);
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut patch = SimPatch {
            id,
            replace: spec.replace,
            enabled: false,
            forced: false,
            objects: Vec::new(),
            states: spec.states.clone(),
        };
        // One func per address: two funcs of a patch for one function are not supported.
        let mut seen = Vec::new();
        for f in &spec.funcs {
            if seen.contains(&f.addr()) {
                continue;
            }
            seen.push(f.addr());
            let oi = match patch.objects.iter().position(|o| o.obj == f.obj) {
                Some(oi) => oi,
                None => {
                    patch.objects.push(SimObject {
                        obj: f.obj,
                        dynamic: false,
                        funcs: Vec::new(),
                        patched: false,
                        callbacks: KlpCallbacks::default(),
                        spec: spec.callbacks[f.obj].clone(),
                    });
                    patch.objects.len() - 1
                }
            };
            let func = SimFunc {
                patch: id,
                addr: f.addr(),
                spec: f.clone(),
                nop: false,
                transition: Cell::new(false),
                patched: Cell::new(false),
            };
            patch.objects[oi].funcs.push(FuncRef(Rc::new(func)));
        }
        if patch.replace {
            self.klp_add_nops(&mut patch);
        }
        self.patches.push(patch);
        let pi = self.patches.len() - 1;

        // __klp_enable_patch()
        self.klp_init_transition(pi, KLP_TRANSITION_PATCHED);
        for oi in 0..self.patches[pi].objects.len() {
            if !self.object_loaded(self.patches[pi].objects[oi].obj) {
                continue;
            }
            let ret = self.pre_patch(pi, oi);
            if ret != 0 {
                assert!(
                    self.klp.klp_cancel_transition(),
                    "klp_cancel_transition() warned"
                );
                self.klp_complete_transition();
                // klp_free_patch_start()
                self.patches.remove(pi);
                return Err(ret);
            }
            self.klp_patch_object(pi, oi);
        }
        self.klp.klp_start_transition(&mut self.tasks[..]);
        self.patches[pi].enabled = true;
        self.klp_try_complete_transition();
        Ok(())
    }

    fn klp_disable_patch(&mut self, pi: usize) -> Result<(), i32> {
        if !self.patches[pi].enabled {
            return Err(EINVAL);
        }
        if self.transition_patch.is_some() {
            return Err(EBUSY);
        }
        self.klp_init_transition(pi, KLP_TRANSITION_UNPATCHED);
        for oi in 0..self.patches[pi].objects.len() {
            if self.patches[pi].objects[oi].patched {
                self.simple_cb(pi, oi, KlpCallback::PreUnpatch);
            }
        }
        self.klp.klp_start_transition(&mut self.tasks[..]);
        self.patches[pi].enabled = false;
        self.klp_try_complete_transition();
        Ok(())
    }

    fn enabled_store(&mut self, pi: usize, enabled: bool) -> Result<(), i32> {
        if self.patches[pi].enabled == enabled {
            return Err(EINVAL);
        }
        if self.is_transition_patch(pi) {
            // klp_reverse_transition()
            self.klp.klp_reverse_transition(&mut self.tasks[..]);
            self.patches[pi].enabled = !self.patches[pi].enabled;
            Ok(())
        } else if !enabled {
            self.klp_disable_patch(pi)
        } else {
            Err(EINVAL)
        }
    }

    fn object_of(&self, pi: usize, m: usize) -> Option<usize> {
        self.patches[pi].objects.iter().position(|o| o.obj == m)
    }

    fn klp_cleanup_module_patches_limited(&mut self, m: usize, limit: Option<usize>) {
        for pi in 0..self.patches.len() {
            if Some(self.patches[pi].id) == limit {
                break;
            }
            let Some(oi) = self.object_of(pi, m) else {
                continue;
            };
            if !self.is_transition_patch(pi) {
                self.simple_cb(pi, oi, KlpCallback::PreUnpatch);
            }
            Self::unpatch_object(&mut self.stacks, &mut self.patches[pi].objects[oi], false);
            self.simple_cb(pi, oi, KlpCallback::PostUnpatch);
        }
    }

    fn klp_module_coming(&mut self, m: usize) -> Result<(), i32> {
        self.loaded[m] = true;
        for pi in 0..self.patches.len() {
            let Some(oi) = self.object_of(pi, m) else {
                continue;
            };
            let ret = self.pre_patch(pi, oi);
            if ret != 0 {
                self.loaded[m] = false;
                let limit = Some(self.patches[pi].id);
                self.klp_cleanup_module_patches_limited(m, limit);
                return Err(ret);
            }
            self.klp_patch_object(pi, oi);
            if !self.is_transition_patch(pi) {
                self.simple_cb(pi, oi, KlpCallback::PostPatch);
            }
        }
        Ok(())
    }

    fn klp_module_going(&mut self, m: usize) {
        self.loaded[m] = false;
        self.klp_cleanup_module_patches_limited(m, None);
    }

    // What the tests check.

    /// The func that the ftrace handler runs for task `t` calling the function at `addr`:
    /// `None` for the original function.
    pub fn handler(&self, t: usize, addr: Addr) -> Option<Rc<SimFunc>> {
        let stack = self.stacks.get(&addr)?;
        let state = KlpTransitionState::from_raw(self.tasks[t].st.patch_state);
        stack.klp_ftrace_func(state).map(|f| f.0.clone())
    }

    /// What the task must run, by the definition of the consistency model: the newest
    /// patched func for `addr` among the patches the task sees (the patches in use, except
    /// the patch in transition unless the task is in `PATCHED`), original code for a nop.
    pub fn expected(&self, t: usize, addr: Addr) -> Option<Rc<SimFunc>> {
        let sees_transition_patch = self.tasks[t].st.patch_state == KLP_TRANSITION_PATCHED;
        let newest = self
            .patches
            .iter()
            .filter(|p| Some(p.id) != self.transition_patch || sees_transition_patch)
            .flat_map(|p| p.objects.iter().filter(|o| o.patched))
            .flat_map(|o| o.funcs.iter())
            .rfind(|f| f.0.addr == addr && f.0.patched.get())?;
        (!newest.0.nop).then(|| newest.0.clone())
    }

    /// The invariants that hold between operations.
    pub fn check(&self) {
        match self.transition_patch {
            None => {
                assert_eq!(self.klp.klp_target_state(), KLP_TRANSITION_IDLE);
                for t in &self.tasks {
                    assert_eq!(t.st, KlpTaskState::IDLE, "a task outside a transition");
                }
                assert!(
                    self.patches.iter().all(|p| p.enabled),
                    "a disabled patch is in use"
                );
            }
            Some(id) => {
                let target = self.klp.klp_target_state();
                assert!(target == KLP_TRANSITION_PATCHED || target == KLP_TRANSITION_UNPATCHED);
                let p = &self.patches[self.index(id)];
                assert_eq!(p.enabled, target == KLP_TRANSITION_PATCHED);
                assert!(self.klp.func_transition());
                for t in &self.tasks {
                    let s = t.st.patch_state;
                    assert!(
                        s == KLP_TRANSITION_PATCHED || s == KLP_TRANSITION_UNPATCHED,
                        "task state {s}"
                    );
                    assert_eq!(
                        t.st.patch_pending,
                        s != target,
                        "pending iff not in the target state: {t:?}"
                    );
                }
                assert!(
                    self.patches.iter().all(|q| q.id == id || q.enabled),
                    "a disabled patch is in use"
                );
            }
        }
        for t in 0..self.tasks.len() {
            for addr in Addr::all() {
                let got = self.handler(t, addr).map(|f| (f.patch, f.addr));
                let want = self.expected(t, addr).map(|f| (f.patch, f.addr));
                assert_eq!(
                    got, want,
                    "task {t} ({:?}) calling {addr:?}",
                    self.tasks[t].st
                );
            }
        }
    }
}

/// A patch spec.
pub fn patch_spec() -> impl Strategy<Value = PatchSpec> {
    let func = (0..3usize, 0..2usize, 0..3usize).prop_map(|(obj, name, sympos)| FuncSpec {
        obj,
        name,
        sympos,
    });
    let state = (1..4usize, 0..3u32).prop_map(|(id, version)| KlpStateRef { id, version });
    let callbacks = (
        prop::option::weighted(0.7, prop_oneof![6 => Just(0), 1 => Just(-5)]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(pre_patch, post_patch, pre_unpatch, post_unpatch)| CallbackSpec {
                pre_patch,
                post_patch,
                pre_unpatch,
                post_unpatch,
            },
        );
    (
        prop::collection::vec(func, 1..5),
        prop::bool::weighted(0.3),
        prop::collection::vec(state, 0..3),
        [callbacks.clone(), callbacks.clone(), callbacks],
    )
        .prop_map(|(funcs, replace, states, callbacks)| PatchSpec {
            funcs,
            replace,
            states,
            callbacks,
        })
}

/// An operation.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => patch_spec().prop_map(Op::Enable),
        2 => (0..8usize, any::<bool>()).prop_map(|(i, e)| Op::WriteEnabled(i, e)),
        1 => Just(Op::Reverse),
        1 => Just(Op::Force),
        4 => Just(Op::Work),
        1 => any::<bool>().prop_map(Op::SetReliable),
        3 => (0..8usize, any::<bool>()).prop_map(|(i, b)| Op::Block(i, b)),
        2 => (0..8usize).prop_map(Op::KernelExit),
        1 => (0..8usize).prop_map(Op::Fork),
        1 => (0..2usize).prop_map(Op::Load),
        1 => (0..2usize).prop_map(Op::Unload),
    ]
}

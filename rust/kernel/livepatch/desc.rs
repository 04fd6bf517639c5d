// SPDX-License-Identifier: GPL-2.0

//! Patch descriptions: what a patch module patches, as constants checked when the module is
//! compiled.
//!
//! A [`Patch`] lists [`Object`]s (vmlinux or a module), each with the [`Func`]s it replaces and
//! optionally [`Callbacks`]; a patch may also declare system [`State`]s and be a cumulative
//! (`replace`) patch. [`Registration`](super::Registration) turns a description into the C
//! structures of `<linux/livepatch.h>` when the module loads.
//!
//! The checks the kernel would make at load time but that need no kernel state are made by the
//! compiler here: a patch with no object, an object that patches nothing, two objects for the
//! same target, two funcs for the same function, a state with id 0 or two with the same id.

use super::callbacks::{self, Callbacks};
use crate::bindings;
use core::ffi::{c_void, CStr};

/// A function to replace: its name and position in the object, and its replacement.
///
/// Made by [`klp_func!`](crate::klp_func), which also generates the C-ABI entry point of the
/// replacement.
#[derive(Clone, Copy)]
pub struct Func {
    pub(super) old_name: &'static CStr,
    pub(super) old_sympos: usize,
    pub(super) new_func: *const c_void,
}

impl Func {
    /// Describes the replacement of `old_name` (`old_sympos`: its position among the symbols of
    /// that name in its object, 0 if unique) by `new_func`.
    ///
    /// # Safety
    ///
    /// `new_func` is a function with the C prototype of `old_name`, for as long as the module
    /// is loaded.
    pub const unsafe fn new(
        old_name: &'static CStr,
        old_sympos: usize,
        new_func: *const c_void,
    ) -> Self {
        Func {
            old_name,
            old_sympos,
            new_func,
        }
    }
}

/// An object to patch: vmlinux or a module, its funcs and its callbacks.
#[derive(Clone, Copy)]
pub struct Object {
    pub(super) name: Option<&'static CStr>,
    pub(super) funcs: &'static [Func],
    pub(super) callbacks: bindings::klp_callbacks,
}

impl Object {
    /// Patches `funcs` in vmlinux.
    pub const fn vmlinux(funcs: &'static [Func]) -> Self {
        Object {
            name: None,
            funcs,
            callbacks: callbacks::NONE,
        }
    }

    /// Patches `funcs` in the module `name`, now or whenever it loads.
    pub const fn module(name: &'static CStr, funcs: &'static [Func]) -> Self {
        Object {
            name: Some(name),
            funcs,
            callbacks: callbacks::NONE,
        }
    }

    /// Runs the callbacks of `C` around the patching and unpatching of this object.
    pub const fn callbacks<C: Callbacks>(mut self) -> Self {
        self.callbacks = callbacks::of::<C>();
        self
    }

    const fn has_callbacks(&self) -> bool {
        self.callbacks.pre_patch.is_some()
    }
}

/// A system state that a patch sets up (`struct klp_state`): an id, non-zero, and a version.
///
/// A cumulative patch may replace the patches in use only if it keeps each of their states at
/// the same or a higher version (`klp_is_patch_compatible()`).
#[derive(Clone, Copy)]
pub struct State {
    pub(super) id: u64,
    pub(super) version: u32,
}

impl State {
    /// The state `id` at `version`.
    pub const fn new(id: u64, version: u32) -> Self {
        if id == 0 {
            panic!("livepatch: a state id must not be 0 (it ends the C array of states)");
        }
        State { id, version }
    }
}

/// A patch: its objects, whether it replaces the patches in use, and its states.
///
/// # Examples
///
/// ```
/// use kernel::livepatch::{Object, Patch};
/// use kernel::seq_file::SeqFile;
///
/// const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
///     cmdline_proc_show => fn show(m: &SeqFile, _v: kernel::livepatch::RawArg) -> i32 {
///         kernel::seq_print!(m, "patched\n");
///         0
///     }
/// )])]);
/// ```
///
/// Mistakes that need no kernel to be seen fail to compile:
///
/// ```compile_fail
/// use kernel::livepatch::{Object, Patch};
/// // error: livepatch: an object that has no funcs and no callbacks patches nothing
/// const PATCH: Patch = Patch::new(&[Object::vmlinux(&[])]);
/// ```
#[derive(Clone, Copy)]
pub struct Patch {
    pub(super) objs: &'static [Object],
    pub(super) states: &'static [State],
    pub(super) replace: bool,
    pub(super) jump: bool,
}

impl Patch {
    /// A patch of `objs`, checked: at least one object, each patching something, no two for the
    /// same target, no two funcs of an object for the same function.
    pub const fn new(objs: &'static [Object]) -> Self {
        if objs.is_empty() {
            panic!("livepatch: a patch needs at least one object");
        }
        let mut i = 0;
        while i < objs.len() {
            let obj = &objs[i];
            if obj.funcs.is_empty() && !obj.has_callbacks() {
                panic!("livepatch: an object that has no funcs and no callbacks patches nothing");
            }
            let mut j = 0;
            while j < i {
                if same_object(objs[j].name, obj.name) {
                    panic!("livepatch: two objects of the patch name the same target");
                }
                j += 1;
            }
            check_funcs(obj.funcs);
            i += 1;
        }
        Patch {
            objs,
            states: &[],
            replace: false,
            jump: false,
        }
    }

    /// Makes this a cumulative patch (`replace`): once it is enabled, every patch in use is
    /// disabled and the functions this one does not patch run their original code again.
    pub const fn replace(mut self) -> Self {
        self.replace = true;
        self
    }

    /// Lets the patch replace functions without an ftrace location (Rust functions, C
    /// functions built without `__fentry__`): they are redirected by a jump written at their
    /// entry, for every task at once, when no task runs them (`klp_enable_patch_jump()`; the
    /// Rust core only). The other functions are patched as usual.
    pub const fn jump(mut self) -> Self {
        self.jump = true;
        self
    }

    /// Declares the system states this patch sets up; ids must be distinct.
    pub const fn states(mut self, states: &'static [State]) -> Self {
        let mut i = 0;
        while i < states.len() {
            let mut j = 0;
            while j < i {
                if states[j].id == states[i].id {
                    panic!("livepatch: two states of the patch have the same id");
                }
                j += 1;
            }
            i += 1;
        }
        self.states = states;
        self
    }
}

/// No two funcs patch the same function (`klp_find_func()`: same name, and positions equal or
/// 0 and 1, both meaning the first).
const fn check_funcs(funcs: &[Func]) {
    let mut i = 0;
    while i < funcs.len() {
        if funcs[i].old_name.to_bytes().is_empty() {
            panic!("livepatch: a func needs the name of the function it replaces");
        }
        let mut j = 0;
        while j < i {
            let (a, b) = (funcs[j].old_sympos, funcs[i].old_sympos);
            let same_pos = a == b || (a <= 1 && b <= 1);
            if same_pos && bytes_eq(funcs[j].old_name.to_bytes(), funcs[i].old_name.to_bytes()) {
                panic!("livepatch: two funcs of an object replace the same function");
            }
            j += 1;
        }
        i += 1;
    }
}

const fn same_object(a: Option<&CStr>, b: Option<&CStr>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => bytes_eq(a.to_bytes(), b.to_bytes()),
        _ => false,
    }
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

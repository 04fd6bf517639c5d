// SPDX-License-Identifier: GPL-2.0-or-later

//! Handles on the structures of `<linux/livepatch.h>`.
//!
//! A patch module owns its `struct klp_patch`, `klp_object` and `klp_func` (static data in the
//! module); the core links them into lists and kobjects and keeps them until the patch is freed.
//! [`Patch`], [`Object`] and [`Func`] are copyable handles on them.
//!
//! # Invariants
//!
//! A handle points to a live structure that [`klp_enable_patch`](crate::init) accepted (or that
//! the core allocated, for atomic-replace nops). Fields are written under `klp_mutex` only (a
//! setter takes the [`KlpLocked`] proof), but the ftrace handler and the task-switching paths
//! read a few of them locklessly: every access is therefore a volatile one, like C's
//! `READ_ONCE()`/`WRITE_ONCE()`.

use crate::{KlpListsFixed, KlpLocked};
use core::marker::PhantomData;
use core::ptr::{addr_of_mut, NonNull};
use kernel::bindings;
use kernel::ffi::{c_char, c_ulong, c_void};
use kernel::str::CStr;

/// The entries of a `list_head` list of `T`s linked through the field at `offset`.
///
/// The next link is read before an entry is yielded, so the yielded entry may be unlinked, as
/// with `list_for_each_entry_safe()`.
pub(crate) struct Entries<T> {
    head: *mut bindings::list_head,
    next: *mut bindings::list_head,
    offset: usize,
    _entry: PhantomData<*mut T>,
}

impl<T> Entries<T> {
    /// Walks the list at `head`.
    ///
    /// # Safety
    ///
    /// `head` is an initialised list whose entries are `T`s linked at `offset`, and the list is
    /// not changed during the walk but for unlinking the current entry.
    pub(crate) unsafe fn new(head: *mut bindings::list_head, offset: usize) -> Self {
        // SAFETY: `head` is an initialised list head (the function's safety requirement).
        let next = unsafe { (*head).next };
        Self {
            head,
            next,
            offset,
            _entry: PhantomData,
        }
    }
}

impl<T> Iterator for Entries<T> {
    type Item = *mut T;

    fn next(&mut self) -> Option<*mut T> {
        if self.next == self.head {
            return None;
        }
        let cur = self.next;
        // SAFETY: `cur` is a linked entry of the list (type invariant of the walk).
        self.next = unsafe { (*cur).next };
        // SAFETY: The link is embedded `offset` bytes into its `T`.
        Some(unsafe { cur.byte_sub(self.offset) }.cast())
    }
}

/// A handle on a C structure of `<linux/livepatch.h>`.
pub(crate) trait Handle: Copy {
    /// The C structure.
    type C;

    /// A handle on a list or array entry, never null.
    ///
    /// # Safety
    ///
    /// `ptr` is non-null and satisfies the type invariants while the handle is used.
    unsafe fn from_entry(ptr: *mut Self::C) -> Self;

    /// A handle on `ptr`, `None` if it is null.
    ///
    /// # Safety
    ///
    /// A non-null `ptr` satisfies the type invariants for as long as the handle is used.
    unsafe fn from_raw(ptr: *mut Self::C) -> Option<Self> {
        // SAFETY: `ptr` is not null here; the rest is the function's safety requirement.
        (!ptr.is_null()).then(|| unsafe { Self::from_entry(ptr) })
    }
}

/// The handles on the entries of a `list_head` list linked through the field at `offset`
/// (`list_for_each_entry_safe()`).
///
/// # Safety
///
/// As [`Entries::new`]; the entries satisfy the type invariants of `H` during the walk.
pub(crate) unsafe fn linked<H: Handle>(
    head: *mut bindings::list_head,
    offset: usize,
) -> impl Iterator<Item = H> {
    // SAFETY: The function's safety requirement.
    let entries = unsafe { Entries::<H::C>::new(head, offset) };
    // SAFETY: The entries of the list are live (the function's safety requirement).
    entries.map(|entry| unsafe { H::from_entry(entry) })
}

/// The handles on the entries of a patch module's static array, up to the first one for which
/// `is_end` holds (`klp_for_each_object_static`, `klp_for_each_func_static`).
///
/// # Safety
///
/// `first` is null or the first entry of such an array, owned by a loaded patch module.
unsafe fn static_array<H: Handle>(
    first: *mut H::C,
    is_end: fn(H) -> bool,
) -> impl Iterator<Item = H> {
    let mut next = first;
    core::iter::from_fn(move || {
        if next.is_null() {
            return None;
        }
        // SAFETY: `next` is an entry of the array, not past its end entry.
        let cur = unsafe { H::from_entry(next) };
        if is_end(cur) {
            return None;
        }
        // SAFETY: `cur` is not the end entry, so the next one exists.
        next = unsafe { next.add(1) };
        Some(cur)
    })
}

/// Defines volatile getters and setters for fields of the structure behind a handle.
macro_rules! fields {
    ($handle:ident { $($field:ident / $set:ident : $ty:ty),* $(,)? }) => {
        impl $handle {
            $(
                #[allow(dead_code)]
                pub(crate) fn $field(self) -> $ty {
                    // SAFETY: The handle points to a live structure (type invariant).
                    unsafe { core::ptr::addr_of!((*self.as_ptr()).$field).read_volatile() }
                }

                #[allow(dead_code)]
                pub(crate) fn $set(self, _locked: &KlpLocked, value: $ty) {
                    // SAFETY: The handle points to a live structure (type invariant), and
                    // `klp_mutex`, which serializes the writers, is held (`_locked`).
                    unsafe { addr_of_mut!((*self.as_ptr()).$field).write_volatile(value) }
                }
            )*
        }
    };
}

/// Defines the common part of a handle type.
macro_rules! handle {
    ($(#[$meta:meta])* $handle:ident, $c:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub(crate) struct $handle(NonNull<bindings::$c>);

        impl Handle for $handle {
            type C = bindings::$c;

            unsafe fn from_entry(ptr: *mut bindings::$c) -> Self {
                // SAFETY: `ptr` is not null (the function's safety requirement).
                Self(unsafe { NonNull::new_unchecked(ptr) })
            }
        }

        impl $handle {
            /// The C structure.
            pub(crate) fn as_ptr(self) -> *mut bindings::$c {
                self.0.as_ptr()
            }

            /// The embedded kobject.
            pub(crate) fn kobj(self) -> *mut bindings::kobject {
                // SAFETY: The handle points to a live structure (type invariant).
                unsafe { addr_of_mut!((*self.as_ptr()).kobj) }
            }

            /// The structure whose embedded kobject is `kobj` (a kobject release or attribute).
            ///
            /// # Safety
            ///
            /// `kobj` is the `kobj` field of a live structure of this type.
            pub(crate) unsafe fn from_kobj(kobj: *mut bindings::kobject) -> Self {
                // SAFETY: `kobj` is embedded in a live structure (the function's safety
                // requirement), so its container is in the same allocation and not null.
                unsafe { Self::from_entry(kernel::container_of!(kobj, bindings::$c, kobj).cast_mut()) }
            }
        }
    };
}

handle!(
    /// A `struct klp_patch`.
    Patch,
    klp_patch
);
handle!(
    /// A `struct klp_object`.
    Object,
    klp_object
);
handle!(
    /// A `struct klp_func`.
    Func,
    klp_func
);

fields!(Patch {
    mod_ / set_mod: *mut bindings::module,
    objs / set_objs: *mut bindings::klp_object,
    states / set_states: *mut bindings::klp_state,
    replace / set_replace: bool,
    enabled / set_enabled: bool,
    forced / set_forced: bool,
});

fields!(Object {
    name / set_name: *const c_char,
    funcs / set_funcs: *mut bindings::klp_func,
    mod_ / set_mod: *mut bindings::module,
    dynamic / set_dynamic: bool,
    patched / set_patched: bool,
});

fields!(Func {
    old_name / set_old_name: *const c_char,
    new_func / set_new_func: *mut c_void,
    old_sympos / set_old_sympos: c_ulong,
    old_func / set_old_func: *mut c_void,
    old_size / set_old_size: c_ulong,
    new_size / set_new_size: c_ulong,
    nop / set_nop: bool,
    patched / set_patched: bool,
    transition / set_transition: bool,
});

/// The name of a module.
///
/// # Safety
///
/// `module` is a live module.
pub(crate) unsafe fn module_name<'a>(module: *mut bindings::module) -> &'a CStr {
    // SAFETY: `module` is live (the function's safety requirement); its name is a NUL-terminated
    // array.
    unsafe { CStr::from_char_ptr((*module).name.as_ptr()) }
}

/// A C string of a patch module's static data, or of the core's own allocations.
///
/// # Safety
///
/// `ptr` is a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char) -> &'a CStr {
    // SAFETY: The function's safety requirement.
    unsafe { CStr::from_char_ptr(ptr) }
}

impl Patch {
    /// The patch module.
    pub(crate) fn module(self) -> *mut bindings::module {
        self.mod_()
    }

    /// The patch module's name, which names the patch.
    pub(crate) fn name<'a>(self) -> &'a CStr {
        // SAFETY: An accepted patch has a live module (type invariant).
        unsafe { module_name(self.mod_()) }
    }

    /// The `list` node, linking the patch into `klp_patches`.
    pub(crate) fn list(self) -> *mut bindings::list_head {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).list) }
    }

    /// The head of the object list.
    pub(crate) fn obj_list(self) -> *mut bindings::list_head {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).obj_list) }
    }

    /// The work that frees the patch outside `klp_mutex`.
    pub(crate) fn free_work(self) -> *mut bindings::work_struct {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).free_work) }
    }

    /// The completion of the kobject's release.
    pub(crate) fn finish(self) -> *mut bindings::completion {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).finish) }
    }

    /// The objects linked into the object list (`klp_for_each_object_safe`), fixed meanwhile.
    pub(crate) fn objects(self, _fixed: &KlpListsFixed) -> impl Iterator<Item = Object> {
        // SAFETY: `obj_list` is initialised by `klp_init_patch_early()` before any walk and
        // links `klp_object`s by `node`, live while their patch is.
        unsafe {
            linked(
                self.obj_list(),
                core::mem::offset_of!(bindings::klp_object, node),
            )
        }
    }

    /// The objects of the patch module's static array (`klp_for_each_object_static`).
    pub(crate) fn objects_static(self) -> impl Iterator<Item = Object> {
        // SAFETY: `objs` is the patch module's array, ending with an entry without name and
        // funcs.
        unsafe {
            static_array(self.objs(), |obj: Object| {
                obj.funcs().is_null() && obj.name().is_null()
            })
        }
    }
}

impl Object {
    /// Whether the object is a module (it has a name) rather than vmlinux.
    pub(crate) fn is_module(self) -> bool {
        !self.name().is_null()
    }

    /// Whether the object is loaded: vmlinux always, a module when it is present.
    pub(crate) fn is_loaded(self) -> bool {
        !self.is_module() || !self.mod_().is_null()
    }

    /// The object's name as the log lines and sysfs show it.
    pub(crate) fn display_name<'a>(self) -> &'a CStr {
        if self.is_module() {
            // SAFETY: A module object's name is a string of the patch module.
            unsafe { c_str(self.name()) }
        } else {
            kernel::c_str!("vmlinux")
        }
    }

    /// The `node` link in the patch's object list.
    pub(crate) fn node(self) -> *mut bindings::list_head {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).node) }
    }

    /// The head of the function list.
    pub(crate) fn func_list(self) -> *mut bindings::list_head {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).func_list) }
    }

    /// The callbacks.
    pub(crate) fn callbacks(self) -> *mut bindings::klp_callbacks {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).callbacks) }
    }

    /// The functions linked into the function list (`klp_for_each_func_safe`), fixed meanwhile.
    pub(crate) fn funcs_list(self, _fixed: &KlpListsFixed) -> impl Iterator<Item = Func> {
        // SAFETY: `func_list` is initialised by `klp_init_object_early()` before any walk and
        // links `klp_func`s by `node`, live while their object is.
        unsafe {
            linked(
                self.func_list(),
                core::mem::offset_of!(bindings::klp_func, node),
            )
        }
    }

    /// The functions of the patch module's static array (`klp_for_each_func_static`).
    pub(crate) fn funcs_static(self) -> impl Iterator<Item = Func> {
        // SAFETY: `funcs` is the patch module's array, ending with an all-zero entry.
        unsafe {
            static_array(self.funcs(), |func: Func| {
                func.old_name().is_null() && func.new_func().is_null() && func.old_sympos() == 0
            })
        }
    }
}

impl Func {
    /// The name of the function to patch.
    pub(crate) fn name<'a>(self) -> &'a CStr {
        // SAFETY: An accepted func has an `old_name` (checked by `klp_init_func()`).
        unsafe { c_str(self.old_name()) }
    }

    /// The `node` link in the object's function list.
    pub(crate) fn node(self) -> *mut bindings::list_head {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).node) }
    }

    /// The `stack_node` link in a `func_stack`.
    pub(crate) fn stack_node(self) -> *mut bindings::list_head {
        // SAFETY: The handle points to a live structure (type invariant).
        unsafe { addr_of_mut!((*self.as_ptr()).stack_node) }
    }

    /// The func whose `stack_node` is `node`.
    ///
    /// # Safety
    ///
    /// `node` is the `stack_node` of a live func.
    pub(crate) unsafe fn from_stack_node(node: *mut bindings::list_head) -> Self {
        // SAFETY: `node` is the `stack_node` of a live func (the function's safety
        // requirement), so its container is in the same allocation and not null.
        unsafe {
            Self::from_entry(kernel::container_of!(node, bindings::klp_func, stack_node).cast_mut())
        }
    }
}

/// `list_empty()`.
///
/// # Safety
///
/// `head` is an initialised list head.
pub(crate) unsafe fn list_empty(head: *mut bindings::list_head) -> bool {
    // SAFETY: The function's safety requirement.
    unsafe { core::ptr::addr_of!((*head).next).read_volatile() == head }
}

/// `list_is_singular()`.
///
/// # Safety
///
/// `head` is an initialised list head.
pub(crate) unsafe fn list_is_singular(head: *mut bindings::list_head) -> bool {
    // SAFETY: The function's safety requirement.
    unsafe { !list_empty(head) && (*head).next == (*head).prev }
}

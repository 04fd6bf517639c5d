// SPDX-License-Identifier: GPL-2.0-or-later

//! The kobjects of patches, objects and funcs (`core.c`): their types, whose attributes are
//! in [`sysfs`](crate::sysfs), their release functions, which finish freeing a patch or free
//! the core's nops ([`lifecycle`](crate::lifecycle)), and adding them to sysfs.

use crate::lifecycle;
use crate::objects::{Func, Object, Patch};
use crate::statics::Static;
use crate::sysfs::{ptr_of, OBJECT_GROUPS, PATCH_GROUPS};
use core::ptr::{addr_of, null_mut};
use kernel::bindings;
use kernel::error::Result;
use kernel::ffi::c_char;

/// The release of a patch kobject: completes `finish`, which `klp_free_patch_finish()` waits
/// for.
///
/// # Safety
///
/// `kobj` is the kobject of a live patch whose last reference was put (the kobject core calls
/// it so, through [`klp_ktype_patch`]).
unsafe extern "C" fn klp_kobj_release_patch(kobj: *mut bindings::kobject) {
    // SAFETY: The release of a patch kobject; the patch lives until `finish` completes.
    unsafe { bindings::complete(Patch::from_kobj(kobj).finish()) };
}

/// The release of an object kobject: frees a dynamic (nop) object.
///
/// # Safety
///
/// `kobj` is the kobject of a live object whose last reference was put (through
/// [`klp_ktype_object`]).
unsafe extern "C" fn klp_kobj_release_object(kobj: *mut bindings::kobject) {
    // SAFETY: The release of an object kobject, embedded in a live object.
    let obj = unsafe { Object::from_kobj(kobj) };
    if obj.dynamic() {
        lifecycle::klp_free_object_dynamic(obj);
    }
}

/// The release of a func kobject: frees a nop func.
///
/// # Safety
///
/// `kobj` is the kobject of a live func whose last reference was put (through
/// [`klp_ktype_func`]).
unsafe extern "C" fn klp_kobj_release_func(kobj: *mut bindings::kobject) {
    // SAFETY: The release of a func kobject, embedded in a live func.
    let func = unsafe { Func::from_kobj(kobj) };
    if func.nop() {
        lifecycle::klp_free_func_nop(func);
    }
}

/// A `struct kobj_type` with the kobj sysfs ops, a release function and attribute groups.
macro_rules! ktype {
    ($release:ident, $groups:expr) => {
        Static::new(bindings::kobj_type {
            release: Some($release),
            sysfs_ops: addr_of!(bindings::kobj_sysfs_ops),
            default_groups: $groups,
            // SAFETY: The other members are optional callbacks: none.
            ..unsafe { core::mem::zeroed() }
        })
    };
}

static KTYPE_PATCH: Static<bindings::kobj_type> =
    ktype!(klp_kobj_release_patch, ptr_of!(PATCH_GROUPS));
static KTYPE_OBJECT: Static<bindings::kobj_type> =
    ktype!(klp_kobj_release_object, ptr_of!(OBJECT_GROUPS));
static KTYPE_FUNC: Static<bindings::kobj_type> = ktype!(klp_kobj_release_func, null_mut());

/// The kobj_type of patches.
pub(crate) fn klp_ktype_patch() -> *const bindings::kobj_type {
    KTYPE_PATCH.get()
}

/// The kobj_type of objects.
pub(crate) fn klp_ktype_object() -> *const bindings::kobj_type {
    KTYPE_OBJECT.get()
}

/// The kobj_type of funcs.
pub(crate) fn klp_ktype_func() -> *const bindings::kobj_type {
    KTYPE_FUNC.get()
}

/// `kobject_add(kobj, parent, "%s", name)`.
///
/// # Safety
///
/// `kobj` is initialised and not added; `parent` is live; `name` is a C string.
pub(crate) unsafe fn kobject_add_name(
    kobj: *mut bindings::kobject,
    parent: *mut bindings::kobject,
    name: *const c_char,
) -> Result {
    // SAFETY: The function's safety requirement; the format takes one string.
    kernel::error::to_result(unsafe {
        bindings::kobject_add(kobj, parent, c"%s".as_ptr().cast(), name)
    })
}

/// `kobject_add(kobj, parent, "%s,%lu", name, sympos)`: a func's directory.
///
/// # Safety
///
/// As [`kobject_add_name`].
pub(crate) unsafe fn kobject_add_func(
    kobj: *mut bindings::kobject,
    parent: *mut bindings::kobject,
    name: *const c_char,
    sympos: kernel::ffi::c_ulong,
) -> Result {
    // SAFETY: The function's safety requirement; the format takes a string and an unsigned long.
    kernel::error::to_result(unsafe {
        bindings::kobject_add(kobj, parent, c"%s,%lu".as_ptr().cast(), name, sympos)
    })
}

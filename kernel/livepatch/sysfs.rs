// SPDX-License-Identifier: GPL-2.0-or-later

//! The sysfs interface (`core.c`):
//!
//! ```text
//! /sys/kernel/livepatch
//! /sys/kernel/livepatch/<patch>
//! /sys/kernel/livepatch/<patch>/enabled
//! /sys/kernel/livepatch/<patch>/transition
//! /sys/kernel/livepatch/<patch>/force
//! /sys/kernel/livepatch/<patch>/replace
//! /sys/kernel/livepatch/<patch>/stack_order
//! /sys/kernel/livepatch/<patch>/<object>
//! /sys/kernel/livepatch/<patch>/<object>/patched
//! /sys/kernel/livepatch/<patch>/<object>/<function,sympos>
//! ```
//!
//! The attributes of the patch and object kobjects; the kobject types that carry them are in
//! [`kobjects`](crate::kobjects).

use crate::model::state::KlpTransitionState::{Patched, Unpatched};
use crate::objects::{Object, Patch};
use crate::statics::Static;
use crate::{enable, klp_for_each_patch, patch, transition, KlpMutexGuard};
use core::ptr::{null, null_mut};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::ffi::{c_char, c_int};

type Attr = bindings::kobj_attribute;
type Show = unsafe extern "C" fn(*mut bindings::kobject, *mut Attr, *mut c_char) -> isize;
type Store = unsafe extern "C" fn(*mut bindings::kobject, *mut Attr, *const c_char, usize) -> isize;

/// A `struct kobj_attribute` (`__ATTR_RW` and friends).
const fn kobj_attr(
    name: &'static core::ffi::CStr,
    mode: u16,
    show: Option<Show>,
    store: Option<Store>,
) -> Attr {
    // SAFETY: An all-zero attribute is valid: no name, no callbacks, no lockdep key.
    let mut attr: Attr = unsafe { core::mem::zeroed() };
    attr.attr.name = name.as_ptr().cast();
    attr.attr.mode = mode;
    attr.show = show;
    attr.store = store;
    attr
}

/// `sysfs_emit(buf, "%d\n", value)`.
///
/// # Safety
///
/// `buf` is a sysfs show buffer.
unsafe fn emit_int(buf: *mut c_char, value: impl Into<c_int>) -> isize {
    // SAFETY: `buf` is a sysfs buffer; the format takes one int.
    unsafe { bindings::sysfs_emit(buf, c"%d\n".as_ptr().cast(), value.into()) as isize }
}

/// `kstrtobool()`.
///
/// # Safety
///
/// `buf` is a NUL-terminated sysfs store buffer.
unsafe fn parse_bool(buf: *const c_char) -> Result<bool> {
    let mut value = false;
    // SAFETY: `buf` is NUL-terminated (sysfs guarantees it for stores).
    kernel::error::to_result(unsafe { bindings::kstrtobool(buf, &mut value) })?;
    Ok(value)
}

/// The return value of a store: the bytes consumed, or the error.
fn store_result(result: Result, count: usize) -> isize {
    match result {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `echo 0 > enabled` disables a patch, or reverses its transition; `echo 1` reverses a
/// disabling transition.
///
/// # Safety
///
/// `kobj` is a live patch's kobject and `buf` a NUL-terminated store buffer: sysfs calls the
/// stores and shows of [`PATCH_GROUPS`] (and [`OBJECT_GROUPS`]) so.
unsafe extern "C" fn enabled_store(
    kobj: *mut bindings::kobject,
    _attr: *mut Attr,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs NUL-terminates store buffers (the function's safety requirement).
    let enabled = match unsafe { parse_bool(buf) } {
        Ok(value) => value,
        Err(e) => return e.to_errno() as isize,
    };
    // SAFETY: This attribute belongs to patch kobjects only.
    let patch = unsafe { Patch::from_kobj(kobj) };
    let guard = KlpMutexGuard::lock();
    let result = if patch.enabled() == enabled {
        // Already in the requested state.
        Err(EINVAL)
    } else if transition::klp_transition_patch() == Some(patch) {
        // A pending transition may be reversed both ways: it might be needed to complete it
        // without forcing. A disabled patch is never enabled again. Its jumps go first.
        let target = if enabled { Patched } else { Unpatched };
        patch::klp_jump_update(&guard, Some(target), None, true)
            .map(|()| transition::klp_reverse_transition(&guard))
    } else if !enabled {
        enable::klp_disable_patch(&guard, patch)
    } else {
        Err(EINVAL)
    };
    drop(guard);
    store_result(result, count)
}

/// `enabled`: whether the patch is enabled.
///
/// # Safety
///
/// `kobj` is a live patch's kobject and `buf` a sysfs show buffer (as for every show here).
unsafe extern "C" fn enabled_show(
    kobj: *mut bindings::kobject,
    _attr: *mut Attr,
    buf: *mut c_char,
) -> isize {
    // SAFETY: The attribute is in the patch kobjects' group only, so `kobj` is a live
    // patch's; `buf` is a show buffer (the function's safety requirement).
    unsafe { emit_int(buf, Patch::from_kobj(kobj).enabled()) }
}

/// `transition`: whether the patch is in transition.
///
/// # Safety
///
/// As [`enabled_show`].
unsafe extern "C" fn transition_show(
    kobj: *mut bindings::kobject,
    _attr: *mut Attr,
    buf: *mut c_char,
) -> isize {
    // SAFETY: The attribute is in the patch kobjects' group only: `kobj` is a live patch's.
    let patch = unsafe { Patch::from_kobj(kobj) };
    // SAFETY: `buf` is a sysfs show buffer (the function's safety requirement).
    unsafe { emit_int(buf, transition::klp_transition_patch() == Some(patch)) }
}

/// `echo 1 > force` forces the transition of the patch to complete.
///
/// # Safety
///
/// As [`enabled_store`].
unsafe extern "C" fn force_store(
    kobj: *mut bindings::kobject,
    _attr: *mut Attr,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs NUL-terminates store buffers (the function's safety requirement).
    match unsafe { parse_bool(buf) } {
        Err(e) => return e.to_errno() as isize,
        Ok(false) => return count as isize,
        Ok(true) => {}
    }
    let guard = KlpMutexGuard::lock();
    // SAFETY: The attribute is in the patch kobjects' group only: `kobj` is a live patch's.
    let patch = unsafe { Patch::from_kobj(kobj) };
    if transition::klp_transition_patch() != Some(patch) {
        return EINVAL.to_errno() as isize;
    }
    transition::klp_force_transition(&guard);
    count as isize
}

/// `replace`: whether the patch is an atomic replace.
///
/// # Safety
///
/// As [`enabled_show`].
unsafe extern "C" fn replace_show(
    kobj: *mut bindings::kobject,
    _attr: *mut Attr,
    buf: *mut c_char,
) -> isize {
    // SAFETY: The attribute is in the patch kobjects' group only, so `kobj` is a live
    // patch's; `buf` is a show buffer (the function's safety requirement).
    unsafe { emit_int(buf, Patch::from_kobj(kobj).replace()) }
}

/// `stack_order` (Linux 6.14): the position of the patch on `klp_patches`, from 1. Of the
/// patches that change a function, the one with the biggest number runs, but during a
/// transition.
///
/// # Safety
///
/// As [`enabled_show`].
unsafe extern "C" fn stack_order_show(
    kobj: *mut bindings::kobject,
    _attr: *mut Attr,
    buf: *mut c_char,
) -> isize {
    // SAFETY: The attribute is in the patch kobjects' group only: `kobj` is a live patch's.
    let patch = unsafe { Patch::from_kobj(kobj) };
    let guard = KlpMutexGuard::lock();
    let order = klp_for_each_patch(&guard)
        .position(|p| p == patch)
        .map_or(0, |i| i + 1);
    drop(guard);
    // SAFETY: `buf` is a sysfs show buffer (the function's safety requirement).
    unsafe { emit_int(buf, c_int::try_from(order).unwrap_or(c_int::MAX)) }
}

/// `<object>/patched`: whether the object is patched.
///
/// # Safety
///
/// As [`enabled_show`], for a live object's kobject.
unsafe extern "C" fn patched_show(
    kobj: *mut bindings::kobject,
    _attr: *mut Attr,
    buf: *mut c_char,
) -> isize {
    // SAFETY: This attribute belongs to object kobjects only, embedded in live objects.
    let obj = unsafe { Object::from_kobj(kobj) };
    // SAFETY: `buf` is a sysfs show buffer (the function's safety requirement).
    unsafe { emit_int(buf, obj.patched()) }
}

static ENABLED_ATTR: Static<Attr> = Static::new(kobj_attr(
    c"enabled",
    0o644,
    Some(enabled_show),
    Some(enabled_store),
));
static TRANSITION_ATTR: Static<Attr> =
    Static::new(kobj_attr(c"transition", 0o444, Some(transition_show), None));
static FORCE_ATTR: Static<Attr> = Static::new(kobj_attr(c"force", 0o200, None, Some(force_store)));
static REPLACE_ATTR: Static<Attr> =
    Static::new(kobj_attr(c"replace", 0o444, Some(replace_show), None));
static PATCHED_ATTR: Static<Attr> =
    Static::new(kobj_attr(c"patched", 0o444, Some(patched_show), None));

/// The address of a static, as a C pointer, in a static initializer.
macro_rules! ptr_of {
    ($static:ident) => {
        core::ptr::addr_of!($static).cast_mut().cast()
    };
}
pub(crate) use ptr_of;

static STACK_ORDER_ATTR: Static<Attr> = Static::new(kobj_attr(
    c"stack_order",
    0o444,
    Some(stack_order_show),
    None,
));
static PATCH_ATTRS: Static<[*mut bindings::attribute; 6]> = Static::new([
    ptr_of!(ENABLED_ATTR),
    ptr_of!(TRANSITION_ATTR),
    ptr_of!(FORCE_ATTR),
    ptr_of!(REPLACE_ATTR),
    ptr_of!(STACK_ORDER_ATTR),
    null_mut(),
]);
static OBJECT_ATTRS: Static<[*mut bindings::attribute; 2]> =
    Static::new([ptr_of!(PATCHED_ATTR), null_mut()]);

/// An attribute group of `attrs` (`ATTRIBUTE_GROUPS()`).
const fn attr_group(attrs: *mut *mut bindings::attribute) -> bindings::attribute_group {
    // SAFETY: An all-zero group is valid: no name, no callbacks.
    let mut group: bindings::attribute_group = unsafe { core::mem::zeroed() };
    group.attrs = attrs;
    group
}

static PATCH_GROUP: Static<bindings::attribute_group> =
    Static::new(attr_group(ptr_of!(PATCH_ATTRS)));
static OBJECT_GROUP: Static<bindings::attribute_group> =
    Static::new(attr_group(ptr_of!(OBJECT_ATTRS)));
pub(crate) static PATCH_GROUPS: Static<[*const bindings::attribute_group; 2]> =
    Static::new([ptr_of!(PATCH_GROUP), null()]);
pub(crate) static OBJECT_GROUPS: Static<[*const bindings::attribute_group; 2]> =
    Static::new([ptr_of!(OBJECT_GROUP), null()]);

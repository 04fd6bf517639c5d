// SPDX-License-Identifier: GPL-2.0-or-later

//! The lifecycle of a patch's structures (`core.c`): the core's own allocations (the nop
//! objects and funcs of atomic replace), and freeing a patch, its objects and funcs, in two
//! parts: under `klp_mutex`, then outside it from a work, since a patch may be freed from
//! its own sysfs interface.

use crate::model::replace;
use crate::objects::{Func, Handle, Object, Patch};
use crate::{klp_for_each_patch, patch, KlpLocked};
use core::ptr::null_mut;
use kernel::alloc::{flags::__GFP_ZERO, flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::Result;

/// Allocates a zeroed C structure of the core (a nop object or func).
pub(crate) fn klp_alloc_zeroed<T>() -> Result<*mut T> {
    let boxed = KBox::<T>::new_uninit(GFP_KERNEL | __GFP_ZERO)?;
    // SAFETY: `__GFP_ZERO` zeroed the memory; the C structures are valid when all-zero.
    Ok(KBox::into_raw(unsafe { boxed.assume_init() }))
}

/// Frees a structure of [`klp_alloc_zeroed`].
///
/// # Safety
///
/// `ptr` comes from `klp_alloc_zeroed::<T>()` and is no longer used.
pub(crate) unsafe fn klp_free_zeroed<T>(ptr: *mut T) {
    // SAFETY: The function's safety requirement.
    drop(unsafe { KBox::from_raw(ptr) });
}

/// Frees a dynamic (nop) object; its kobject's release.
pub(crate) fn klp_free_object_dynamic(obj: Object) {
    // SAFETY: A dynamic object and its name were allocated by `klp_alloc_object_dynamic()`
    // and nothing refers to them any more (the kobject is released).
    unsafe {
        bindings::kfree(obj.name().cast());
        klp_free_zeroed(obj.as_ptr());
    }
}

/// Frees a nop func; its kobject's release.
pub(crate) fn klp_free_func_nop(func: Func) {
    // SAFETY: A nop and its name were allocated by `klp_alloc_func_nop()` and nothing refers to
    // them any more (the kobject is released).
    unsafe {
        bindings::kfree(func.old_name().cast());
        klp_free_zeroed(func.as_ptr());
    }
}

/// Unlinks and puts the funcs of `obj`: all, or the nops only.
fn klp_free_funcs(guard: &KlpLocked, obj: Object, nops_only: bool) {
    for func in obj.funcs_list(guard) {
        if nops_only && !func.nop() {
            continue;
        }
        // SAFETY: `func` is linked into `obj`'s list and holds the reference `kobject_init()`
        // gave; its release frees it if it is a nop.
        unsafe {
            bindings::list_del(func.node());
            bindings::kobject_put(func.kobj());
        }
    }
}

/// Cleans up when a patched object is unloaded.
pub(crate) fn klp_free_object_loaded(guard: &KlpLocked, obj: Object) {
    obj.set_mod(guard, null_mut());
    for func in obj.funcs_list(guard) {
        func.set_old_func(guard, null_mut());
        if func.nop() {
            func.set_new_func(guard, null_mut());
        }
    }
}

/// Unlinks and puts the objects of `patch`: all, or the dynamic ones and the nops only.
fn klp_free_objects(guard: &KlpLocked, patch: Patch, nops_only: bool) {
    for obj in patch.objects(guard) {
        klp_free_funcs(guard, obj, nops_only);
        if nops_only && !obj.dynamic() {
            continue;
        }
        // SAFETY: `obj` is linked into `patch`'s list and holds its kobject reference.
        unsafe {
            bindings::list_del(obj.node());
            bindings::kobject_put(obj.kobj());
        }
    }
}

/// Removes the nops of the patch in transition and their dynamic objects.
///
/// It must be called right after removing the replaced patches: the nops are the last entries
/// of their func_stacks, and unregistering ftrace waits until nobody is in the handler.
pub(crate) fn klp_discard_nops(guard: &KlpLocked, new_patch: Patch) {
    patch::klp_unpatch_objects(guard, new_patch, true);
    klp_free_objects(guard, new_patch, true);
}

/// The part of freeing a patch that is done under `klp_mutex`; [`klp_free_patch_finish`]
/// completes it outside.
pub(crate) fn klp_free_patch_start(guard: &KlpLocked, patch: Patch) {
    crate::jump::klp_jump_forget(guard, patch);
    // SAFETY: `list` is initialised (`klp_init_patch_early()`); an unlinked patch's list is
    // empty, a linked one is on `klp_patches`, under `klp_mutex`.
    unsafe {
        if !crate::objects::list_empty(patch.list()) {
            bindings::list_del(patch.list());
        }
    }
    klp_free_objects(guard, patch, false);
}

/// The part of freeing a patch that must be done outside `klp_mutex`: the last access to the
/// patch structures once the patch is disabled (it can never be enabled again).
pub(crate) fn klp_free_patch_finish(patch: Patch) {
    let forced = patch.forced();
    let module = patch.module();
    // SAFETY: The patch's kobject holds its initial reference until here; its release completes
    // `finish`. Outside `klp_mutex` this cannot deadlock with `enabled_store()`.
    unsafe {
        bindings::kobject_put(patch.kobj());
        bindings::wait_for_completion(patch.finish());
    }
    // Put the module after the last access to struct klp_patch.
    if !forced {
        // SAFETY: `klp_enable_patch()` took this reference.
        unsafe { bindings::module_put(module) };
    }
}

/// The work that completes freeing a patch: the patch may be freed from its own sysfs
/// interface, so the interface is destroyed from another context.
///
/// # Safety
///
/// `work` is the `free_work` of a live patch, queued by [`klp_free_patch_async`].
pub(crate) unsafe extern "C" fn klp_free_patch_work_fn(work: *mut bindings::work_struct) {
    // SAFETY: The work is the `free_work` of a live patch (queued by `klp_free_patch_async()`),
    // so its container is in the same allocation and not null.
    let patch = unsafe {
        Patch::from_entry(kernel::container_of!(work, bindings::klp_patch, free_work).cast_mut())
    };
    klp_free_patch_finish(patch);
}

/// Frees a patch: unlinks it now, destroys its sysfs interface from a work.
pub(crate) fn klp_free_patch_async(guard: &KlpLocked, patch: Patch) {
    klp_free_patch_start(guard, patch);
    // SAFETY: `free_work` was initialised by `klp_init_patch_early()`.
    unsafe { bindings::schedule_work(patch.free_work()) };
}

/// Frees the patches that `new_patch` replaced: every patch before it on `klp_patches`.
pub(crate) fn klp_free_replaced_patches_async(guard: &KlpLocked, new_patch: Patch) {
    replace::klp_replaced_patches(klp_for_each_patch(guard), &new_patch)
        .for_each(|patch| klp_free_patch_async(guard, patch));
}

/// Unpatches the objects of the patches that `new_patch` replaced.
///
/// The handler no longer reaches these functions: everything is redirected by the new patch,
/// to new code or, through nops, to the original code. A forced transition may leave the
/// handler on a replaced patch's func; the patch modules are then never put.
pub(crate) fn klp_unpatch_replaced_patches(guard: &KlpLocked, new_patch: Patch) {
    for old_patch in replace::klp_replaced_patches(klp_for_each_patch(guard), &new_patch) {
        old_patch.set_enabled(guard, false);
        patch::klp_unpatch_objects(guard, old_patch, false);
    }
}

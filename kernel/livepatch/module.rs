// SPDX-License-Identifier: GPL-2.0-or-later

//! Module notifications (`core.c`): patches of a module are applied when it loads and
//! reverted when it goes.
//!
//! The module loader calls [`klp_module_coming`] after the module's relocations and before its
//! init, and [`klp_module_going`] after its exit (or when its init failed).

use crate::objects::{module_name, Object, Patch};
use crate::{
    callbacks, init, jump, klp_for_each_patch, lifecycle, patch, reloc, transition, warn_on,
    KlpLocked, KlpMutexGuard,
};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::ffi::c_int;
use kernel::prelude::*;

/// The object of `patch` for the module named `name`, if it patches it.
fn klp_module_object(guard: &KlpLocked, patch: Patch, name: &[u8]) -> Option<Object> {
    patch
        .objects(guard)
        .find(|obj| obj.is_module() && obj.display_name().as_bytes() == name)
}

/// Reverts the parts of the patches before `limit` (all when `None`) that patch `module`.
fn klp_cleanup_module_patches_limited(
    guard: &KlpLocked,
    module: *mut bindings::module,
    limit: Option<Patch>,
) {
    // SAFETY: The module loader passes a live module.
    let name = unsafe { module_name(module) };
    for patch in klp_for_each_patch(guard) {
        if Some(patch) == limit {
            break;
        }
        let Some(obj) = klp_module_object(guard, patch, name.as_bytes()) else {
            continue;
        };
        if transition::klp_transition_patch() != Some(patch) {
            callbacks::klp_pre_unpatch_callback(obj);
        }
        pr_notice!(
            "reverting patch '{}' on unloading module '{}'\n",
            patch.name(),
            name
        );
        patch::klp_unpatch_object(guard, obj);
        callbacks::klp_post_unpatch_callback(obj);
        reloc::klp_clear_object_relocs(patch, obj);
        lifecycle::klp_free_object_loaded(guard, obj);
    }
}

/// Applies `patch`'s object `obj` to the loading `module`.
fn klp_module_apply(
    guard: &KlpLocked,
    patch: Patch,
    obj: Object,
    module: *mut bindings::module,
    name: &CStr,
) -> Result {
    obj.set_mod(guard, module);
    init::klp_init_object_loaded(guard, patch, obj).inspect_err(|e| {
        pr_warn!(
            "failed to initialize patch '{}' for module '{}' ({})\n",
            patch.name(),
            name,
            e.to_errno()
        )
    })?;
    pr_notice!(
        "applying patch '{}' to loading module '{}'\n",
        patch.name(),
        name
    );
    callbacks::klp_pre_patch_callback(obj).inspect_err(|_| {
        pr_warn!(
            "pre-patch callback failed for object '{}'\n",
            obj.display_name()
        )
    })?;
    let jump = jump::klp_jump_allowed(guard, patch);
    // Nothing runs the loading module's code yet: its jumps need no check.
    let target = transition::klp_transition_target();
    patch::klp_patch_object(guard, obj, jump)
        .and_then(|()| {
            patch::klp_jump_update(guard, target, None, false)
                .inspect_err(|_| patch::klp_unpatch_object(guard, obj))
        })
        .inspect_err(|e| {
            pr_warn!(
                "failed to apply patch '{}' to module '{}' ({})\n",
                patch.name(),
                name,
                e.to_errno()
            );
            callbacks::klp_post_unpatch_callback(obj);
        })?;
    if transition::klp_transition_patch() != Some(patch) {
        callbacks::klp_post_patch_callback(obj);
    }
    Ok(())
}

/// Applies the patches of a loading module; an error refuses the load.
///
/// # Safety
///
/// `module` is the module being loaded, in `MODULE_STATE_COMING`.
#[no_mangle]
pub unsafe extern "C" fn klp_module_coming(module: *mut bindings::module) -> c_int {
    // SAFETY: The module loader passes a live module.
    let (state, name) = unsafe { ((*module).state, module_name(module)) };
    if warn_on(state != bindings::module_state_MODULE_STATE_COMING) {
        return EINVAL.to_errno();
    }
    if name.as_bytes() == b"vmlinux" {
        pr_err!("vmlinux.ko: invalid module name\n");
        return EINVAL.to_errno();
    }

    let guard = KlpMutexGuard::lock();
    // Every module must know that klp_module_coming() was called: any new patch may patch it.
    // SAFETY: Written under `klp_mutex`, as every access to `klp_alive`.
    unsafe { (*module).klp_alive = true };

    for patch in klp_for_each_patch(&guard) {
        let Some(obj) = klp_module_object(&guard, patch, name.as_bytes()) else {
            continue;
        };
        if let Err(e) = klp_module_apply(&guard, patch, obj, module, name) {
            // A patch that cannot be applied refuses the module.
            pr_warn!(
                "patch '{}' failed for module '{}', refusing to load module '{}'\n",
                patch.name(),
                name,
                name
            );
            // SAFETY: Under `klp_mutex`.
            unsafe { (*module).klp_alive = false };
            obj.set_mod(&guard, core::ptr::null_mut());
            klp_cleanup_module_patches_limited(&guard, module, Some(patch));
            return e.to_errno();
        }
    }
    0
}

/// Reverts the patches of a going module.
///
/// # Safety
///
/// `module` is the module being removed, in `MODULE_STATE_GOING` (or `COMING` when its init
/// failed).
#[no_mangle]
pub unsafe extern "C" fn klp_module_going(module: *mut bindings::module) {
    // SAFETY: The module loader passes a live module.
    let state = unsafe { (*module).state };
    if warn_on(
        state != bindings::module_state_MODULE_STATE_GOING
            && state != bindings::module_state_MODULE_STATE_COMING,
    ) {
        return;
    }
    let guard = KlpMutexGuard::lock();
    // Every module must know that klp_module_going() was called.
    // SAFETY: Under `klp_mutex`.
    unsafe { (*module).klp_alive = false };
    // The module's functions leave their func_stacks, and ftrace forgets them.
    if patch::klp_direct_leave(&guard).is_err() {
        pr_err!("failed to give direct calls back to the ftrace handler\n");
    }
    klp_cleanup_module_patches_limited(&guard, module, None);
    if transition::klp_transition_patch().is_none() {
        patch::klp_direct_enter(&guard);
    }
}

// SPDX-License-Identifier: GPL-2.0-or-later

//! Enabling and disabling a patch (`__klp_enable_patch()`, `__klp_disable_patch()` of
//! `core.c`): the callbacks, the redirection of the loaded objects and the transition.

use crate::model::state::KlpTransitionState;
use crate::objects::Patch;
use crate::{callbacks, jump, patch, transition, warn_on, KlpLocked};
use core::sync::atomic::{fence, Ordering};
use kernel::error::{code::*, Result};
use kernel::prelude::*;

/// Starts disabling an enabled patch: the unpatching transition.
pub(crate) fn klp_disable_patch(guard: &KlpLocked, patch: Patch) -> Result {
    if warn_on(!patch.enabled()) {
        return Err(EINVAL);
    }
    if transition::klp_transition_patch().is_some() {
        return Err(EBUSY);
    }
    // The jumps switch at once, for every task: before anything else, as they may refuse.
    patch::klp_jump_update(guard, None, Some(patch), true)?;
    patch::klp_direct_leave(guard)?;
    transition::klp_init_transition(guard, patch, KlpTransitionState::Unpatched);
    for obj in patch.objects(guard) {
        if obj.patched() {
            callbacks::klp_pre_unpatch_callback(obj);
        }
    }
    // Order the func->transition writes of klp_init_transition() before the TIF_PATCH_PENDING
    // writes of klp_start_transition(): a handler called right after klp_update_patch_state()
    // switched the task must see func->transition set.
    fence(Ordering::Release);
    transition::klp_start_transition();
    patch.set_enabled(guard, false);
    transition::klp_try_complete_transition(guard);
    Ok(())
}

/// Enables an initialised patch: patches its loaded objects and starts the patching
/// transition.
pub(crate) fn klp_enable_patch_locked(guard: &KlpLocked, patch: Patch) -> Result {
    if transition::klp_transition_patch().is_some() {
        return Err(EBUSY);
    }
    if warn_on(patch.enabled()) {
        return Err(EINVAL);
    }
    patch::klp_direct_leave(guard)?;
    pr_notice!("enabling patch '{}'\n", patch.name());

    transition::klp_init_transition(guard, patch, KlpTransitionState::Patched);
    // Order the func->transition writes of klp_init_transition() before the func_stack writes
    // of klp_patch_object(): the handler sees func->transition before the new funcs.
    fence(Ordering::Release);

    let jump = jump::klp_jump_allowed(guard, patch);
    let result = patch
        .objects(guard)
        .filter(|obj| obj.is_loaded())
        .try_for_each(|obj| {
            callbacks::klp_pre_patch_callback(obj).inspect_err(|_| {
                pr_warn!(
                    "pre-patch callback failed for object '{}'\n",
                    obj.display_name()
                );
            })?;
            patch::klp_patch_object(guard, obj, jump).inspect_err(|_| {
                pr_warn!("failed to patch object '{}'\n", obj.display_name());
            })
        })
        // The jumps switch at once, for every task, once no task runs the functions.
        .and_then(|()| {
            patch::klp_jump_update(guard, Some(KlpTransitionState::Patched), None, true)
        });
    if let Err(e) = result {
        pr_warn!("failed to enable patch '{}'\n", patch.name());
        transition::klp_cancel_transition(guard);
        return Err(e);
    }

    transition::klp_start_transition();
    patch.set_enabled(guard, true);
    transition::klp_try_complete_transition(guard);
    Ok(())
}

// SPDX-License-Identifier: GPL-2.0

//! The C structures of a patch, made from its description and handed to the core
//! (`klp_enable_patch()`).

use super::desc::Patch;
use crate::{
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    bindings,
    error::{to_result, Result},
    ThisModule,
};

/// The C structures of an enabled patch: `struct klp_patch`, its objects, funcs and states.
///
/// The core uses them from `klp_enable_patch()` until it frees the patch, after the patch is
/// disabled; it holds a reference on the patch module meanwhile, so the module, and this
/// registration with it, goes away only after that.
pub struct Registration {
    patch: KBox<bindings::klp_patch>,
    _objs: KVec<bindings::klp_object>,
    _funcs: KVec<KVec<bindings::klp_func>>,
    _states: KVec<bindings::klp_state>,
}

// SAFETY: the structures are only accessed by the core, under its own locking; this type only
// owns and finally frees them.
unsafe impl Send for Registration {}
// SAFETY: `Registration` gives no access to the structures.
unsafe impl Sync for Registration {}

/// A C structure of the livepatch ABI whose all-zero value is C's `{}`.
///
/// # Safety
///
/// Every field is an integer, a bool, a nullable pointer, an `Option` of a function pointer or
/// such a structure, so that all zeroes is a valid value.
unsafe trait ZeroInit: Sized {
    fn zeroed() -> Self {
        // SAFETY: all zeroes is a valid value, by the trait's safety requirement.
        unsafe { core::mem::zeroed() }
    }
}
// SAFETY: plain C structures of `<linux/livepatch.h>` (pointers, integers, bools, list heads,
// kobjects, a work struct and a completion, all initialised by the core).
unsafe impl ZeroInit for bindings::klp_patch {}
// SAFETY: as above.
unsafe impl ZeroInit for bindings::klp_object {}
// SAFETY: as above.
unsafe impl ZeroInit for bindings::klp_func {}
// SAFETY: as above.
unsafe impl ZeroInit for bindings::klp_state {}

impl Registration {
    /// Makes the C structures of `desc` for `module` and enables the patch; for the patch
    /// module's init.
    pub fn enable(module: &'static ThisModule, desc: &Patch) -> Result<Self> {
        let mut funcs = KVec::with_capacity(desc.objs.len(), GFP_KERNEL)?;
        let mut objs = KVec::with_capacity(desc.objs.len() + 1, GFP_KERNEL)?;
        for obj in desc.objs {
            let mut obj_funcs = KVec::with_capacity(obj.funcs.len() + 1, GFP_KERNEL)?;
            for func in obj.funcs {
                let mut f = bindings::klp_func::zeroed();
                f.old_name = func.old_name.as_ptr().cast();
                f.new_func = func.new_func.cast_mut();
                f.old_sympos = func.old_sympos as _;
                obj_funcs.push(f, GFP_KERNEL)?;
            }
            obj_funcs.push(bindings::klp_func::zeroed(), GFP_KERNEL)?;
            let mut o = bindings::klp_object::zeroed();
            o.name = obj
                .name
                .map_or(core::ptr::null(), |name| name.as_ptr().cast());
            o.funcs = obj_funcs.as_mut_ptr();
            o.callbacks = obj.callbacks;
            objs.push(o, GFP_KERNEL)?;
            // Moving the vector does not move its elements, which `o.funcs` points to.
            funcs.push(obj_funcs, GFP_KERNEL)?;
        }
        objs.push(bindings::klp_object::zeroed(), GFP_KERNEL)?;
        let mut states = KVec::with_capacity(desc.states.len() + 1, GFP_KERNEL)?;
        for state in desc.states {
            let mut s = bindings::klp_state::zeroed();
            s.id = state.id as _;
            s.version = state.version;
            states.push(s, GFP_KERNEL)?;
        }
        states.push(bindings::klp_state::zeroed(), GFP_KERNEL)?;

        let mut patch = KBox::new(bindings::klp_patch::zeroed(), GFP_KERNEL)?;
        patch.mod_ = module.as_ptr();
        patch.objs = objs.as_mut_ptr();
        patch.states = states.as_mut_ptr();
        patch.replace = desc.replace;
        let mut reg = Registration {
            patch,
            _objs: objs,
            _funcs: funcs,
            _states: states,
        };
        // SAFETY: the patch and everything it points to is valid and stays in place until
        // `reg` is dropped, which happens only after the core released the patch (see the
        // type's documentation), or at once if enabling fails, after which the core does not
        // use it either.
        to_result(unsafe { enable(&mut *reg.patch, desc.jump) })?;
        Ok(reg)
    }
}

/// `klp_enable_patch()`, or with `jump` `klp_enable_patch_jump()`, which only the Rust core
/// has: the C core refuses such a patch with `-EOPNOTSUPP`.
///
/// # Safety
///
/// As for `klp_enable_patch()`.
unsafe fn enable(patch: *mut bindings::klp_patch, jump: bool) -> core::ffi::c_int {
    #[cfg(CONFIG_LIVEPATCH_RUST)]
    if jump {
        // SAFETY: The function's safety requirement.
        return unsafe { bindings::klp_enable_patch_jump(patch) };
    }
    #[cfg(not(CONFIG_LIVEPATCH_RUST))]
    if jump {
        return -(bindings::EOPNOTSUPP as core::ffi::c_int);
    }
    // SAFETY: The function's safety requirement.
    unsafe { bindings::klp_enable_patch(patch) }
}

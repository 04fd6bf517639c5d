// SPDX-License-Identifier: GPL-2.0-or-later

//! Registration: `klp_enable_patch()`, the initialisation and validation of a patch, its
//! objects and functions, atomic-replace nops, enabling, disabling and freeing.
//!
//! The part of `core.c` that is not sysfs, module notification or relocation.

use crate::lifecycle::{
    klp_alloc_zeroed, klp_free_patch_finish, klp_free_patch_start, klp_free_patch_work_fn,
    klp_free_zeroed,
};
use crate::model::replace::{self, KlpFuncRef};
use crate::objects::{Func, Handle, Object, Patch};
use crate::statics::Static;
use crate::{enable, klp_for_each_patch, klp_patches_head, kobjects, reloc, state, transition};
use crate::{KlpLocked, KlpMutexGuard};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::ffi::{c_char, c_int, c_ulong, c_void};
use kernel::prelude::*;

/// `/sys/kernel/livepatch`, created by [`klp_init`].
static KLP_ROOT_KOBJ: AtomicPtr<bindings::kobject> = AtomicPtr::new(null_mut());

/// The parent kobject of the patches.
pub(crate) fn klp_root_kobj() -> *mut bindings::kobject {
    KLP_ROOT_KOBJ.load(Ordering::Acquire)
}

/// The core's initcall, from `glue.c`: creates `/sys/kernel/livepatch`.
#[no_mangle]
pub extern "C" fn klp_init() -> c_int {
    // SAFETY: `kernel_kobj` is created before device initcalls; the name is a C string.
    let kobj = unsafe {
        bindings::kobject_create_and_add(c"livepatch".as_ptr().cast(), bindings::kernel_kobj)
    };
    if kobj.is_null() {
        return ENOMEM.to_errno();
    }
    if let Err(e) = transition::klp_transition_init() {
        return e.to_errno();
    }
    KLP_ROOT_KOBJ.store(kobj, Ordering::Release);
    0
}

/// Sets `obj->mod` if the object is a module that is loaded and known to livepatch.
fn klp_find_object_module(guard: &KlpLocked, obj: Object) {
    if !obj.is_module() {
        return;
    }
    // SAFETY: Between `rcu_read_lock_sched()` and its unlock, `find_module()` may be called and
    // the module it returns stays valid; the name is a string of the patch module.
    unsafe {
        bindings::rcu_read_lock_sched();
        // No reference is taken: removal of patched modules is not blocked; the patches are
        // removed by `klp_module_going()` instead.
        let module = bindings::find_module(obj.name());
        // Do not mess with the work of `klp_module_coming()` and `klp_module_going()`.
        if !module.is_null() && (*module).klp_alive {
            obj.set_mod(guard, module);
        }
        bindings::rcu_read_unlock_sched();
    }
}

/// The identity of an object for [`replace`]: its name, `None` for vmlinux.
fn klp_object_name<'a>(obj: Object) -> Option<&'a [u8]> {
    obj.is_module().then(|| obj.display_name().as_bytes())
}

/// The identity of a func for [`replace`] (its object is compared separately).
fn klp_func_ref<'a>(func: Func) -> KlpFuncRef<'a> {
    KlpFuncRef {
        objname: None,
        old_name: func.name().as_bytes(),
        old_sympos: func.old_sympos() as usize,
    }
}

/// The object of `patch` that patches the same object as `old_obj`.
fn klp_find_object(guard: &KlpLocked, patch: Patch, old_obj: Object) -> Option<Object> {
    patch
        .objects(guard)
        .find(|&obj| replace::klp_is_same_object(klp_object_name(old_obj), klp_object_name(obj)))
}

/// `kstrdup()` of a name, null for null.
fn klp_strdup(name: *const c_char) -> Result<*const c_char> {
    if name.is_null() {
        return Ok(name);
    }
    // SAFETY: `name` is a C string of a patch module.
    let copy = unsafe { bindings::kstrdup(name, bindings::GFP_KERNEL) };
    if copy.is_null() {
        Err(ENOMEM)
    } else {
        Ok(copy)
    }
}

/// Allocates an object for the nops of an object that `patch` does not patch.
fn klp_alloc_object_dynamic(
    guard: &KlpLocked,
    name: *const c_char,
    patch: Patch,
) -> Result<Object> {
    let raw = klp_alloc_zeroed::<bindings::klp_object>()?;
    // SAFETY: `raw` is a fresh, zeroed, non-null object that the core owns until released.
    let obj = unsafe { Object::from_entry(raw) };
    match klp_strdup(name) {
        Ok(copy) => obj.set_name(guard, copy),
        Err(e) => {
            // SAFETY: `raw` is unused.
            unsafe { klp_free_zeroed(raw) };
            return Err(e);
        }
    }
    klp_init_object_early(patch, obj);
    obj.set_dynamic(guard, true);
    Ok(obj)
}

/// Allocates a nop func that makes `old_func`'s function run its original code.
fn klp_alloc_func_nop(guard: &KlpLocked, old_func: Func, obj: Object) -> Result {
    let raw = klp_alloc_zeroed::<bindings::klp_func>()?;
    // SAFETY: `raw` is a fresh, zeroed, non-null func that the core owns until released.
    let func = unsafe { Func::from_entry(raw) };
    match klp_strdup(old_func.old_name()) {
        Ok(copy) => func.set_old_name(guard, copy),
        Err(e) => {
            // SAFETY: `raw` is unused.
            unsafe { klp_free_zeroed(raw) };
            return Err(e);
        }
    }
    klp_init_func_early(obj, func);
    // func->new_func is the same as func->old_func: both are set when the object is loaded,
    // see klp_init_object_loaded().
    func.set_old_sympos(guard, old_func.old_sympos());
    func.set_nop(guard, true);
    Ok(())
}

/// Adds nops to `patch` for the functions of `old_obj` that it does not patch, as
/// [`replace::klp_add_object_nops`] decides.
fn klp_add_object_nops(guard: &KlpLocked, patch: Patch, old_obj: Object) -> Result {
    let obj = match klp_find_object(guard, patch, old_obj) {
        Some(obj) => obj,
        None => klp_alloc_object_dynamic(guard, old_obj.name(), patch)?,
    };
    replace::klp_add_object_nops(
        old_obj.funcs_list(guard).map(|f| (klp_func_ref(f), f)),
        || obj.funcs_list(guard).map(klp_func_ref),
        |old_func| klp_alloc_func_nop(guard, old_func, obj),
    )?;
    Ok(())
}

/// Adds nop functions, which run the original code, for everything that the patches in use
/// patch and `patch` does not: the 'replace' mode.
fn klp_add_nops(guard: &KlpLocked, patch: Patch) -> Result {
    for old_patch in klp_for_each_patch(guard) {
        for old_obj in old_patch.objects(guard) {
            klp_add_object_nops(guard, patch, old_obj)?;
        }
    }
    Ok(())
}

/// Validates a func and adds its sysfs directory `<function,sympos>`.
fn klp_init_func(guard: &KlpLocked, obj: Object, func: Func) -> Result {
    if func.old_name().is_null() {
        return Err(EINVAL);
    }
    // NOPs get the address later: the patched module must be loaded, see
    // klp_init_object_loaded().
    if func.new_func().is_null() && !func.nop() {
        return Err(EINVAL);
    }
    if func.name().len() >= bindings::KSYM_NAME_LEN as usize {
        return Err(EINVAL);
    }
    // SAFETY: `stack_node` is owned by the func, not on any func_stack yet.
    unsafe { bindings::INIT_LIST_HEAD(func.stack_node()) };
    func.set_patched(guard, false);
    func.set_transition(guard, false);
    // A unique symbol (old_sympos 0) is the first occurrence: its directory says 1.
    let sympos = if func.old_sympos() != 0 {
        func.old_sympos()
    } else {
        1
    };
    // SAFETY: The func's kobject is initialised (`klp_init_func_early()`), its object's is added.
    unsafe { kobjects::kobject_add_func(func.kobj(), obj.kobj(), func.old_name(), sympos) }
}

/// The part of the initialisation that is done only when the object is loaded: relocations and
/// symbol addresses.
pub(crate) fn klp_init_object_loaded(guard: &KlpLocked, patch: Patch, obj: Object) -> Result {
    if obj.is_module() {
        // Only module-specific relocations here (.klp.rela.{module}.*): the vmlinux ones were
        // written when the patch module itself loaded.
        reloc::klp_apply_object_relocs(patch, obj)?;
    }
    let mut funcs = KVVec::new();
    for func in obj.funcs_list(guard) {
        funcs.push(func, GFP_KERNEL)?;
    }
    reloc::klp_find_object_symbols(obj.name(), &funcs, |func, old| {
        func.set_old_func(guard, old as *mut c_void);

        let mut size: c_ulong = 0;
        // SAFETY: Only an address is looked up; the size is written to a local.
        if unsafe { bindings::kallsyms_lookup_size_offset(old, &mut size, null_mut()) } == 0 {
            pr_err!("kallsyms size lookup failed for '{}'\n", func.name());
            return Err(ENOENT);
        }
        func.set_old_size(guard, size);

        if func.nop() {
            func.set_new_func(guard, func.old_func());
        }
        // SAFETY: As above.
        let found = unsafe {
            bindings::kallsyms_lookup_size_offset(func.new_func() as c_ulong, &mut size, null_mut())
        };
        if found == 0 {
            pr_err!(
                "kallsyms size lookup failed for '{}' replacement\n",
                func.name()
            );
            return Err(ENOENT);
        }
        func.set_new_size(guard, size);
        Ok(())
    })
}

/// Validates an object, adds its sysfs directory and initialises its funcs.
fn klp_init_object(guard: &KlpLocked, patch: Patch, obj: Object) -> Result {
    if obj.is_module() && obj.display_name().len() >= bindings::MODULE_NAME_LEN as usize {
        return Err(EINVAL);
    }
    obj.set_patched(guard, false);
    obj.set_mod(guard, null_mut());
    klp_find_object_module(guard, obj);

    // SAFETY: The object's kobject is initialised (`klp_init_object_early()`), its patch's is
    // added.
    unsafe {
        kobjects::kobject_add_name(obj.kobj(), patch.kobj(), obj.display_name().as_char_ptr())?
    };
    for func in obj.funcs_list(guard) {
        klp_init_func(guard, obj, func)?;
    }
    if obj.is_loaded() {
        klp_init_object_loaded(guard, patch, obj)?;
    }
    Ok(())
}

/// Links a func into its object and gives it its kobject.
fn klp_init_func_early(obj: Object, func: Func) {
    // SAFETY: The func is owned by the patch being initialised; its `node` is not linked.
    unsafe {
        bindings::kobject_init(func.kobj(), kobjects::klp_ktype_func());
        bindings::list_add_tail(func.node(), obj.func_list());
    }
}

/// Links an object into its patch and gives it its kobject.
fn klp_init_object_early(patch: Patch, obj: Object) {
    // SAFETY: The object is owned by the patch being initialised; its `node` is not linked.
    unsafe {
        bindings::INIT_LIST_HEAD(obj.func_list());
        bindings::kobject_init(obj.kobj(), kobjects::klp_ktype_object());
        bindings::list_add_tail(obj.node(), patch.obj_list());
    }
}

/// The lock class of the patches' free works.
// SAFETY: lockdep expects a zeroed static key.
static FREE_WORK_KEY: Static<bindings::lock_class_key> = unsafe { Static::zeroed() };

/// Initialises what the free paths rely on: lists, kobjects, the free work.
fn klp_init_patch_early(guard: &KlpLocked, patch: Patch) {
    // SAFETY: The patch module handed over its patch; nothing else uses it yet.
    unsafe {
        bindings::INIT_LIST_HEAD(patch.list());
        bindings::INIT_LIST_HEAD(patch.obj_list());
        bindings::kobject_init(patch.kobj(), kobjects::klp_ktype_patch());
    }
    patch.set_enabled(guard, false);
    patch.set_forced(guard, false);
    // SAFETY: `free_work` and `finish` are owned by the patch and not in use; the lock class
    // key is static.
    unsafe {
        bindings::init_work_with_key(
            patch.free_work(),
            Some(klp_free_patch_work_fn),
            false,
            c"klp_free_patch_work".as_ptr().cast(),
            FREE_WORK_KEY.get(),
        );
        bindings::init_completion(patch.finish());
    }
    for obj in patch.objects_static() {
        klp_init_object_early(patch, obj);
        for func in obj.funcs_static() {
            klp_init_func_early(obj, func);
        }
    }
}

/// Initialises a patch: its sysfs directory, its nops, its objects; links it into
/// `klp_patches`.
fn klp_init_patch(guard: &KlpLocked, patch: Patch) -> Result {
    // SAFETY: The patch's kobject is initialised (`klp_init_patch_early()`); the root exists.
    unsafe {
        kobjects::kobject_add_name(patch.kobj(), klp_root_kobj(), patch.name().as_char_ptr())?
    };
    if patch.replace() {
        klp_add_nops(guard, patch)?;
    }
    for obj in patch.objects(guard) {
        klp_init_object(guard, patch, obj)?;
    }
    // SAFETY: `list` is initialised and unlinked; `klp_patches` is changed under `klp_mutex`.
    unsafe { bindings::list_add_tail(patch.list(), klp_patches_head()) };
    Ok(())
}

/// Whether `module` is marked as a livepatch module (`MODULE_INFO(livepatch, "Y")`).
fn is_livepatch_module(module: *mut bindings::module) -> bool {
    // SAFETY: The caller checked that `module` is not null; it is the live calling module.
    unsafe { (*module).klp }
}

/// Enables a livepatch.
///
/// Initializes the data structures of the patch, creates its sysfs interface, performs the
/// symbol lookups and code relocations, registers the patched functions with ftrace and starts
/// the transition. Called from the livepatch module's init.
///
/// Returns 0 on success, otherwise a negative error code.
///
/// # Safety
///
/// `patch` is null or a `struct klp_patch` of the calling patch module, valid until the module
/// is removed.
#[no_mangle]
pub unsafe extern "C" fn klp_enable_patch(patch: *mut bindings::klp_patch) -> c_int {
    // SAFETY: The function's safety requirement.
    unsafe { klp_enable_patch_mode(patch, false) }
}

/// `klp_enable_patch()` for a patch that may also replace functions without an ftrace
/// location (Rust functions, C functions built without `__fentry__`): those are redirected
/// by a jump written at their entry, switched for all tasks at once under `stop_machine()`
/// when no task runs them (`jump.rs`). The other functions are patched as by
/// `klp_enable_patch()`. Declared in `<linux/livepatch_jump.h>`.
///
/// # Safety
///
/// As for [`klp_enable_patch`].
#[no_mangle]
pub unsafe extern "C" fn klp_enable_patch_jump(patch: *mut bindings::klp_patch) -> c_int {
    // SAFETY: The function's safety requirement.
    unsafe { klp_enable_patch_mode(patch, true) }
}

/// `klp_enable_patch()`, with jumps allowed or not.
///
/// # Safety
///
/// As for [`klp_enable_patch`].
unsafe fn klp_enable_patch_mode(patch: *mut bindings::klp_patch, jump: bool) -> c_int {
    // SAFETY: The function's safety requirement: the patch module's own data.
    let Some(patch) = (unsafe { Patch::from_raw(patch) }) else {
        return EINVAL.to_errno();
    };
    if patch.mod_().is_null() || patch.objs().is_null() {
        return EINVAL.to_errno();
    }
    if patch.objects_static().any(|obj| obj.funcs().is_null()) {
        return EINVAL.to_errno();
    }
    if !is_livepatch_module(patch.module()) {
        pr_err!(
            "module {} is not marked as a livepatch module\n",
            patch.name()
        );
        return EINVAL.to_errno();
    }
    if klp_root_kobj().is_null() {
        return ENODEV.to_errno();
    }
    if !crate::stack::klp_have_reliable_stack() {
        pr_warn!("This architecture doesn't have support for the livepatch consistency model.\n");
        pr_warn!("The livepatch transition may never complete.\n");
    }

    let guard = KlpMutexGuard::lock();
    if !state::klp_is_patch_compatible(&guard, patch) {
        pr_err!(
            "Livepatch patch ({}) is not compatible with the already installed livepatches.\n",
            patch.name()
        );
        return EINVAL.to_errno();
    }
    // SAFETY: The module is live: it is the one calling us from its init.
    if !unsafe { bindings::try_module_get(patch.module()) } {
        return ENODEV.to_errno();
    }

    klp_init_patch_early(&guard, patch);
    let allowed = if jump {
        crate::jump::klp_jump_allow(&guard, patch)
    } else {
        Ok(())
    };
    let result = allowed
        .and_then(|()| klp_init_patch(&guard, patch))
        .and_then(|()| enable::klp_enable_patch_locked(&guard, patch));
    match result {
        Ok(()) => 0,
        Err(e) => {
            klp_free_patch_start(&guard, patch);
            drop(guard);
            klp_free_patch_finish(patch);
            e.to_errno()
        }
    }
}

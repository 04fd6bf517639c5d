// SPDX-License-Identifier: GPL-2.0-or-later

//! Atomic replace (`core.c`): a cumulative patch (`replace`) takes over from every patch in
//! use.
//!
//! When it is initialised, it gets a nop func for every function that a patch in use
//! patches and that it does not (`klp_add_nops()`): a nop makes the function run its original
//! code, so during the transition each task runs either the old patches or the new one.
//! Once the transition to `PATCHED` completes, the replaced patches (those before it on
//! `klp_patches`) are disabled and unpatched, and the nops discarded: only the new patch is
//! left, and the functions it dropped run their original code.

use super::state::KLP_TRANSITION_PATCHED;
use core::ffi::c_int;

/// What identifies the function that a `klp_func` patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KlpFuncRef<'a> {
    /// The name of its object, `None` for vmlinux (`obj->name`).
    pub objname: Option<&'a [u8]>,
    /// The function's name (`old_name`).
    pub old_name: &'a [u8],
    /// Its position among the symbols of that name (`old_sympos`; 0 and 1 both mean the
    /// first).
    pub old_sympos: usize,
}

/// Whether two `old_sympos` name the same symbol: equal, or 0 and 1 (`klp_find_func()`).
pub fn klp_sympos_match(a: usize, b: usize) -> bool {
    a == b || (a == 0 && b == 1) || (a == 1 && b == 0)
}

/// Whether an object named `obj` (`None`: vmlinux) stands for the object `old_obj` of another
/// patch (`klp_find_object()`): both vmlinux, or modules of the same name.
pub fn klp_is_same_object(old_obj: Option<&[u8]>, obj: Option<&[u8]>) -> bool {
    match (old_obj, obj) {
        (Some(old), Some(new)) => old == new,
        (None, None) => true,
        _ => false,
    }
}

/// Whether `func` patches the function of `old_func`, both in the same object
/// (`klp_find_func()`): same name, matching positions.
pub fn klp_is_same_func(old_func: &KlpFuncRef<'_>, func: &KlpFuncRef<'_>) -> bool {
    old_func.old_name == func.old_name && klp_sympos_match(old_func.old_sympos, func.old_sympos)
}

/// Whether `func` patches the function of `old_func`, objects included.
pub fn klp_patches_same(old_func: &KlpFuncRef<'_>, func: &KlpFuncRef<'_>) -> bool {
    klp_is_same_object(old_func.objname, func.objname) && klp_is_same_func(old_func, func)
}

/// Decides the nops of a replace patch (`klp_add_nops()`).
///
/// `installed` are the funcs of the patches in use, in `klp_patches` order (patch, object,
/// func); `new` the funcs of the new patch, whose objects have distinct names (the kernel
/// refuses the patch otherwise). Sets `nops[i]` if `installed[i]` gets a nop: no func of
/// the new patch, nor a nop added before, patches its function. A nop takes the object,
/// name and position of its `installed` func. Returns the number of nops, `None` if `nops`
/// and `installed` differ in length.
///
/// # Examples
///
/// ```
/// use klp_model::replace::{klp_add_nops, KlpFuncRef};
/// let f = |name: &'static [u8], old_sympos| KlpFuncRef { objname: None, old_name: name, old_sympos };
/// let installed = [f(b"a", 0), f(b"b", 0), f(b"b", 1), f(b"c", 2)];
/// let new = [f(b"a", 1)];
/// let mut nops = [false; 4];
/// assert_eq!(klp_add_nops(&installed, &new, &mut nops), Some(2));
/// assert_eq!(nops, [false, true, false, true]);
/// ```
pub fn klp_add_nops(
    installed: &[KlpFuncRef<'_>],
    new: &[KlpFuncRef<'_>],
    nops: &mut [bool],
) -> Option<usize> {
    if nops.len() != installed.len() {
        return None;
    }
    let mut count = 0usize;
    for (i, old_func) in installed.iter().enumerate() {
        let patched = new.iter().any(|func| klp_patches_same(old_func, func));
        let nopped = || {
            let earlier = installed.iter().zip(nops.iter()).take(i);
            earlier
                .filter(|&(_, &nop)| nop)
                .any(|(nop, _)| klp_patches_same(old_func, nop))
        };
        let needs_nop = !patched && !nopped();
        if let Some(slot) = nops.get_mut(i) {
            *slot = needs_nop;
        }
        count = count.saturating_add(usize::from(needs_nop));
    }
    Some(count)
}

/// Whether completing a transition of a patch to `target` takes over from the patches
/// before it (`klp_complete_transition()`): a replace patch that is now patched.
pub fn klp_replaces_on_complete(replace: bool, target: c_int) -> bool {
    replace && target == KLP_TRANSITION_PATCHED
}

/// The patches that a completed replace patch disables and unpatches
/// (`klp_unpatch_replaced_patches()`): those before `new_patch` on `klp_patches`.
///
/// # Examples
///
/// ```
/// use klp_model::replace::klp_replaced_patches;
/// let replaced: Vec<_> = klp_replaced_patches(["a", "b", "new", "c"], &"new").collect();
/// assert_eq!(replaced, ["a", "b"]);
/// ```
pub fn klp_replaced_patches<'a, P: PartialEq + 'a>(
    patches: impl IntoIterator<Item = P> + 'a,
    new_patch: &'a P,
) -> impl Iterator<Item = P> + 'a {
    patches
        .into_iter()
        .take_while(move |patch| patch != new_patch)
}

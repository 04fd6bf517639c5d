// SPDX-License-Identifier: GPL-2.0-or-later

//! Atomic replace (`core.c`): a cumulative patch (`replace`) takes over from every patch in
//! use.
//!
//! When it is initialised, it gets a nop func for every function that a patch in use
//! patches and that it does not, object by object: a nop makes the function run its original
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

/// Adds the nops of a replace patch for the funcs of one object of a patch in use
/// (`klp_add_object_nops()`).
///
/// `old_funcs` are that object's funcs, each with what identifies it (its object is compared
/// separately, so `objname` is not read); `new_funcs()` lists the funcs of the new patch's
/// object of the same name, the nops added so far included. A func gets a nop (`add_nop`)
/// if no func of `new_funcs()` patches its function. Returns the number of nops added, or
/// the first error of `add_nop`, which stops the walk.
///
/// # Examples
///
/// ```
/// use klp_model::replace::{klp_add_object_nops, KlpFuncRef};
/// use std::cell::RefCell;
/// let f = |name: &'static [u8], old_sympos| KlpFuncRef { objname: None, old_name: name, old_sympos };
/// let new = RefCell::new(vec![f(b"a", 1)]);
/// let old = [f(b"a", 0), f(b"b", 0), f(b"b", 1), f(b"c", 2)];
/// let added = klp_add_object_nops(
///     old.iter().map(|r| (*r, *r)),
///     || new.borrow().clone().into_iter(),
///     |r| Ok::<(), ()>(new.borrow_mut().push(r)),
/// );
/// assert_eq!(added, Ok(2));
/// assert_eq!(new.borrow()[1..], [f(b"b", 0), f(b"c", 2)]);
/// ```
pub fn klp_add_object_nops<'a, T, E, I>(
    old_funcs: impl IntoIterator<Item = (KlpFuncRef<'a>, T)>,
    new_funcs: impl Fn() -> I,
    mut add_nop: impl FnMut(T) -> Result<(), E>,
) -> Result<usize, E>
where
    I: Iterator<Item = KlpFuncRef<'a>>,
{
    let mut count = 0usize;
    for (old_func, handle) in old_funcs {
        if !new_funcs().any(|func| klp_is_same_func(&old_func, &func)) {
            add_nop(handle)?;
            count = count.saturating_add(1);
        }
    }
    Ok(count)
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

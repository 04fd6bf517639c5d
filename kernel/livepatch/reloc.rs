// SPDX-License-Identifier: GPL-2.0-or-later

//! Symbol lookup and klp relocations (`core.c`).
//!
//! A klp relocation section `.klp.rela.<objname>.<section>` of a patch module refers to
//! symbols `.klp.sym.<objname>.<symname>,<sympos>` (`SHN_LIVEPATCH`) that are resolved with
//! kallsyms, then applied by the architecture's `apply_relocate_add()`:
//!
//! 1. for vmlinux, when the patch module itself loads (the module loader calls
//!    [`klp_apply_section_relocs`]), so that its init can use unexported vmlinux symbols;
//! 2. for a module, when that module loads, or is already loaded when the patch module loads
//!    ([`klp_apply_object_relocs`]); and cleared again when it goes.

use crate::model::klp_sym::{klp_parse_rela_section, klp_parse_sym, KlpSym};
use crate::model::rust_sym::{klp_is_rust_path, klp_rust_path_matches};
use crate::objects::{c_str, Func, Object, Patch};
use core::ptr::null;
use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};
use kernel::ffi::{c_char, c_int, c_uint, c_ulong, c_void};
use kernel::prelude::*;
use kernel::str::BStr;

/// The state of a kallsyms search (`struct klp_find_arg`).
struct KlpFindArg<'a> {
    name: &'a [u8],
    /// Whether `name` is a Rust path, matched against the symbols' demangled paths.
    rust: bool,
    addr: c_ulong,
    count: c_ulong,
    pos: c_ulong,
    /// Whether the search is over (a walk of a module's symbols for many searches goes on).
    done: bool,
}

impl<'a> KlpFindArg<'a> {
    /// A search for the symbol `name` at position `pos` (0: the unique one).
    fn new(name: &'a [u8], pos: c_ulong) -> Self {
        KlpFindArg {
            name,
            rust: klp_is_rust_path(name),
            addr: 0,
            count: 0,
            pos,
            done: false,
        }
    }
}

/// Counts an occurrence of the searched symbol at `addr`; stops the search (returns 1) when
/// it is the one (`klp_match_callback()`).
///
/// # Safety
///
/// `data` points to the live `KlpFindArg` of [`klp_find_object_symbol`], not otherwise used
/// during the call (kallsyms passes it back so).
unsafe extern "C" fn klp_match_callback(data: *mut c_void, addr: c_ulong) -> c_int {
    // SAFETY: `data` is the `KlpFindArg` of `klp_find_object_symbol()`.
    c_int::from(klp_match(
        unsafe { &mut *data.cast::<KlpFindArg<'_>>() },
        addr,
    ))
}

/// Counts an occurrence at `addr`; whether the search for it is over: the symbol is found at
/// the desired position, or an undefined position met a second occurrence.
fn klp_match(args: &mut KlpFindArg<'_>, addr: c_ulong) -> bool {
    args.addr = addr;
    args.count += 1;
    (args.pos != 0 && args.count == args.pos) || (args.pos == 0 && args.count > 1)
}

/// [`klp_match_callback`] for a symbol of a module's kallsyms, if it has the searched name
/// (`klp_find_callback()`).
///
/// # Safety
///
/// As [`klp_match_callback`]; `name` is a C string.
unsafe extern "C" fn klp_find_callback(
    data: *mut c_void,
    name: *const c_char,
    addr: c_ulong,
) -> c_int {
    // SAFETY: `data` is the `KlpFindArg` of `klp_find_object_symbol()`; kallsyms passes a
    // symbol name.
    let matches = unsafe {
        let (args, name) = (&*data.cast::<KlpFindArg<'_>>(), c_str(name).as_bytes());
        if args.rust {
            klp_rust_path_matches(name, args.name)
        } else {
            args.name == name
        }
    };
    if !matches {
        return 0;
    }
    // SAFETY: As above.
    unsafe { klp_match_callback(data, addr) }
}

/// The address of symbol `name` at position `sympos` (0: the unique one) in `objname`
/// (null: vmlinux). A `name` with `::` is the path of a Rust function (`model::rust_sym`).
pub(crate) fn klp_find_object_symbol(
    objname: *const c_char,
    name: *const c_char,
    sympos: c_ulong,
) -> Result<c_ulong> {
    // SAFETY: Both are C strings of the patch module (or of the core's copies).
    let name_str = unsafe { c_str(name) };
    let mut args = KlpFindArg::new(name_str.as_bytes(), sympos);
    let rust = args.rust;
    let data: *mut c_void = (&mut args as *mut KlpFindArg<'_>).cast();
    // SAFETY: The callbacks get `data`, a live `KlpFindArg`, during the calls only.
    unsafe {
        if objname.is_null() && rust {
            bindings::kallsyms_on_each_symbol(Some(klp_find_callback), data);
        } else if objname.is_null() {
            bindings::kallsyms_on_each_match_symbol(Some(klp_match_callback), name, data);
        } else {
            bindings::module_kallsyms_on_each_symbol(objname, Some(klp_find_callback), data);
        }
    }
    // SAFETY: As above.
    unsafe { klp_found(objname, &args) }
}

/// The address that the search `args` for a symbol of `objname` found, or the C core's log
/// line for what went wrong.
///
/// # Safety
///
/// `objname` is null or a C string.
unsafe fn klp_found(objname: *const c_char, args: &KlpFindArg<'_>) -> Result<c_ulong> {
    let (name_str, sympos) = (BStr::from_bytes(args.name), args.pos);
    let objname_str = if objname.is_null() {
        kernel::c_str!("vmlinux")
    } else {
        // SAFETY: The function's safety requirement.
        unsafe { c_str(objname) }
    };

    // An address must be found; with sympos 0 the symbol must be unique, otherwise the count
    // must reach sympos.
    if args.addr == 0 {
        pr_err!("symbol '{}' not found in symbol table\n", name_str);
    } else if args.count > 1 && sympos == 0 {
        // The C core prints "(null)" for vmlinux here.
        if objname.is_null() {
            pr_err!(
                "unresolvable ambiguity for symbol '{}' in object '(null)'\n",
                name_str
            );
        } else {
            pr_err!(
                "unresolvable ambiguity for symbol '{}' in object '{}'\n",
                name_str,
                objname_str
            );
        }
    } else if sympos != args.count && sympos > 0 {
        pr_err!(
            "symbol position {} for symbol '{}' in object '{}' not found\n",
            sympos,
            name_str,
            objname_str
        );
    } else {
        return Ok(args.addr);
    }
    Err(EINVAL)
}

/// The searches of the symbols of one module, sorted by name, for one walk of its symbols.
struct KlpFindMany<'a> {
    args: KVVec<KlpFindArg<'a>>,
    /// Indices into `args`, by name.
    order: KVVec<usize>,
}

/// [`klp_match`] for every search of the symbol `name` at `addr` that is not over.
///
/// # Safety
///
/// `data` points to the live `KlpFindMany` of [`klp_find_module_symbols`], not otherwise
/// used during the call; `name` is a C string.
unsafe extern "C" fn klp_find_many_callback(
    data: *mut c_void,
    name: *const c_char,
    addr: c_ulong,
) -> c_int {
    // SAFETY: The function's safety requirement.
    let (many, name) = unsafe { (&mut *data.cast::<KlpFindMany<'_>>(), c_str(name).as_bytes()) };
    let KlpFindMany { args, order } = many;
    let name_of = |i: usize| args.get(i).map_or(&[][..], |a| a.name);
    let first = order.partition_point(|&i| name_of(i) < name);
    for &i in order.iter().skip(first) {
        let Some(arg) = args.get_mut(i) else { break };
        if arg.name != name {
            break;
        }
        if !arg.done {
            arg.done = klp_match(arg, addr);
        }
    }
    0
}

/// Calls `each` with each of `funcs` and the address of its old function (`old_name` at
/// `old_sympos`, as [`klp_find_object_symbol`] finds it) in `objname`, in order, until one is
/// not found (logged as there) or `each` fails. The symbols of a module are found with one walk
/// of its symbols instead of one per func; a Rust path, or a symbol of vmlinux, alone.
pub(crate) fn klp_find_object_symbols(
    objname: *const c_char,
    funcs: &[Func],
    mut each: impl FnMut(Func, c_ulong) -> Result,
) -> Result {
    if objname.is_null() {
        for &func in funcs {
            each(
                func,
                klp_find_object_symbol(objname, func.old_name(), func.old_sympos())?,
            )?;
        }
        return Ok(());
    }
    let mut many = KlpFindMany {
        args: KVVec::with_capacity(funcs.len(), GFP_KERNEL)?,
        order: KVVec::with_capacity(funcs.len(), GFP_KERNEL)?,
    };
    for (i, func) in funcs.iter().enumerate() {
        let arg = KlpFindArg::new(func.name().as_bytes(), func.old_sympos());
        if !arg.rust {
            many.order.push(i, GFP_KERNEL)?;
        }
        many.args.push(arg, GFP_KERNEL)?;
    }
    let KlpFindMany { args, order } = &mut many;
    order.sort_unstable_by(|&a, &b| args[a].name.cmp(args[b].name));
    let data: *mut c_void = (&mut many as *mut KlpFindMany<'_>).cast();
    // SAFETY: The callback gets `data`, a live `KlpFindMany`, during the call only.
    unsafe {
        bindings::module_kallsyms_on_each_symbol(objname, Some(klp_find_many_callback), data)
    };
    for (arg, &func) in many.args.iter().zip(funcs) {
        let addr = if arg.rust {
            klp_find_object_symbol(objname, func.old_name(), func.old_sympos())?
        } else {
            // SAFETY: `objname` is a C string (a module's name).
            unsafe { klp_found(objname, arg)? }
        };
        each(func, addr)?;
    }
    Ok(())
}

/// A NUL-terminated copy of `bytes` in `buf`.
fn c_copy<'a>(buf: &'a mut [u8], bytes: &[u8]) -> Result<*const c_char> {
    let dst = buf.get_mut(..=bytes.len()).ok_or(EINVAL)?;
    let (last, head) = dst.split_last_mut().ok_or(EINVAL)?;
    head.copy_from_slice(bytes);
    *last = 0;
    Ok(dst.as_ptr().cast())
}

/// Resolves the `SHN_LIVEPATCH` symbols that the klp relocation section `relasec` uses.
///
/// # Safety
///
/// The section headers, symbol table and string table are those of a loading or loaded
/// livepatch module, and `symndx` indexes its symbol table section.
unsafe fn klp_resolve_symbols(
    sechdrs: *mut bindings::Elf64_Shdr,
    strtab: *const c_char,
    symndx: c_uint,
    relasec: *mut bindings::Elf64_Shdr,
    sec_objname: &[u8],
) -> Result {
    let sec_vmlinux = sec_objname == b"vmlinux";
    // SAFETY: The function's safety requirement: valid, loaded ELF sections.
    let (relas, count, symtab) = unsafe {
        let relas = (*relasec).sh_addr as *const bindings::Elf64_Rela;
        let count = (*relasec).sh_size as usize / core::mem::size_of::<bindings::Elf64_Rela>();
        let symtab = (*sechdrs.add(symndx as usize)).sh_addr as *mut bindings::Elf64_Sym;
        (relas, count, symtab)
    };
    let mut objname_buf = [0u8; 56];
    let mut name_buf = [0u8; bindings::KSYM_NAME_LEN as usize];
    for i in 0..count {
        // SAFETY: `i` is below the number of relocations; each refers to a symbol of the table.
        let (sym, sym_name) = unsafe {
            let sym = symtab.add(((*relas.add(i)).r_info >> 32) as usize);
            (sym, c_str(strtab.add((*sym).st_name as usize)))
        };
        // SAFETY: `sym` is a symbol of the table.
        if u32::from(unsafe { (*sym).st_shndx }) != bindings::SHN_LIVEPATCH {
            pr_err!("symbol {} is not marked as a livepatch symbol\n", sym_name);
            return Err(EINVAL);
        }
        let Some(KlpSym {
            objname,
            name,
            sympos,
        }) = klp_parse_sym(sym_name.as_bytes())
        else {
            pr_err!("symbol {} has an incorrectly formatted name\n", sym_name);
            return Err(EINVAL);
        };
        let sym_vmlinux = objname == b"vmlinux";
        let name_ptr = c_copy(&mut name_buf, name)?;
        // Module-specific klp rela sections must not reference vmlinux symbols: that prevents
        // ordering issues with module special section initializations. Such symbols are
        // presumably exported, and normal relas can be used instead.
        if !sec_vmlinux && sym_vmlinux {
            // SAFETY: `name_ptr` is the NUL-terminated copy just made.
            pr_err!(
                "invalid access to vmlinux symbol '{}' from module-specific livepatch relocation section\n",
                unsafe { c_str(name_ptr) }
            );
            return Err(EINVAL);
        }
        let objname_ptr = if sym_vmlinux {
            null()
        } else {
            c_copy(&mut objname_buf, objname)?
        };
        let addr = klp_find_object_symbol(objname_ptr, name_ptr, sympos as c_ulong)?;
        // SAFETY: `sym` is a symbol of the loaded module, written before the relocation.
        unsafe { (*sym).st_value = addr as u64 };
    }
    Ok(())
}

/// Writes (or clears) the klp relocation section `secndx` if it is for `objname` (null:
/// vmlinux).
///
/// # Safety
///
/// As [`klp_resolve_symbols`]; `secndx` is a klp relocation section of the module `pmod`.
unsafe fn klp_write_section_relocs(
    pmod: *mut bindings::module,
    sechdrs: *mut bindings::Elf64_Shdr,
    shstrtab: *const c_char,
    strtab: *const c_char,
    symndx: c_uint,
    secndx: c_uint,
    objname: *const c_char,
    apply: bool,
) -> Result {
    // SAFETY: The function's safety requirement.
    let (sec, sec_name) = unsafe {
        let sec = sechdrs.add(secndx as usize);
        (sec, c_str(shstrtab.add((*sec).sh_name as usize)))
    };
    let Some(sec_objname) = klp_parse_rela_section(sec_name.as_bytes()) else {
        pr_err!("section {} has an incorrectly formatted name\n", sec_name);
        return Err(EINVAL);
    };
    let target = if objname.is_null() {
        b"vmlinux".as_slice()
    } else {
        // SAFETY: A C string of the patch module.
        unsafe { c_str(objname) }.as_bytes()
    };
    if target != sec_objname {
        return Ok(());
    }
    // SAFETY: The function's safety requirement.
    unsafe {
        if apply {
            klp_resolve_symbols(sechdrs, strtab, symndx, sec, sec_objname)?;
            to_result(bindings::apply_relocate_add(
                sechdrs, strtab, symndx, secndx, pmod,
            ))
        } else {
            bindings::clear_relocate_add(sechdrs, strtab, symndx, secndx, pmod);
            Ok(())
        }
    }
}

/// Writes the klp relocation section `secndx` of the loading patch module `pmod` if it is for
/// `objname`. Called by the module loader for the vmlinux relocations.
///
/// # Safety
///
/// The arguments describe a loading livepatch module, as the module loader passes them.
#[no_mangle]
pub unsafe extern "C" fn klp_apply_section_relocs(
    pmod: *mut bindings::module,
    sechdrs: *mut bindings::Elf64_Shdr,
    shstrtab: *const c_char,
    strtab: *const c_char,
    symndx: c_uint,
    secndx: c_uint,
    objname: *const c_char,
) -> c_int {
    // SAFETY: The function's safety requirement.
    let result = unsafe {
        klp_write_section_relocs(
            pmod, sechdrs, shstrtab, strtab, symndx, secndx, objname, true,
        )
    };
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Writes or clears every klp relocation section of the patch module for `obj`.
fn klp_write_object_relocs(patch: Patch, obj: Object, apply: bool) -> Result {
    let pmod = patch.module();
    // SAFETY: A livepatch module keeps its ELF information (`klp_info`) and symbol table while
    // loaded.
    unsafe {
        let info = (*pmod).klp_info;
        let strtab = (*pmod).core_kallsyms.strtab;
        for i in 1..c_uint::from((*info).hdr.e_shnum) {
            let sec = (*info).sechdrs.add(i as usize);
            if (*sec).sh_flags & u64::from(bindings::SHF_RELA_LIVEPATCH) == 0 {
                continue;
            }
            klp_write_section_relocs(
                pmod,
                (*info).sechdrs,
                (*info).secstrings,
                strtab,
                (*info).symndx,
                i,
                obj.name(),
                apply,
            )?;
        }
    }
    Ok(())
}

/// Applies the patch module's relocations for the module object `obj`.
pub(crate) fn klp_apply_object_relocs(patch: Patch, obj: Object) -> Result {
    klp_write_object_relocs(patch, obj, true)
}

/// Clears the patch module's relocations for the module object `obj`.
pub(crate) fn klp_clear_object_relocs(patch: Patch, obj: Object) {
    // Clearing cannot fail but for malformed sections, which applying refused already.
    let _ = klp_write_object_relocs(patch, obj, false);
}

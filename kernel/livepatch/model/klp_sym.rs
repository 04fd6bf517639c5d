// SPDX-License-Identifier: GPL-2.0-or-later

//! The names of klp relocation sections and of their symbols.
//!
//! A livepatch module's relocation section `.klp.rela.<objname>.<section>` names the object
//! it applies to; its symbols are `.klp.sym.<objname>.<symname>,<sympos>`. The C core reads
//! them with `sscanf(name, ".klp.rela.%55[^.]", ...)` and
//! `sscanf(name, ".klp.sym.%55[^.].%511[^,],%lu", ...)`; these parsers accept exactly what
//! those calls accept: at most 55 bytes of object name (`MODULE_NAME_LEN` - 1 at its
//! smallest) and 511 of symbol name (`KSYM_NAME_LEN` - 1), a decimal position.

/// The longest object name, as the `%55[^.]` conversion reads it.
pub const KLP_OBJNAME_MAX: usize = 55;
/// The longest symbol name, as the `%511[^,]` conversion reads it.
pub const KLP_SYMNAME_MAX: usize = 511;

/// A parsed `.klp.sym.<objname>.<name>,<sympos>` symbol name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlpSym<'a> {
    /// The object holding the symbol: `vmlinux` or a module name.
    pub objname: &'a [u8],
    /// The symbol's name.
    pub name: &'a [u8],
    /// Its position among the symbols of that name in the object (0: the unique one).
    pub sympos: u64,
}

/// Reads a `%N[^stop]` conversion: 1 to `max` bytes other than `stop`.
fn scan_set(s: &[u8], stop: u8, max: usize) -> Option<(&[u8], &[u8])> {
    let len = s.iter().take(max).take_while(|&&b| b != stop).count();
    if len == 0 {
        return None;
    }
    Some(s.split_at(len))
}

/// Matches the literal byte `lit` at the start of `s`.
fn scan_lit(s: &[u8], lit: u8) -> Option<&[u8]> {
    match s.split_first() {
        Some((&b, rest)) if b == lit => Some(rest),
        _ => None,
    }
}

/// Reads a `%lu` conversion as the kernel's `vsscanf()` does: leading white space, an
/// optional `+`, decimal digits (wrapping on overflow); the rest of the string is ignored.
fn scan_ulong(s: &[u8]) -> Option<u64> {
    let s = match s.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(start) => s.get(start..)?,
        None => return None,
    };
    let s = scan_lit(s, b'+').unwrap_or(s);
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    Some(s.get(..digits)?.iter().fold(0u64, |n, &d| {
        n.wrapping_mul(10)
            .wrapping_add(u64::from(d.wrapping_sub(b'0')))
    }))
}

/// Parses a klp symbol name; `None` if `sscanf()` would not convert all three fields.
///
/// # Examples
///
/// ```
/// use klp_model::klp_sym::{klp_parse_sym, KlpSym};
/// assert_eq!(
///     klp_parse_sym(b".klp.sym.vmlinux.saved_command_line,0"),
///     Some(KlpSym { objname: b"vmlinux", name: b"saved_command_line", sympos: 0 })
/// );
/// assert_eq!(klp_parse_sym(b".klp.sym.vmlinux.no_position"), None);
/// ```
pub fn klp_parse_sym(name: &[u8]) -> Option<KlpSym<'_>> {
    let rest = name.strip_prefix(b".klp.sym.")?;
    let (objname, rest) = scan_set(rest, b'.', KLP_OBJNAME_MAX)?;
    let rest = scan_lit(rest, b'.')?;
    let (symname, rest) = scan_set(rest, b',', KLP_SYMNAME_MAX)?;
    let rest = scan_lit(rest, b',')?;
    let sympos = scan_ulong(rest)?;
    Some(KlpSym {
        objname,
        name: symname,
        sympos,
    })
}

/// Parses a klp relocation section name; returns the object it is for, `None` if
/// `sscanf()` would not convert it.
///
/// # Examples
///
/// ```
/// use klp_model::klp_sym::klp_parse_rela_section;
/// assert_eq!(klp_parse_rela_section(b".klp.rela.vmlinux..text"), Some(&b"vmlinux"[..]));
/// assert_eq!(klp_parse_rela_section(b".rela.text"), None);
/// ```
pub fn klp_parse_rela_section(name: &[u8]) -> Option<&[u8]> {
    let rest = name.strip_prefix(b".klp.rela.")?;
    scan_set(rest, b'.', KLP_OBJNAME_MAX).map(|(objname, _)| objname)
}

// SPDX-License-Identifier: GPL-2.0-or-later

//! Rust functions named by their path.
//!
//! The kernel's Rust code is mangled with the v0 scheme (`-Csymbol-mangling-version=v0`): a
//! free function `klp::sysfs::enabled_show` of the crate `klp` is the symbol
//! `_RNvNtCs<hash>_3klp5sysfs12enabled_show`, whose crate hash a patch author cannot know in
//! advance. A func whose `old_name` contains `::` names a Rust function by its path instead,
//! and the core looks for the symbol whose demangled path it is. Only plain paths are matched:
//! a crate root and value or type namespaces (`C`, `Nv`, `Nt`), not impls, generics or
//! closures.

/// Whether `name` (an `old_name`) is a Rust path rather than a symbol name.
pub fn klp_is_rust_path(name: &[u8]) -> bool {
    name.windows(2).any(|w| w == b"::")
}

/// Reads a decimal number at the start of `s`.
fn number(s: &[u8]) -> Option<(usize, &[u8])> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let (num, rest) = s.split_at(digits);
    let value = num.iter().try_fold(0usize, |acc, &d| {
        acc.checked_mul(10)?
            .checked_add(usize::from(d.wrapping_sub(b'0')))
    })?;
    Some((value, rest))
}

/// Reads a v0 `<identifier>` (a decimal length, an optional `_` separator, the bytes) at the
/// start of `s`. Punycode identifiers (`u` prefix) are not read.
fn identifier(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = number(s)?;
    let rest = rest.strip_prefix(b"_").unwrap_or(rest);
    (len <= rest.len()).then(|| rest.split_at(len))
}

/// Whether the symbol `symbol` is the v0 mangling of the Rust path `path` (`crate::a::f`),
/// ignoring the crate's disambiguator and a `.llvm.<n>` suffix of LLVM's.
///
/// # Examples
///
/// ```
/// use klp_model::rust_sym::klp_rust_path_matches;
/// let sym = b"_RNvNtCsfCPTsZF0HtD_3klp5sysfs12enabled_show";
/// assert!(klp_rust_path_matches(sym, b"klp::sysfs::enabled_show"));
/// assert!(!klp_rust_path_matches(sym, b"klp::sysfs::enabled"));
/// assert!(!klp_rust_path_matches(sym, b"klp::enabled_show"));
/// assert!(!klp_rust_path_matches(sym, b"klp:sysfs:enabled_show"));
/// assert!(!klp_rust_path_matches(sym, b"klp::sysfs::::enabled_show"));
/// assert!(!klp_rust_path_matches(sym, b"klp::sysfs::enabled_show::"));
/// assert!(klp_rust_path_matches(b"_RNvCs1234_6target6answer.llvm.42", b"target::answer"));
/// ```
pub fn klp_rust_path_matches(symbol: &[u8], path: &[u8]) -> bool {
    let symbol = match symbol.windows(6).position(|w| w == b".llvm.") {
        Some(end) => symbol.get(..end).unwrap_or(symbol),
        None => symbol,
    };
    let Some(mut s) = symbol.strip_prefix(b"_R") else {
        return false;
    };
    // One `N<namespace>` per path segment after the crate, outermost last.
    let mut nested = 0usize;
    while let Some(rest) = s.strip_prefix(b"N") {
        match rest.split_first() {
            Some((b'v' | b't', rest)) => s = rest,
            _ => return false,
        }
        nested = nested.wrapping_add(1);
    }
    let Some(rest) = s.strip_prefix(b"C") else {
        return false;
    };
    s = rest;
    // The crate's disambiguator: `s<base-62>_`.
    if let Some(rest) = s.strip_prefix(b"s") {
        let Some(end) = rest.iter().position(|&b| b == b'_') else {
            return false;
        };
        s = rest.get(end.wrapping_add(1)..).unwrap_or_default();
    }
    // The path's segments, separated by `::` exactly: `a:b`, `a::::b` or `a::` is no path.
    let mut path = Some(path);
    for _ in 0..=nested {
        let (Some((ident, rest)), Some(p)) = (identifier(s), path) else {
            return false;
        };
        let (segment, more) = match p.windows(2).position(|w| w == b"::") {
            Some(end) => {
                let (segment, more) = p.split_at(end);
                (segment, more.get(2..))
            }
            None => (p, None),
        };
        if segment != ident {
            return false;
        }
        path = more;
        s = rest;
    }
    s.is_empty() && path.is_none()
}

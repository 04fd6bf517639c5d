// SPDX-License-Identifier: GPL-2.0-or-later

//! The jump redirector's decisions (`model::jump`, `model::rust_sym`) against their
//! definitions: a jump lands where it was aimed, and a path matches exactly the v0 symbols
//! mangled from it.

use klp_model::jump::*;
use klp_model::rust_sym::*;
use proptest::prelude::*;

proptest! {
    /// Decoding the jump's displacement from the end of the instruction gives its target,
    /// whenever the target is within reach; out of reach there is no jump.
    #[test]
    fn jump_lands_on_target(at in 0usize..(1 << 47), delta in -(1i64 << 33)..(1i64 << 33)) {
        let to = (at as i64).saturating_add(delta).max(0) as usize;
        let disp = to as i128 - (at as i128 + KLP_JUMP_LEN as i128);
        match klp_jump_insn(at, to) {
            Some(bytes) => {
                prop_assert_eq!(bytes[0], 0xe9);
                let d = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
                prop_assert_eq!(at as i128 + KLP_JUMP_LEN as i128 + d as i128, to as i128);
            }
            None => prop_assert!(i32::try_from(disp).is_err()),
        }
    }

    /// The jump goes after an ENDBR (either, or its poison) and must fit in the function.
    #[test]
    fn jump_offset(first in any::<u32>(), size in 0usize..64) {
        let endbr = matches!(first, 0xfa1e_0ff3 | 0xfb1e_0ff3 | 0x001f_0f66);
        let offset = if endbr { 4 } else { 0 };
        let expected = if offset + KLP_JUMP_LEN <= size {
            Ok(offset)
        } else {
            Err(KlpJumpRefusal::TooShort)
        };
        prop_assert_eq!(klp_jump_offset(first, size), expected);
    }

    /// A path matches the symbol mangled from it, with any disambiguator and an LLVM suffix,
    /// and no symbol mangled from another path.
    #[test]
    fn rust_path(
        path in prop::collection::vec("[a-z_][a-z0-9_]{0,12}", 2..5),
        other in prop::collection::vec("[a-z_][a-z0-9_]{0,12}", 2..5),
        hash in "[0-9a-zA-Z]{1,16}",
        suffix in prop::option::of(0u32..1000),
    ) {
        let symbol = mangle(&path, &hash, suffix);
        let joined = path.join("::");
        prop_assert!(klp_is_rust_path(joined.as_bytes()));
        prop_assert!(klp_rust_path_matches(symbol.as_bytes(), joined.as_bytes()));
        prop_assert_eq!(
            klp_rust_path_matches(mangle(&other, &hash, suffix).as_bytes(), joined.as_bytes()),
            other == path
        );
        // A prefix or an extension of the path is another function.
        let shorter = path[..path.len() - 1].join("::");
        prop_assert!(!klp_rust_path_matches(symbol.as_bytes(), shorter.as_bytes()));
        let longer = format!("{joined}::f");
        prop_assert!(!klp_rust_path_matches(symbol.as_bytes(), longer.as_bytes()));
    }
}

/// The v0 mangling of the free function `path[0]::...::path[n-1]`: the function in the value
/// namespace, the modules between in the type namespace, the crate with disambiguator `hash`.
fn mangle(path: &[String], hash: &str, suffix: Option<u32>) -> String {
    let ident = |s: &str| {
        let sep = if s.starts_with('_') || s.starts_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        format!("{}{sep}{s}", s.len())
    };
    let mut symbol = String::from("_RNv");
    symbol.push_str(&"Nt".repeat(path.len() - 2));
    symbol.push_str(&format!("Cs{hash}_"));
    for seg in path {
        symbol.push_str(&ident(seg));
    }
    if let Some(n) = suffix {
        symbol.push_str(&format!(".llvm.{n}"));
    }
    symbol
}

#[test]
fn rust_path_of_this_kernel() {
    let sym = b"_RNvNtCsfCPTsZF0HtD_3klp5sysfs16stack_order_show";
    assert!(klp_rust_path_matches(sym, b"klp::sysfs::stack_order_show"));
    assert!(!klp_rust_path_matches(
        b"__pfx__RNvNtCsfCPTsZF0HtD_3klp5sysfs16stack_order_show",
        b"klp::sysfs::stack_order_show"
    ));
    assert!(!klp_rust_path_matches(
        b"stack_order_show",
        b"klp::sysfs::stack_order_show"
    ));
    assert!(!klp_is_rust_path(b"cmdline_proc_show"));
}

// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a patch of a function that does not exist, which the core refuses
//! when the module loads (what only the kernel can check).

use kernel::livepatch::{Livepatch, Object, Patch};

kernel::module_livepatch! {
    type: TestKlpRustMissingSymbol,
    name: "test_klp_rust_missing_symbol",
    author: "rust-klp",
    description: "Livepatch test in Rust: a missing symbol is refused",
    license: "GPL",
}

struct TestKlpRustMissingSymbol;

impl Livepatch for TestKlpRustMissingSymbol {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
        test_klp_rust_no_such_function => fn replacement() -> i32 { 0 }
    )])]);
}

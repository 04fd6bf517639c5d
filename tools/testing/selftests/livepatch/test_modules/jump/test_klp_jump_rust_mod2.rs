// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a second patch of test_klp_jump_rust_mod's function, to stack on it; a Rust patch of a Rust function of a Rust module, with the Rust
//! ABI, named by its path; the function has no ftrace location, so the patch is enabled with
//! jumps.

use kernel::livepatch::{Livepatch, Object, Patch};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: TestKlpJumpRustMod2,
    name: "test_klp_jump_rust_mod2",
    author: "rust-klp",
    description: "Livepatch test: a second patch of the same function, stacked",
    license: "GPL",
}

struct TestKlpJumpRustMod2;

impl Livepatch for TestKlpJumpRustMod2 {
    const PATCH: Patch = Patch::new(&[Object::module(
        c"test_klp_jump_target",
        &[kernel::klp_func!(
            "test_klp_jump_target::target_show" => rust fn show(m: &SeqFile, _delay_ms: u32) {
                kernel::seq_print!(m, "test_klp_jump_rust_mod2: this has been live patched\n");
            }
        )],
    )])
    .jump();
}

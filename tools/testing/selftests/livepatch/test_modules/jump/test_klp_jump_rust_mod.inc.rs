// SPDX-License-Identifier: GPL-2.0

// The body of test_klp_jump_rust_mod.rs and test_klp_jump_rust_mod2.rs: a Rust patch of the
// Rust function `target_show()` of the Rust module test_klp_jump_target, with the Rust ABI,
// named by its path; the function has no ftrace location, so the patch is enabled with jumps.
// The file shows "<module name>: this has been live patched".

use kernel::livepatch::{Livepatch, Object, Patch};
use kernel::seq_file::SeqFile;

/// Defines the patch module `$name` (type `$type`).
macro_rules! jump_rust_mod {
    ($type:ident, $name:tt) => {
        kernel::module_livepatch! {
            type: $type,
            name: $name,
            author: "rust-klp",
            description: "Livepatch test: a Rust function of a Rust module, patched with a jump",
            license: "GPL",
        }

        struct $type;

        impl Livepatch for $type {
            const PATCH: Patch = Patch::new(&[Object::module(
                c"test_klp_jump_target",
                &[kernel::klp_func!(
                    "test_klp_jump_target::target_show" => rust fn show(m: &SeqFile, _delay_ms: u32) {
                        kernel::seq_print!(m, "{}: this has been live patched\n", $name);
                    }
                )],
            )])
            .jump();
        }
    };
}

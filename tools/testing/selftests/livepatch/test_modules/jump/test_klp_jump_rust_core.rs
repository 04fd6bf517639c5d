// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a Rust patch of a Rust function of vmlinux, the Rust livepatch
//! core's own `stack_order` attribute (`klp::sysfs::stack_order_show()`, C ABI), which then
//! shows 42 for every patch. A fix of the core itself, without a reboot.

use kernel::bindings;
use kernel::ffi::c_char;
use kernel::livepatch::{Livepatch, Object, Patch, RawArg};

kernel::module_livepatch! {
    type: TestKlpJumpRustCore,
    name: "test_klp_jump_rust_core",
    author: "rust-klp",
    description: "Livepatch test: a Rust function of vmlinux, patched with a jump",
    license: "GPL",
}

struct TestKlpJumpRustCore;

impl Livepatch for TestKlpJumpRustCore {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
        "klp::sysfs::stack_order_show" => fn show(_kobj: RawArg, _attr: RawArg, buf: RawArg) -> isize {
            // SAFETY: `buf` is the page of a sysfs show(), as for the replaced function.
            unsafe {
                bindings::sysfs_emit(buf.addr() as *mut c_char, kernel::c_str!("42\n").as_char_ptr()) as isize
            }
        }
    )])])
    .jump();
}

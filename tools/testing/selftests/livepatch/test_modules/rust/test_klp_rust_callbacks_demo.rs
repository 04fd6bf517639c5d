// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: callbacks for vmlinux and two target modules, and a patched work
//! function in one of them, as `test_klp_callbacks_demo.c` does.

use kernel::livepatch::{Callbacks, KlpObject, Livepatch, Object, Patch, RawArg};
use kernel::prelude::*;

kernel::module_livepatch! {
    type: TestKlpRustCallbacksDemo,
    name: "test_klp_rust_callbacks_demo",
    author: "rust-klp",
    description: "Livepatch test in Rust: livepatch demo",
    license: "GPL",
}

struct TestKlpRustCallbacksDemo;

/// Logs each callback with its object, as `callback_info()` of the C test does.
struct LogCallbacks;

impl Callbacks for LogCallbacks {
    fn pre_patch(obj: &KlpObject) -> Result {
        pr_info!("pre_patch_callback: {}\n", obj);
        Ok(())
    }

    fn post_patch(obj: &KlpObject) {
        pr_info!("post_patch_callback: {}\n", obj);
    }

    fn pre_unpatch(obj: &KlpObject) {
        pr_info!("pre_unpatch_callback: {}\n", obj);
    }

    fn post_unpatch(obj: &KlpObject) {
        pr_info!("post_unpatch_callback: {}\n", obj);
    }
}

impl Livepatch for TestKlpRustCallbacksDemo {
    const PATCH: Patch = Patch::new(&[
        Object::vmlinux(&[]).callbacks::<LogCallbacks>(),
        Object::module(c"test_klp_callbacks_mod", &[]).callbacks::<LogCallbacks>(),
        Object::module(
            c"test_klp_callbacks_busy",
            &[kernel::klp_func!(
                busymod_work_func => fn patched_work_func(_work: RawArg) {
                    pr_info!("patched_work_func\n");
                }
            )],
        )
        .callbacks::<LogCallbacks>(),
    ]);
}

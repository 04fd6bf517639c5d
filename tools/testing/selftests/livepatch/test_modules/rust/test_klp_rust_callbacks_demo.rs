// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: callbacks for vmlinux and two target modules, and a patched work
//! function in one of them, as `test_klp_callbacks_demo.c` does.

use kernel::livepatch::{Callbacks, KlpObject, Livepatch, ModuleState, Object, Patch, RawArg};
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

fn callback_info(callback: &str, obj: &KlpObject) {
    match obj.module_state() {
        Some(state) => pr_info!("{}: {} -> {}\n", callback, obj.name(), module_state(state)),
        None => pr_info!("{}: vmlinux\n", callback),
    }
}

fn module_state(state: ModuleState) -> &'static str {
    match state {
        ModuleState::Live => "[MODULE_STATE_LIVE] Normal state",
        ModuleState::Coming => "[MODULE_STATE_COMING] Full formed, running module_init",
        ModuleState::Going => "[MODULE_STATE_GOING] Going away",
        ModuleState::Unformed => "[MODULE_STATE_UNFORMED] Still setting it up",
    }
}

impl Callbacks for LogCallbacks {
    fn pre_patch(obj: &KlpObject) -> Result {
        callback_info("pre_patch_callback", obj);
        Ok(())
    }

    fn post_patch(obj: &KlpObject) {
        callback_info("post_patch_callback", obj);
    }

    fn pre_unpatch(obj: &KlpObject) {
        callback_info("pre_unpatch_callback", obj);
    }

    fn post_unpatch(obj: &KlpObject) {
        callback_info("post_unpatch_callback", obj);
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


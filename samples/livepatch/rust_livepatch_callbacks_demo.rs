// SPDX-License-Identifier: GPL-2.0

//! Livepatch callbacks in Rust, on the targets of `livepatch-callbacks-demo.c`: vmlinux,
//! `livepatch_callbacks_mod` (loaded before or after the patch) and
//! `livepatch_callbacks_busymod`, whose work function the patch replaces.
//!
//! Example:
//!
//! ```text
//! $ insmod livepatch-callbacks-mod.ko
//! $ insmod rust_livepatch_callbacks_demo.ko
//! rust_livepatch_callbacks_demo: preparing livepatch_callbacks_mod -> [MODULE_STATE_LIVE] Normal state
//! rust_livepatch_callbacks_demo: the patch is in effect in vmlinux
//! $ insmod livepatch-callbacks-busymod.ko
//! rust_livepatch_callbacks_demo: preparing livepatch_callbacks_busymod -> [MODULE_STATE_COMING] ...
//! rust_livepatch_callbacks_demo: patched_work_func: the patched work runs
//! $ echo 0 > /sys/kernel/livepatch/rust_livepatch_callbacks_demo/enabled
//! rust_livepatch_callbacks_demo: the patch leaves vmlinux
//! rust_livepatch_callbacks_demo: cleaned up after livepatch_callbacks_mod -> ...
//! ```

use kernel::livepatch::{Callbacks, KlpObject, Livepatch, Object, Patch, RawArg};
use kernel::prelude::*;

kernel::module_livepatch! {
    type: RustLivepatchCallbacksDemo,
    name: "rust_livepatch_callbacks_demo",
    author: "rust-klp",
    description: "Rust livepatch sample: callbacks",
    license: "GPL",
}

struct RustLivepatchCallbacksDemo;

/// For vmlinux: says when the patch takes effect and when it starts to leave.
struct Announce;

impl Callbacks for Announce {
    fn post_patch(obj: &KlpObject) {
        pr_info!("the patch is in effect in {}\n", obj);
    }

    fn pre_unpatch(obj: &KlpObject) {
        pr_info!("the patch leaves {}\n", obj);
    }
}

/// For the modules: would set up what the patched code needs before it runs, and tear it down
/// once no task runs it; `pre_patch` could refuse the patching (or the module's load) with an
/// error.
struct Setup;

impl Callbacks for Setup {
    fn pre_patch(obj: &KlpObject) -> Result {
        pr_info!("preparing {}\n", obj);
        Ok(())
    }

    fn post_unpatch(obj: &KlpObject) {
        pr_info!("cleaned up after {}\n", obj);
    }
}

impl Livepatch for RustLivepatchCallbacksDemo {
    const PATCH: Patch = Patch::new(&[
        Object::vmlinux(&[]).callbacks::<Announce>(),
        Object::module(c"livepatch_callbacks_mod", &[]).callbacks::<Setup>(),
        Object::module(
            c"livepatch_callbacks_busymod",
            &[kernel::klp_func!(
                busymod_work_func => fn patched_work_func(_work: RawArg) {
                    pr_info!("patched_work_func: the patched work runs\n");
                }
            )],
        )
        .callbacks::<Setup>(),
    ]);
}

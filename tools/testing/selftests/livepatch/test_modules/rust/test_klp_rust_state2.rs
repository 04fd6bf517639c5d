// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a cumulative patch that declares a system state at version 2, and
//! logs in its callbacks the version that the patches in use had set up, as
//! `test_klp_state*.c` do. With `test_klp_rust_state` (version 1), it checks
//! that a patch may take a state over at the same or a higher version only.

use kernel::livepatch::{Callbacks, KlpObject, Livepatch, Object, Patch, State};
use kernel::prelude::*;

kernel::module_livepatch! {
    type: TestKlpRustState2,
    name: "test_klp_rust_state2",
    author: "rust-klp",
    description: "Livepatch test in Rust: system state, version 2",
    license: "GPL",
}

/// The id of the state, shared by the two test modules.
const STATE_ID: u64 = 0x5253;

struct TestKlpRustState2;

/// Logs the previous version of the state before patching.
struct StateCallbacks;

impl Callbacks for StateCallbacks {
    fn pre_patch(obj: &KlpObject) -> Result {
        match obj.prev_state_version(STATE_ID) {
            Some(version) => pr_info!("pre_patch_callback: taking over state version {}\n", version),
            None => pr_info!("pre_patch_callback: setting up state version 2\n"),
        }
        Ok(())
    }

    fn post_unpatch(_obj: &KlpObject) {
        pr_info!("post_unpatch_callback: state version 2 released\n");
    }
}

impl Livepatch for TestKlpRustState2 {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[]).callbacks::<StateCallbacks>()])
        .replace()
        .states(&[State::new(STATE_ID, 2)]);
}

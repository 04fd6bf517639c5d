// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a cumulative patch that declares a system state at version 1, and
//! logs in its callbacks the version that the patches in use had set up, as
//! `test_klp_state*.c` do. With `test_klp_rust_state2` (version 2), it checks
//! that a patch may take a state over at the same or a higher version only.

use kernel::livepatch::{Callbacks, KlpObject, Livepatch, Object, Patch, State};
use kernel::prelude::*;

kernel::module_livepatch! {
    type: TestKlpRustState,
    name: "test_klp_rust_state",
    author: "rust-klp",
    description: "Livepatch test in Rust: system state, version 1",
    license: "GPL",
}

/// The id of the state, shared by the two test modules.
const STATE_ID: u64 = 0x5253;

struct TestKlpRustState;

/// Logs the previous version of the state before patching.
struct StateCallbacks;

impl Callbacks for StateCallbacks {
    fn pre_patch(obj: &KlpObject) -> Result {
        match obj.prev_state_version(STATE_ID) {
            Some(version) => pr_info!("pre_patch_callback: taking over state version {}\n", version),
            None => pr_info!("pre_patch_callback: setting up state version 1\n"),
        }
        Ok(())
    }

    fn post_unpatch(_obj: &KlpObject) {
        pr_info!("post_unpatch_callback: state version 1 released\n");
    }
}

impl Livepatch for TestKlpRustState {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[]).callbacks::<StateCallbacks>()])
        .replace()
        .states(&[State::new(STATE_ID, 1)]);
}

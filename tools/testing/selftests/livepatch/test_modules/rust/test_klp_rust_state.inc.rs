// SPDX-License-Identifier: GPL-2.0

// The body of test_klp_rust_state.rs and test_klp_rust_state2.rs, which differ in their name and
// in the version of the state they declare: `state_test!(Type, "name", version)`. The name is a
// `tt`: `module!` reads it as a string token, which a `literal` fragment would hide.

use kernel::livepatch::{Callbacks, KlpObject, Livepatch, Object, Patch, State};
use kernel::prelude::*;

/// The id of the state, shared by the two test modules.
const STATE_ID: u64 = 0x5253;

macro_rules! state_test {
    ($type:ident, $name:tt, $version:literal) => {
        kernel::module_livepatch! {
            type: $type,
            name: $name,
            author: "rust-klp",
            description: "Livepatch test in Rust: a cumulative patch with a system state",
            license: "GPL",
        }

        struct $type;

        /// Logs the version of the state that the patches in use set up, before patching.
        struct StateCallbacks;

        impl Callbacks for StateCallbacks {
            fn pre_patch(obj: &KlpObject) -> Result {
                match obj.prev_state_version(STATE_ID) {
                    Some(v) => pr_info!("pre_patch_callback: taking over state version {}\n", v),
                    None => pr_info!(
                        "pre_patch_callback: setting up state version {}\n",
                        $version
                    ),
                }
                Ok(())
            }

            fn post_unpatch(_obj: &KlpObject) {
                pr_info!(
                    "post_unpatch_callback: state version {} released\n",
                    $version
                );
            }
        }

        impl Livepatch for $type {
            const PATCH: Patch = Patch::new(&[Object::vmlinux(&[]).callbacks::<StateCallbacks>()])
                .replace()
                .states(&[State::new(STATE_ID, $version)]);
        }
    };
}

// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a cumulative patch that declares a system state at version 1, and
//! logs in its callbacks the version that the patches in use had set up, as `test_klp_state*.c`
//! do. With `test_klp_rust_state2` (version 2), it checks that a patch may take a state
//! over at the same or a higher version only.

include!("test_klp_rust_state.inc.rs");

state_test!(TestKlpRustState, "test_klp_rust_state", 1);

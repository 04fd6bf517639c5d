// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a second jump patch of the function test_klp_jump_rust_mod
//! patches, to stack on it (test_klp_jump_rust_mod.inc.rs).

include!("test_klp_jump_rust_mod.inc.rs");

jump_rust_mod!(TestKlpJumpRustMod2, "test_klp_jump_rust_mod2");

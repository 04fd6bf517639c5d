// SPDX-License-Identifier: GPL-2.0

//! Livepatch test in Rust: a Rust patch of a Rust function of a Rust module, with the Rust
//! ABI, named by its path; the function has no ftrace location, so the patch is enabled with
//! jumps (test_klp_jump_rust_mod.inc.rs).

include!("test_klp_jump_rust_mod.inc.rs");

jump_rust_mod!(TestKlpJumpRustMod, "test_klp_jump_rust_mod");

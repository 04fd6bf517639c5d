// SPDX-License-Identifier: GPL-2.0-or-later

//! The pure modules of the Rust livepatch core, `kernel/livepatch/model`, as a host crate.
//!
//! The kernel builds the same files as `pub mod model;` of its livepatch crate. This root
//! only gives them the kernel's conditions (`no_std`, `core` only) and re-exports them, so
//! that `klp_model::transition` here is `crate::model::transition` in the kernel. See the
//! documentation of `kernel/livepatch/model/mod.rs`.

#![no_std]

#[path = "../../../kernel/livepatch/model/mod.rs"]
mod model;

pub use model::*;

// SPDX-License-Identifier: GPL-2.0-or-later

//! The functional core of the livepatch core: its decisions and state machines, pure.
//!
//! Nothing here touches the kernel: no `kernel` crate, no `unsafe`, no allocation, only
//! `core`. The imperative shell around it (ftrace, kallsyms, kobjects, tasks, RCU, in the
//! other modules of the crate) reads the kernel's data, asks these modules what to do and
//! writes the answer back. Each module mirrors one piece of the C core of Linux 6.12:
//!
//! | module | what it decides | C it mirrors |
//! |---|---|---|
//! | [`state`] | the transition states and their C values | `livepatch.h` |
//! | [`func_stack`] | which function the ftrace handler runs | `patch.c` |
//! | [`transition`] | the per-task consistency model | `transition.c` |
//! | [`callbacks`] | when an object's callbacks run | `core.h` |
//! | [`states`] | whether a patch is compatible with the system states | `state.c` |
//! | [`replace`] | the nops that an atomic-replace patch needs | `core.c` |
//! | [`klp_sym`] | the names of klp relocation sections and symbols | `core.c` |
//! | [`rust_sym`] | which symbol a Rust path names | (none) |
//! | [`jump`] | where the jump redirector's `jmp` goes and its bytes | (none) |
//!
//! # Built twice
//!
//! This directory is compiled as a module and as a crate:
//!
//! - in the kernel, as `pub mod model;` of the livepatch crate (`#[path = "model/mod.rs"]` in
//!   `klp.rs`), with the kernel's rustc, flags and lints;
//! - on the host, by the Cargo package `crates/klp-model`, whose crate root
//!   (`crates/klp-model/src/lib.rs`) is `#![no_std]` and includes this file with
//!   `#[path = "../../../kernel/livepatch/model/mod.rs"] mod model;` and `pub use model::*;`.
//!   Its property tests (`crates/klp-model/tests/`) drive random operation sequences through
//!   these modules and check the invariants of the C core. Doc examples name the host crate,
//!   `klp_model`.
//!
//! C's `unsigned long` is `usize` here, as in the kernel's `ffi` crate (it is pointer-sized on
//! every Linux target); `int` and `unsigned int` are `core::ffi` types.
//!
//! The file is a module in both builds, never a crate root: crate-level attributes
//! (`#![no_std]`) belong to the including file, and the lints below are module-level, so
//! they hold in both builds. Because the file is named `mod.rs`, the submodules are found
//! next to it whatever path included it.

#![forbid(unsafe_code)]
#![deny(missing_docs, rust_2018_idioms, unreachable_pub)]
#![deny(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented,
    clippy::unreachable,
    clippy::unwrap_used
)]

pub mod callbacks;
pub mod func_stack;
pub mod jump;
pub mod klp_sym;
pub mod replace;
pub mod rust_sym;
pub mod state;
pub mod states;
pub mod transition;

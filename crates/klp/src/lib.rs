// SPDX-License-Identifier: GPL-2.0
//! `klp`: a userspace livepatch manager.
//!
//! It reads `/sys/kernel/livepatch` and `/proc/<pid>/task/<tid>/patch_state`
//! and `.../stack`, loads patch modules with finit_module(2), removes them with
//! delete_module(2), and explains transitions that do not finish; `klp build`
//! generates a patch module from a source diff.
//! See Documentation/livepatch/klp.rst.

pub mod blocking;
pub mod build;
pub mod cli;
pub mod commands;
pub mod compressed;
pub mod elf;
pub mod error;
pub mod gen;
pub mod info;
pub mod install;
pub mod kernel;
pub mod model;
pub mod stack;
pub mod tasks;
#[cfg(feature = "testkit")]
#[doc(hidden)]
pub mod testkit;

pub use cli::main_with;

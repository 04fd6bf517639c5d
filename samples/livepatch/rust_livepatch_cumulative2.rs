// SPDX-License-Identifier: GPL-2.0

//! Cumulative livepatches in Rust, patch 2 of 2: a `replace` patch of /proc/cmdline only: loaded over patch 1, it replaces it, and /proc/version runs its
//! original code again.
//!
//! A cumulative patch holds every fix to date: enabling it disables the patches in use
//! (atomic replace), and the functions they patched that it does not patch run their original
//! code again. Its state (id 1, version 2) lets a later cumulative patch take over only if it
//! keeps that state at version 2 or higher.
//!
//! ```text
//! $ insmod rust_livepatch_cumulative1.ko; cat /proc/cmdline /proc/version
//! cumulative patch 1
//! cumulative patch 1 fixed /proc/version too
//! $ insmod rust_livepatch_cumulative2.ko; cat /proc/cmdline /proc/version
//! cumulative patch 2
//! Linux version ...
//! ```

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, State};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: RustLivepatchCumulative2,
    name: "rust_livepatch_cumulative2",
    author: "rust-klp",
    description: "Rust livepatch sample: cumulative patch 2 of 2",
    license: "GPL",
}

struct RustLivepatchCumulative2;

impl Livepatch for RustLivepatchCumulative2 {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[kernel::klp_func!(
        cmdline_proc_show => fn cmdline(m: &SeqFile, _v: RawArg) -> i32 {
            kernel::seq_print!(m, "cumulative patch 2\n");
            0
        }
    )])])
    .replace()
    .states(&[State::new(1, 2)]);
}

// SPDX-License-Identifier: GPL-2.0
// expect: livepatch: a patch needs at least one object
//! Must not compile: a patch with no object.

// Each file imports the same names; only the error under test matters.
#![allow(unused_imports)]

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, State};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: Bad,
    name: "no_objects",
    author: "rust-klp",
    description: "a patch description the compiler refuses",
    license: "GPL",
}

struct Bad;

impl Livepatch for Bad {
    const PATCH: Patch = Patch::new(&[]);
}

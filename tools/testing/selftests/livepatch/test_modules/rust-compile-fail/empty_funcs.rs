// SPDX-License-Identifier: GPL-2.0
// expect: livepatch: an object that has no funcs and no callbacks patches nothing
//! Must not compile: an object with an empty function list and no callbacks.

// Each file imports the same names; only the error under test matters.
#![allow(unused_imports)]

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, State};
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: Bad,
    name: "empty_funcs",
    author: "rust-klp",
    description: "a patch description the compiler refuses",
    license: "GPL",
}

struct Bad;

impl Livepatch for Bad {
    const PATCH: Patch = Patch::new(&[Object::vmlinux(&[])]);
}

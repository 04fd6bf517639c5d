// SPDX-License-Identifier: GPL-2.0
// expect: the trait bound `&'static str: CField` is not satisfied
//! Must not compile: a C structure with a field that C cannot have written (a Rust reference).

// Each file imports the same names; only the error under test matters.
#![allow(unused_imports)]

use kernel::livepatch::{Livepatch, Object, Patch, RawArg, State};
use kernel::prelude::*;
use kernel::seq_file::SeqFile;

kernel::module_livepatch! {
    type: Bad,
    name: "c_struct_field",
    author: "rust-klp",
    description: "a patch description the compiler refuses",
    license: "GPL",
}

kernel::klp_c_struct! {
    struct Dummy {
        name: &'static str,
    }
}

struct Bad;

impl Livepatch for Bad {
    const PATCH: Patch = Patch::new(&[Object::module(
        c"livepatch_shadow_mod",
        &[kernel::klp_func!(dummy_free => fn free(d: KBox<Dummy>) { drop(d) })],
    )]);
}

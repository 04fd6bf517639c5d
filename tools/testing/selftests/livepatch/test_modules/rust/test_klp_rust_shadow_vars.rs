// SPDX-License-Identifier: GPL-2.0

//! Shadow variable test in Rust: the typed [`Shadow`] API over `klp_shadow_*()`, as
//! `test_klp_shadow_vars.c` exercises the C one. Each step logs what it saw.

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::livepatch::Shadow;
use kernel::prelude::*;

module! {
    type: TestKlpRustShadowVars,
    name: "test_klp_rust_shadow_vars",
    author: "rust-klp",
    description: "Livepatch test in Rust: shadow variables",
    license: "GPL",
}

/// A counter attached to objects (id 1) and a plain value (id 2).
static COUNTER: Shadow<AtomicU32> = Shadow::new(0x5253_0001);
static VALUE: Shadow<u64> = Shadow::new(0x5253_0002);

/// Two objects to attach shadow data to.
static OBJ1: u64 = 1;
static OBJ2: u64 = 2;

struct TestKlpRustShadowVars;

fn count(obj: &u64) -> Option<u32> {
    COUNTER.with(obj, |c| c.load(Ordering::Relaxed))
}

impl kernel::Module for TestKlpRustShadowVars {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        COUNTER.alloc(&OBJ1, AtomicU32::new(10), GFP_KERNEL)?;
        pr_info!("alloc(obj1, counter=10): {:?}\n", count(&OBJ1));
        COUNTER.get_or_alloc(&OBJ1, GFP_KERNEL, || AtomicU32::new(99))?;
        pr_info!(
            "get_or_alloc(obj1, 99) keeps the first: {:?}\n",
            count(&OBJ1)
        );
        COUNTER.get_or_alloc(&OBJ2, GFP_KERNEL, || AtomicU32::new(30))?;
        pr_info!("get_or_alloc(obj2, 30) makes one: {:?}\n", count(&OBJ2));
        VALUE.alloc(&OBJ1, 20, GFP_KERNEL)?;
        pr_info!(
            "value(obj1) = {:?}, value(obj2) = {:?}\n",
            VALUE.get(&OBJ1),
            VALUE.get(&OBJ2)
        );
        COUNTER.with(&OBJ1, |c| c.fetch_add(5, Ordering::Relaxed));
        pr_info!("counter(obj1) + 5 = {:?}\n", count(&OBJ1));
        COUNTER.free(&OBJ1);
        pr_info!(
            "free(obj1): counter {:?}, value {:?}\n",
            count(&OBJ1),
            VALUE.get(&OBJ1)
        );
        COUNTER.free_all();
        pr_info!(
            "free_all(counter): obj2 {:?}, value(obj1) {:?}\n",
            count(&OBJ2),
            VALUE.get(&OBJ1)
        );
        VALUE.free_all();
        pr_info!("free_all(value): value(obj1) {:?}\n", VALUE.get(&OBJ1));
        Ok(TestKlpRustShadowVars)
    }
}

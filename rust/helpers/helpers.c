// SPDX-License-Identifier: GPL-2.0
/*
 * Non-trivial C macros cannot be used in Rust. Similarly, inlined C functions
 * cannot be called either. This file explicitly creates functions ("helpers")
 * that wrap those so that they can be called from Rust.
 *
 * Sorted alphabetically.
 */

#include "blk.c"
#include "bug.c"
#include "build_assert.c"
#include "build_bug.c"
#include "completion.c"
#include "cpumask.c"
#include "err.c"
#include "ftrace.c"
#include "kunit.c"
#include "list.c"
#include "module.c"
#include "mutex.c"
#include "page.c"
#include "percpu.c"
#include "preempt.c"
#include "rcu.c"
#include "rbtree.c"
#include "refcount.c"
#include "rwlock.c"
#include "signal.c"
#include "slab.c"
#include "spinlock.c"
#include "sync_core.c"
#include "task.c"
#include "thread_info.c"
#include "uaccess.c"
#include "vmalloc.c"
#include "wait.c"
#include "warn.c"
#include "workqueue.c"

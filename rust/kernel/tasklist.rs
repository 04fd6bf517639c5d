// SPDX-License-Identifier: GPL-2.0

//! Walks over every task of the system.
//!
//! C header: [`include/linux/sched/signal.h`](srctree/include/linux/sched/signal.h)

use crate::bindings;
use core::ptr::{addr_of, addr_of_mut};

/// Calls `f` for every thread of every process (`for_each_process_thread()`), under
/// `tasklist_lock` held for reading: `f` runs in atomic context and must not sleep.
///
/// Idle tasks are not part of the walk; see [`for_each_possible_cpu`].
///
/// # Examples
///
/// ```
/// let mut n = 0;
/// kernel::tasklist::for_each_process_thread(|_task| n += 1);
/// assert!(n > 0);
/// ```
pub fn for_each_process_thread(mut f: impl FnMut(*mut bindings::task_struct)) {
    // SAFETY: `tasklist_lock` is the global task list lock; holding it for reading keeps every
    // process and thread list stable, so the walk below only reads live tasks.
    unsafe {
        let lock = addr_of_mut!(bindings::tasklist_lock);
        bindings::read_lock(lock);
        let init = addr_of_mut!(bindings::init_task);
        let tasks_offset = core::mem::offset_of!(bindings::task_struct, tasks);
        let thread_offset = core::mem::offset_of!(bindings::task_struct, thread_node);
        let mut process = init;
        loop {
            // next_task(): the next process on the `tasks` list.
            let next = addr_of!((*process).tasks.next).read_volatile();
            process = next.byte_sub(tasks_offset).cast();
            if process == init {
                break;
            }
            // for_each_thread(): every thread on the process's `thread_head` list.
            let head = addr_of_mut!((*(*process).signal).thread_head);
            let mut node = addr_of!((*head).next).read_volatile();
            while node != head {
                f(node.byte_sub(thread_offset).cast());
                node = addr_of!((*node).next).read_volatile();
            }
        }
        bindings::read_unlock(lock);
    }
}

/// Calls `f` for every possible CPU (`for_each_possible_cpu()`).
///
/// # Examples
///
/// ```
/// let mut n = 0;
/// kernel::tasklist::for_each_possible_cpu(|_cpu| n += 1);
/// assert!(n > 0);
/// ```
pub fn for_each_possible_cpu(mut f: impl FnMut(u32)) {
    // SAFETY: `nr_cpu_ids` is set during early boot and never changes afterwards.
    let nr = unsafe { bindings::nr_cpu_ids };
    for cpu in 0..nr {
        // SAFETY: `cpu` is below `nr_cpu_ids`.
        if unsafe { bindings::cpu_possible(cpu) } {
            f(cpu);
        }
    }
}

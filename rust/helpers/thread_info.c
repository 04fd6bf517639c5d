// SPDX-License-Identifier: GPL-2.0

#include <linux/sched.h>
#include <linux/sched/signal.h>

bool notrace rust_helper_test_tsk_thread_flag(struct task_struct *tsk, int flag)
{
	return test_tsk_thread_flag(tsk, flag);
}

void rust_helper_set_tsk_thread_flag(struct task_struct *tsk, int flag)
{
	set_tsk_thread_flag(tsk, flag);
}

void rust_helper_clear_tsk_thread_flag(struct task_struct *tsk, int flag)
{
	clear_tsk_thread_flag(tsk, flag);
}

bool notrace rust_helper_test_and_clear_tsk_thread_flag(struct task_struct *tsk, int flag)
{
	return test_and_clear_tsk_thread_flag(tsk, flag);
}

void rust_helper_set_notify_signal(struct task_struct *task)
{
	set_notify_signal(task);
}

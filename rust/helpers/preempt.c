// SPDX-License-Identifier: GPL-2.0

#include <linux/preempt.h>
#include <linux/smp.h>

void rust_helper_preempt_disable(void)
{
	preempt_disable();
}

void rust_helper_preempt_enable(void)
{
	preempt_enable();
}

void notrace rust_helper_preempt_disable_notrace(void)
{
	preempt_disable_notrace();
}

void notrace rust_helper_preempt_enable_notrace(void)
{
	preempt_enable_notrace();
}

unsigned int rust_helper_raw_smp_processor_id(void)
{
	return raw_smp_processor_id();
}

// SPDX-License-Identifier: GPL-2.0

#include <linux/cpumask.h>

bool rust_helper_cpu_possible(unsigned int cpu)
{
	return cpu_possible(cpu);
}

bool rust_helper_cpu_online(unsigned int cpu)
{
	return cpu_online(cpu);
}

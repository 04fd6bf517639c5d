// SPDX-License-Identifier: GPL-2.0

#include <linux/percpu.h>

void __percpu *rust_helper___alloc_percpu(size_t size, size_t align)
{
	return __alloc_percpu(size, align);
}

void *rust_helper_raw_cpu_ptr(void __percpu *ptr)
{
	return raw_cpu_ptr(ptr);
}

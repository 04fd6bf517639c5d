// SPDX-License-Identifier: GPL-2.0

#include <linux/list.h>
#include <linux/rculist.h>

void rust_helper_INIT_LIST_HEAD(struct list_head *list)
{
	INIT_LIST_HEAD(list);
}

void rust_helper_list_add(struct list_head *new, struct list_head *head)
{
	list_add(new, head);
}

void rust_helper_list_add_tail(struct list_head *new, struct list_head *head)
{
	list_add_tail(new, head);
}

void rust_helper_list_del(struct list_head *entry)
{
	list_del(entry);
}

void rust_helper_list_add_rcu(struct list_head *new, struct list_head *head)
{
	list_add_rcu(new, head);
}

void rust_helper_list_del_rcu(struct list_head *entry)
{
	list_del_rcu(entry);
}

void rust_helper_hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h)
{
	hlist_add_head_rcu(n, h);
}

void rust_helper_hlist_del_rcu(struct hlist_node *n)
{
	hlist_del_rcu(n);
}

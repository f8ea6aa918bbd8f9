// SPDX-License-Identifier: GPL-2.0
/*
 * vmatrack's kprobes: the only C besides rust/layout.c, because
 * Rust-for-Linux has no binding for kprobes or irq_work. Handlers take
 * their arguments out of pt_regs and hand them to Rust
 * (rust/glue/probes.rs), which decides everything; the C never looks at
 * what it forwards beyond the ma_state fields it must copy.
 *
 * The probe list and why together they miss no change of the target's VMA
 * tree is written next to the Rust handlers.
 */
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/maple_tree.h>
#include <linux/module.h>
#include <linux/ptrace.h>

#include "probes.h"

/* The Rust side (rust/glue/probes.rs). */
void vmatrack_rs_store(int which, void *tree, unsigned long index, unsigned long last, void *entry);
bool vmatrack_rs_is_target_tree(void *tree);
void vmatrack_rs_vma_write(void *vma);
void vmatrack_rs_exit_mmap(void *mm);
void vmatrack_rs_irq_work(void);

/* mas_store_prealloc(mas, entry): the store happens; apply it as it is made. */
static int store_prealloc_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct ma_state *mas = (void *)regs_get_kernel_argument(regs, 0);

	vmatrack_rs_store(0, mas->tree, mas->index, mas->last,
			  (void *)regs_get_kernel_argument(regs, 1));
	return 0;
}

/* mas_store_gfp(mas, entry, gfp) can fail: keep the arguments, apply on 0. */
struct store_args {
	void *tree;
	unsigned long index, last;
	void *entry;
};

static int store_gfp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ma_state *mas = (void *)regs_get_kernel_argument(regs, 0);
	struct store_args *a = (void *)ri->data;

	/* Other trees skip the return probe and use up no instance. */
	if (!vmatrack_rs_is_target_tree(mas->tree))
		return 1;
	a->tree = mas->tree;
	a->index = mas->index;
	a->last = mas->last;
	a->entry = (void *)regs_get_kernel_argument(regs, 1);
	return 0;
}

static int store_gfp_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct store_args *a = (void *)ri->data;

	if (regs_return_value(regs) == 0)
		vmatrack_rs_store(1, a->tree, a->index, a->last, a->entry);
	return 0;
}

static int vma_write_pre(struct kprobe *p, struct pt_regs *regs)
{
	vmatrack_rs_vma_write((void *)regs_get_kernel_argument(regs, 0));
	return 0;
}

static int exit_mmap_pre(struct kprobe *p, struct pt_regs *regs)
{
	vmatrack_rs_exit_mmap((void *)regs_get_kernel_argument(regs, 0));
	return 0;
}

static struct kprobe kp_store_prealloc = {
	.symbol_name = "mas_store_prealloc",
	.pre_handler = store_prealloc_pre,
};
static struct kretprobe krp_store_gfp = {
	.kp.symbol_name = "mas_store_gfp",
	.entry_handler = store_gfp_entry,
	.handler = store_gfp_ret,
	.data_size = sizeof(struct store_args),
	.maxactive = 32,
};
static struct kprobe kp_vma_write = {
	.symbol_name = "__vma_start_write",
	.pre_handler = vma_write_pre,
};
static struct kprobe kp_exit_mmap = {
	.symbol_name = "exit_mmap",
	.pre_handler = exit_mmap_pre,
};

/* In the order of vmatrack_probe_names (rust/glue/probes.rs). */
static struct kprobe *const probes[VMATRACK_NR_PROBES] = {
	&kp_store_prealloc,
	&krp_store_gfp.kp,
	&kp_vma_write,
	&kp_exit_mmap,
};

/**
 * vmatrack_probes_register() - register every probe, or none.
 *
 * Return: 0, or the first registration's negative errno (after undoing the
 * ones already made).
 */
int vmatrack_probes_register(void)
{
	int i, ret;

	for (i = 0; i < VMATRACK_NR_PROBES; i++) {
		/* A kprobe struct may be registered again only when cleared. */
		probes[i]->addr = NULL;
		probes[i]->flags = 0;
		probes[i]->nmissed = 0;
		if (probes[i] == &krp_store_gfp.kp)
			ret = register_kretprobe(&krp_store_gfp);
		else
			ret = register_kprobe(probes[i]);
		if (ret) {
			pr_err("vmatrack: cannot probe %s: %d\n", probes[i]->symbol_name, ret);
			while (i--)
				vmatrack_unregister_one(i);
			return ret;
		}
	}
	return 0;
}

/* Undo one registration; waits until its handlers have finished. */
void vmatrack_unregister_one(int i)
{
	if (probes[i] == &krp_store_gfp.kp)
		unregister_kretprobe(&krp_store_gfp);
	else
		unregister_kprobe(probes[i]);
}

/** vmatrack_probes_unregister() - unregister all; no handler runs after. */
void vmatrack_probes_unregister(void)
{
	int i;

	for (i = 0; i < VMATRACK_NR_PROBES; i++)
		vmatrack_unregister_one(i);
}

/**
 * vmatrack_probe_nmissed() - how often probe @i fired but did not run.
 * @i: index into the probe list.
 *
 * For the kretprobe this adds the return probes lost to a full instance
 * pool. Return: the count, 0 for a bad index.
 */
unsigned long vmatrack_probe_nmissed(int i)
{
	if (i < 0 || i >= VMATRACK_NR_PROBES)
		return 0;
	if (probes[i] == &krp_store_gfp.kp)
		return krp_store_gfp.kp.nmissed + krp_store_gfp.nmissed;
	return probes[i]->nmissed;
}

static void irq_work_fn(struct irq_work *w)
{
	vmatrack_rs_irq_work();
}

static struct irq_work vmatrack_irq_work = IRQ_WORK_INIT(irq_work_fn);

/**
 * vmatrack_kick() - run vmatrack_rs_irq_work() soon, in hard-irq context.
 *
 * NMI-safe: this is how probe handlers hand over what they may not do
 * themselves (freeing memory, refilling the node pool).
 */
void vmatrack_kick(void)
{
	irq_work_queue(&vmatrack_irq_work);
}

/** vmatrack_kick_sync() - wait until no queued irq_work is pending or running. */
void vmatrack_kick_sync(void)
{
	irq_work_sync(&vmatrack_irq_work);
}

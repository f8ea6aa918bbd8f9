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
#include <linux/delay.h>
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/maple_tree.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>

#include <asm/syscall.h>
#include <asm/unistd.h>

#ifdef CONFIG_MMU
/*
 * struct vma_merge_struct, whose merge state the verdict probes read, is
 * mm-internal: Kbuild adds the kernel's mm/ to the include path for this.
 * nommu has no mm/vma.c, so no verdict probes.
 */
#include <linux/mm.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd_k.h>
#include "vma.h"
#endif

#include "probes.h"

/* The Rust side (rust/glue/probes.rs). */
void vmatrack_rs_store(int which, void *tree, unsigned long index, unsigned long last, void *entry);
bool vmatrack_rs_is_target_tree(void *tree);
void vmatrack_rs_vma_write(void *vma);
void vmatrack_rs_exit_mmap(void *mm);
void vmatrack_rs_irq_work(void);
bool vmatrack_rs_new_task(void *task, void *child_mm, void *parent_mm);
bool vmatrack_rs_exec_begin(void *old_mm);
bool vmatrack_rs_follow_claim(void);
void vmatrack_rs_follow_failed(void);
void vmatrack_rs_follow_here(void);
bool vmatrack_rs_is_target_mm(int which, void *mm);
void vmatrack_rs_kernel_merge(bool existing);

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

#ifdef CONFIG_PER_VMA_LOCK
static int vma_write_pre(struct kprobe *p, struct pt_regs *regs)
{
	vmatrack_rs_vma_write((void *)regs_get_kernel_argument(regs, 0));
	return 0;
}
#endif

static int exit_mmap_pre(struct kprobe *p, struct pt_regs *regs)
{
	vmatrack_rs_exit_mmap((void *)regs_get_kernel_argument(regs, 0));
	return 0;
}

static int follow_queue(struct task_struct *task);

/*
 * sched_post_fork(p): the end of copy_process() in the parent; p's mm is
 * complete and p has not run yet. The entry handler only asks Rust whether
 * to follow p; the return handler (not NMI context) queues the task work,
 * still before p can run.
 */
static int post_fork_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *p = (void *)regs_get_kernel_argument(regs, 0);

	if (!vmatrack_rs_new_task(p, p->mm, current->mm))
		return 1;
	get_task_struct(p);
	*(struct task_struct **)ri->data = p;
	return 0;
}

static int post_fork_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *p = *(struct task_struct **)ri->data;

	if (follow_queue(p))
		vmatrack_rs_follow_failed();
	put_task_struct(p);
	return 0;
}

/*
 * begin_new_exec(bprm): exec replaces current's mm. The entry handler asks
 * whether the old mm is the target's; on success the return handler (not
 * NMI context) queues task work that re-attaches to the new mm before the
 * new program's first instruction.
 */
static int exec_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return vmatrack_rs_exec_begin(current->mm) ? 0 : 1;
}

static int exec_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (regs_return_value(regs) == 0 && vmatrack_rs_follow_claim() &&
	    follow_queue(current))
		vmatrack_rs_follow_failed();
	return 0;
}

#ifdef CONFIG_MMU
/*
 * The kernel's own verdict on merges, to cross-check the store classifier.
 * vma_merge_new_range(vmg) returns the merged VMA or NULL; vma_modify(vmg)
 * (mprotect, madvise, mlock, prctl, mbind, uffd) leaves vmg->state at
 * VMA_MERGE_SUCCESS when vma_merge_existing_range() merged. vmg lives in
 * the caller's frame, so it is still there when vma_modify() returns.
 */
static int merge_entry(struct kretprobe_instance *ri, struct pt_regs *regs, int which)
{
	struct vma_merge_struct *vmg = (void *)regs_get_kernel_argument(regs, 0);

	if (!vmatrack_rs_is_target_mm(which, vmg->mm))
		return 1;
	*(struct vma_merge_struct **)ri->data = vmg;
	return 0;
}

static int merge_new_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return merge_entry(ri, regs, 6);
}

static int modify_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return merge_entry(ri, regs, 7);
}

static int merge_new_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (regs_return_value(regs))
		vmatrack_rs_kernel_merge(false);
	return 0;
}

static int modify_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vma_merge_struct *vmg = *(struct vma_merge_struct **)ri->data;

	if (vmg->state == VMA_MERGE_SUCCESS)
		vmatrack_rs_kernel_merge(true);
	return 0;
}
#endif /* CONFIG_MMU */

/**
 * vmatrack_current_cause() - the system call current is in, as vmatrack's
 * Cause (rust/engine/merge.rs, in Cause::ALL order).
 *
 * The __NR_* numbers are per-arch C macros, so the mapping is made here.
 * Return: 0 when not in a system call (kernel thread, or none in the
 * registers), 12 for a call not listed.
 */
unsigned int vmatrack_current_cause(void)
{
	long nr;

	/* Not in_task(): kprobe handlers run in an int3 exception. */
	if (current->flags & PF_KTHREAD)
		return 0;
	nr = syscall_get_nr(current, task_pt_regs(current));
	if (nr < 0)
		return 0;
	switch (nr) {
	case __NR_mmap: return 1;
	case __NR_munmap: return 2;
	case __NR_mprotect:
#ifdef __NR_pkey_mprotect
	case __NR_pkey_mprotect:
#endif
		return 3;
	case __NR_mremap: return 4;
	case __NR_madvise:
#ifdef __NR_process_madvise
	case __NR_process_madvise:
#endif
		return 5;
	case __NR_mlock: case __NR_mlock2: case __NR_munlock:
	case __NR_mlockall: case __NR_munlockall:
		return 6;
	case __NR_brk: return 7;
	case __NR_prctl: return 8;
	case __NR_mbind:
#ifdef __NR_set_mempolicy_home_node
	case __NR_set_mempolicy_home_node:
#endif
		return 9;
#ifdef __NR_mseal
	case __NR_mseal: return 10;
#endif
	case __NR_ioctl: return 11;
	default: return 12;
	}
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
#ifdef CONFIG_PER_VMA_LOCK
static struct kprobe kp_vma_write = {
	.symbol_name = "__vma_start_write",
	.pre_handler = vma_write_pre,
};
#endif
static struct kprobe kp_exit_mmap = {
	.symbol_name = "exit_mmap",
	.pre_handler = exit_mmap_pre,
};
static struct kretprobe krp_exec = {
	.kp.symbol_name = "begin_new_exec",
	.entry_handler = exec_entry,
	.handler = exec_ret,
	.maxactive = 8,
};
static struct kretprobe krp_post_fork = {
	.kp.symbol_name = "sched_post_fork",
	.entry_handler = post_fork_entry,
	.handler = post_fork_ret,
	.data_size = sizeof(struct task_struct *),
	.maxactive = 8,
};

#ifdef CONFIG_MMU
static struct kretprobe krp_merge_new = {
	.kp.symbol_name = "vma_merge_new_range",
	.entry_handler = merge_new_entry,
	.handler = merge_new_ret,
	.data_size = sizeof(struct vma_merge_struct *),
	.maxactive = 16,
};
static struct kretprobe krp_modify = {
	.kp.symbol_name = "vma_modify",
	.entry_handler = modify_entry,
	.handler = modify_ret,
	.data_size = sizeof(struct vma_merge_struct *),
	.maxactive = 16,
};
#endif

/*
 * In the order of PROBE_NAMES (rust/glue/probes.rs). A kretprobe entry has
 * .krp set (its .kp is the kretprobe's own kprobe). An entry with no .kp
 * is a probe this configuration does not have (no per-VMA lock without
 * CONFIG_PER_VMA_LOCK, no mm/vma.c merge functions without CONFIG_MMU, as
 * on nommu): it is skipped.
 */
static const struct {
	struct kprobe *kp;
	struct kretprobe *krp;
} probes[VMATRACK_NR_PROBES] = {
	{ &kp_store_prealloc, NULL },
	{ &krp_store_gfp.kp, &krp_store_gfp },
#ifdef CONFIG_PER_VMA_LOCK
	{ &kp_vma_write, NULL },
#else
	{ NULL, NULL },
#endif
	{ &kp_exit_mmap, NULL },
	{ &krp_post_fork.kp, &krp_post_fork },
	{ &krp_exec.kp, &krp_exec },
#ifdef CONFIG_MMU
	{ &krp_merge_new.kp, &krp_merge_new },
	{ &krp_modify.kp, &krp_modify },
#else
	{ NULL, NULL },
	{ NULL, NULL },
#endif
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
		struct kprobe *kp = probes[i].kp;

		if (!kp)
			continue;
		/* A kprobe struct may be registered again only when cleared. */
		kp->addr = NULL;
		kp->flags = 0;
		kp->nmissed = 0;
		if (probes[i].krp) {
			probes[i].krp->nmissed = 0;
			ret = register_kretprobe(probes[i].krp);
		} else {
			ret = register_kprobe(kp);
		}
		if (ret) {
			pr_err("vmatrack: cannot probe %s: %d\n", kp->symbol_name, ret);
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
	if (probes[i].krp)
		unregister_kretprobe(probes[i].krp);
	else if (probes[i].kp)
		unregister_kprobe(probes[i].kp);
}

/*
 * How long disarmed probes stay in the kprobe table before they are
 * unregistered (see vmatrack_probes_unregister()).
 */
#define DISARM_SETTLE_MS 100

/**
 * vmatrack_probes_unregister() - unregister all; no handler runs after.
 *
 * Disarm first, unregister after a pause. Under QEMU's TCG a CPU was seen
 * to execute a probe's int3 after it had been disarmed and unregistered
 * ("Oops: int3" at mas_store_prealloc+0x1, the original byte already back
 * in the text: once in a CI run of the stress test's attach/detach loop).
 * A disabled probe is still in the kprobe table, so such a late int3 finds
 * it and runs the original instruction (our handlers, which may still run
 * then, see no target and return); the pause also lets a delayed kprobe
 * (un)optimization pass finish before the probe leaves the table.
 */
void vmatrack_probes_unregister(void)
{
	int i;

	for (i = 0; i < VMATRACK_NR_PROBES; i++)
		if (probes[i].kp)
			disable_kprobe(probes[i].kp);
	synchronize_rcu();
	msleep(DISARM_SETTLE_MS);
	for (i = 0; i < VMATRACK_NR_PROBES; i++)
		vmatrack_unregister_one(i);
}

/**
 * vmatrack_probe_nmissed() - how often probe @i fired but did not run.
 * @i: index into the probe list.
 *
 * For the kretprobe this adds the return probes lost to a full instance
 * pool. Return: the count; 0 for a bad index or a probe this
 * configuration does not have.
 */
unsigned long vmatrack_probe_nmissed(int i)
{
	if (i < 0 || i >= VMATRACK_NR_PROBES || !probes[i].kp)
		return 0;
	return probes[i].kp->nmissed + (probes[i].krp ? probes[i].krp->nmissed : 0);
}

/**
 * vmatrack_stack_left() - bytes of kernel stack left below the caller.
 *
 * Probe handlers run on the stack of the task that hit the probe, deep in
 * an mm path; this measures how deep. Return: the distance from the
 * caller's frame to the end of current's task stack, or ULONG_MAX when the
 * caller is not on that stack (an interrupt or exception stack).
 */
unsigned long vmatrack_stack_left(void)
{
	unsigned long sp = (unsigned long)__builtin_frame_address(0);
	unsigned long lo = (unsigned long)task_stack_page(current);

	if (sp < lo || sp >= lo + THREAD_SIZE)
		return ULONG_MAX;
	return sp - lo;
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

static void follow_fn(struct callback_head *cb)
{
	vmatrack_rs_follow_here();
}

static struct callback_head follow_work;

/*
 * Queue the one follow work item on @task (Rust makes sure it is not
 * queued twice); it runs when @task returns to user space for the first
 * time, or as it exits. Return: 0 or task_work_add()'s -ESRCH.
 */
static int follow_queue(struct task_struct *task)
{
	init_task_work(&follow_work, follow_fn);
	return task_work_add(task, &follow_work, TWA_RESUME);
}

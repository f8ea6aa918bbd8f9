// SPDX-License-Identifier: GPL-2.0
/*
 * vmatrack's kprobes, in C because Rust-for-Linux has no binding for
 * kprobes, irq_work or task_work (the Rust module's other C,
 * rust/shim/layout.c, checks struct offsets). Handlers take
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
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>
#include <linux/workqueue.h>

#include <asm/syscall.h>
#include <asm/unistd.h>
#ifdef CONFIG_X86
#include <asm/text-patching.h>
#endif

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

#include "layout.h"
#include "probes.h"

/*
 * What the handlers filter on, published by Rust (vmatrack_set_filter()):
 * the target's mm, its VMA tree (&mm->mm_mt) and, in follow mode, the root
 * process's mm. Every handler compares these first, in C, and returns
 * before anything else when the hit is not the target's: every process in
 * the system runs these probes, and only the target should pay for more
 * than a few loads.
 */
static void *filter_tree;
static struct mm_struct *filter_mm;
static struct mm_struct *filter_root_mm;
static struct pid *filter_tgid;

/*
 * Hits per probe, per CPU: a hit of another process increments a counter
 * in its own CPU's cache line only (this_cpu_inc is one instruction on
 * x86), never a line shared between CPUs.
 */
static DEFINE_PER_CPU(unsigned long[VMATRACK_NR_PROBES], hits);

/*
 * probe_floor: the benchmark's floor. While set, every handler returns at
 * once (kretprobe entry handlers return 1: no return probe), so a run
 * measures what the registered probes cost by themselves, in the same boot
 * and with the same probes as the real rounds. The mirror goes stale;
 * `make bench` switches it per round through
 * /sys/module/vmatrack/parameters/probe_floor.
 */
static bool probe_floor;
module_param(probe_floor, bool, 0644);
MODULE_PARM_DESC(probe_floor, "Probe handlers return at once (benchmark floor; the mirror goes stale)");

/*
 * probe_mask: the benchmark's per-probe floor. Only the probes whose bit
 * is set here are registered (at the first attach, once per module load:
 * `make bench` loads the module with it); the others are left out, and
 * the mirror is not exact without them. Default: all.
 */
static uint probe_mask = ~0u;
module_param(probe_mask, uint, 0644);
MODULE_PARM_DESC(probe_mask, "Register only these probes, by bit, at the first attach (benchmark; default all)");

/*
 * debug_follow_delay_ms: a test hook (tests/ksft_identity.sh). The follow
 * task work sleeps this long before it moves the mirror and again after,
 * so that a test can switch targets while a move is on its way, or rmmod
 * while one is finishing. Default 0: no delay.
 */
static uint debug_follow_delay_ms;
module_param(debug_follow_delay_ms, uint, 0644);
MODULE_PARM_DESC(debug_follow_delay_ms, "Test hook: the follow task work sleeps this long before and after the move");

/*
 * debug_skip_fork_return: a test hook (tests/ksft_identity.sh). While set,
 * the sched_post_fork return handler returns at once, as when an
 * unregistration skips it (rethook_stop() clears the handler while a task
 * is still inside the function): nothing the entry handler did may then
 * be left waiting for it.
 */
static bool debug_skip_fork_return;
module_param(debug_skip_fork_return, bool, 0644);
MODULE_PARM_DESC(debug_skip_fork_return, "Test hook: the sched_post_fork return handler does nothing");

/* Counts a hit of probe @i; false when the handler is to return at once. */
static __always_inline bool hit(int i)
{
	if (READ_ONCE(probe_floor))
		return false;
	this_cpu_inc(hits[i]);
	return true;
}

/**
 * vmatrack_set_filter() - what the handlers let through to Rust.
 * @mm: the target's mm, or NULL (nothing passes).
 * @tree: @mm's VMA tree.
 * @root_mm: in follow mode the followed root's mm, else NULL.
 * @tgid: in single mode the target process (its thread group's pid): only
 *	an exec by that process re-attaches, not one by a vfork child that
 *	shares @mm until its exec. NULL in follow mode, where such a child is
 *	followed at its exec.
 */
void vmatrack_set_filter(struct mm_struct *mm, void *tree, struct mm_struct *root_mm,
			 struct pid *tgid)
{
	WRITE_ONCE(filter_tree, tree);
	WRITE_ONCE(filter_mm, mm);
	WRITE_ONCE(filter_root_mm, root_mm);
	WRITE_ONCE(filter_tgid, tgid);
}

static __always_inline bool is_target_mm(struct mm_struct *mm)
{
	return mm && mm == READ_ONCE(filter_mm);
}

/* The target's mm, or (follow mode) the root's: fork and exec care. */
static __always_inline bool is_followed_mm(struct mm_struct *mm)
{
	return mm && (mm == READ_ONCE(filter_mm) || mm == READ_ONCE(filter_root_mm));
}

/* The Rust side (rust/glue/probes.rs). */
void vmatrack_rs_store(void *tree, unsigned long index, unsigned long last, void *entry);
void vmatrack_rs_vma_write(void *vma);
void vmatrack_rs_exit_mmap(void *mm);
void vmatrack_rs_irq_work(void);
void vmatrack_rs_drain_work(void);
u64 vmatrack_rs_new_task(void *task, void *child_mm, void *parent_mm);
u64 vmatrack_rs_exec_begin(void *old_mm);
bool vmatrack_rs_follow_claim(u64 gen);
void vmatrack_rs_follow_failed(void);
void vmatrack_rs_follow_here(void);
void vmatrack_rs_merge_attempt(bool existing, bool merged, u64 ns, unsigned int cause,
			       unsigned int relaxed);
unsigned int vmatrack_rs_relaxed_verdict(const struct vmatrack_proposed *p);

/*
 * A store into a maple tree, at the entry of probe @which's function: when
 * the tree is the target's, Rust records it (mas->index, mas->last and the
 * entry are what the store is about to write).
 */
static int store_pre(struct pt_regs *regs, int which)
{
	struct ma_state *mas = (void *)regs_get_kernel_argument(regs, 0);

	if (!hit(which) || mas->tree != READ_ONCE(filter_tree))
		return 0;
	vmatrack_rs_store(mas->tree, mas->index, mas->last,
			  (void *)regs_get_kernel_argument(regs, 1));
	return 0;
}

/* mas_store_prealloc(mas, entry): cannot fail (preallocated). */
static int store_prealloc_pre(struct kprobe *p, struct pt_regs *regs)
{
	return store_pre(regs, 0);
}

/*
 * mas_store_gfp(mas, entry, gfp): recorded at entry, like the store above.
 * It can fail (-ENOMEM, the tree left as it was); a reader finds that out,
 * because it re-reads every stored range from the kernel's tree and
 * compares both ways (rust/glue/mirror/mod.rs). A return probe would make
 * every process pay a kretprobe instance and the target a return
 * trampoline, for a failure that only memory pressure brings.
 */
static int store_gfp_pre(struct kprobe *p, struct pt_regs *regs)
{
	return store_pre(regs, 1);
}

#ifdef CONFIG_PER_VMA_LOCK
static int vma_write_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs_get_kernel_argument(regs, 0);

	if (hit(2) && is_target_mm(vma->vm_mm))
		vmatrack_rs_vma_write(vma);
	return 0;
}
#endif

static int exit_mmap_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct mm_struct *mm = (void *)regs_get_kernel_argument(regs, 0);

	if (hit(3) && is_target_mm(mm))
		vmatrack_rs_exit_mmap(mm);
	return 0;
}

static int follow_queue(struct task_struct *task);

/*
 * sched_post_fork(p): the end of copy_process() in the parent; p's mm is
 * complete and p has not run yet. The entry handler only asks Rust whether
 * to follow p; the return handler (not NMI context) claims the one follow
 * work item and queues it, still before p can run.
 *
 * Nothing is taken at entry that only the return handler gives back: an
 * unregistration can skip a return handler (rethook_stop() clears it while
 * a task is still inside sched_post_fork()), and a claim or a task
 * reference taken at entry would then never be released. No reference on
 * p is needed either: p cannot run, so cannot exit, before kernel_clone()
 * calls wake_up_new_task(p), after copy_process() has returned.
 */
struct post_fork_data {
	struct task_struct *child;
	u64 gen;
};

static int post_fork_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *p = (void *)regs_get_kernel_argument(regs, 0);
	struct post_fork_data *d = (void *)ri->data;

	if (!hit(4) || !is_followed_mm(current->mm))
		return 1;
	d->gen = vmatrack_rs_new_task(p, p->mm, current->mm);
	if (!d->gen)
		return 1;
	d->child = p;
	return 0;
}

static int post_fork_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct post_fork_data *d = (void *)ri->data;

	if (READ_ONCE(debug_skip_fork_return))
		return 0;
	if (vmatrack_rs_follow_claim(d->gen) && follow_queue(d->child))
		vmatrack_rs_follow_failed();
	return 0;
}

/*
 * begin_new_exec(bprm): exec replaces current's mm. The entry handler asks
 * whether the old mm is the target's and, in single mode, whether current
 * is the target process (a vfork child execs on its parent's mm); on success the return handler (not
 * NMI context) queues task work that re-attaches to the new mm before the
 * new program's first instruction.
 */
static int exec_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pid *tgid = READ_ONCE(filter_tgid);
	u64 *gen = (void *)ri->data;

	if (!hit(5) || !is_followed_mm(current->mm) || (tgid && task_tgid(current) != tgid))
		return 1;
	*gen = vmatrack_rs_exec_begin(current->mm);
	return *gen ? 0 : 1;
}

static int exec_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (regs_return_value(regs) == 0 && vmatrack_rs_follow_claim(*(u64 *)ri->data) &&
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
 *
 * Each attempt is also timed, entry to return: for vma_merge_new_range()
 * the examination and, when it merges, the merge; for vma_modify() the
 * examination and the merge, or the split that replaces it. local_clock()
 * is per CPU and the task may move between entry and return (both may
 * allocate and sleep), so a difference below 0 counts as 0.
 */
struct merge_data {
	struct vma_merge_struct *vmg;
	u64 t0;
	unsigned int cause;
	unsigned int relaxed;
};

/*
 * Which rule sets would merge the new range @vmg proposes (a mask of
 * bits 1 << Relax::index, Rust's): the relaxed rules of the merge
 * what-if, at this attempt. Read at entry, before the kernel changes
 * vmg, prev or next; the caller holds the mmap write lock.
 */
static unsigned int relaxed_verdict(const struct vma_merge_struct *vmg)
{
	struct vm_area_struct *from = vmg->copied_from;
	struct vmatrack_proposed p = {
		.start = vmg->start,
		.end = vmg->end,
		.pgoff = vmg->pgoff,
		.anon_pgoff = vmg->anon_pgoff,
		.flags = vmg->vm_flags,
		.file = vmg->file,
		.anon_vma = vmg->anon_vma,
		.uffd_ctx = vmg->uffd_ctx.ctx,
		.anon_name = vmg->anon_name,
		.mempolicy = vmatrack_mpol_fingerprint(vmg->policy),
		.prev = vmg->prev,
		.next = vmg->next,
		.copied = from,
		.fork_child = from && vmatrack_vma_is_fork_child(from),
		.uffd_no_event_remap = from && vma_has_uffd_without_event_remap(from),
		.anon_vma_unshared = vmatrack_anon_vma_unshared(vmg->anon_vma),
	};

	return vmatrack_rs_relaxed_verdict(&p);
}

static int merge_entry(struct kretprobe_instance *ri, struct pt_regs *regs, int which)
{
	struct vma_merge_struct *vmg = (void *)regs_get_kernel_argument(regs, 0);
	struct merge_data *d = (void *)ri->data;

	if (!hit(which) || !is_target_mm(vmg->mm))
		return 1;
	d->vmg = vmg;
	d->cause = vmatrack_current_cause();
	/* Before the clock starts: our own work is not the kernel's cost. */
	d->relaxed = which == 6 ? relaxed_verdict(vmg) : 0;
	d->t0 = local_clock();
	return 0;
}

/* How long the attempt took, in ns (see above). */
static u64 merge_ns(const struct merge_data *d)
{
	u64 now = local_clock();

	return now > d->t0 ? now - d->t0 : 0;
}

static int merge_new_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return merge_entry(ri, regs, 6);
}

static int modify_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return merge_entry(ri, regs, 7);
}

/*
 * The return handlers check the target again: the probes stay registered
 * across detach and attach, so the target may have changed since entry.
 */
static int merge_new_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct merge_data *d = (void *)ri->data;
	u64 ns = merge_ns(d);

	if (is_target_mm(d->vmg->mm))
		vmatrack_rs_merge_attempt(false, regs_return_value(regs) != 0, ns, d->cause,
					  d->relaxed);
	return 0;
}

static int modify_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct merge_data *d = (void *)ri->data;
	u64 ns = merge_ns(d);

	if (is_target_mm(d->vmg->mm))
		vmatrack_rs_merge_attempt(true, d->vmg->state == VMA_MERGE_SUCCESS, ns, d->cause, 0);
	return 0;
}
#endif /* CONFIG_MMU */

/**
 * vmatrack_current_cause() - the system call current is in, as vmatrack's
 * Cause (rust/core/engine/merge/cause.rs, in Cause::ALL order).
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
static struct kprobe kp_store_gfp = {
	.symbol_name = "mas_store_gfp",
	.pre_handler = store_gfp_pre,
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
	.data_size = sizeof(u64),
};
static struct kretprobe krp_post_fork = {
	.kp.symbol_name = "sched_post_fork",
	.entry_handler = post_fork_entry,
	.handler = post_fork_ret,
	.data_size = sizeof(struct post_fork_data),
};

#ifdef CONFIG_MMU
static struct kretprobe krp_merge_new = {
	.kp.symbol_name = "vma_merge_new_range",
	.entry_handler = merge_new_entry,
	.handler = merge_new_ret,
	.data_size = sizeof(struct merge_data),
};
static struct kretprobe krp_modify = {
	.kp.symbol_name = "vma_modify",
	.entry_handler = modify_entry,
	.handler = modify_ret,
	.data_size = sizeof(struct merge_data),
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
	{ &kp_store_gfp, NULL },
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
 * vmatrack_probe_symbol() - the function probe @i is placed on.
 * @i: index into the probe list.
 *
 * Rust checks its own list (PROBE_NAMES) against this one at load, so the
 * two sides of the table cannot drift apart.
 *
 * Return: the symbol name, or NULL for a bad index or a probe this
 * configuration does not have.
 */
const char *vmatrack_probe_symbol(int i)
{
	if (i < 0 || i >= VMATRACK_NR_PROBES || !probes[i].kp)
		return NULL;
	return probes[i].kp->symbol_name;
}

/*
 * The probes registered, and those of them disarmed, as masks of indices
 * into probes[].
 */
static unsigned int registered, disarmed;

/*
 * Return-probe instances per kretprobe. Every task in the system that
 * enters a probed function takes one before our entry handler filters it
 * out, and holds it until the function returns; a hit that finds none free
 * is missed (nmissed), which marks the mirror stale or loses a follow. Tasks
 * sleep inside some of these (begin_new_exec() waits in de_thread()), so
 * more than one per CPU can be inside at once: the kernel's default of
 * twice the CPUs, doubled, and never fewer than 16.
 */
static unsigned int kretprobe_instances(void)
{
	return max(16u, 4 * num_possible_cpus());
}

/*
 * Why the probes are registered once and never unregistered before module
 * exit: registering and unregistering patch kernel text, and so does the
 * kprobe optimizer, asynchronously, seconds later. Under QEMU's TCG a CPU
 * was seen to execute a probe's int3 after the probe had been disarmed and
 * unregistered ("Oops: int3" at mas_store_prealloc+0x1, the original byte
 * already back: once in a CI run of the stress test's attach/detach loop).
 * An int3 that finds no kprobe is fatal in 7.3 (kprobe_int3_handler() no
 * longer backs up and retries). So attaching and detaching a target patch
 * nothing: the handlers filter on the published target, and a detached
 * mirror publishes none. Only the merge-verdict probes, which would cost
 * every process a return probe, are disarmed (disable_kprobe()) while not
 * wanted; a disarmed probe stays in the kprobe table, so a late int3 still
 * finds it.
 */

/**
 * vmatrack_probes_arm() - make the probes in @mask live, or none of those
 * not registered yet.
 * @mask: indices into the probe list; those this configuration does not
 *        have are skipped. Those not registered are registered; those
 *        disarmed are enabled again.
 *
 * Context: process context; may sleep. Callers serialise (Rust's state lock).
 * Return: 0, or the first registration's negative errno (after undoing the
 * registrations this call made).
 */
int vmatrack_probes_arm(unsigned int mask)
{
	unsigned int done = 0;
	int i, ret;

	mask &= READ_ONCE(probe_mask);
	for (i = 0; i < VMATRACK_NR_PROBES; i++) {
		struct kprobe *kp = probes[i].kp;

		if (!kp || !(mask & BIT(i)) || (registered & BIT(i)))
			continue;
		/* A kprobe struct may be registered again only when cleared. */
		kp->addr = NULL;
		kp->flags = 0;
		kp->nmissed = 0;
		if (probes[i].krp) {
			probes[i].krp->nmissed = 0;
			probes[i].krp->maxactive = kretprobe_instances();
			ret = register_kretprobe(probes[i].krp);
		} else {
			ret = register_kprobe(kp);
		}
		if (ret) {
			pr_err("vmatrack: cannot probe %s: %d\n", kp->symbol_name, ret);
			vmatrack_probes_unregister(done);
			return ret;
		}
		registered |= BIT(i);
		done |= BIT(i);
	}
	for (i = 0; i < VMATRACK_NR_PROBES; i++) {
		if (!(mask & registered & disarmed & BIT(i)))
			continue;
		ret = enable_kprobe(probes[i].kp);
		if (ret) {
			pr_err("vmatrack: cannot re-arm %s: %d\n", probes[i].kp->symbol_name, ret);
			return ret;
		}
		disarmed &= ~BIT(i);
	}
	return 0;
}

/**
 * vmatrack_probes_disarm() - stop the probes in @mask from firing; they
 * stay registered (see above).
 * @mask: indices into the probe list; those not registered are skipped.
 *
 * Context: process context; may sleep. Callers serialise (Rust's state
 * lock). A handler already running may still finish after this returns.
 */
void vmatrack_probes_disarm(unsigned int mask)
{
	int i;

	for (i = 0; i < VMATRACK_NR_PROBES; i++) {
		if (!(mask & registered & ~disarmed & BIT(i)))
			continue;
		if (!disable_kprobe(probes[i].kp))
			disarmed |= BIT(i);
	}
}

/* Undo one registration; waits until its handlers have finished. */
static void unregister_one(int i)
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
 * vmatrack_probes_unregister() - unregister the probes in @mask: at module
 * exit, or to undo a failed vmatrack_probes_arm().
 * @mask: indices into the probe list; those not registered are skipped.
 *
 * Disarm first, unregister after a pause: a disarmed probe is still in the
 * kprobe table, so a late int3 (see above) finds it and runs the original
 * instruction (our handlers, which may still run then, see no target and
 * return); the pause also lets a delayed kprobe (un)optimization pass
 * finish before the probe leaves the table.
 *
 * Context: process context; may sleep. Once it returns no handler of
 * those probes runs or will run.
 */
void vmatrack_probes_unregister(unsigned int mask)
{
	int i;

	mask &= registered;
	if (!mask)
		return;
	vmatrack_probes_disarm(mask);
	synchronize_rcu();
	msleep(DISARM_SETTLE_MS);
	for (i = 0; i < VMATRACK_NR_PROBES; i++)
		if (mask & BIT(i))
			unregister_one(i);
	registered &= ~mask;
	disarmed &= ~mask;
}

/**
 * vmatrack_handlers_sync() - wait for every probe handler running now.
 *
 * Handlers run with preemption disabled (kprobe pre-handlers, optimized or
 * not, and kretprobe entry and return handlers), so one grace period
 * covers them: after it, a handler sees what was published before the
 * call (a detached mirror's empty filter).
 *
 * Context: process context; sleeps.
 */
void vmatrack_handlers_sync(void)
{
	synchronize_rcu();
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
 * vmatrack_probe_hits() - how often probe @i fired, over every CPU and
 * every process (with probe_floor set, hits are not counted).
 * @i: index into the probe list.
 *
 * Return: the sum of the per-CPU counters; 0 for a bad index.
 */
unsigned long vmatrack_probe_hits(int i)
{
	unsigned long n = 0;
	int cpu;

	if (i < 0 || i >= VMATRACK_NR_PROBES)
		return 0;
	for_each_possible_cpu(cpu)
		n += per_cpu(hits, cpu)[i];
	return n;
}

/**
 * vmatrack_probe_state() - how probe @i is armed now.
 * @i: index into the probe list.
 *
 * The kprobe API does not say whether a probe was jump-optimized (the
 * optimized copy is a private aggregate), so this reads the first byte of
 * the probed instruction, which is what a hit executes: on x86 a jump
 * (0xe9) once the optimizer has replaced the breakpoint, a breakpoint
 * (0xcc) until then or when the function cannot be optimized. Optimizing
 * is asynchronous: a probe is a breakpoint for a while after registration.
 *
 * Return: VMATRACK_PROBE_{OFF,TRAP,JUMP,FTRACE,ARMED} (FTRACE: on the
 * function's ftrace call site; ARMED: registered and enabled, on an
 * architecture where this cannot be told apart).
 */
int vmatrack_probe_state(int i)
{
	struct kprobe *kp;

	if (i < 0 || i >= VMATRACK_NR_PROBES || !(registered & BIT(i)))
		return VMATRACK_PROBE_OFF;
	kp = probes[i].kp;
	if (kprobe_disabled(kp) || !kp->addr)
		return VMATRACK_PROBE_OFF;
	/*
	 * On a function's ftrace call site (KPROBES_ON_FTRACE, as in
	 * distribution kernels) a probe is an ftrace callback: no breakpoint,
	 * no jump of its own.
	 */
	if (kprobe_ftrace(kp))
		return VMATRACK_PROBE_FTRACE;
#ifdef CONFIG_X86
	switch (READ_ONCE(*(u8 *)kp->addr)) {
	case JMP32_INSN_OPCODE:
		return VMATRACK_PROBE_JUMP;
	case INT3_INSN_OPCODE:
		return VMATRACK_PROBE_TRAP;
	}
#endif
	return VMATRACK_PROBE_ARMED;
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

/* Set by vmatrack_kick_drain(): the irq_work queues drain_work. */
static atomic_t drain_wanted;

static void drain_work_fn(struct work_struct *w)
{
	vmatrack_rs_drain_work();
}

static DECLARE_WORK(drain_work, drain_work_fn);

static void irq_work_fn(struct irq_work *w)
{
	vmatrack_rs_irq_work();
	if (atomic_xchg(&drain_wanted, 0))
		queue_work(system_dfl_wq, &drain_work);
}

static struct irq_work vmatrack_irq_work = IRQ_WORK_INIT(irq_work_fn);

/**
 * vmatrack_kick_drain() - run vmatrack_rs_drain_work() soon, in a kworker.
 *
 * NMI-safe: a probe handler calls this when the target's changes pile up;
 * the irq_work it queues hands the work item to the workqueue.
 */
void vmatrack_kick_drain(void)
{
	atomic_set(&drain_wanted, 1);
	irq_work_queue(&vmatrack_irq_work);
}

/**
 * vmatrack_drain_cancel() - no drain work is queued or running after this.
 *
 * Context: process context, after the probes are unregistered (nothing
 * kicks any more). Waits for a running drain.
 */
void vmatrack_drain_cancel(void)
{
	atomic_set(&drain_wanted, 0);
	irq_work_sync(&vmatrack_irq_work);
	cancel_work_sync(&drain_work);
	/* The work may have freed nodes and kicked the irq_work again. */
	irq_work_sync(&vmatrack_irq_work);
}

/* preempt_disable() and friends are macros: Rust calls these. */
void vmatrack_preempt_disable(void)
{
	preempt_disable();
}

void vmatrack_preempt_enable(void)
{
	preempt_enable();
}

void vmatrack_cond_resched(void)
{
	cond_resched();
}

/** vmatrack_in_nmi() - whether the caller runs in NMI context. */
bool vmatrack_in_nmi(void)
{
	return in_nmi();
}

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

#if defined(CONFIG_PREEMPTION) && !defined(CONFIG_TASKS_RCU)
#error "vmatrack_follow_retire() needs RCU-tasks on a preemptible kernel"
#endif

static void follow_fn(struct callback_head *cb)
{
	unsigned int delay = READ_ONCE(debug_follow_delay_ms);

	if (delay)
		msleep(delay);
	vmatrack_rs_follow_here();
	if (delay)
		msleep(delay);
	/*
	 * The reference follow_queue() took: rmmod is refused until here.
	 * What is left (this function's return into task_work_run()) is
	 * waited for by vmatrack_follow_retire().
	 */
	module_put(THIS_MODULE);
}

static struct callback_head follow_work;

/*
 * Queue the one follow work item on @task (Rust makes sure it is not
 * queued twice); it runs when @task returns to user space for the first
 * time, or as it exits. The module stays loaded until it has run: it
 * executes module text in @task's context, which nothing else waits for.
 * Return: 0 or task_work_add()'s -ESRCH.
 */
static int follow_queue(struct task_struct *task)
{
	int ret;

	__module_get(THIS_MODULE);
	init_task_work(&follow_work, follow_fn);
	ret = task_work_add(task, &follow_work, TWA_RESUME);
	if (ret)
		module_put(THIS_MODULE);
	return ret;
}

/**
 * vmatrack_follow_retire() - wait until no task is still returning from a
 * follow work item.
 *
 * follow_fn() drops its module reference as its last call, but still
 * returns through module text after it; a task preempted there is not in
 * an RCU read-side section, so the grace period free_module() waits for
 * does not cover it. An RCU-tasks grace period ends only once every task
 * has switched voluntarily or been in user space, which such a task has
 * not: this is how kprobes retire their own trampolines. Called at module
 * exit, when a follow work item ever ran.
 */
void vmatrack_follow_retire(void)
{
	synchronize_rcu_tasks();
}

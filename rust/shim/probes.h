/* SPDX-License-Identifier: GPL-2.0 */
/* The C probe shim's interface to Rust (rust/shim/probes.c, rust/glue/probes.rs). */
#ifndef VMATRACK_PROBES_H
#define VMATRACK_PROBES_H

#include <linux/types.h>

#define VMATRACK_NR_PROBES 8

/* vmatrack_probe_state() */
#define VMATRACK_PROBE_OFF 0
#define VMATRACK_PROBE_TRAP 1
#define VMATRACK_PROBE_JUMP 2
#define VMATRACK_PROBE_ARMED 3
#define VMATRACK_PROBE_FTRACE 4

struct mm_struct;
struct pid;

/*
 * A new range vma_merge_new_range() was asked to merge, as the merge rules
 * see it: struct ProposedVma in rust/glue/mirror/probe.rs.
 */
struct vmatrack_proposed {
	unsigned long start, end;	/* [start, end) */
	unsigned long pgoff, anon_pgoff;
	unsigned long flags;
	const void *file, *anon_vma, *uffd_ctx, *anon_name;
	u64 mempolicy;
	const void *prev, *next;	/* the VMAs around it, or NULL */
	bool copied;			/* mremap()'s copy */
	bool fork_child;		/* vma_is_fork_child(copied_from) */
	bool uffd_no_event_remap;	/* of copied_from */
	bool anon_vma_unshared;
};

int vmatrack_probes_arm(unsigned int mask);
void vmatrack_probes_disarm(unsigned int mask);
void vmatrack_probes_unregister(unsigned int mask);
void vmatrack_handlers_sync(void);
unsigned long vmatrack_probe_nmissed(int i);
unsigned long vmatrack_probe_hits(int i);
int vmatrack_probe_state(int i);
const char *vmatrack_probe_symbol(int i);
void vmatrack_set_filter(struct mm_struct *mm, void *tree, struct mm_struct *root_mm,
			 struct pid *tgid);
void vmatrack_kick(void);
void vmatrack_kick_drain(void);
void vmatrack_drain_cancel(void);
bool vmatrack_in_nmi(void);
void vmatrack_preempt_disable(void);
void vmatrack_preempt_enable(void);
void vmatrack_cond_resched(void);
void vmatrack_kick_sync(void);
void vmatrack_follow_retire(void);
unsigned int vmatrack_current_cause(void);
unsigned long vmatrack_stack_left(void);

#endif /* VMATRACK_PROBES_H */

/* SPDX-License-Identifier: GPL-2.0 */
/* rust/shim/layout.c's interface to Rust (rust/glue/layout.rs). */
#ifndef VMATRACK_LAYOUT_H
#define VMATRACK_LAYOUT_H

struct task_struct;
struct vm_area_struct;

/* What vmatrack_merge_attrs() reads; struct VmaMergeAttrs in rust/glue/layout.rs. */
struct vmatrack_merge_attrs {
	u64 mempolicy;
	u64 anon_pgoff;
	bool anon_vma_fork_child;
	bool uffd_no_event_remap;
	bool anon_vma_unshared;
};

#define VMATRACK_NR_OFFSETS 38
/* A field this configuration does not have (rust/glue/vma_fields.rs). */
#define VMATRACK_ABSENT (~0UL)

extern const unsigned long vmatrack_c_offsets[VMATRACK_NR_OFFSETS];
void vmatrack_task_comm(struct task_struct *task, char *buf);
void vmatrack_merge_attrs(struct vm_area_struct *vma, struct vmatrack_merge_attrs *out);
long vmatrack_max_map_count(void);
struct anon_vma;
struct mempolicy;
bool vmatrack_anon_vma_unshared(struct anon_vma *av);
bool vmatrack_vma_is_fork_child(const struct vm_area_struct *vma);
u64 vmatrack_mpol_fingerprint(const struct mempolicy *pol);

#endif /* VMATRACK_LAYOUT_H */

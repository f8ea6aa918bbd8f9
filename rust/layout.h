/* SPDX-License-Identifier: GPL-2.0 */
/* rust/layout.c's interface to Rust (rust/glue/layout.rs). */
#ifndef VMATRACK_LAYOUT_H
#define VMATRACK_LAYOUT_H

struct task_struct;

#define VMATRACK_NR_OFFSETS 24
/* A field this configuration does not have (rust/glue/vma_fields.rs). */
#define VMATRACK_ABSENT (~0UL)

extern const unsigned long vmatrack_c_offsets[VMATRACK_NR_OFFSETS];
void vmatrack_task_comm(struct task_struct *task, char *buf);

#endif /* VMATRACK_LAYOUT_H */

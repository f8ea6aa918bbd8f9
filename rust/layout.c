// SPDX-License-Identifier: GPL-2.0
/*
 * Where the C compiler puts the struct fields vmatrack's Rust reads through
 * bindgen's bindings, so the module can compare before it trusts them.
 *
 * Why this exists: in the 7.3.4 x86_64 build (clang 19, bindgen 0.73.2)
 * bindgen's task_struct put `comm` 48 bytes before where C has it. The Rust
 * side (rust/glue/layout.rs) checks every field it reads against this table
 * at load time and refuses to load on any difference.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/stddef.h>

#include "layout.h"

#define OFF(type, field) offsetof(struct type, field)

const unsigned long vmatrack_c_offsets[VMATRACK_NR_OFFSETS] = {
	OFF(task_struct, flags),
	OFF(mm_struct, mm_mt),
	OFF(mm_struct, start_brk),
	OFF(mm_struct, brk),
	OFF(mm_struct, start_stack),
	OFF(vm_area_struct, vm_start),
	OFF(vm_area_struct, vm_end),
	OFF(vm_area_struct, vm_mm),
	OFF(vm_area_struct, vm_flags),
	OFF(vm_area_struct, anon_vma),
	OFF(vm_area_struct, vm_ops),
	OFF(vm_area_struct, vm_pgoff),
	OFF(vm_area_struct, vm_file),
#ifdef CONFIG_NUMA
	OFF(vm_area_struct, vm_policy),
#else
	VMATRACK_ABSENT,
#endif
#ifdef CONFIG_ANON_VMA_NAME
	OFF(vm_area_struct, anon_name),
#else
	VMATRACK_ABSENT,
#endif
	OFF(vm_area_struct, vm_userfaultfd_ctx),
	OFF(file, f_path),
	OFF(file, f_inode),
	OFF(inode, i_sb),
	OFF(inode, i_ino),
	OFF(super_block, s_dev),
	OFF(vm_operations_struct, close),
	OFF(vm_operations_struct, name),
	OFF(anon_vma_name, name),
};

/**
 * vmatrack_task_comm() - copy a task's name.
 * @task: a task the caller holds a reference to.
 * @buf: TASK_COMM_LEN bytes.
 *
 * task_struct is the struct bindgen gets wrong, so its name is read here.
 */
void vmatrack_task_comm(struct task_struct *task, char *buf)
{
	strscpy_pad(buf, task->comm, TASK_COMM_LEN);
}

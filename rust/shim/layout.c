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
#include <linux/maple_tree.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/stddef.h>
#include <linux/userfaultfd_k.h>

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
	/* Read or written through bindings outside the VMA code. */
	OFF(pid_namespace, pid_max),
	OFF(pid, count),
	OFF(seq_file, private),
	OFF(file, private_data),
	OFF(inode, i_private),
	/* ma_state is built in Rust and handed to C (mas_find() and others). */
	OFF(ma_state, tree),
	OFF(ma_state, index),
	OFF(ma_state, last),
	OFF(ma_state, node),
	OFF(ma_state, alloc),
	OFF(ma_state, status),
	OFF(ma_state, mas_flags),
	OFF(ma_state, store_type),
	sizeof(struct ma_state),
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

/* Both of these are for rust/shim/probes.c too (struct vma_merge_struct). */
#ifdef CONFIG_NUMA
/* FNV-1a over @len bytes at @p, continuing from @h. */
static u64 fnv1a(u64 h, const void *p, size_t len)
{
	const u8 *b = p;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

/*
 * A fingerprint of @pol that two policies share exactly when
 * __mpol_equal() (mm/mempolicy.c) calls them equal: the same fields, under
 * the same conditions. Never 0, which means "no policy".
 */
u64 vmatrack_mpol_fingerprint(const struct mempolicy *pol)
{
	u64 h = 0xcbf29ce484222325ULL;

	if (!pol)
		return 0;
	h = fnv1a(h, &pol->mode, sizeof(pol->mode));
	h = fnv1a(h, &pol->flags, sizeof(pol->flags));
	h = fnv1a(h, &pol->home_node, sizeof(pol->home_node));
	if (pol->flags & MPOL_USER_NODEMASK_FLAGS)
		h = fnv1a(h, &pol->w.user_nodemask, sizeof(pol->w.user_nodemask));
	if (pol->mode != MPOL_LOCAL)
		h = fnv1a(h, &pol->nodes, sizeof(pol->nodes));
	return h ? h : 1;
}
#else
/* Without NUMA there are no policies: every VMA has none. */
u64 vmatrack_mpol_fingerprint(const struct mempolicy *pol)
{
	return 0;
}
#endif

/*
 * Whether no other process can reach @av's pages through it: @av is its own
 * root and has no child anon_vmas (num_children counts @av itself: see
 * struct anon_vma). A fork gives the child anon_vmas whose parent and root
 * are the parent's; after that the parent's counts 2 or more until the
 * children are gone. Read without the anon_vma's lock: a count for
 * statistics (the merge what-if), not for a decision.
 */
bool vmatrack_anon_vma_unshared(struct anon_vma *av)
{
#ifdef CONFIG_MMU
	return av && READ_ONCE(av->root) == av && READ_ONCE(av->num_children) == 1;
#else
	return false;
#endif
}

/*
 * mm/vma.c's vma_is_fork_child() (static there): @vma has an anon_vma and
 * more than one anon_vma_chain link, so it may hold pages shared with a
 * parent. For rust/shim/probes.c too (the VMA an mremap copies from).
 */
bool vmatrack_vma_is_fork_child(const struct vm_area_struct *vma)
{
	return vma->anon_vma && !list_is_singular(&vma->anon_vma_chain);
}

/**
 * vmatrack_merge_attrs() - what the merge rules compare that Rust cannot read.
 * @vma: a VMA whose mm's mmap lock the caller holds (or a VMA being stored,
 *       under its mm's write lock); may be called in NMI context.
 * @out: filled in.
 *
 * struct mempolicy is opaque to bindgen, and the rest are static inlines of
 * mm.h, userfaultfd_k.h and mm/vma.c's vma_is_fork_child(): each is
 * computed here exactly as the kernel computes it.
 */
void vmatrack_merge_attrs(struct vm_area_struct *vma, struct vmatrack_merge_attrs *out)
{
#ifdef CONFIG_NUMA
	out->mempolicy = vmatrack_mpol_fingerprint(vma->vm_policy);
#else
	out->mempolicy = 0;
#endif
	out->anon_pgoff = vma_start_anon_pgoff(vma);
	out->anon_vma_fork_child = vmatrack_vma_is_fork_child(vma);
	out->uffd_no_event_remap = vma_has_uffd_without_event_remap(vma);
	out->anon_vma_unshared = vmatrack_anon_vma_unshared(vma->anon_vma);
}

/**
 * vmatrack_max_map_count() - the sysctl vm.max_map_count.
 *
 * sysctl_max_map_count is not exported in 7.3, so this reads what user
 * space reads, /proc/sys/vm/max_map_count.
 *
 * Context: process context; sleeps.
 * Return: the value, or a negative errno (no procfs mounted there, say).
 */
long vmatrack_max_map_count(void)
{
	struct file *f = filp_open("/proc/sys/vm/max_map_count", O_RDONLY, 0);
	char buf[24] = {};
	loff_t pos = 0;
	unsigned long v;
	ssize_t n;
	int ret;

	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
	filp_close(f, NULL);
	if (n < 0)
		return n;
	ret = kstrtoul(strim(buf), 10, &v);
	if (ret)
		return ret;
	return min_t(unsigned long, v, LONG_MAX);
}

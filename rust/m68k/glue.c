// SPDX-License-Identifier: GPL-2.0
/*
 * vmatrack for m68k-nommu (ColdFire): the C glue around the core.
 *
 * Rust-for-Linux does not exist on m68k and m68k has no kprobes, so this
 * module differs from the x86_64/riscv64 one in its glue only: the range
 * tree and the mirror engine are the same Rust sources, built for wasm32
 * and translated to C by wasm2c (core.c, runtime in wasm_rt.c). Without
 * probes the mirror is a snapshot mirror: every read of a debugfs file
 * walks the target's mm->mm_mt under its mmap read lock and syncs the
 * shadow to it (engine::sync), then renders from the shadow.
 *
 * Locking: vt_lock serializes everything: the target, and every call into
 * the core (a wasm instance is single-threaded). Calls into the core go
 * through VT_ENTER(), which arms trap unwinding (vt_setjmp); after a trap
 * the instance is not trusted again and every file returns -EIO.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/sched/task.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vt_core.h"
#include "vt_core_wasm.h"

#define VERSION "0.1.0"
/* engine::target::TARGET_MAX_LEN: longer writes are refused unread. */
#define TARGET_MAX_LEN 18

/* rust/wasm/lib.rs: what vt_render() renders. */
enum { RENDER_MAPS, RENDER_TREE, RENDER_STATS, RENDER_CHECK, RENDER_SELFTEST };

static ulong selftest_seed;
module_param(selftest_seed, ulong, 0644);
MODULE_PARM_DESC(selftest_seed, "seed of the selftest file's random cases (0: from the clock)");

static DEFINE_MUTEX(vt_lock);
static Z_vt_instance_t vt;
static vt_jmp_buf vt_jb;
static bool vt_broken;
static siphash_key_t vt_id_key;
static struct dentry *vt_dir;

/* The target: its mm (mmgrab'd, so it can be read until we let go). */
static struct {
	struct mm_struct *mm;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool exited;
	u64 snapshots;
} target;

static const char *const trap_names[] = {
	/* In the order of wasm_rt_trap_t. */
	"none", "out of bounds", "integer overflow", "division by zero",
	"invalid conversion", "unreachable (a Rust panic)", "indirect call",
	"uncaught exception", "call stack exhausted",
};

/*
 * Whether vt_jb holds a frame that can still be resumed: armed at all
 * (its return address is set), on this task's stack, and one of our
 * callers, whose saved stack pointer lies above ours (the stack grows
 * down). A frame that has returned at a shallower depth cannot be told
 * from a live one; everything else can.
 */
static bool vt_armed_here(void)
{
	unsigned long here = (unsigned long)__builtin_frame_address(0);
	unsigned long lo = (unsigned long)task_stack_page(current);

	return vt_jb[12] && vt_jb[11] >= here && vt_jb[11] < lo + THREAD_SIZE;
}

void vt_trap(int code)
{
	pr_err("core trapped: %s; the mirror is off until the module is reloaded\n",
	       code >= 0 && code < (int)ARRAY_SIZE(trap_names) ? trap_names[code] : "?");
	/*
	 * A core call outside a VT_ENTER() frame is a bug of this file:
	 * stop here rather than jump through a zeroed or dead jmp_buf.
	 */
	BUG_ON(!vt_armed_here());
	wasm_rt_call_stack_depth = 0;
	vt_longjmp(vt_jb, 1);
}

/*
 * VT_ENTER() - arm trap unwinding for calls into the core in this frame.
 * On a trap it runs @on_trap (undo what this frame holds) and returns
 * -EIO. The caller holds vt_lock. A call to another function that uses
 * VT_ENTER() re-arms for that (then dead) frame: call the core again
 * only after a new VT_ENTER().
 */
#define VT_ENTER(on_trap)                                \
	do {                                             \
		if (vt_broken)                           \
			return -EIO;                     \
		if (vt_setjmp(vt_jb)) {                  \
			vt_broken = true;                \
			on_trap;                         \
			return -EIO;                     \
		}                                        \
	} while (0)

/* An opaque id for a kernel object: a keyed hash, never the pointer. */
static u64 vt_id(const void *p)
{
	return p ? siphash_1u64((u64)(uintptr_t)p, &vt_id_key) | 1 : 0;
}

/* Copies @len bytes into the core's input buffer. Caller: VT_ENTER'd. */
static bool vt_put_input(const void *src, u32 len)
{
	u32 at = Z_vtZ_vt_in(&vt, len);

	if ((!at && len) || at + (u64)len > vt.w2c_memory.size)
		return false;
	vt_mem_write(&vt.w2c_memory, at, src, len);
	return true;
}

/*
 * vt_snapshot() - sync the shadow to the target's VMA tree now.
 *
 * Walks mm->mm_mt under the mmap read lock and feeds each VMA to the core
 * in address order. The range is the tree's (mas.index, mas.last), not
 * vm_start/vm_end: nommu mremap() changes vm_end in place without a tree
 * store, and the shadow mirrors the tree (as on riscv64-nommu). A target
 * that has exited keeps the last shadow. Caller holds vt_lock.
 *
 * Return: 0 or -errno (-ENOMEM: the shadow is stale until the next sync).
 */
static int vt_snapshot(void)
{
	struct mm_struct *volatile locked = NULL;
	char *volatile page = NULL;
	struct mm_struct *mm = target.mm;
	struct vm_area_struct *vma;
	int r;

	VT_ENTER({
		if (locked) {
			mmap_read_unlock(locked);
			mmput(locked);
		}
		kfree(page);
	});
	if (!mm)
		return (int)Z_vtZ_vt_clear(&vt);
	if (target.exited || !mmget_not_zero(mm)) {
		target.exited = true;
		return 0;
	}
	page = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!page) {
		mmput(mm);
		return -ENOMEM;
	}
	mmap_read_lock(mm);
	locked = mm;
	Z_vtZ_vt_sync_begin(&vt);
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			struct file *file = vma->vm_file;
			const char *path = "";
			u32 len = 0;
			dev_t dev = 0;
			u64 ino = 0;

			if (file) {
				struct inode *inode = file_inode(file);

				dev = inode->i_sb->s_dev;
				ino = inode->i_ino;
				path = d_path(file_user_path(file), page, PATH_MAX);
				if (IS_ERR(path))
					path = "?";
				len = strlen(path);
				if (!vt_put_input(path, len))
					len = 0;
			}
			Z_vtZ_vt_sync_vma(&vt, vmi.mas.index, vmi.mas.last + 1, vma->vm_flags,
						  vma->vm_pgoff, vt_id(vma), vt_id(vma->anon_vma),
						  vt_id(file), new_encode_dev(dev), ino, len);
		}
	}
	/* nommu maps show no [heap] (task_nommu.c): no brk range. */
	r = (int)Z_vtZ_vt_sync_end(&vt, 0, 0, mm->start_stack);
	locked = NULL;
	mmap_read_unlock(mm);
	mmput(mm);
	kfree(page);
	target.snapshots++;
	return r;
}

/* A rendered file: the text of one open, read as a whole buffer. */
struct rendered {
	size_t len;
	char text[];
};

static struct rendered *rendered_new(struct file *f, size_t len)
{
	struct rendered *r = kvmalloc(struct_size(r, text, len), GFP_KERNEL);

	if (r) {
		r->len = len;
		f->private_data = r;
	}
	return r;
}

static int rendered_put(struct file *f, const char *text, size_t len)
{
	struct rendered *r = rendered_new(f, len);

	if (!r)
		return -ENOMEM;
	memcpy(r->text, text, len);
	return 0;
}

/*
 * vt_render_open() - sync, then render @what into the open file. Caller
 * holds vt_lock.
 */
static int vt_render_open(struct file *f, int what)
{
	u64 seed = selftest_seed ? selftest_seed : ktime_get_ns();
	struct rendered *r2;
	int n, r = 0;
	u32 at;

	if (what != RENDER_SELFTEST)
		r = vt_snapshot();
	/* -ENOMEM: render what there is; the core's first line says "# stale". */
	if (r && r != -ENOMEM)
		return r;
	/* After vt_snapshot(), which armed its own frame. */
	VT_ENTER({});
	n = (int)Z_vtZ_vt_render(&vt, what, seed);
	if (n < 0)
		return n;
	at = Z_vtZ_vt_out(&vt);
	if (at + (u64)n > vt.w2c_memory.size)
		return -EIO;
	r2 = rendered_new(f, n);
	if (!r2)
		return -ENOMEM;
	vt_mem_read(&vt.w2c_memory, r2->text, at, n);
	return 0;
}

static int render_open(struct inode *inode, struct file *f)
{
	int r;

	mutex_lock(&vt_lock);
	r = vt_render_open(f, (int)(uintptr_t)inode->i_private);
	mutex_unlock(&vt_lock);
	return r;
}

static ssize_t rendered_read(struct file *f, char __user *buf, size_t n, loff_t *pos)
{
	struct rendered *r = f->private_data;

	return simple_read_from_buffer(buf, n, pos, r->text, r->len);
}

static int rendered_release(struct inode *inode, struct file *f)
{
	kvfree(f->private_data);
	return 0;
}

static const struct file_operations render_fops = {
	.owner = THIS_MODULE,
	.open = render_open,
	.read = rendered_read,
	.llseek = default_llseek,
	.release = rendered_release,
};

/* version, probes: fixed text. */
static int text_open(struct inode *inode, struct file *f)
{
	const char *text = inode->i_private;

	return rendered_put(f, text, strlen(text));
}

static const struct file_operations text_fops = {
	.owner = THIS_MODULE,
	.open = text_open,
	.read = rendered_read,
	.llseek = default_llseek,
	.release = rendered_release,
};

static int vt_len(void)
{
	VT_ENTER({});
	return (int)Z_vtZ_vt_len(&vt);
}

/* target, read: after a snapshot, so vmas= is now. */
static int target_open(struct inode *inode, struct file *f)
{
	char line[160];
	int r, n;

	mutex_lock(&vt_lock);
	r = vt_snapshot();
	if (r && r != -ENOMEM) {
		mutex_unlock(&vt_lock);
		return r;
	}
	if (!target.mm)
		n = scnprintf(line, sizeof(line),
			      "pid=0 comm= mode=snapshot state=detached vmas=0 events=0 resyncs=%llu\n",
			      target.snapshots);
	else
		n = scnprintf(line, sizeof(line),
			      "pid=%d comm=%s mode=snapshot state=%s vmas=%d events=0 resyncs=%llu\n",
			      target.pid, target.comm,
			      target.exited ? "exited" : r ? "stale" : "snapshot",
			      vt_len(), target.snapshots);
	mutex_unlock(&vt_lock);
	return rendered_put(f, line, n);
}

static void target_drop(void)
{
	if (target.mm)
		mmdrop(target.mm);
	target.mm = NULL;
	target.pid = 0;
	target.comm[0] = 0;
	target.exited = false;
}

/*
 * vt_resolve() - the mm of process @nr (writer's namespace), mmgrab'd,
 * with its tgid and comm. -ESRCH: no such task; -EINVAL: a kernel thread,
 * or a task without an mm. May sleep (mmput of a last user), so no RCU
 * read section around it: find_get_pid() takes its own.
 */
static int vt_resolve(pid_t nr, struct mm_struct **mmp, pid_t *tgid, char *comm)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	pid = find_get_pid(nr);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	if (task->flags & PF_KTHREAD) {
		put_task_struct(task);
		return -EINVAL;
	}
	mm = get_task_mm(task);
	if (!mm) {
		put_task_struct(task);
		return -EINVAL;
	}
	mmgrab(mm);
	mmput(mm);
	*mmp = mm;
	*tgid = task_tgid_vnr(task);
	strscpy_pad(comm, task->comm, TASK_COMM_LEN);
	put_task_struct(task);
	return 0;
}

/* Caller holds vt_lock. */
static int vt_target_write(const char *text, size_t len)
{
	char comm[TASK_COMM_LEN];
	struct mm_struct *mm;
	pid_t tgid;
	s64 pid;
	int r;

	VT_ENTER({});
	if (!vt_put_input(text, len))
		return -ENOMEM;
	pid = (s64)Z_vtZ_vt_parse_target(&vt, len, task_active_pid_ns(current)->pid_max);
	if (pid < 0)
		return (int)pid;
	if (pid == 0) {
		target_drop();
		return vt_snapshot();
	}
	r = vt_resolve((pid_t)pid, &mm, &tgid, comm);
	if (r)
		return r;
	target_drop();
	target.mm = mm;
	target.pid = tgid;
	memcpy(target.comm, comm, sizeof(comm));
	target.snapshots = 0;
	r = vt_snapshot();
	return r == -ENOMEM ? 0 : r;
}

static ssize_t target_write(struct file *f, const char __user *ubuf, size_t n, loff_t *pos)
{
	char text[TARGET_MAX_LEN];
	int r;

	/*
	 * One whole command per write(2), from offset 0, as on the other
	 * guests: the tail of a split write is not a command of its own.
	 */
	if (*pos != 0 || n == 0 || n > sizeof(text))
		return -EINVAL;
	if (copy_from_user(text, ubuf, n))
		return -EFAULT;
	mutex_lock(&vt_lock);
	r = vt_target_write(text, n);
	mutex_unlock(&vt_lock);
	if (r)
		return r;
	*pos += n;
	return n;
}

static const struct file_operations target_fops = {
	.owner = THIS_MODULE,
	.open = target_open,
	.read = rendered_read,
	.write = target_write,
	.llseek = default_llseek,
	.release = rendered_release,
};

/* stats: render like the others; a write of "reset" zeroes the totals. */
static int stats_reset(void)
{
	VT_ENTER({});
	Z_vtZ_vt_stats_reset(&vt);
	return 0;
}

static ssize_t stats_write(struct file *f, const char __user *ubuf, size_t n, loff_t *pos)
{
	char text[8];
	int r;

	if (n == 0 || n > sizeof(text) - 1)
		return -EINVAL;
	if (copy_from_user(text, ubuf, n))
		return -EFAULT;
	text[n] = 0;
	if (strcmp(text, "reset") && strcmp(text, "reset\n"))
		return -EINVAL;
	mutex_lock(&vt_lock);
	r = stats_reset();
	mutex_unlock(&vt_lock);
	return r ? r : n;
}

static int stats_open(struct inode *inode, struct file *f)
{
	/* Opened for writing only: no render (a reset needs no snapshot). */
	if (!(f->f_mode & FMODE_READ))
		return rendered_put(f, "", 0);
	return render_open(inode, f);
}

static const struct file_operations stats_fops = {
	.owner = THIS_MODULE,
	.open = stats_open,
	.read = rendered_read,
	.write = stats_write,
	.llseek = default_llseek,
	.release = rendered_release,
};

/*
 * probes: there are none; what the file can say is how much stack the
 * core has left (core.c bounds it).
 */
static int probes_open(struct inode *inode, struct file *f)
{
	char text[160];
	int n = scnprintf(text, sizeof(text),
			  "# no probes: m68k has no kprobes; this module mirrors by snapshot at each read\n");
	unsigned long least = READ_ONCE(vt_stack_least);

	if (least != ULONG_MAX)
		n += scnprintf(text + n, sizeof(text) - n,
			       "# stack: least left below a core function's frame: %lu bytes\n", least);
	return rendered_put(f, text, n);
}

static const struct file_operations probes_fops = {
	.owner = THIS_MODULE,
	.open = probes_open,
	.read = rendered_read,
	.llseek = default_llseek,
	.release = rendered_release,
};

static int vt_start(void)
{
	VT_ENTER({});
	/* Registers the core's function types, which can trap too. */
	Z_vt_init_module();
	Z_vt_instantiate(&vt);
	if (!vt.w2c_memory.data)
		return -ENOMEM;
	return (int)Z_vtZ_vt_init(&vt, PAGE_SHIFT);
}

static int __init vmatrack_init(void)
{
	int r;

	get_random_bytes(&vt_id_key, sizeof(vt_id_key));
	wasm_rt_init();
	mutex_lock(&vt_lock);
	r = vt_start();
	mutex_unlock(&vt_lock);
	if (r) {
		Z_vt_free(&vt);
		return r;
	}
	vt_dir = debugfs_create_dir("vmatrack", NULL);
	debugfs_create_file("version", 0400, vt_dir, (void *)VERSION "\n", &text_fops);
	debugfs_create_file("probes", 0400, vt_dir, NULL, &probes_fops);
	debugfs_create_file("target", 0600, vt_dir, NULL, &target_fops);
	debugfs_create_file("maps", 0400, vt_dir, (void *)RENDER_MAPS, &render_fops);
	debugfs_create_file("tree", 0400, vt_dir, (void *)RENDER_TREE, &render_fops);
	debugfs_create_file("check", 0400, vt_dir, (void *)RENDER_CHECK, &render_fops);
	debugfs_create_file("selftest", 0400, vt_dir, (void *)RENDER_SELFTEST, &render_fops);
	debugfs_create_file("stats", 0600, vt_dir, (void *)RENDER_STATS, &stats_fops);
	return 0;
}

static void __exit vmatrack_exit(void)
{
	/* Files hold the module (.owner), so none is open here. */
	debugfs_remove(vt_dir);
	target_drop();
	Z_vt_free(&vt);
	wasm_rt_free();
}

module_init(vmatrack_init);
module_exit(vmatrack_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmatrack: a shadow of one process's VMAs (m68k-nommu: snapshot mirror)");
MODULE_VERSION(VERSION);

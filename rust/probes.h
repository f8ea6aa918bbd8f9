/* SPDX-License-Identifier: GPL-2.0 */
/* The C shim's interface to Rust (rust/probes.c). */
#ifndef VMATRACK_PROBES_H
#define VMATRACK_PROBES_H

#include <linux/kprobes.h>

int vmatrack_kprobe_register(struct kprobe *kp, const char *symbol,
			     kprobe_pre_handler_t pre);
void vmatrack_kprobe_unregister(struct kprobe *kp);
unsigned long vmatrack_kprobe_nmissed(const struct kprobe *kp);

#endif /* VMATRACK_PROBES_H */

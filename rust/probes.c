// SPDX-License-Identifier: GPL-2.0
/*
 * vmatrack's only C: kprobe registration, which Rust-for-Linux has no
 * binding for. The handlers decide nothing; they forward to Rust.
 */
#include <linux/kprobes.h>
#include <linux/module.h>

#include "probes.h"

/**
 * vmatrack_kprobe_register() - register a kprobe on @symbol.
 * @kp: caller-owned, zeroed storage that outlives the registration.
 * @symbol: the function to probe.
 * @pre: pre-handler (runs with preemption off, possibly in NMI context).
 *
 * Return: 0 or a negative errno from register_kprobe().
 */
int vmatrack_kprobe_register(struct kprobe *kp, const char *symbol,
			     kprobe_pre_handler_t pre)
{
	kp->symbol_name = symbol;
	kp->pre_handler = pre;
	return register_kprobe(kp);
}

/**
 * vmatrack_kprobe_unregister() - undo vmatrack_kprobe_register().
 * @kp: a registered kprobe.
 *
 * Waits until no handler of @kp runs any more.
 */
void vmatrack_kprobe_unregister(struct kprobe *kp)
{
	unregister_kprobe(kp);
}

/**
 * vmatrack_kprobe_nmissed() - how often @kp was hit but not handled.
 * @kp: a registered kprobe.
 *
 * Return: the kprobe's nmissed counter.
 */
unsigned long vmatrack_kprobe_nmissed(const struct kprobe *kp)
{
	return kp->nmissed;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* The C probe shim's interface to Rust (rust/probes.c, rust/glue/probes.rs). */
#ifndef VMATRACK_PROBES_H
#define VMATRACK_PROBES_H

#define VMATRACK_NR_PROBES 8

int vmatrack_probes_register(void);
void vmatrack_unregister_one(int i);
void vmatrack_probes_unregister(void);
unsigned long vmatrack_probe_nmissed(int i);
void vmatrack_kick(void);
void vmatrack_kick_sync(void);
unsigned int vmatrack_current_cause(void);
unsigned long vmatrack_stack_left(void);

#endif /* VMATRACK_PROBES_H */

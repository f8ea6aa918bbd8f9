# SPDX-License-Identifier: GPL-2.0
"""pyalloc.py [DELAY]: an allocation-heavy script for a real, dynamically
linked program (Debian's python3) that `make run` mirrors.

Sleeps DELAY seconds first (default 2: time to attach), then grows and
frees large buffers (glibc's malloc maps them, and realloc grows them
through mremap, in place or by moving), builds a large dict and many
lists (the interpreter's own arenas), prints one line and waits, so that
the mirror can be read with the process at rest.
"""
import sys
import time

time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)

state = 7


def rand(lo, hi):
    """A small LCG: the script needs no module beyond time and sys."""
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return lo + (state >> 33) % (hi - lo)


blobs = []
for i in range(3000):
    b = bytearray(rand(150_000, 600_000))
    b += bytes(rand(0, 200_000))
    blobs.append(b)
    if len(blobs) > 40:
        del blobs[rand(0, len(blobs))]
table = {i: str(i) * 20 for i in range(300_000)}
lists = [list(range(rand(1_000, 50_000))) for _ in range(200)]
print("pyalloc: done blobs=%d table=%d lists=%d" % (len(blobs), len(table), len(lists)), flush=True)
time.sleep(600)

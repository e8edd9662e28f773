# ruff: noqa
# cell: answer-2
# attacks: q2
# Starts a detached grandchild (new session) that outlives the grader's child, holding
# every inherited file descriptor, including the grader's pipe.
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(0.5)
    os._exit(0)
time.sleep(0.2)

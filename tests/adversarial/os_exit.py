# ruff: noqa
# cell: answer-2
# attacks: q2
# Kills the process running the notebook in the middle of it.
import os

print("All tests passed!")
os._exit(0)

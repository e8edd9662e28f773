# ruff: noqa
# cell: answer-3
# attacks: q3
# Floods stdout and fills the disk.
import sys

chunk = "All tests passed! " * 1_000_000
for _ in range(200):  # 3.6 GB to stdout
    sys.stdout.write(chunk)

# ruff: noqa
# cell: answer-1
# attacks: q1
# Fills memory into a global and keeps it, catching the MemoryError: every later cell and
# test would run out of memory unless the grader runs the notebook again without this cell.
hoard = []
try:
    while True:
        hoard.append(bytearray(20_000_000))
except MemoryError:
    pass

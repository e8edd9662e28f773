# ruff: noqa
# cell: answer-1
# attacks: q1
# Fills the address space into a global and keeps it, catching the MemoryError: every later
# cell and test would run out of memory unless the grader runs the notebook again without
# this cell. (np.empty reserves without touching the pages: fast, and no real memory used.)
hoard = []
try:
    while True:
        hoard.append(np.empty(25_000_000))
except MemoryError:
    pass

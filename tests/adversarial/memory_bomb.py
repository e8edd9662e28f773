# ruff: noqa
# cell: answer-5
# attacks: q5
# Allocates (and touches) memory until something gives.
hoard = []
while True:
    hoard.append(b"x" * 100_000_000)

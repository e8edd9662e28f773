# ruff: noqa
# cell: answer-4
# attacks: q4
# Never finishes executing the cell.
while True:
    pass

# ruff: noqa
# cell: answer-5
# attacks: q5
# Writes one huge file, then many large ones, in the working directory.
block = b"0" * 2**20
try:
    with open("huge.bin", "wb") as handle:
        for _ in range(2048):  # 2 GiB
            handle.write(block)
except OSError as error:
    print("huge file stopped:", error)
try:
    for i in range(100):  # 100 x 60 MiB
        with open(f"part{i}.bin", "wb") as handle:
            for _ in range(60):
                handle.write(block)
except OSError as error:
    print("many files stopped:", error)

# ruff: noqa
# cell: answer-5
# attacks: q5
# Reads the reference solution (and the bundle) and runs the instructor's answer.
import json
import re

notebook = json.load(open("{SOLUTIONS}/01_linear_models.ipynb"))
bundle = open("{BUNDLE}/bundle.json").read()  # expected values, if it were readable
for cell in notebook["cells"]:
    source = "".join(cell["source"])
    if "def fit_ridge" in source:
        exec(re.sub(r"### (BEGIN|END) SOLUTION", "", source))

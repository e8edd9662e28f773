"""Integrity flags (coursekit/grading/integrity.py): fingerprints, forbidden imports,
hard-coded public answers. Flags only: the class test checks that scores do not change."""

from __future__ import annotations

import random

from coursekit.grading import integrity
from coursekit.grading.values import encode

RELEASE = {"cells": [
    {"cell_type": "code", "source": "import numpy as np",
     "metadata": {"coursekit": {"id": "cell-1", "kind": "readonly"}}},
    {"cell_type": "code", "source": 'def f(x):\n    raise NotImplementedError("replace this")',
     "metadata": {"coursekit": {"id": "answer-1", "kind": "answer"}}},
]}
QUESTIONS = [{"id": "q1", "forbidden": ["sklearn", "torch"], "tests": [
    {"key": "public/0", "visibility": "public", "kind": "call", "target": "f", "label": "f(...)",
     "expected": encode(2.718281828)},
    {"key": "hidden/0", "visibility": "hidden", "kind": "call", "target": "f",
     "label": "f(...)", "expected": encode(1234.5678)}]}]

ORIGINAL = '''def f(x):
    total = 0.0
    for k, value in enumerate(np.asarray(x, float).ravel()):
        if k % 2 == 0:
            total += value ** 2
        else:
            total -= np.sqrt(abs(value))
    scale = max(1.0, len(np.shape(x)))
    return total / scale
'''


def _random_program(seed: int) -> str:
    rng = random.Random(seed)
    lines = ["def f(x):", "    x = np.asarray(x, float)"]
    pieces = ["    x = x * {a}", "    x = np.cumsum(x)", "    y = [v for v in x if v > {a}]",
              "    x = np.sort(x)[::-1]", "    if x.size > {a}:\n        x = x[:{a}]",
              "    for k in range(3):\n        x = x + k", "    x = np.maximum(x, -{a})",
              "    z = dict(a=x, b={a})", "    while x.sum() > {a}:\n        x = x / 2",
              "    x = np.tanh(x) @ np.ones_like(x)"]
    for _ in range(8):
        lines.append(rng.choice(pieces).format(a=rng.randint(1, 9)))
    lines.append("    return x")
    return "\n".join(lines) + "\n"


def test_tokens_ignore_names_literals_and_comments():
    renamed = ORIGINAL.replace("total", "acc").replace("value", "v").replace("scale", "s")
    renamed = "# my answer\n" + renamed.replace("0.0", "0").replace("2 == 0:", "2 == 0:  # even")
    assert integrity.tokens(renamed) == integrity.tokens(ORIGINAL)
    assert integrity.tokens("def f(:\n  ") == ["def", "N", "(", ":"]  # no crash


def test_copies_flagged_against_the_class():
    answers = {f"s{i:02d}": {"answer-1": _random_program(i)} for i in range(20)}
    answers["copy"] = {"answer-1": "# copied\n" + _random_program(3).replace("x", "data")}
    answers["tiny"] = {"answer-1": "def f(x):\n    return x"}
    result = integrity.similar_pairs(answers, RELEASE)
    assert result["too_short"] == ["tiny"]
    assert result["pairs"][0][:2] == ("copy", "s03") and result["pairs"][0][2] == 1.0
    assert [p[:2] for p in result["flagged"]] == [("copy", "s03")]
    assert result["median"] < 0.5 and result["threshold"] >= integrity.ABSOLUTE
    # deterministic: the same class gives the same numbers
    assert integrity.similar_pairs(answers, RELEASE) == result


def test_release_code_is_not_evidence():
    given = "def f(x):\n" + "".join(f"    step{k} = np.asarray(x) * {k}\n" for k in range(12))
    release = {"cells": [dict(RELEASE["cells"][0], source=given)]}
    answers = {"a": {"answer-1": given + "    return 1\n"},
               "b": {"answer-1": given + "    return 2\n"}}
    result = integrity.similar_pairs(answers, release)
    assert result["flagged"] == [] and set(result["too_short"]) == {"a", "b"}


def test_forbidden_imports_and_hard_coded_answers():
    answers = {"answer-1": "import torch\nfrom sklearn.linear_model import Ridge\n"
                           "import numpy.linalg\nnp_ = __import__('torch.nn')\n\n"
                           "def f(x):\n    if x == 1:\n        return 2.718281828\n"
                           "    return 1234.5678\n"}
    flags = integrity.submission_flags(QUESTIONS, answers, RELEASE)
    kinds = [(f["kind"], f["detail"].split(":")[0]) for f in flags]
    assert kinds == [("forbidden-import", "answer-1 line 1"),
                     ("forbidden-import", "answer-1 line 2"),
                     ("forbidden-import", "answer-1 line 4"),
                     ("hard-coded", "answer-1 line 8")]  # hidden expected values: not public
    assert "2.718281828 is the expected value of the public test f(...)" in flags[-1]["detail"]
    assert integrity.submission_flags(QUESTIONS, {"answer-1": ORIGINAL}, RELEASE) == []
    # a question without forbidden packages flags nothing; a cell for another question neither
    other = [dict(QUESTIONS[0], forbidden=[])]
    assert integrity.forbidden_imports(other, answers) == []
    assert integrity.forbidden_imports(QUESTIONS, {"answer-2": "import torch\ng = 1"}) == []

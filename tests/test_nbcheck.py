"""The notebook checker (tests/nbcheck.py): tolerances for CPU-dependent numbers, exact words.

Unit tests of the comparison, then one real nbval run over a small notebook whose stored
outputs were edited the way another CPU would change them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit.utils import (
    FORCED_CODE_PATHS_ENV,
    SINGLE_THREAD_ENV,
    current_code_paths,
    environment_for,
    execution_env,
)
from tests.nbcheck import ToleranceError, align_outputs, align_text, parse_tolerance

ROOT = Path(__file__).resolve().parents[1]
REL = {"rel": 0.05}


def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


# ------------------------------------------------------------------ the comparison itself
def test_numbers_within_tolerance_are_aligned_to_the_stored_ones():
    stored = "test accuracy 0.951, loss 0.2034\n"
    assert align_text("test accuracy 0.949, loss 0.2100\n", stored, REL) == stored


def test_a_number_past_its_tolerance_stays_different():
    stored = "test accuracy 0.951, loss 0.2034\n"
    new = "test accuracy 0.951, loss 0.2200\n"  # +8 %
    assert align_text(new, stored, REL) == new != stored


@pytest.mark.parametrize("factor", [1.3, 1 / 1.3, 0.7])
def test_a_number_moved_by_30_percent_fails_under_every_allowed_relative_tolerance(factor):
    stored = "final loss 0.0192\n"
    new = f"final loss {0.0192 * factor:.4f}\n"
    assert align_text(new, stored, {"rel": 0.29}) != stored


def test_absolute_tolerance_for_accuracies():
    stored = "He: 0.964, Xavier: 0.809\n"
    assert align_text("He: 0.951, Xavier: 0.825\n", stored, {"abs": 0.02}) == stored
    assert align_text("He: 0.930, Xavier: 0.809\n", stored, {"abs": 0.02}) != stored


def test_either_bound_suffices_when_both_are_declared():
    stored = "loss 100.0 and 0.001\n"
    # 100 -> 104 is within 5 %; 0.001 -> 0.003 only within abs 0.005
    assert align_text("loss 104.0 and 0.003\n", stored, {"rel": 0.05, "abs": 0.005}) == stored


def test_a_changed_word_fails_even_with_a_tolerance():
    stored = "He beats Xavier: 0.964 vs 0.809\n"
    new = "Xavier beats He: 0.964 vs 0.809\n"
    assert align_text(new, stored, REL) == new


def test_a_different_count_of_numbers_fails():
    stored = "accuracies 0.95 0.96\n"
    new = "accuracies 0.95 0.96 0.97\n"
    assert align_text(new, stored, REL) == new


def test_words_with_digits_are_words_not_numbers():
    stored = "conv1 of LeNet-5 on 03a: 0.5\n"
    assert align_text("conv1 of LeNet-5 on 03a: 0.51\n", stored, REL) == stored
    assert align_text("conv2 of LeNet-5 on 03a: 0.5\n", stored, REL) != stored


def test_outputs_are_paired_by_kind_and_order_and_not_mutated():
    stored = [stream("a 1.00\n"), nbformat.v4.new_output(
        "execute_result", data={"text/plain": "0.500", "text/html": "<td>0.500</td>"},
        execution_count=1)]
    new = [stream("a 1.01\n"), nbformat.v4.new_output(
        "execute_result", data={"text/plain": "0.510", "text/html": "<td>0.490</td>"},
        execution_count=1)]
    aligned = align_outputs(new, stored, REL)
    assert aligned[0]["text"] == "a 1.00\n"
    assert aligned[1]["data"] == {"text/plain": "0.500", "text/html": "<td>0.500</td>"}
    assert new[0]["text"] == "a 1.01\n"  # the new outputs themselves are untouched


@pytest.mark.parametrize("tags, expected", [
    ([], {}), (["nbval-ignore-output"], {}), (["tolerance:rel=0.05"], {"rel": 0.05}),
    (["tolerance:rel=0.1", "tolerance:abs=0.02"], {"rel": 0.1, "abs": 0.02}),
])
def test_parse_tolerance(tags, expected):
    assert parse_tolerance(tags) == expected


@pytest.mark.parametrize("tags, words", [
    (["tolerance:rel=0.3"], "below 0.3"), (["tolerance:rel=2"], "below 0.3"),
    (["tolerance:rel=five"], "not a number"), (["tolerance:relative=0.1"], "is not"),
    (["tolerance:abs=-1"], "> 0"), (["tolerance:rel=0.1", "tolerance:rel=0.2"], "two"),
])
def test_bad_tolerance_tags_are_refused_with_a_reason(tags, words):
    with pytest.raises(ToleranceError, match=words):
        parse_tolerance(tags)


def test_an_absolute_tolerance_wider_than_30_percent_of_the_printed_scale_is_refused():
    with pytest.raises(ToleranceError, match="30 %"):
        align_text("loss 0.05\n", "loss 0.04\n", {"abs": 0.02})


# -------------------------------------------------------------- the execution environment
def test_execution_env_is_one_thread_plus_forced_code_paths():
    assert execution_env("native") == SINGLE_THREAD_ENV
    forced = execution_env("forced")
    assert forced == {**SINGLE_THREAD_ENV, **FORCED_CODE_PATHS_ENV}
    assert "OPENBLAS_CORETYPE" not in forced  # some machines need their own value
    with pytest.raises(ValueError, match="native"):
        execution_env("fast")


def test_native_environment_drops_forcing_variables_a_shell_exported():
    env = environment_for("native", base={"ATEN_CPU_CAPABILITY": "default", "HOME": "/x"})
    assert "ATEN_CPU_CAPABILITY" not in env and env["HOME"] == "/x"
    assert current_code_paths(env) == "native"
    assert current_code_paths(environment_for("forced", base={})) == "forced"


def test_the_forced_environment_reaches_torch_and_numpy_in_a_child():
    code = ("import torch, numpy; from numpy._core._multiarray_umath import __cpu_features__ "
            "as f; print(torch.backends.cpu.get_cpu_capability(), f.get('X86_V3', False))")
    out = subprocess.run([sys.executable, "-m", "coursekit.utils", "env", "forced", "--",
                          sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.split()
    assert out == ["DEFAULT", "False"]


def test_make_test_and_make_execute_use_this_definition():
    makefile = (ROOT / "Makefile").read_text()
    assert "CODE_PATHS ?= forced" in makefile
    assert "coursekit.utils env $(CODE_PATHS)" in makefile and "coursekit.utils env native" in makefile
    assert "OMP_NUM_THREADS" not in makefile and "OPENBLAS_CORETYPE" not in makefile


# ------------------------------------------------------------------- one real nbval run
CELLS = {
    "exact_ok": ("print('shape (450, 64), 7 of 450 wrong')", [], None),
    "exact_moved": ("print('worked example E = 0.298371')", [], "E = 0.298372"),
    "tol_within": ("print('accuracy 0.951 +/- 0.010')", ["tolerance:abs=0.02"],
                   "accuracy 0.945 +/- 0.012"),
    "tol_past": ("print('loss 0.2034')", ["tolerance:rel=0.05"], "loss 0.2200"),
    "tol_moved_30pct": ("print('loss 0.0192')", ["tolerance:rel=0.2"], "loss 0.0250"),
    "tol_word": ("print('He beats Xavier: 0.964')", ["tolerance:rel=0.05"],
                 "Xavier beats He: 0.964"),
}


def test_nbval_run_fails_exactly_the_cells_moved_past_their_tolerance(tmp_path):
    cells = []
    for name, (source, tags, stored) in CELLS.items():
        cell = nbformat.v4.new_code_cell(f"# {name}\n{source}", metadata={"tags": tags})
        printed = source.split("'")[1]
        cell.outputs = [stream((stored or printed) + "\n")]
        cell.execution_count = len(cells) + 1
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = tmp_path / "checker.ipynb"
    nbformat.write(notebook, path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.nbcheck", "--nbval", "--nbval-current-env",
         "-q", "-rA", "--rootdir", str(tmp_path), "-c", "/dev/null", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=240)
    outcome = {}
    for line in result.stdout.splitlines():
        for word in ("PASSED", "FAILED"):
            if line.startswith(word) and "::Cell " in line:
                index = int(line.split("::Cell ")[1].split()[0])
                outcome[list(CELLS)[index]] = word
    assert outcome == {"exact_ok": "PASSED", "exact_moved": "FAILED", "tol_within": "PASSED",
                       "tol_past": "FAILED", "tol_moved_30pct": "FAILED",
                       "tol_word": "FAILED"}, result.stdout[-3000:]

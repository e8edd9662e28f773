"""Chapter 01 (linear models): the numbers the lecture notebook's text cites, checked against its
stored outputs and, where they are exact, recomputed here.

(nbval re-executes the notebook itself in `make test`; this file reads the stored outputs.)
"""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursekit.nn.losses import hinge_loss, softmax_cross_entropy

ROOT = Path(__file__).resolve().parents[1]
LECTURE = ROOT / "notebooks" / "01_linear_models.ipynb"

SCORES = np.array([[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]])  # classes x images
TRUE_CLASS = np.array([0, 1, 2])


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(LECTURE, as_version=4)


@pytest.fixture(scope="module")
def text(notebook):
    return "\n".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for output in cell.get("outputs", []) if output.get("output_type") == "stream")


@pytest.fixture(scope="module")
def prose(notebook):
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_notebook_is_executed_without_errors(notebook):
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code_cells)
    assert not any(output.get("output_type") == "error" for cell in code_cells
                   for output in cell.get("outputs", []))


def test_worked_example_losses(text):
    S = SCORES.T
    assert hinge_loss(S, TRUE_CLASS)[0] == pytest.approx(5.2667, abs=1e-4)
    assert softmax_cross_entropy(S, TRUE_CLASS)[0] == pytest.approx(2.7587, abs=1e-4)
    assert "cat image: max(0, 5.1 − 3.2 + 1) + max(0, -1.7 − 3.2 + 1) = 2.9" in text
    assert "mean hinge loss over the three images: 5.27" in text
    assert "mean cross-entropy: 2.759" in text
    assert "PyTorch cross_entropy:        2.7587" in text


def test_softmax_arithmetic_is_printed_and_right(text):
    S = SCORES.T
    for i, (name, y) in enumerate(zip(["cat", "car", "frog"], TRUE_CLASS)):
        exp_s = np.exp(S[i])
        line = next(row for row in text.splitlines() if row.strip().startswith(f"{name} image: e^"))
        assert f"= {exp_s.sum():.2f};" in line
        assert line.endswith(f"P({name}) = {exp_s[y]:.2f} / {exp_s.sum():.2f} = {exp_s[y] / exp_s.sum():.4f}")
    assert "e^3.2 + e^5.1 + e^-1.7 = 24.53 + 164.02 + 0.18 = 188.74" in text


def test_same_loss_different_model(text, prose):
    """The lesson: equal data loss, different weights; a penalty breaks the tie (L2, not L1)."""
    assert "score w_1·x = 1.0, w_2·x = 1.0" in text
    assert "L2 penalty ||w||²: w_1 1.0, w_2 0.25" in text
    assert "L1 penalty ||w||₁: w_1 1.0, w_2 1.0" in text
    rows = re.findall(r"scores of (\d)W on the car image: hinge loss ([\d.]+), cross-entropy ([\d.]+)", text)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert all(float(r[1]) == 0.0 for r in rows)  # the margin is met at every scale
    ce = [float(r[2]) for r in rows]
    assert ce[0] > ce[1] > ce[2]  # cross-entropy alone rewards larger weights
    assert "### Same loss, different model" in prose and "§6" in prose


def test_regression_and_classification_numbers(text):
    assert "closed form: slope = 45.1600, intercept = 152.1335" in text
    assert "gradient descent: slope = 45.1600, intercept = 152.1335" in text
    assert text.count("below 1e-6: True") == 3
    match = re.search(r"softmax regression: train accuracy ([\d.]+), test accuracy ([\d.]+)", text)
    assert match and float(match.group(2)) > 0.95
    assert "blobs: training accuracy 1.000" in text
    assert float(re.search(r"moons: training accuracy ([\d.]+)", text).group(1)) < 0.95  # not separable


def test_overfitting_and_regularization_claims(text, prose):
    degrees = {int(d): (float(t), float(v)) for d, t, v in
               re.findall(r"degree\s+(\d+): training MSE ([\d.]+), validation MSE ([\d.]+)", text)}
    assert degrees[9][0] < degrees[3][0] < degrees[1][0]  # training error falls with degree
    assert degrees[9][1] > 100 * degrees[3][1]  # while the degree-9 model fails on new data
    l1 = re.search(r"L1: validation MSE ([\d.]+), weights exactly zero: (\d+) of 15", text)
    l2 = re.search(r"L2: validation MSE ([\d.]+), weights exactly zero: (\d+) of 15", text)
    assert int(l1.group(2)) >= 5 and int(l2.group(2)) == 0  # "L1 makes weights exactly zero"
    # the templates are described as what the figure shows, not as "blurred average digits"
    assert "blurred average digits" not in prose

"""Chapter 00 (introduction): the numbers the notebook's text cites and the conclusions it
draws, checked against its stored outputs (and recomputed here where they are cheap).

(nbval re-executes the notebook itself in `make test`; this file reads the stored outputs.)
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURE = ROOT / "notebooks" / "00_introduction.ipynb"


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(LECTURE, as_version=4)


def _text(cell):
    return "".join(output.get("text", "") for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream")


@pytest.fixture(scope="module")
def text(notebook):
    return "\n".join(_text(cell) for cell in notebook.cells if cell.cell_type == "code")


@pytest.fixture(scope="module")
def prose(notebook):
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_notebook_is_executed_without_errors(notebook):
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code_cells)
    assert not any(output.get("output_type") == "error" for cell in code_cells
                   for output in cell.get("outputs", []))


def test_first_cell_uses_one_thread_and_the_course_aliases(notebook):
    first = next(cell for cell in notebook.cells if cell.cell_type == "code"
                 and "install" not in cell.metadata.get("tags", [])).source  # after Colab's
    for line in ("import numpy as np", "import matplotlib.pyplot as plt", "import torch",
                 "use_single_thread()", "seed_everything(0)"):
        assert line in first


def test_exercise_path_is_the_real_one(prose):
    assert "exercises/NN_topic/" not in prose  # the review's wrong path
    assert "`exercises/NN_topic_exercises.ipynb`" in prose and "work/exercises/" in prose
    assert (ROOT / "exercises" / "01_linear_models_exercises.ipynb").is_file()


def test_live_self_check_fails_then_passes(notebook):
    """Onboarding: a student sees check() fail on a wrong answer, then pass on the fix."""
    calls = [cell for cell in notebook.cells
             if cell.cell_type == "code" and cell.source.rstrip().endswith('check("q1")')]
    assert len(calls) == 2
    wrong, right = (_text(cell) for cell in calls)
    assert wrong.startswith("q1: FAIL  public tests 0/1 points")
    assert "expected 212, got 180" in wrong  # the message says what was expected and got
    assert right.startswith("q1: PASS  public tests 1/1 points")
    assert right.count("   ok to_fahrenheit(...)") == 2
    setup = next(cell.source for cell in notebook.cells if "Checker(" in cell.source)
    assert 'checker("01_linear_models")' in setup  # says what a real exercise writes


def test_hypothesis_space_grid_search(text):
    assert "best hypothesis on the grid: w = 2.05, b = 0.45, loss = 0.0984" in text


def test_numpy_and_torch_gradients_agree(text):
    assert "NumPy gradient:   [ 8.768329  5.563841 -2.429051]" in text
    assert "PyTorch gradient: [ 8.768329  5.563841 -2.429051]" in text
    assert "largest difference below 1e-12: True" in text


def test_image_array_facts(text, notebook):
    assert "shape (H, W, C): (300, 451, 3)   dtype: uint8   min/max: 0 231" in text
    assert any("An image is a 300 × 451 × 3 array of numbers" in cell.source for cell in notebook.cells)


def test_shift_and_mirror_are_farther_than_a_blank_image(text, prose):
    distance = {name.strip(): float(d) for name, d in
                re.findall(r"^(.+?)\s+pixel distance to the original:\s+([\d.]+)$", text, re.M)}
    assert distance["original"] == 0.0
    blank = distance["blank grey (no cat)"]
    assert blank == pytest.approx(46.4)
    # the text: "Shifting the cat by 20 pixels or mirroring it moves it *farther* ... than the blank image"
    assert distance["shifted 20 px (position)"] > blank and distance["mirrored"] > blank
    assert "Shifting the cat by 20 pixels or mirroring it moves it *farther*" in prose
    # the labels name what the edits are (review: a shift is not a viewpoint change)
    assert "(viewpoint)" not in text and "(pose)" not in text


def test_knn_background_clutter_keeps_the_digit_visible(notebook, text, prose):
    source = next(cell.source for cell in notebook.cells if "def on_backgrounds" in cell.source)
    assert "0.7 * patches + 0.3 * images[:, 0]" in source  # additive: every stroke stays +0.3
    assert "np.maximum" not in source                        # (max() erased strokes on bright patches)
    assert "0.7\\cdot$background $+\\ 0.3\\cdot$digit" in prose
    clean = float(re.search(r"1-NN test accuracy, clean digits\s+: ([\d.]+)", text).group(1))
    clutter = float(re.search(r"1-NN test accuracy, digits on photo backgrounds\s*: ([\d.]+)", text).group(1))
    assert clean == pytest.approx(0.987, abs=1e-3)
    assert clutter == pytest.approx(0.627, abs=1e-3)
    assert clean - clutter > 0.3  # "the background dominates"
    near, rand = map(float, re.search(r"query vs its nearest neighbour ([\d.]+), "
                                      r"query vs a random training image ([\d.]+)", text).groups())
    assert near < rand / 3  # the nearest neighbour is the one with the most similar background


def test_timeline_legend_is_outside_the_labels(notebook):
    source = next(cell.source for cell in notebook.cells if "Milestones of neural networks" in cell.source)
    assert 'loc="lower right"' not in source  # it covered "2011 ReLU"
    assert "bbox_to_anchor=(1.0, 1.0)" in source

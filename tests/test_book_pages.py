"""Pages the website makes from the repository at build time (book/_ext/course_site.py):
the course guide's syllabus table and the benchmarks page. Pure functions, no build."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "book" / "_ext"))
import course_site  # noqa: E402

sys.path.remove(str(REPO / "book" / "_ext"))


def test_syllabus_table_lists_every_chapter_with_its_exercise_points():
    table = course_site.syllabus_table(REPO)
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert f"](notebooks/{notebook.stem}.ipynb)" in table, notebook.name
    for public in sorted((REPO / "coursekit" / "grading" / "public").glob("*.json")):
        data = json.loads(public.read_text())
        points = sum(q["points"] for q in data["questions"])
        row = next(line for line in table.splitlines() if f"exercises/{public.stem}_exercises.ipynb" in line)
        assert f"| {len(data['questions'])} | {points:g} |" in row, row


def test_benchmarks_page_shows_every_results_table(tmp_path):
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from results_table import save_table
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    save_table("widgets", "Widget update times", ["widget", "median"],
               [["ActivationExplorer", 0.081234]], notes="goal 0.3 s",
               folder=tmp_path / "benchmarks" / "results")
    page = course_site.results_tables(tmp_path)
    assert "## Widget update times" in page and "| ActivationExplorer | 0.0812 |" in page
    assert "benchmarks/results/widgets.json" in page and "goal 0.3 s" in page
    assert "run `make bench`" in course_site.results_tables(tmp_path / "nothing")


@pytest.mark.parametrize("cell, terms", [
    ("| perceptron | 感知机 (感知器) | x |", ["感知机", "感知器"]),
    ("| a, b | 视角变化、光照 | x |", ["视角变化", "光照"]),
    ("| English | 中文 | Meaning |", []),
])
def test_chinese_search_dictionary_splits_alternatives(tmp_path, cell, terms):
    glossary = tmp_path / "glossary.md"
    glossary.write_text(cell + "\n", encoding="utf-8")
    assert course_site.glossary_chinese_terms(glossary) == terms


def test_long_plotting_cells_are_collapsed_on_the_page_only():
    import nbformat

    long_plot = "\n".join(["fig, ax = plt.subplots()"] + [f"ax.plot([{i}])" for i in range(25)])
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(long_plot), nbformat.v4.new_code_cell("x = 1\n" * 30),
        nbformat.v4.new_code_cell("plt.plot([1])")])
    out = json.loads(course_site.collapse_long_plotting_cells(nbformat.writes(notebook)))
    tags = [cell["metadata"].get("tags", []) for cell in out["cells"]]
    assert tags == [["hide-input"], [], []]


@pytest.mark.parametrize("source, alt", [
    ('fig, ax = plt.subplots()\nax.set_title(f"LeNet-5 at {s} px")\nax.set_xlabel("x (px)")\n'
     'fig.suptitle("Filters of $W_1$")', "LeNet-5 at … px; Filters of W_1"),
    ("# Feature maps of the first layer\nplt.imshow(x)", "Feature maps of the first layer"),
    ("plt.imshow(x)", "Figure drawn by the code above"),
])
def test_figure_alt_text_comes_from_titles_or_the_first_comment(source, alt):
    assert course_site.figure_alt_text(source) == alt


def test_every_cited_key_is_in_the_bibliography():
    import re

    keys = course_site.bibliography_keys(REPO / "book" / "references.bib")
    assert {"lecun1998", "he2016", "ioffe2015", "kingma2015", "hochreiter1997", "goodfellow2014",
            "kingma2014", "redmon2016"} <= keys
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        cited = set(re.findall(r"\]\(cite:([\w-]+)\)", notebook.read_text(encoding="utf-8")))
        assert cited <= keys, (notebook.name, cited - keys)

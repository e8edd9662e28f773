"""Sphinx extension of the course website (loaded by _config.yml).

1. Pages load nothing from other hosts. Jupyter Book 1 always loads
   sphinx-thebe, which puts on every page a script with the URL of thebe on
   a public CDN (declared twice: a console error) and sphinx-thebe.js. The site has
   no live-code button (thebe needs a remote kernel and a CDN), so those scripts
   are dropped from every page.
2. Links from a chapter to files of the repository outside the book (e.g.
   ``../solutions/README.md``) become links to that file in the repository
   (``repository.url`` of _config.yml); the built site does not contain them. Links
   to pages of the book (``../exercises/01_linear_models_exercises.ipynb``) stay internal. A link
   to a path that does not exist stays a build warning.
3. Every exercise page (``exercises/*``) starts with how to work on it, check it and
   hand it in: one text for every exercise, present and future.
4. Every glossary entry has a stable anchor, the slug of its English term
   (``glossary.html#backpropagation``), and each English term in a chapter's key-terms
   table (a table whose first column is headed "English") links to it. The notebooks
   keep plain tables, which JupyterLab renders as they are.
5. Search finds Chinese terms whole and in parts: the index is built with jieba
   (``html_search_language: zh``) and a user dictionary made from the glossary's 中文
   column at build time, so 反向传播 is one word and 传播 still finds it.
6. Two pages are filled in from the repository at build time, so they never go stale: the
   course guide's syllabus table (every chapter, its exercise's questions and points from
   the public tests, its measured run time) and the benchmarks page (every table in
   ``benchmarks/results/*.json``, which ``make bench`` writes).
7. Long plotting cells (``LONG_PLOT_LINES`` lines or more that draw a figure) are collapsed on
   the page ("Show code cell source"), so a chapter reads as prose, code and results; the
   notebook itself is unchanged.
9. Citations: ``[He et al., 2016](cite:he2016)`` in a notebook's Markdown (JupyterLab shows the
   text "He et al., 2016") becomes a link to the entry ``he2016`` of the bibliography page
   (sphinxcontrib-bibtex, ``book/references.bib``); an unknown key is a build warning.
10. Figures get alt text from the titles the cell that drew them sets (literal strings in
   ``suptitle(...)``, ``set_title(...)``, ``title=...``), else from its first comment, else
   "Figure drawn by the code above", instead of a file path. (The stored PNGs carry no titles:
   matplotlib's inline backend does not record them.)
8. ``repository.url`` of _config.yml is the one setting for the public repository:
   launch buttons, repository links and the 404 page's URL prefix derive from it.
   While it is the placeholder, the build prints a notice (not a warning: the tests
   build with ``--strict``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
#: The address in _config.yml until the course is published (set the real one there).
PLACEHOLDER_REPOSITORY = "https://github.com/coursekit/deep-learning-course"

EXERCISE_HOWTO = """\
**How to work on this exercise.** On your machine, `make lab` opens your own copy,
`work/exercises/{name}.ipynb` (or use the launch button above). Run the first cell, replace
each `raise NotImplementedError(...)` with your answer, and run `check("q1")` (or `check()`)
after each answer: it runs the public tests and shows your points from them. The points
come mainly from hidden tests the grader runs on what you hand in: the saved
`{name}.ipynb`, with your answers in the cells where they were. From a terminal:
`.venv/bin/coursekit check work/exercises/{name}.ipynb`.
"""


def _is_thebe_script(script) -> bool:
    filename = getattr(script, "filename", None) or str(script)
    body = (getattr(script, "attributes", None) or {}).get("body", "")
    return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def drop_thebe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe_script(s)]


def repository_link(source_file, target: str, book_dir, repository_url: str,
                    branch: str = "main") -> str | None:
    """URL in the repository of ``target``, a relative link in ``source_file``.

    ``source_file`` is the page's source in the book (book/notebooks/NAME.ipynb:
    a link to, or a copy of, the repository's notebooks/NAME.ipynb). The link is
    resolved from the repository's copy. Returns None when ``target`` is not a
    relative path, does not exist, points into the book, or leaves the repository.
    """
    path, _, anchor = target.partition("#")
    if not repository_url or not path or "://" in path or path.startswith(("/", "mailto:")):
        return None
    in_book = Path(os.path.normpath(Path(source_file).parent / path))
    if in_book.exists() and in_book.is_relative_to(Path(book_dir)):
        return None  # a page of the book (e.g. an exercise): Sphinx links it
    book_dir = Path(book_dir).resolve()
    repository_dir = book_dir.parent
    real_source = Path(source_file).resolve()  # follows the book/notebooks link
    if real_source.is_relative_to(book_dir / "notebooks"):
        # a copy of notebooks/ (where links cannot be made) stands for the original
        real_source = repository_dir / real_source.relative_to(book_dir)
    resolved = (real_source.parent / path).resolve()
    if (not resolved.exists() or resolved.is_relative_to(book_dir)
            or not resolved.is_relative_to(repository_dir)):
        return None
    kind = "tree" if resolved.is_dir() else "blob"
    url = f"{repository_url.rstrip('/')}/{kind}/{branch}/{resolved.relative_to(repository_dir).as_posix()}"
    return f"{url}#{anchor}" if anchor else url


def link_repository_files(app, doctree) -> None:
    options = app.config.html_theme_options or {}
    repository_url = options.get("repository_url", "")
    branch = options.get("repository_branch") or "main"
    source_file = app.env.doc2path(app.env.docname)
    for node in list(doctree.findall(addnodes.pending_xref)):
        if node.get("reftype") != "myst" or node.get("refdomain"):
            continue  # only markdown links that Sphinx could not place
        url = repository_link(source_file, node["reftarget"], app.srcdir, repository_url, branch)
        if url is None:
            continue
        reference = nodes.reference("", "", internal=False, refuri=url)
        reference.extend(child.deepcopy() for child in node.children)
        if not reference.astext():
            reference += nodes.literal(node["reftarget"], node["reftarget"])
        node.replace_self(reference)


CITE_SCHEME = "cite:"


def bibliography_keys(bib: Path) -> set[str]:
    """The entry keys of a BibTeX file."""
    import re

    return set(re.findall(r"^@\w+\s*\{\s*([^,\s]+)\s*,", Path(bib).read_text(encoding="utf-8"),
                          re.M))


def link_citations(app, doctree) -> None:
    """``[text](cite:key)`` -> a link to ``bibliography.html#key`` (the key's entry)."""
    bib = Path(app.srcdir) / "references.bib"
    keys = bibliography_keys(bib) if bib.is_file() else set()
    for node in list(doctree.findall(addnodes.pending_xref)):
        target = node.get("reftarget", "")
        if node.get("reftype") != "myst" or not target.startswith(CITE_SCHEME):
            continue
        key = target[len(CITE_SCHEME):]
        if key not in keys:
            LOGGER.warning(f"citation {key!r} is not in book/references.bib", location=node)
        uri = app.builder.get_relative_uri(app.env.docname, "bibliography") + "#" + key
        reference = nodes.reference("", "", internal=True, refuri=uri, classes=["citation-link"])
        reference.extend(child.deepcopy() for child in node.children)
        node.replace_self(reference)


TITLE_CALLS = r"(?:suptitle|set_title|title|set_xlabel|set_ylabel)"


def figure_alt_text(source: str, limit: int = 240) -> str:
    """Alt text for the figures a cell draws, from its source (see 10. above)."""
    import re

    titles = []
    for match in re.finditer(TITLE_CALLS + r"""\s*[(=]\s*(?:[rf]?)(["'])(.+?)\1""", source):
        call = match.group(0).split("(")[0].split("=")[0].strip()
        if call.endswith(("xlabel", "ylabel")):
            continue
        text = re.sub(r"\{[^}]*\}", "…", match.group(2))  # f-string fields
        text = re.sub(r"\$([^$]*)\$", r"\1", text).replace("\\n", " ").strip()
        if text and text not in titles:
            titles.append(text)
    if titles:
        alt = "; ".join(titles)
    else:
        comment = next((line.strip().lstrip("#").strip() for line in source.splitlines()
                        if line.strip().startswith("#") and not line.strip().startswith("#!")
                        and "noqa" not in line), "")
        alt = comment or "Figure drawn by the code above"
    return alt if len(alt) <= limit else alt[:limit - 1].rstrip() + "…"


def add_figure_alt_text(app, doctree) -> None:
    if not app.env.docname.startswith("notebooks/"):
        return
    for cell in doctree.findall(nodes.container):
        if "cell" not in cell.get("classes", []):
            continue
        images = [image for image in cell.findall(nodes.image) if not image.get("alt")]
        if not images:
            continue
        source = next((block.astext() for block in cell.findall(nodes.literal_block)), "")
        alt = figure_alt_text(source)
        for number, image in enumerate(images, 1):
            image["alt"] = alt if len(images) == 1 else f"{alt} ({number} of {len(images)})"


def term_slug(term: str) -> str:
    """The glossary anchor of an English term: ``"receptive field"`` -> ``"receptive-field"``."""
    return nodes.make_id(term)


def glossary_terms(glossary_md: Path) -> list[str]:
    """English terms of the glossary's tables (first column, header rows left out)."""
    terms = []
    for line in Path(glossary_md).read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and cells[0] not in ("English", "") and \
                not set(cells[0]) <= set("-: "):
            terms.append(cells[0])
    return terms


def _english_tables(doctree):
    """Tables whose header's first cell is "English"; yields their body rows."""
    for table in doctree.findall(nodes.table):
        head = next(iter(table.findall(nodes.thead)), None)
        body = next(iter(table.findall(nodes.tbody)), None)
        if head is None or body is None:
            continue
        first = next(iter(head.findall(nodes.entry)), None)
        if first is not None and first.astext().strip() == "English":
            yield from body.findall(nodes.row)


def glossary_chinese_terms(glossary_md: Path) -> list[str]:
    """Chinese terms of the glossary's 中文 column, alternatives split apart:
    ``"感知机 (感知器)"`` -> 感知机, 感知器; ``"视角变化、光照"`` -> 视角变化, 光照."""
    import re

    terms = []
    for line in Path(glossary_md).read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or cells[1] in ("中文", ""):
            continue
        for part in re.split(r"[/、,，;；()（）]| or ", cells[1]):
            part = part.strip()
            if re.search(r"[\u4e00-\u9fff]", part) and " " not in part and part not in terms:
                terms.append(part)
    return terms


def chinese_search_dictionary(app, config) -> None:
    """Write jieba's user dictionary of the glossary's Chinese terms; the search index uses it."""
    glossary = Path(app.confdir) / "glossary.md"
    if config.html_search_language != "zh" or not glossary.is_file():
        return
    path = Path(app.doctreedir).parent / "jieba_userdict.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    # a high frequency keeps each glossary term one word; cut_for_search adds its parts
    path.write_text("".join(f"{term} 100000 n\n" for term in glossary_chinese_terms(glossary)),
                    encoding="utf-8")
    config.html_search_options = {**(config.html_search_options or {}), "dict": str(path)}


def link_glossary(app, doctree) -> None:
    docname = app.env.docname
    glossary = Path(app.srcdir) / "glossary.md"
    if not glossary.is_file():
        return
    if docname == "glossary":
        used = set()
        for row in _english_tables(doctree):
            slug = term_slug(row.children[0].astext().strip())
            if slug and slug not in used:  # a term taught twice: the first entry is its anchor
                row["ids"].append(slug)
                used.add(slug)
        return
    if not docname.startswith("notebooks/"):
        return
    slugs = {term_slug(term) for term in glossary_terms(glossary)}
    target = app.builder.get_relative_uri(docname, "glossary")
    for row in _english_tables(doctree):
        entry = row.children[0]
        slug = term_slug(entry.astext().strip())
        paragraph = next(iter(entry.findall(nodes.paragraph)), None)
        if slug in slugs and paragraph is not None:
            link = nodes.reference("", "", internal=True, refuri=f"{target}#{slug}",
                                   classes=["glossary-link"])
            link.extend(paragraph.children)
            paragraph.children = []
            paragraph += link


SYLLABUS_MARKER = "<!-- syllabus-table -->"
RESULTS_MARKER = "<!-- benchmark-results -->"


def _notebook_title(path: Path) -> str:
    import json

    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _results(repository: Path) -> dict[str, dict]:
    import json

    out = {}
    for path in sorted((repository / "benchmarks" / "results").glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            LOGGER.info(f"notice: {path} is not valid JSON; left off the benchmarks page")
    return out


def syllabus_table(repository: Path) -> str:
    """Markdown: each chapter notebook with its exercise (questions, points) and run time."""
    import json

    times = {row[0]: row[1] for row in _results(repository).get("notebooks", {}).get("rows", [])}
    public = repository / "coursekit" / "grading" / "public"
    lines = ["| chapter | exercise | questions | points | time (s) |",
             "|---|---|---|---|---|"]
    for notebook in sorted((repository / "notebooks").glob("*.ipynb")):
        title = _notebook_title(notebook).replace("|", "/")
        exercise = questions = points = "–"
        key = notebook.stem.split("_")[0]
        for path in sorted(public.glob("*.json")):
            if path.stem.split("_")[0].rstrip("ab") == key.rstrip("ab") and key[0].isdigit():
                data = json.loads(path.read_text(encoding="utf-8"))
                exercise = f"[exercises {path.stem.split('_')[0]}](exercises/{path.stem}_exercises.ipynb)"
                questions = str(len(data["questions"]))
                points = f"{sum(q['points'] for q in data['questions']):g}"
                break
        seconds = times.get(notebook.name)
        time = f"{seconds:.0f}" if isinstance(seconds, (int, float)) else "–"
        lines.append(f"| [{title}](notebooks/{notebook.stem}.ipynb) | {exercise} | {questions} "
                     f"| {points} | {time} |")
    return "\n".join(lines)


def results_tables(repository: Path) -> str:
    """Markdown: every table of benchmarks/results/*.json, with where it was measured."""
    parts = []
    for name, table in _results(repository).items():
        columns = table.get("columns", [])
        measured = table.get("measured", {})
        parts.append(f"## {table.get('title', name)}\n")
        parts.append(f"Measured {measured.get('date', '?')} on {measured.get('machine', '?')}"
                     f" (`benchmarks/results/{name}.json`). {table.get('notes', '')}\n")
        parts.append("| " + " | ".join(columns) + " |")
        parts.append("|" + "---|" * len(columns))
        for row in table.get("rows", []):
            parts.append("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v)
                                            for v in row) + " |")
        parts.append("")
    return "\n".join(parts) or "No benchmark results are stored yet: run `make bench`."


LONG_PLOT_LINES = 20
PLOTTING = ("plt.", "ax.", "axes[", "new_figure(", ".imshow(", ".plot(", "fig.", "figure.")


def collapse_long_plotting_cells(notebook_json: str) -> str:
    """The notebook with the tag ``hide-input`` on each long cell that draws a figure."""
    import json

    notebook = json.loads(notebook_json)
    changed = False
    for cell in notebook.get("cells", []):
        source = "".join(cell.get("source", ""))
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if (cell.get("cell_type") == "code" and source.count("\n") + 1 >= LONG_PLOT_LINES
                and any(call in source for call in PLOTTING)
                and not {"hide-input", "remove-input", "remove-cell"} & set(tags)):
            tags.append("hide-input")
            changed = True
    return json.dumps(notebook) if changed else notebook_json


def fill_generated_pages(app, docname, source) -> None:
    repository = Path(app.srcdir).resolve().parent
    if docname.startswith("notebooks/") and source[0].lstrip().startswith("{"):
        source[0] = collapse_long_plotting_cells(source[0])
    if SYLLABUS_MARKER in source[0]:
        source[0] = source[0].replace(SYLLABUS_MARKER, syllabus_table(repository))
    if RESULTS_MARKER in source[0]:
        source[0] = source[0].replace(RESULTS_MARKER, results_tables(repository))


def add_exercise_howto(app, doctree) -> None:
    docname = app.env.docname
    if not docname.startswith("exercises/"):
        return
    from docutils.core import publish_doctree

    name = docname.split("/", 1)[1]
    note = nodes.admonition(classes=["tip", "exercise-howto"])
    note += nodes.title("", "Working on this exercise")
    body = publish_doctree(EXERCISE_HOWTO.format(name=name).replace("`", "``"),
                           settings_overrides={"report_level": 5})
    note.extend(child.deepcopy() for child in body.children)
    sections = list(doctree.findall(nodes.section))
    if sections:  # after the notebook's title
        sections[0].insert(1, note)
    else:
        doctree.insert(0, note)


def theme_settings(app, config) -> None:
    """A favicon of the site's own (no 404 for /favicon.ico) and a valid colour mode on the first
    visit (the theme's script otherwise logs "invalid theme mode" on every page)."""
    config.html_context = {**(config.html_context or {}), "default_mode": "light"}
    if not config.html_favicon:
        config.html_favicon = "favicon.svg"


def repository_settings(app, config) -> None:
    """Derive what depends on the repository address; say so while it is the placeholder."""
    url = (config.html_theme_options or {}).get("repository_url", "")
    if url.rstrip("/") == PLACEHOLDER_REPOSITORY:
        LOGGER.info(f"notice: repository.url in book/_config.yml is still the placeholder "
                    f"{PLACEHOLDER_REPOSITORY}; set the course's public repository there "
                    f"before publishing (launch buttons and repository links use it)")
    path = urlparse(url).path.strip("/")
    if path and "/" in path and not getattr(config, "notfound_urls_prefix_set", False):
        # a GitHub Pages project site lives under /<repository name>/
        config.notfound_urls_prefix = f"/{path.split('/')[-1]}/"


def setup(app):
    # MathJax on every page, not only on pages with Sphinx math: saved widgets
    # (e.g. the widgets gallery) typeset their $...$ labels with it too.
    app.set_html_assets_policy("always")
    app.connect("html-page-context", drop_thebe_scripts)
    app.connect("doctree-read", link_citations)  # before: a cite: link is no repository file
    app.connect("doctree-read", link_repository_files)
    app.connect("doctree-read", add_exercise_howto)
    app.connect("source-read", fill_generated_pages)
    app.connect("doctree-read", link_glossary)
    app.connect("doctree-read", add_figure_alt_text)
    app.connect("config-inited", repository_settings)
    app.connect("config-inited", theme_settings)
    app.connect("config-inited", chinese_search_dictionary)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

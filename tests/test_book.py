"""The course website (book/): it builds, every notebook is a chapter page with its
figures, and in headless Chromium a page loads nothing from other hosts, MathJax
renders its formulas and its figures are visible.

The book is built once per session (book/build.py --strict, into a temporary
folder, so a Sphinx warning fails). Browser tests need Debian's chromium; without
it they skip, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

try:  # the browser tests skip without playwright (see the browser fixture)
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError:
    PlaywrightTimeoutError = TimeoutError

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((REPO / "exercises").glob("*.ipynb"))
INSTALL_CHROMIUM = ("the browser tests need it: install it with `apt-get install chromium` "
                    "(and the book extra: pip install -c constraints.txt -e '.[book]')")

# myst-nb shows, for each output, the first of these MIME types it has (HTML builder).
MIME_PRIORITY = ("application/vnd.jupyter.widget-view+json", "application/javascript",
                 "text/html", "image/svg+xml", "image/png", "image/jpeg",
                 "text/markdown", "text/latex", "text/plain")
HIDING_TAGS = {"remove-cell", "remove_cell", "remove-output", "remove_output"}


def _skip_or_fail_in_ci(message: str):
    """Skip a test whose tool is missing, but fail under CI, where it must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: these tests must run)", pytrace=False)
    pytest.skip(message)


def chapter_ids(paths=NOTEBOOKS):
    return [path.stem for path in paths]


def shown_figures(notebook_path: Path) -> list[bytes]:
    """Bytes of every PNG/JPEG output the page of ``notebook_path`` shows, in order."""
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    figures = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code" or HIDING_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            shown = next((mime for mime in MIME_PRIORITY if mime in data), None)
            if shown in ("image/png", "image/jpeg"):
                payload = data[shown]
                payload = "".join(payload) if isinstance(payload, list) else payload
                figures.append(base64.b64decode(payload))
    return figures


class _PageParser(HTMLParser):
    """Collects the URLs a page loads (scripts, styles, images, frames) and its links."""

    LOADING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
               ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for element, attribute in self.LOADING:
            if tag == element and attrs.get(attribute):
                self.loads.append(attrs[attribute])
        if tag == "link" and attrs.get("href") and set((attrs.get("rel") or "").split()) & {
                "stylesheet", "preload", "icon", "modulepreload", "prefetch", "manifest"}:
            self.loads.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def load_course_site_extension():
    spec = importlib.util.spec_from_file_location("course_site", BOOK / "_ext" / "course_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_page(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# --------------------------------------------------------------------------- links

def test_links_to_repository_files_become_repository_urls(tmp_path):
    repository_link = load_course_site_extension().repository_link
    repository, url = tmp_path / "repo", "https://github.com/owner/course"
    (repository / "book").mkdir(parents=True)
    (repository / "notebooks").mkdir()
    (repository / "exercises" / "01_linear").mkdir(parents=True)
    (repository / "exercises" / "01_linear" / "q.ipynb").write_text("{}")
    (repository / "README.md").write_text("hi")
    chapter = repository / "notebooks" / "01_linear.ipynb"
    chapter.write_text("{}")
    book = repository / "book"
    (book / "notebooks").symlink_to("../notebooks", target_is_directory=True)
    in_book = book / "notebooks" / "01_linear.ipynb"

    assert repository_link(in_book, "../exercises/01_linear/q.ipynb", book, url) == (
        f"{url}/blob/main/exercises/01_linear/q.ipynb")
    assert repository_link(in_book, "../exercises/01_linear/#part-2", book, url, "dev") == (
        f"{url}/tree/dev/exercises/01_linear#part-2")
    assert repository_link(book / "intro.md", "../README.md", book, url) == (
        f"{url}/blob/main/README.md")
    # a copy of notebooks/ (no symlinks) resolves like the original
    (book / "notebooks").unlink()
    (book / "notebooks").mkdir()
    (book / "notebooks" / "01_linear.ipynb").write_text("{}")
    assert repository_link(in_book, "../exercises/01_linear/q.ipynb", book, url) == (
        f"{url}/blob/main/exercises/01_linear/q.ipynb")
    # left alone: missing paths, pages of the book, URLs, outside the repository, no URL
    for target in ("../exercises/02_missing/", "../book/notebooks/01_linear.ipynb",
                   "https://example.org/x", "#anchor", "../../outside"):
        assert repository_link(in_book, target, book, url) is None, target
    assert repository_link(in_book, "../README.md", book, "") is None


# --------------------------------------------------------------------------- build

@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """Build the book once (strict: a warning fails) and return its HTML folder.
    COURSEKIT_BUILT_SITE=DIR/_build/html reuses a site built with book/build.py --strict."""
    assert NOTEBOOKS, "notebooks/ holds no .ipynb: the book has no chapters"
    if os.environ.get("COURSEKIT_BUILT_SITE"):
        return Path(os.environ["COURSEKIT_BUILT_SITE"])
    if not (BOOK / "node_modules").is_dir() and shutil.which("npm") is None:
        _skip_or_fail_in_ci("npm is needed once to install the website's JavaScript "
                            "(book/package.json); install Node.js/npm")
    output = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [sys.executable, str(BOOK / "build.py"), "--path-output", str(output), "--strict"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # no colours
    if result.returncode != 0:
        problems = [line for line in log.splitlines() if re.search(r"WARNING|ERROR|Error", line)]
        pytest.fail("the book did not build without warnings (book/build.py --strict):\n"
                    + "\n".join(problems or log.splitlines()[-40:])
                    + "\n(a markdown link to a file of the repository must name one that "
                    "exists; book/_ext/course_site.py turns it into a repository link)",
                    pytrace=False)
    html = output / "_build" / "html"
    assert (html / "index.html").is_file(), log[-3000:]
    return html


@pytest.mark.slow
def test_every_notebook_is_a_chapter_of_the_table_of_contents(site):
    navigation = parse_page(site / "intro.html").links
    for notebook in NOTEBOOKS:
        page = site / "notebooks" / f"{notebook.stem}.html"
        assert page.is_file(), f"no page for {notebook.name} ({page} missing)"
        assert f"notebooks/{notebook.stem}.html" in navigation, (
            f"{notebook.name} is not in the table of contents of the book")


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=chapter_ids())
def test_chapter_page_shows_every_stored_figure(site, notebook):
    page = site / "notebooks" / f"{notebook.stem}.html"
    shown = {}
    for source in parse_page(page).images:
        if urlsplit(source).scheme:
            continue
        image = (page.parent / source.split("?")[0]).resolve()
        assert image.is_file() and image.stat().st_size > 0, f"{page.name}: {source} is missing"
        shown[hashlib.sha256(image.read_bytes()).hexdigest()] = source
    figures = shown_figures(notebook)
    missing = [index for index, figure in enumerate(figures)
               if hashlib.sha256(figure).hexdigest() not in shown]
    assert not missing, (f"{page.name}: stored figures {missing} (of {len(figures)}) are not "
                         "on the page")


@pytest.mark.slow
def test_no_page_references_another_host(site):
    """Scripts, styles, fonts and images all come from the site (links may leave it)."""
    offenders = []
    for page in sorted(site.rglob("*.html")):
        for url in parse_page(page).loads:
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                offenders.append(f"{page.relative_to(site)}: {url}")
    assert not offenders, "pages load from other hosts:\n" + "\n".join(offenders)


@pytest.mark.slow
def test_static_javascript_is_served_by_the_site(site):
    static = site / "_static"
    for name in ("widgets/require.js", "widgets/embed-amd.js", "widgets/widgets-setup.js",
                 "mathjax/tex-chtml.js", "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"):
        assert (static / name).is_file(), f"_static/{name} missing from the site"
    chapter = (site / "notebooks" / f"{NOTEBOOKS[0].stem}.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in chapter


@pytest.mark.slow
def test_launch_buttons_are_links_to_this_notebook(site):
    page = site / "notebooks" / f"{NOTEBOOKS[0].stem}.html"
    links = parse_page(page).links
    colab = [link for link in links if link.startswith("https://colab.research.google.com/")]
    binder = [link for link in links if link.startswith("https://mybinder.org/")]
    assert colab and colab[0].endswith(f"/notebooks/{NOTEBOOKS[0].name}"), colab
    assert binder and binder[0].endswith(f"notebooks/{NOTEBOOKS[0].name}"), binder


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=chapter_ids(EXERCISES))
def test_every_exercise_is_a_page_with_how_to_work_on_it(site, exercise):
    page = site / "exercises" / f"{exercise.stem}.html"
    assert page.is_file(), f"no page for exercises/{exercise.name}"
    assert f"exercises/{exercise.stem}.html" in parse_page(site / "intro.html").links
    text = page.read_text(encoding="utf-8")
    assert "Working on this exercise" in text and f"work/exercises/{exercise.stem}.ipynb" in text
    assert "BEGIN SOLUTION" not in text and "NotImplementedError" in text  # questions, no answers
    links = parse_page(page).links
    assert any(link.startswith("https://colab.research.google.com/")
               and link.endswith(f"/exercises/{exercise.name}") for link in links), links


@pytest.mark.slow
def test_chapters_link_to_their_exercise_page_not_the_repository(site):
    linked = {link for notebook in NOTEBOOKS
              for link in parse_page(site / "notebooks" / f"{notebook.stem}.html").links}
    pages = {f"../exercises/{e.stem}.html" for e in EXERCISES}
    assert pages & linked, "no chapter links to its exercise page"
    assert not any("/blob/main/exercises/" in link for link in linked)


@pytest.mark.slow
def test_404_page_works_under_the_repository_path(site):
    page = site / "404.html"
    assert page.is_file()
    loads = parse_page(page).loads
    # GitHub Pages serves a project site under /<repository name>/, from any missing path
    assert loads and all(url.startswith("/deep-learning-course/") for url in loads
                         if not urlsplit(url).scheme), loads


@pytest.mark.slow
def test_glossary_terms_have_anchors_and_key_terms_link_to_them(site):
    glossary = (site / "glossary.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<tr class="row-\w+" id="([^"]+)"', glossary))
    assert {"backpropagation", "receptive-field"} & anchors, sorted(anchors)[:10]
    linked = 0
    for notebook in NOTEBOOKS:
        for link in parse_page(site / "notebooks" / f"{notebook.stem}.html").links:
            if link.startswith("../glossary.html#"):
                assert link.split("#")[1] in anchors, f"{notebook.stem}: {link} has no anchor"
                linked += 1
    assert linked >= 50, f"only {linked} key terms link to the glossary"


def test_repository_address_is_one_setting_with_a_notice_while_a_placeholder(caplog):
    from types import SimpleNamespace

    sys.path.insert(0, str(BOOK / "_ext"))
    try:
        import course_site
    finally:
        sys.path.remove(str(BOOK / "_ext"))
    config = SimpleNamespace(html_theme_options={
        "repository_url": course_site.PLACEHOLDER_REPOSITORY}, notfound_urls_prefix="/en/latest/")
    with caplog.at_level("INFO"):
        course_site.repository_settings(None, config)
    assert "still the placeholder" in caplog.text
    assert config.notfound_urls_prefix == "/deep-learning-course/"
    config = SimpleNamespace(html_theme_options={"repository_url": "https://github.com/uni/dl"},
                             notfound_urls_prefix="/en/latest/")
    caplog.clear()
    course_site.repository_settings(None, config)
    assert config.notfound_urls_prefix == "/dl/" and "placeholder" not in caplog.text


@pytest.mark.slow
def test_glossary_has_every_key_term_of_the_chapters(site):
    """Each English term in a chapter's "Key terms" table appears in book/glossary.md."""
    assert (site / "glossary.html").is_file()
    glossary = normalize_term((BOOK / "glossary.md").read_text(encoding="utf-8"))
    missing = [f"{notebook.stem}: {term}" for notebook in NOTEBOOKS
               for term in key_terms(notebook) if normalize_term(term) not in glossary]
    assert not missing, "add these key terms to book/glossary.md:\n" + "\n".join(missing)


def normalize_term(text: str) -> str:
    """Lower case, no parenthesised remarks, British spellings as American, single
    spaces (for matching terms)."""
    text = re.sub(r"\([^)]*\)", "", text).lower().replace("isation", "ization").replace("our", "or").replace("centre", "center")
    return re.sub(r"\s+", " ", text)


def key_terms(notebook_path: Path) -> list[str]:
    """English terms of the "Key terms" tables of a notebook (one per "/"- or ","-part,
    without parenthesised remarks)."""
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    terms = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "markdown" or not re.search(r"^#+\s*key terms", source, re.I | re.M):
            continue
        # only the table under the "Key terms" heading (a cell may hold other sections)
        lines = source.splitlines()
        start = next(i for i, line in enumerate(lines) if re.match(r"^#+\s*key terms", line, re.I))
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
        for row in lines[start + 1:end]:
            columns = [column.strip() for column in row.strip().strip("|").split("|")]
            if len(columns) < 2 or set(columns[0]) <= set("-: ") or columns[0].lower() == "english":
                continue
            english = re.sub(r"\([^)]*\)", "", columns[0]).replace("*", "").replace("`", "")
            terms += [" ".join(part.split()) for part in re.split(r"[/,;]", english) if part.strip()]
    return terms


#: HTML + embedded widget state + images of one page (shared scripts and styles excluded).
PAGE_LIMIT_BYTES = 10_000_000


def page_bytes(page: Path) -> int:
    """Bytes of the page's HTML (with its widget state) and of the images it shows."""
    total = page.stat().st_size
    for source in set(parse_page(page).images):
        if not urlsplit(source).scheme:
            image = (page.parent / source.split("?")[0]).resolve()
            total += image.stat().st_size if image.is_file() else 0
    return total


@pytest.mark.slow
def test_every_chapter_page_is_under_ten_megabytes(site):
    sizes = {page.name: page_bytes(page) for page in sorted((site / "notebooks").glob("*.html"))}
    heaviest = max(sizes, key=sizes.get)
    print(f"heaviest page: {heaviest}, {sizes[heaviest] / 1e6:.2f} MB")
    over = {name: size for name, size in sizes.items() if size > PAGE_LIMIT_BYTES}
    assert not over, f"pages over {PAGE_LIMIT_BYTES / 1e6:g} MB: {over}"


@pytest.mark.slow
def test_citations_link_to_their_bibliography_entry(site):
    bibliography = (site / "bibliography.html").read_text(encoding="utf-8")
    keys = load_course_site_extension().bibliography_keys(BOOK / "references.bib")
    for key in keys:
        assert f'id="{key}"' in bibliography, f"bibliography.html has no entry {key}"
    cited = 0
    for notebook in NOTEBOOKS:
        text = notebook.read_text(encoding="utf-8")
        page = (site / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        for key in set(re.findall(r"\]\(cite:([\w-]+)\)", text)):
            assert f'href="../bibliography.html#{key}"' in page, (notebook.name, key)
            cited += 1
        assert "cite:" not in re.sub(r"<script.*?</script>", "", page, flags=re.S), notebook.name
    assert cited >= 10


@pytest.mark.slow
def test_figures_have_alt_text_not_a_file_path(site):
    for notebook in NOTEBOOKS:
        page = site / "notebooks" / f"{notebook.stem}.html"
        alts = re.findall(r'<img[^>]*src="[^"]*_images/[^"]*"[^>]*>', page.read_text("utf-8"))
        for tag in alts:
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and alt.group(1) and "_images" not in alt.group(1) and \
                not alt.group(1).endswith(".png"), f"{page.name}: {tag[:200]}"


# --------------------------------------------------------------------------- browser

@pytest.fixture(scope="session")
def server(site):
    """Serve the built site on a free local port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def open_page(browser, url: str):
    """Open ``url``; return (page, record): every request, failure and script error.

    Requests to any host but the local server are recorded and aborted (so an
    offline machine cannot hang the test).
    """
    local = urlsplit(url).netloc
    record = {"requests": [], "foreign": [], "failed": [], "errors": [], "console": []}
    context = browser.new_context(viewport={"width": 1200, "height": 900})

    def route(route):
        request_url = route.request.url
        record["requests"].append(request_url)
        if urlsplit(request_url).scheme in ("data", "blob") or urlsplit(request_url).netloc == local:
            route.continue_()
        else:
            record["foreign"].append(request_url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("response", lambda response: response.status >= 400
            and record["failed"].append(f"{response.status} {response.url}"))
    page.on("pageerror", lambda error: record["errors"].append(str(error)))
    page.on("console", lambda message: message.type == "error"
            and record["console"].append(message.text))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, record


# Text of the drawn widgets (outside formulas) that still looks like TeX.
WIDGET_RAW_TEX = """(() => {
    const found = [];
    document.querySelectorAll('article .jupyter-widgets').forEach(widget => {
        const copy = widget.cloneNode(true);
        copy.querySelectorAll('mjx-container, script, style').forEach(e => e.remove());
        const text = copy.textContent;
        for (const m of text.matchAll(/\\$|\\\\[a-zA-Z]+/g)) {
            found.push(text.slice(Math.max(0, m.index - 40), m.index + 40));
        }
    });
    return found;
})()"""


def wait_for_mathjax(page) -> None:
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                           timeout=15_000)
    page.evaluate("() => MathJax.startup.promise")


def check_formulas(page, name: str) -> int:
    """Every Sphinx math element was typeset by MathJax without errors; return how many."""
    wait_for_mathjax(page)
    counts = page.evaluate("""() => {
        const math = Array.from(document.querySelectorAll('article .math'));
        return {
            math: math.length,
            untypeset: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
            containers: document.querySelectorAll('article mjx-container').length,
            errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80)),
        };
    }""")
    assert not counts["untypeset"], f"{name}: formulas not rendered by MathJax: {counts['untypeset']}"
    # TeX left in the prose means a formula the Markdown parser did not recognise.
    leftovers = page.evaluate("""() => {
        const article = document.querySelector('article').cloneNode(true);
        article.querySelectorAll('pre, code, mjx-container, .cell_output, script, style')
            .forEach(e => e.remove());
        const text = article.textContent;
        return Array.from(text.matchAll(/\\$|\\\\[a-zA-Z]+/g), m => text.slice(Math.max(0, m.index - 40), m.index + 40));
    }""")
    assert not leftovers, f"{name}: raw TeX in the text (not rendered): {leftovers[:5]}"
    assert not counts["errors"], f"{name}: MathJax errors: {counts['errors']}"
    assert counts["containers"] >= counts["math"]
    return counts["math"]


def check_no_foreign_requests(record, name: str) -> None:
    assert not record["foreign"], f"{name} asked other hosts for: {record['foreign']}"
    assert not record["failed"], f"{name}: failed requests: {record['failed']}"
    assert not record["errors"], f"{name}: JavaScript errors: {record['errors']}"
    assert not record["console"], f"{name}: console errors: {record['console']}"


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=chapter_ids())
def test_chapter_page_in_chromium(browser, server, site, notebook):
    name = f"notebooks/{notebook.stem}.html"
    page, record = open_page(browser, urljoin(server, name))
    try:
        check_no_foreign_requests(record, name)
        formulas = check_formulas(page, name)
        prose = "".join("".join(cell["source"]) for cell in
                        json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                        if cell["cell_type"] == "markdown")
        if "$" in prose:
            assert formulas > 0, f"{name}: the notebook's text has $…$ math but the page has none"

        # Figures: every output image is loaded and, scrolled to, on screen.
        images = page.locator("article img[src*='_images/']")
        assert images.count() >= len(shown_figures(notebook))
        for index in range(images.count()):
            image = images.nth(index)
            image.scroll_into_view_if_needed()
            state = image.evaluate("""img => {
                const box = img.getBoundingClientRect();
                return {
                    loaded: img.complete && img.naturalWidth > 0,
                    width: box.width, height: box.height,
                    inViewport: box.bottom > 0 && box.right > 0
                        && box.top < window.innerHeight && box.left < window.innerWidth,
                    visible: getComputedStyle(img).visibility !== 'hidden',
                    src: img.getAttribute('src'),
                };
            }""")
            assert state["loaded"], f"{name}: image {state['src']} did not load"
            assert state["width"] > 0 and state["height"] > 0 and state["visible"], state
            assert state["inViewport"], f"{name}: image {state['src']} not on screen: {state}"

        # Saved widget state: the widgets HTML manager (served locally) draws them.
        views = page.locator("script[type='application/vnd.jupyter.widget-view+json']").count()
        if views:
            page.wait_for_function(
                "n => document.querySelectorAll('article .jupyter-widgets').length >= n",
                arg=views, timeout=15_000)
            # Their labels and HTMLMath are typeset too (through widgets-setup.js).
            try:
                page.wait_for_function(f"() => ({WIDGET_RAW_TEX}).length === 0", timeout=10_000)
            except PlaywrightTimeoutError:
                pass
            leftovers = page.evaluate(WIDGET_RAW_TEX)
            assert not leftovers, f"{name}: raw TeX in widgets (not rendered): {leftovers[:5]}"
        check_no_foreign_requests(record, name)
    finally:
        page.context.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("name", ["intro.html", "glossary.html", "search.html", "bibliography.html"]
                         + [f"exercises/{e.stem}.html" for e in EXERCISES])
def test_other_pages_in_chromium(browser, server, site, name):
    page, record = open_page(browser, urljoin(server, name))
    try:
        check_no_foreign_requests(record, name)
        if name in ("intro.html", "glossary.html"):
            assert check_formulas(page, name) > 0, f"{name} has formulas that did not render"
        check_no_foreign_requests(record, name)
    finally:
        page.context.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("query, page_name", [
    ("反向传播", "glossary"),  # a whole glossary term
    ("传播", "glossary"),  # a part of one
    ("backpropagation", "02_mlp_backprop"),
])
def test_search_finds_chinese_terms_whole_and_in_parts(browser, server, site, query, page_name):
    page, record = open_page(browser, urljoin(server, f"search.html?q={query}"))
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20000)
        results = page.eval_on_selector_all("#search-results ul.search li a",
                                            "links => links.map(a => a.getAttribute('href'))")
        assert any(page_name in link for link in results), (query, results)
        check_no_foreign_requests(record, f"search for {query}")
    finally:
        page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_frozen_widgets_are_labelled_figures_zoom_and_nothing_overflows_on_a_phone(
        browser, server, site):
    page, record = open_page(browser, urljoin(server, "notebooks/widgets_gallery.html"))
    try:
        page.wait_for_selector(".frozen-widget-note", timeout=20000)
        assert "run the notebook" in page.inner_text(".frozen-widget-note").lower()
        figure = page.query_selector("img.zoomable")
        assert figure is not None, "no figure can be enlarged"
        figure.click()
        assert page.is_visible(".figure-zoom img")
        page.keyboard.press("Escape")
        assert not page.is_visible(".figure-zoom img")
        check_no_foreign_requests(record, "widgets_gallery.html")
    finally:
        page.context.close()
    for name in ("notebooks/02_mlp_backprop.html", "notebooks/widgets_gallery.html"):
        context = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            page.goto(urljoin(server, name), wait_until="load")
            page.wait_for_timeout(1500)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= 391, f"{name} scrolls sideways at 390 px: {width} px wide"
        finally:
            context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_search_snippets_show_no_raw_tex(browser, server, site):
    page, record = open_page(browser, urljoin(server, "search.html?q=softmax"))
    try:
        page.wait_for_selector("#search-results ul.search li p", timeout=20000)
        page.wait_for_timeout(1000)
        snippets = page.eval_on_selector_all("#search-results ul.search li p",
                                             "ps => ps.map(p => p.textContent)")
        assert snippets and not any(re.search(r"\\\(|\\[a-z]+\{|\$", s) for s in snippets), snippets
    finally:
        page.context.close()


#: Pages whose widgets are stored with precomputed frames (make execute).
FRAMES_PAGES = ["notebooks/04_convolutional_networks.html"]

SHOWN_FRAME = """frames => {
    // the picture shown now: the Stack shows only its selected child
    const images = Array.from(frames.querySelectorAll('img')).filter(
        img => img.offsetParent !== null && img.getBoundingClientRect().height > 0);
    return images.map(img => img.src.slice(-64)).join('|');
}"""


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("name", FRAMES_PAGES)
def test_precomputed_widget_responds_when_its_slider_moves(browser, server, site, name, tmp_path):
    page, record = open_page(browser, urljoin(server, name))
    try:
        page.wait_for_selector(".coursekit-frames .noUi-handle, .coursekit-frames input[type=range]",
                               timeout=20000)
        frames = page.query_selector(".coursekit-frames")
        frames.scroll_into_view_if_needed()
        top = frames.evaluate_handle("f => f.closest('.cell_output, .output')")
        assert top.evaluate("t => !t.querySelector('.frozen-widget-note')"), (
            "a widget with frames is labelled a static preview")
        before = frames.evaluate(SHOWN_FRAME)
        assert before, "no picture shown"
        page.screenshot(path=str(tmp_path / "frames-before.png"), full_page=False)
        handle = frames.query_selector(".noUi-handle")
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(500)
        after = frames.evaluate(SHOWN_FRAME)
        page.screenshot(path=str(tmp_path / "frames-after.png"), full_page=False)
        shots = os.environ.get("COURSEKIT_SCREENSHOTS")
        if shots:
            for png in tmp_path.glob("frames-*.png"):
                shutil.copy(png, Path(shots) / f"{Path(name).stem}-{png.name}")
        assert after and after != before, "moving the slider did not change the picture"
        check_no_foreign_requests(record, name)
    finally:
        page.context.close()

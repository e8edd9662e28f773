"""Text for chapter 06: a character corpus read from an installed package, and generated
sequence tasks (a tagging corpus and a copy/recall task with a controllable lag).

- ``load_text_corpus``    the docstrings of an installed package (scikit-learn by default),
                          read from its ``.py`` sources in a fixed order, normalized to ASCII,
                          split into train/validation/test by position; with its SHA-256
- ``char_vocabulary``, ``encode_chars``, ``decode_chars``   characters <-> integer codes
- ``word_tokens``         lower-case words of a text (for word embeddings)
- ``make_tagging_corpus`` generated travel sentences ("arrive in dalian on 1 dec" /
                          "leave dalian on 1 dec") with a tag per word: the same word has
                          different roles depending on its context
- ``make_copy_task``      remember the first symbol of a sequence for ``lag`` steps

The corpus is read at run time from the installed package, never copied into the
repository. Its characters depend only on the package's version (pure-Python sources are
the same in every wheel of a release), which is why the version is pinned in
``constraints.txt`` and ``PINNED_SHA256`` records the hash of the pinned versions.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np

from coursekit.data._validate import _check_choice, _check_count

__all__ = ["CHAR_VOCABULARY", "CORPUS_PACKAGES", "PINNED_SHA256", "TAGS", "TaggingCorpus",
           "TextCorpus", "char_vocabulary", "decode_chars", "encode_chars", "load_text_corpus",
           "make_copy_task", "make_tagging_corpus", "normalize_text", "word_tokens"]

CORPUS_PACKAGES = ("sklearn", "numpy", "scipy")

#: (package, version) -> SHA-256 of the whole normalized corpus (before ``n_chars``
#: truncation) for the versions pinned in constraints.txt.
PINNED_SHA256 = {
    ("sklearn", "1.9.1"): "5e2b9598ae73500876318fb0ab41027c4629535276a63628a9d97b058cffbf53",
    ("numpy", "2.4.6"): "96e9d1e1ecc50c127d229a531377bcef9ddd77c67fcff6e911b40abd86cdb10b",
    ("scipy", "1.17.1"): "736f5219c0bdad988fa12c16c96333a1371c16c61162b3870f982c61ec4aa987",
}

#: The 96 characters a normalized corpus can hold: newline and printable ASCII (space to ~).
#: Index = integer code; a model over them guessing uniformly has perplexity 96.
CHAR_VOCABULARY = ["\n"] + [chr(code) for code in range(32, 127)]

_SKIPPED_FOLDERS = {"tests", "externals", "_vendor", "vendored", "_build_utils", "__pycache__"}


class TextCorpus(NamedTuple):
    """A text split by position: the first 80 % trains, the next 10 % validates, the last 10 %
    tests. ``sha256`` is the hash of ``text`` (UTF-8), ``source`` names package and version."""

    text: str
    train: str
    validation: str
    test: str
    sha256: str
    source: str


def _docstrings(path: Path):
    """Docstrings of a module, its classes and functions, in source order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [tree] + [node for node in ast.walk(tree)
                      if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    nodes.sort(key=lambda node: getattr(node, "lineno", 0))
    for node in nodes:
        doc = ast.get_docstring(node, clean=True)
        if doc:
            yield doc


def normalize_text(text: str) -> str:
    """ASCII only (accents dropped by NFKD), tabs as spaces, runs of spaces as one, no trailing
    spaces, at most one empty line in a row."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or 32 <= ord(ch) < 127)
    text = re.sub(r" {2,}", " ", text)
    text = re.sub(r" +\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def load_text_corpus(package: str = "sklearn", n_chars: int | None = None,
                     fractions=(0.8, 0.1, 0.1)) -> TextCorpus:
    """The docstrings of ``package`` (one of ``CORPUS_PACKAGES``) as one normalized text.

    Files are the package's ``.py`` sources in sorted path order (tests and vendored code
    left out); in each file the docstrings of the module, classes and functions in line
    order, each normalized by ``normalize_text``, separated by an empty line. ``n_chars``
    keeps only the first ``n_chars`` characters (before splitting). ``fractions`` (train,
    validation, test) split by position, so no sentence of the test part was seen in
    training. ``sha256`` is the hash of the returned ``text``.
    """
    _check_choice("package", package, CORPUS_PACKAGES)
    if n_chars is not None:
        n_chars = _check_count("n_chars", n_chars, minimum=100)
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers (train, validation, test) "
                         f"that sum to 1, e.g. (0.8, 0.1, 0.1); got {fractions}")
    module = importlib.import_module(package)
    root = Path(module.__file__).resolve().parent
    files = sorted((p for p in root.rglob("*.py")
                    if not _SKIPPED_FOLDERS.intersection(p.relative_to(root).parts[:-1])),
                   key=lambda p: p.relative_to(root).as_posix())
    pieces, length = [], 0
    for path in files:
        if n_chars is not None and length >= n_chars:
            break  # parsing the rest would not change the first n_chars characters
        try:
            docs = [normalize_text(doc) for doc in _docstrings(path)]
        except (SyntaxError, UnicodeDecodeError):  # a template or a file for another Python
            continue
        docs = [doc for doc in docs if doc]
        pieces.extend(docs)
        length += sum(len(doc) + 2 for doc in docs)
    text = "\n\n".join(pieces) + "\n"
    if n_chars is not None:
        text = text[:n_chars]
    n = len(text)
    cut1 = int(round(fractions[0] * n))
    cut2 = int(round((fractions[0] + fractions[1]) * n))
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    version = getattr(module, "__version__", "unknown")
    return TextCorpus(text, text[:cut1], text[cut1:cut2], text[cut2:], sha,
                      f"docstrings of {package} {version}")


def char_vocabulary(text: str) -> list[str]:
    """The sorted distinct characters of ``text`` (index = integer code). For a corpus use
    ``CHAR_VOCABULARY``, which also holds characters that only its test part uses."""
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    return sorted(set(text))


def encode_chars(text: str, vocabulary) -> np.ndarray:
    """Integer codes (len(text),) of the characters; characters not in ``vocabulary`` raise."""
    index = {ch: i for i, ch in enumerate(vocabulary)}
    missing = sorted(set(text) - index.keys())
    if missing:
        raise ValueError(f"characters {missing[:10]!r} are not in the vocabulary; build it "
                         f"with CHAR_VOCABULARY or char_vocabulary(the whole text)")
    return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))


def decode_chars(codes, vocabulary) -> str:
    """The text of integer codes."""
    return "".join(vocabulary[int(c)] for c in np.asarray(codes).ravel())


def word_tokens(text: str) -> list[str]:
    """Lower-case alphabetic words (``[a-z]+``) of ``text``, in order."""
    return re.findall(r"[a-z]+", text.lower())


# ------------------------------------------------------------------------ tagging corpus

#: Tags of the generated travel sentences: O (other word), FROM (place left), TO (place
#: reached), DATE (day or month).
TAGS = ("O", "FROM", "TO", "DATE")

_CITIES = ("dalian", "beijing", "shanghai", "harbin", "xian", "chengdu", "wuhan", "shenzhen")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# {a}: a city, {d}: a date ("1 dec"). The tag of {a} is given per template: the word that
# decides it comes before the city in the first four templates and after it in the last two.
_TEMPLATES = (
    ("arrive in {a} on {d}", "TO"),
    ("leave {a} on {d}", "FROM"),
    ("fly to {a} on {d}", "TO"),
    ("depart from {a} on {d}", "FROM"),
    ("on {d} {a} is where we arrive", "TO"),
    ("on {d} {a} is where we leave", "FROM"),
)


class TaggingCorpus(NamedTuple):
    """Generated sentences with one tag per word.

    sentences, tags: lists of word / tag lists. X (N, T) word codes and Y (N, T) tag codes,
    padded with code 0 (``vocabulary[0] == "<pad>"``, tag padding 0 as well); lengths (N,);
    templates (N,) the template index of each sentence (0-3: the deciding word comes before
    the city, 4-5: after it).
    """

    sentences: list
    tags: list
    X: np.ndarray
    Y: np.ndarray
    lengths: np.ndarray
    templates: np.ndarray
    vocabulary: list
    tag_names: tuple


def make_tagging_corpus(n_sentences: int = 600, seed: int = 0) -> TaggingCorpus:
    """Travel sentences such as "arrive in dalian on 1 dec" (dalian = TO) and
    "leave dalian on 1 dec" (dalian = FROM), from six templates chosen uniformly.

    A word-by-word classifier cannot tag the city: the same word is FROM in one sentence and
    TO in another. A left-to-right RNN can when the deciding verb comes first; when it comes
    after the city (templates 4 and 5), only a bidirectional RNN can.
    """
    n_sentences = _check_count("n_sentences", n_sentences)
    rng = np.random.default_rng(seed)
    words = ["<pad>"] + sorted({w for template, _ in _TEMPLATES for w in template.split()
                                if not w.startswith("{")} | set(_CITIES) | set(_MONTHS)
                               | {str(day) for day in range(1, 29)})
    index = {w: i for i, w in enumerate(words)}
    sentences, tags, templates = [], [], []
    for _ in range(n_sentences):
        k = int(rng.integers(len(_TEMPLATES)))
        template, city_tag = _TEMPLATES[k]
        city = _CITIES[rng.integers(len(_CITIES))]
        day, month = str(int(rng.integers(1, 29))), _MONTHS[rng.integers(12)]
        sentence, sentence_tags = [], []
        for w in template.split():
            if w == "{a}":
                sentence.append(city)
                sentence_tags.append(city_tag)
            elif w == "{d}":
                sentence += [day, month]
                sentence_tags += ["DATE", "DATE"]
            else:
                sentence.append(w)
                sentence_tags.append("O")
        sentences.append(sentence)
        tags.append(sentence_tags)
        templates.append(k)
    lengths = np.array([len(s) for s in sentences])
    X = np.zeros((n_sentences, lengths.max()), dtype=np.int64)
    Y = np.zeros_like(X)
    for row, (sentence, sentence_tags) in enumerate(zip(sentences, tags)):
        X[row, :len(sentence)] = [index[w] for w in sentence]
        Y[row, :len(sentence)] = [TAGS.index(t) for t in sentence_tags]
    return TaggingCorpus(sentences, tags, X, Y, lengths, np.array(templates), words, TAGS)


# ------------------------------------------------------------------------ copy task

def make_copy_task(n_sequences: int = 1000, lag: int = 10, n_symbols: int = 4, seed: int = 0):
    """Recall the first symbol after ``lag`` distractors.

    Each sequence has length ``lag + 2``: the symbol to remember (code 0 .. n_symbols-1),
    ``lag`` distractors drawn from their own ``n_symbols`` codes (n_symbols .. 2*n_symbols-1),
    then the recall marker (code ``2 * n_symbols``). Returns ``(X, y)``: X
    (n_sequences, lag + 2) int64 codes in [0, 2 * n_symbols], y (n_sequences,) the first
    symbol. Chance accuracy is 1 / n_symbols: the network must carry the first symbol through
    ``lag`` steps of its hidden state while ignoring the distractors.
    """
    n_sequences = _check_count("n_sequences", n_sequences)
    lag = _check_count("lag", lag, minimum=0)
    n_symbols = _check_count("n_symbols", n_symbols, minimum=2)
    rng = np.random.default_rng(seed)
    X = rng.integers(n_symbols, 2 * n_symbols, size=(n_sequences, lag + 2))
    X[:, 0] = rng.integers(0, n_symbols, size=n_sequences)
    X[:, -1] = 2 * n_symbols
    return X.astype(np.int64), X[:, 0].copy()

"""coursekit.data.text: the package-docstring corpus, the tagging corpus and the copy task."""

import hashlib
import importlib

import numpy as np
import pytest

from coursekit import data
from coursekit.data import text as text_module

# The chapter's corpus: the first 500 000 characters of scikit-learn 1.9.1's docstrings.
CHAPTER_SHA256 = "8c30bd18048c019f41497976954dc56b67333e20716428cb7c13666ffc6b393e"


@pytest.fixture(scope="module")
def chapter_corpus():
    return data.load_text_corpus("sklearn", n_chars=500_000)


def test_corpus_of_the_pinned_version_has_the_recorded_hash_and_length(chapter_corpus):
    import sklearn

    assert sklearn.__version__ == "1.9.1", "constraints.txt pins scikit-learn 1.9.1"
    corpus = chapter_corpus
    assert len(corpus.text) == 500_000
    assert corpus.sha256 == CHAPTER_SHA256
    assert corpus.sha256 == hashlib.sha256(corpus.text.encode("utf-8")).hexdigest()
    assert corpus.source == "docstrings of sklearn 1.9.1"
    assert corpus.text.startswith("Module to give helpful messages to the user that did not\n")


@pytest.mark.parametrize("package", data.text.CORPUS_PACKAGES)
def test_whole_corpus_matches_the_pinned_hash(package):
    module = importlib.import_module(package)
    expected = data.PINNED_SHA256.get((package, module.__version__))
    if expected is None:
        pytest.skip(f"{package} {module.__version__} is not the version constraints.txt pins")
    corpus = data.load_text_corpus(package)
    assert corpus.sha256 == expected
    # reading stops early for n_chars, but the first characters are the same
    assert data.load_text_corpus(package, n_chars=1000).text == corpus.text[:1000]


def test_splits_are_consecutive_by_position_and_ascii(chapter_corpus):
    corpus = chapter_corpus
    assert corpus.train + corpus.validation + corpus.test == corpus.text
    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (400_000, 50_000, 50_000)
    assert set(corpus.text) <= set(data.CHAR_VOCABULARY)
    assert len(data.CHAR_VOCABULARY) == 96 and data.CHAR_VOCABULARY[0] == "\n"
    assert "\t" not in corpus.text and "  " not in corpus.text and "\n\n\n" not in corpus.text
    custom = data.load_text_corpus("sklearn", n_chars=1000, fractions=(0.5, 0.25, 0.25))
    assert (len(custom.train), len(custom.validation), len(custom.test)) == (500, 250, 250)


def test_normalize_text():
    raw = "Caf\u00e9  na\u00efve\t x  \n\n\n\nend\u2014 "
    assert text_module.normalize_text(raw) == "Cafe naive x\n\nend"


def test_encode_decode_roundtrip_and_errors():
    codes = data.encode_chars("ab\nc", data.CHAR_VOCABULARY)
    assert codes.dtype == np.int64 and codes.tolist() == [66, 67, 0, 68]
    assert data.decode_chars(codes, data.CHAR_VOCABULARY) == "ab\nc"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        data.encode_chars("abz", ["a", "b"])
    assert text_module.char_vocabulary("banana") == ["a", "b", "n"]
    assert data.word_tokens("Fit the X_train, then fit2 Y.") == ["fit", "the", "x", "train",
                                                               "then", "fit", "y"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"package": "pandas"}, ValueError, "choose one of: sklearn, numpy, scipy"),
    ({"n_chars": 10}, ValueError, "n_chars must be >= 100"),
    ({"n_chars": 1e5}, TypeError, "n_chars must be an integer"),
    ({"fractions": (0.8, 0.2)}, ValueError, "fractions must be three positive numbers"),
    ({"fractions": (0.8, 0.3, 0.1)}, ValueError, "sum to 1"),
])
def test_corpus_validation(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load_text_corpus(**kwargs)


def test_tagging_corpus_gives_the_same_word_different_roles():
    corpus = data.make_tagging_corpus(n_sentences=300, seed=1)
    assert corpus.X.shape == corpus.Y.shape == (300, corpus.lengths.max())
    assert corpus.vocabulary[0] == "<pad>" and corpus.tag_names == data.TAGS
    for row in range(300):
        n = corpus.lengths[row]
        assert [corpus.vocabulary[c] for c in corpus.X[row, :n]] == corpus.sentences[row]
        assert [data.TAGS[c] for c in corpus.Y[row, :n]] == corpus.tags[row]
        assert (corpus.X[row, n:] == 0).all()
    first = corpus.sentences[int(np.flatnonzero(corpus.templates == 0)[0])]
    assert first[:2] == ["arrive", "in"] and first[2] in text_module._CITIES
    # every city appears both as FROM and as TO: a word-by-word tagger cannot get it right
    roles = {}
    for sentence, tags in zip(corpus.sentences, corpus.tags):
        for word, tag in zip(sentence, tags):
            if word in text_module._CITIES:
                roles.setdefault(word, set()).add(tag)
    assert all(found == {"FROM", "TO"} for found in roles.values()) and len(roles) == 8
    again = data.make_tagging_corpus(n_sentences=300, seed=1)
    np.testing.assert_array_equal(again.X, corpus.X)
    assert not np.array_equal(data.make_tagging_corpus(n_sentences=300, seed=2).X, corpus.X)
    assert set(np.unique(corpus.templates)) == set(range(6))
    with pytest.raises(ValueError, match="n_sentences must be >= 1"):
        data.make_tagging_corpus(n_sentences=0)


@pytest.mark.parametrize("lag", [0, 1, 25])
def test_copy_task(lag):
    X, y = data.make_copy_task(n_sequences=2000, lag=lag, n_symbols=5, seed=3)
    assert X.shape == (2000, lag + 2) and y.shape == (2000,) and X.dtype == np.int64
    np.testing.assert_array_equal(y, X[:, 0])
    assert (X[:, -1] == 10).all() and X[:, 0].max() == 4 and X.min() == 0
    if lag:  # distractors have their own codes 5..9
        assert X[:, 1:-1].min() == 5 and X[:, 1:-1].max() == 9
    counts = np.bincount(y, minlength=5) / 2000
    np.testing.assert_allclose(counts, 0.2, atol=0.03)
    np.testing.assert_array_equal(data.make_copy_task(2000, lag, 5, seed=3)[0], X)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"lag": -1}, ValueError, "lag must be >= 0"),
    ({"n_symbols": 1}, ValueError, "n_symbols must be >= 2"),
    ({"lag": 2.5}, TypeError, "lag must be an integer"),
])
def test_copy_task_validation(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.make_copy_task(**kwargs)

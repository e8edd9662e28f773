"""AutoencoderExplorer (chapter 07) headless: every control changes the state and the picture;
the retrieval it shows is the brute-force answer."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.data import load_digits
from coursekit.unsupervised import pca
from coursekit.viz.autoencoder import encode_decode, retrieve
from coursekit.widgets import AutoencoderExplorer


@pytest.fixture(scope="module")
def digits_pca():
    digits = load_digits(test_size=0.25, seed=0)
    components, _, mean = pca(digits.X_train, 8)
    images, labels = digits.X_test[:120].reshape(-1, 8, 8), digits.y_test[:120]
    return images, labels, (lambda X: (X - mean) @ components.T), (lambda Z: Z @ components + mean)


def change(widget, control, value):
    before_png, before_state, count = widget.image.value, widget.state(), widget.redraw_count
    getattr(widget, control).value = value
    assert widget.redraw_count == count + 1, f"{control} did not redraw exactly once"
    return widget.image.value != before_png, before_state, widget.state()


def test_every_control_changes_state_and_picture(digits_pca):
    images, labels, encode, decode = digits_pca
    w = AutoencoderExplorer(images, labels, encode, decode, item=0, k=4)
    for control, value, key in [("item", 7, "by_code"), ("noise", 0.3, "code"), ("k", 6, "by_pixels"),
                                ("metric", "cosine", "metric")]:
        png_changed, before, after = change(w, control, value)
        assert png_changed, control
        assert not np.array_equal(np.asarray(before[key]), np.asarray(after[key])), control
    assert w.state()["k"] == 6 and len(w.state()["by_code"]) == 6
    # the fast redraw relabels the retrieval rows with the neighbours' labels
    shown = [tick.get_text() for tick in w._axes["by_code"].get_xticklabels()]
    assert shown == [str(labels[i]) for i in w.state()["by_code"]]
    assert w._axes["by_code"].images[0].get_array().shape == (8, 6 * 9 - 1)


def test_state_is_the_brute_force_retrieval(digits_pca):
    images, labels, encode, decode = digits_pca
    w = AutoencoderExplorer(images, labels, encode, decode, item=3, k=5)
    state = w.state()
    pixels = images.reshape(len(images), -1)
    codes = encode(pixels)
    by_code = np.argsort(((codes - codes[3]) ** 2).sum(1), kind="stable")
    by_pixels = np.argsort(((pixels - pixels[3]) ** 2).sum(1), kind="stable")
    assert state["by_code"] == [i for i in by_code if i != 3][:5]
    assert state["by_pixels"] == [i for i in by_pixels if i != 3][:5]
    code, reconstruction = encode_decode(encode, decode, pixels[3])
    np.testing.assert_allclose(state["code"], code)
    assert state["reconstruction_error"] == pytest.approx(np.mean((reconstruction - pixels[3]) ** 2))
    assert state["pixel_label_matches"] == int(np.sum(labels[state["by_pixels"]] == labels[3]))
    assert w.state()["noise"] == 0.0


def test_noise_is_seeded_and_render_static_draws_each_item(digits_pca):
    images, labels, encode, decode = digits_pca
    w = AutoencoderExplorer(images, labels, encode, decode, item=2, k=3)
    w.noise.value = 0.2
    first = w.state()["code"]
    w.noise.value = 0.0
    w.noise.value = 0.2
    np.testing.assert_array_equal(w.state()["code"], first)
    figure = w.render_static(items=(0, 1))
    assert len(figure.axes) == 4


def test_retrieve_validates_and_excludes():
    vectors = np.eye(4)
    indices, scores = retrieve(vectors, vectors[1], k=2, exclude=1)
    assert 1 not in indices and len(indices) == 2
    with pytest.raises(ValueError, match="k must"):
        retrieve(vectors, vectors[0], k=4, exclude=0)
    with pytest.raises(ValueError, match="query must"):
        retrieve(vectors, np.ones(3))
    with pytest.raises(ValueError, match="images must"):
        AutoencoderExplorer(np.zeros((3, 4)), [0, 1, 2], lambda X: X, lambda Z: Z)

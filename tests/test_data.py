import numpy as np
import pytest

from coursekit import data


@pytest.mark.parametrize("name", data.DATASETS_2D)
def test_classification_2d_shapes_and_seed(name):
    X, y = data.make_classification_2d(name, n_samples=101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == float and np.issubdtype(y.dtype, np.integer)
    X2, y2 = data.make_classification_2d(name, n_samples=101, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = data.make_classification_2d(name, n_samples=101, noise=0.1, seed=4)
    assert not np.allclose(X, X3)


def test_classification_2d_classes_balanced_and_structured():
    X, y = data.make_classification_2d("circles", 400, noise=0.0, seed=0)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], 0.5, atol=1e-12)
    X, y = data.make_classification_2d("xor", 400, noise=0.0, seed=0)
    assert np.all((X[:, 0] * X[:, 1] < 0) == (y == 1))
    X, y = data.make_classification_2d("spirals", 300, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    X, y = data.make_classification_2d("blobs", 200, n_classes=4, seed=0)
    assert set(np.unique(y)) == {0, 1, 2, 3}


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "donuts"}, "choose one of: moons, circles"),
    ({"n_samples": -5}, "n_samples must be >= 2"),
    ({"noise": -0.1}, "noise must be"),
    ({"name": "moons", "n_classes": 3}, "has 2 classes"),
])
def test_classification_2d_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.make_classification_2d(**kwargs)


def test_regression_1d_follows_its_polynomial():
    x, y, c = data.make_regression_1d(n_samples=200, degree=2, noise=0.0, seed=1)
    assert x.shape == y.shape == (200,) and c.shape == (3,)
    assert np.all(np.diff(x) >= 0)
    np.testing.assert_allclose(y, c[0] + c[1] * x + c[2] * x**2, atol=1e-12)
    x, y, _ = data.make_regression_1d(n_samples=2000, coefficients=[1.0, 2.0], noise=0.5, seed=2)
    assert np.std(y - (1 + 2 * x)) == pytest.approx(0.5, rel=0.05)
    with pytest.raises(ValueError, match="n_samples must be >= 1, got 0"):
        data.make_regression_1d(n_samples=0)


def test_digits_split_is_stratified_and_scaled():
    split = data.load_digits(test_size=0.25, seed=0)
    assert split.X_train.shape == (1347, 64) and split.X_test.shape == (450, 64)
    assert 0.0 <= split.X_train.min() and split.X_train.max() <= 1.0
    train_frac = np.bincount(split.y_train) / len(split.y_train)
    test_frac = np.bincount(split.y_test) / len(split.y_test)
    np.testing.assert_allclose(train_frac, test_frac, atol=0.01)


def test_digits_images_and_class_subset():
    split = data.load_digits(image_size=16, classes=range(5))
    assert split.X_train.shape[1:] == (1, 16, 16) and split.X_train.dtype == np.float32
    assert set(np.unique(split.y_train)) == {0, 1, 2, 3, 4}
    small = data.load_digits(image_size=8)
    flat = data.load_digits()
    np.testing.assert_allclose(small.X_train.reshape(len(small.X_train), -1), flat.X_train,
                               atol=1e-6)
    with pytest.raises(ValueError, match="classes must be digits 0-9"):
        data.load_digits(classes=[3, 12])
    with pytest.raises(ValueError, match="test_size"):
        data.load_digits(test_size=1.5)


def test_photo():
    img = data.load_photo("camera")
    assert img.shape == (512, 512) and 0 <= img.min() and img.max() <= 1
    rgb = data.load_photo("chelsea", gray=False, size=64)
    assert rgb.shape == (43, 64, 3)
    with pytest.raises(ValueError, match="unknown photo 'dog'"):
        data.load_photo("dog")


@pytest.mark.parametrize("name", data.SEQUENCES)
def test_sequences(name):
    x = data.make_sequences(name, n_sequences=4, length=30, noise=0.0, seed=0)
    assert x.shape == (4, 30) and np.isfinite(x).all()
    assert np.abs(x).max() <= 3.0


def test_adding_problem_and_windows():
    X, y = data.make_adding_problem(n_sequences=50, length=10, seed=0)
    assert X.shape == (50, 10, 2)
    np.testing.assert_allclose((X[..., 0] * X[..., 1]).sum(axis=1), y)
    assert (X[..., 1].sum(axis=1) == 2).all()
    series = np.arange(10.0)
    Xw, yw = data.sliding_windows(series, 3)
    assert Xw.shape == (7, 3)
    np.testing.assert_array_equal(Xw[0], [0, 1, 2])
    np.testing.assert_array_equal(yw, np.arange(3.0, 10.0))
    with pytest.raises(ValueError, match="window must be shorter"):
        data.sliding_windows(series, 10)

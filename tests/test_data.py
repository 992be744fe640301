"""momentum.data: the digits preprocessing, the OpenML path, and the offline error path."""

import urllib.error

import numpy as np
import pytest
import sklearn.datasets
import torch

from momentum import data
from momentum.data import DataUnavailableError, two_class


def test_digits_preprocessing():
    X, y = two_class("digits")
    raw, labels = sklearn.datasets.load_digits(return_X_y=True)
    keep = labels < 2
    assert X.dtype == torch.float64 and y.dtype == torch.float64
    assert X.shape == (int(keep.sum()), 64) and y.shape == (int(keep.sum()),)
    assert torch.allclose(torch.linalg.vector_norm(X, dim=1), torch.ones(len(X), dtype=X.dtype),
                          atol=1e-12)
    # +1 for the first class (digit 0), -1 for the second (digit 1), in the data set's order
    expected = np.where(labels[keep] == 0, 1.0, -1.0)
    np.testing.assert_array_equal(y.numpy(), expected)
    # each row is the raw image scaled to unit norm (direction kept)
    z = raw[keep]
    np.testing.assert_allclose(X.numpy(), z / np.linalg.norm(z, axis=1, keepdims=True),
                               rtol=1e-12)


def test_subset_is_deterministic_and_drawn_from_the_full_set():
    X, y = two_class("digits")
    Xa, ya = two_class("digits", n=50, seed=3)
    Xb, yb = two_class("digits", n=50, seed=3)
    Xc, _ = two_class("digits", n=50, seed=4)
    assert Xa.shape == (50, 64) and ya.shape == (50,)
    assert torch.equal(Xa, Xb) and torch.equal(ya, yb)
    assert not torch.equal(Xa, Xc)
    idx = np.sort(np.random.default_rng(3).choice(len(X), size=50, replace=False))
    assert torch.equal(Xa, X[idx]) and torch.equal(ya, y[idx])
    assert set(ya.tolist()) == {1.0, -1.0}
    # n equal to the size of the set keeps every instance
    Xall, _ = two_class("digits", n=len(X))
    assert torch.equal(Xall, X)


@pytest.mark.parametrize("kwargs, word", [
    ({"name": "svhn"}, "name"),
    ({"name": "digits", "n": 0}, "n"),
    ({"name": "digits", "n": 2.5}, "n"),
    ({"name": "digits", "n": 100_000}, "n"),
    ({"name": "digits", "timeout": 0.0}, "timeout"),
])
def test_bad_inputs_name_the_parameter(kwargs, word):
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        two_class(**kwargs)


def _no_network(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10"])
def test_offline_error_names_dataset_and_cache(monkeypatch, tmp_path, name):
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _no_network)
    with pytest.raises(DataUnavailableError) as info:
        two_class(name, cache_dir=tmp_path / "cache")
    msg = str(info.value)
    assert repr(name) in msg and str(tmp_path / "cache") in msg and "digits" in msg
    assert isinstance(info.value.__cause__, urllib.error.URLError)


def test_offline_error_uses_env_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _no_network)
    monkeypatch.setenv("MOMENTUM_DATA_DIR", str(tmp_path / "env-cache"))
    assert data.default_cache_dir() == tmp_path / "env-cache"
    with pytest.raises(DataUnavailableError, match="env-cache"):
        two_class("mnist")
    monkeypatch.delenv("MOMENTUM_DATA_DIR")
    assert data.default_cache_dir().name == "momentum-book"


def test_bad_cache_dir(monkeypatch, tmp_path):
    # a cache "directory" that is a file: scikit-learn cannot create its folders in it
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    calls = []

    def fetch(*args, data_home, **kwargs):
        calls.append(data_home)
        return sklearn.datasets._openml.fetch_openml(*args, data_home=data_home,
                                                     **kwargs)

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch)
    # the real fetch_openml, held to a short timeout: fails on the cache or on the network
    with pytest.raises(DataUnavailableError) as info:
        two_class("fashion-mnist", cache_dir=not_a_dir, timeout=2.0)
    assert calls == [str(not_a_dir)]
    assert "'fashion-mnist'" in str(info.value) and str(not_a_dir) in str(info.value)


def test_openml_path_filters_and_labels(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    Z = rng.random((30, 12)) + 0.1
    labels = np.array(["0", "1", "2"] * 10, dtype=object)
    seen = {}

    def fake(*, data_id, data_home, **kwargs):
        seen.update(data_id=data_id, data_home=data_home)
        return Z, labels

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake)
    X, y = two_class("cifar10", cache_dir=tmp_path)
    assert seen == {"data_id": data.OPENML["cifar10"][0], "data_home": str(tmp_path)}
    keep = labels != "2"
    assert X.shape == (20, 12)
    np.testing.assert_allclose(X.numpy(), Z[keep] / np.linalg.norm(Z[keep], axis=1,
                                                                   keepdims=True))
    np.testing.assert_array_equal(y.numpy(), np.where(labels[keep] == "0", 1.0, -1.0))


def test_zero_input_is_rejected(monkeypatch):
    monkeypatch.setattr(data, "_load", lambda *a: (np.array([[1.0, 0.0], [0.0, 0.0]]),
                                                   np.array([0, 1])))
    with pytest.raises(ValueError, match="all-zero"):
        two_class("digits")

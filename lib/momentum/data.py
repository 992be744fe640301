r"""Two-class data sets for the two-layer experiments of Chapter 4.

:func:`two_class` follows the preprocessing of Arora et al. (2019) used by Liu et al. (2023,
§5.1): keep the instances of the first two classes, label the first class :math:`+1` and the
second :math:`-1`, and scale every input to unit Euclidean norm, :math:`\|x_i\|_2 = 1`.

* ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (0 against 1, 360 images,
  :math:`d = 64`); no download, works offline.
* ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``: fetched from OpenML with scikit-learn's
  ``fetch_openml`` into a cache directory (``cache_dir``, else the environment variable
  ``MOMENTUM_DATA_DIR``, else ``~/.cache/momentum-book``). When the download fails, a
  :class:`DataUnavailableError` names the data set and the cache path.

Importing this module touches neither the network nor the disk.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from . import _validate

__all__ = ["two_class", "DATASETS", "DataUnavailableError", "default_cache_dir"]

#: OpenML ids of the downloadable data sets (MNIST, Fashion-MNIST, CIFAR-10) and their first two
#: class labels (as OpenML stores them: strings).
OPENML = {
    "mnist": (554, ("0", "1")),
    "fashion-mnist": (40996, ("0", "1")),   # T-shirt/top, trouser
    "cifar10": (40927, ("0", "1")),         # airplane, automobile
}
DATASETS = ("digits", *OPENML)


class DataUnavailableError(RuntimeError):
    """Raised when a data set cannot be downloaded (no network, server down) or read."""


def default_cache_dir() -> Path:
    """``$MOMENTUM_DATA_DIR`` if set, else ``~/.cache/momentum-book`` (not created here)."""
    env = os.environ.get("MOMENTUM_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "momentum-book"


@contextmanager
def _socket_timeout(seconds: float):
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _load(name: str, cache_dir, timeout: float) -> tuple[np.ndarray, np.ndarray]:
    """All images and labels of the first two classes of ``name`` (labels 0 and 1)."""
    if name == "digits":
        from sklearn.datasets import load_digits

        X, labels = load_digits(return_X_y=True)
        keep = labels < 2
        return X[keep].astype(float), labels[keep].astype(int)
    from sklearn.datasets import fetch_openml

    data_id, classes = OPENML[name]
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    try:
        with _socket_timeout(timeout):
            X, labels = fetch_openml(data_id=data_id, data_home=str(cache), as_frame=False,
                                     return_X_y=True, n_retries=1, delay=0.1, parser="auto")
    except Exception as err:  # URLError, timeouts, HTTP errors, corrupt cache files
        raise DataUnavailableError(
            f"could not download the data set {name!r} (OpenML id {data_id}) into the cache "
            f"directory {cache}: {err}. Connect to the internet, or set MOMENTUM_DATA_DIR (or "
            "cache_dir) to a directory that already holds it; name='digits' works offline."
        ) from err
    labels = np.asarray(labels).astype(str)
    keep = np.isin(labels, classes)
    return np.asarray(X[keep], dtype=float), (labels[keep] == classes[1]).astype(int)


def two_class(name: str, n: int | None = None, seed: int = 0, cache_dir=None, *,
              timeout: float = 30.0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Inputs and labels of the first two classes of ``name``, preprocessed as in Liu et al.
    (2023, §5.1):

    .. math::
        x_i = \frac{z_i}{\|z_i\|_2}, \qquad
        y_i = \begin{cases} +1 & \text{class 0} \\ -1 & \text{class 1} \end{cases}

    Returns ``(X, y)``, float64 tensors of shape ``(n, d)`` and ``(n,)``. With ``n`` given, a
    random subset of ``n`` instances drawn without replacement by
    ``numpy.random.default_rng(seed)`` (kept in the data set's order); ``n=None`` keeps them
    all. ``cache_dir`` and ``timeout`` (seconds per network operation) apply to the downloaded
    sets only. Raises :class:`DataUnavailableError` when a download fails, ValueError on a bad
    ``name`` or ``n``.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    if n is not None:
        _validate.positive_int("n", n)
    _validate.seed("seed", seed)
    _validate.positive("timeout", timeout)
    Z, labels = _load(name, cache_dir, timeout)
    if n is not None:
        if n > len(Z):
            raise ValueError(f"n must be at most {len(Z)} for {name!r}, got {n}")
        idx = np.sort(np.random.default_rng(int(seed)).choice(len(Z), size=n, replace=False))
        Z, labels = Z[idx], labels[idx]
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"{name!r} holds an all-zero input, which cannot be scaled to unit norm")
    X = torch.as_tensor(Z / norms, dtype=torch.float64)
    y = torch.as_tensor(np.where(labels == 0, 1.0, -1.0), dtype=torch.float64)
    return X, y

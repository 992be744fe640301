"""Input checks shared by the library: every bad input becomes a ValueError naming the parameter."""

from __future__ import annotations

import math

import numpy as np
import torch


def as_numpy(value) -> np.ndarray:
    """A NumPy view of a scalar, array or tensor (detached, on the CPU)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def finite(name: str, value) -> None:
    """Raise ValueError if `value` holds a NaN or an infinity."""
    arr = as_numpy(value)
    if arr.dtype.kind not in "fciub":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {value!r}")


def positive(name: str, value) -> None:
    """Raise ValueError unless every entry of `value` is finite and > 0."""
    finite(name, value)
    if not np.all(as_numpy(value) > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")


def momentum(name: str, value) -> None:
    """Raise ValueError unless every entry of `value` lies in [0, 1)."""
    finite(name, value)
    arr = as_numpy(value)
    if not np.all((arr >= 0) & (arr < 1)):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def kappa(name: str, value) -> None:
    """Raise ValueError unless the condition number is finite and >= 1."""
    finite(name, value)
    if not np.all(as_numpy(value) >= 1):
        raise ValueError(f"{name} (a condition number) must be >= 1, got {value!r}")


def mu_L(mu, L) -> None:
    """Raise ValueError unless 0 < mu <= L < inf."""
    positive("mu", mu)
    positive("L", L)
    if not np.all(as_numpy(mu) <= as_numpy(L)):
        raise ValueError(f"mu must be <= L, got mu={mu!r}, L={L!r}")


def positive_int(name: str, value) -> None:
    """Raise ValueError unless `value` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def probability(name: str, value: float, *, open_left: bool = True) -> None:
    """Raise ValueError unless 0 < value < 1 (or 0 <= value < 1)."""
    if not isinstance(value, (int, float, np.floating)) or math.isnan(value):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    low_ok = value > 0 if open_left else value >= 0
    if not (low_ok and value < 1):
        raise ValueError(f"{name} must lie in {'(0' if open_left else '[0'}, 1), got {value!r}")

"""Input checks shared by the library: every bad input becomes a ValueError naming the parameter."""

from __future__ import annotations

import math
import os

import numpy as np
import torch

#: The most bytes a single allocation requested by the library may take before it is refused
#: (a ValueError with the estimate). 8 GiB by default, chosen above what the checked
#: allocations reach in the chapters with ``MOMENTUM_FULL=1`` (estimated from their sizes, not
#: measured: at most about 1 GiB, Chapter 4's stack of networks at m = 8000 on 784-pixel
#: inputs); set the environment variable ``MOMENTUM_MAX_BYTES`` (bytes) before importing, or
#: assign ``_validate.MAX_BYTES``.
MAX_BYTES = int(float(os.environ.get("MOMENTUM_MAX_BYTES", 8 * 2**30)))


def size(name: str, n_elements, *, itemsize: int = 8, what: str = "") -> None:
    """Raise ValueError when an array of ``n_elements`` entries (``itemsize`` bytes each) would
    exceed :data:`MAX_BYTES`; the message gives the estimate and the limit."""
    need = float(n_elements) * itemsize
    if need > MAX_BYTES:
        raise ValueError(
            f"{name} too large: {what or 'this'} would allocate about {need / 2**30:.3g} GiB, "
            f"over the limit of {MAX_BYTES / 2**30:.3g} GiB (momentum._validate.MAX_BYTES, "
            "environment variable MOMENTUM_MAX_BYTES)")


def records(steps, numbers_per_step, *, overhead: int = 0) -> None:
    """Refuse a run whose per-step records (``numbers_per_step`` floats for each of its
    ``steps + 1`` points, plus ``overhead`` bytes of bookkeeping per point) would exceed
    :data:`MAX_BYTES`: a run keeps its losses and gradient norms even when it keeps no
    iterates, so ``steps`` bounds its memory."""
    size("steps", (float(steps) + 1) * numbers_per_step, itemsize=8 + overhead / max(
        numbers_per_step, 1), what=f"recording {numbers_per_step} numbers at each of "
        f"{steps} steps")


def seed(name: str, value) -> int:
    """A random seed: an integer (Python or NumPy, not bool) in [0, 2**64), which both
    ``numpy.random.default_rng`` and ``torch.Generator.manual_seed`` take."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {value!r:.80}")
    if not 0 <= int(value) < 2**64:
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {value!r:.80}")
    return int(value)


def seeds(name: str, value) -> tuple[list[int], bool]:
    """``value`` as a list of seeds (:func:`seed` each) and whether it was a single one: an int
    gives one model, a non-empty sequence of ints a stack."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return [seed(name, value)], True
    if isinstance(value, (list, tuple, range)) or (
            isinstance(value, np.ndarray) and value.ndim == 1):
        if len(value) == 0:
            raise ValueError(f"{name} must be an int or a non-empty sequence of ints, got "
                             f"{value!r:.80}")
        return [seed(f"{name}[{i}]", s) for i, s in enumerate(value)], False
    raise ValueError(f"{name} must be an int or a non-empty sequence of ints, got {value!r:.80}")


def result(names: str, value):
    """``value`` (a number, array or tuple of them) unless a part of it overflowed to inf or
    NaN: then a ValueError naming the parameters ``names`` whose sizes caused it."""
    parts = value if isinstance(value, tuple) else (value,)
    for part in parts:
        arr = np.asarray(as_numpy(part), dtype=float)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{names} too large or too small: the result overflows "
                             f"(got {value!r:.80})")
    return value


def _kind_error(name: str, value, kind: str) -> ValueError:
    what = {"c": "complex", "b": "bool", "O": "object", "U": "text", "S": "bytes"}.get(
        kind, f"dtype kind {kind!r}")
    return ValueError(f"{name} must be real numbers (float or int), got {what} input {value!r:.80}")


def real(name: str, value, *, allow_empty: bool = False, finite_: bool = True):
    """``value`` as a real float array: a NumPy float64 array (ints and lists of ints cast), or a
    torch tensor kept as it is if floating (an integer tensor cast to float64). Complex, bool,
    object and text inputs are refused; so are NaN, infinities (unless ``finite_=False``) and
    empty arrays (unless ``allow_empty``)."""
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} must be real numbers, got {value!r:.80}")
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise _kind_error(name, value, "c" if value.is_complex() else "b")
        out = value if value.is_floating_point() else value.to(torch.float64)
        arr = out.detach()
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{name} must be a real array, got {value!r:.80} ({e})") from None
        if arr.dtype.kind not in "fiu":
            raise _kind_error(name, value, arr.dtype.kind)
        out = arr = arr.astype(np.float64, copy=False)
    if arr.numel() == 0 if isinstance(arr, torch.Tensor) else arr.size == 0:
        if not allow_empty:
            raise ValueError(f"{name} must not be empty, got shape {tuple(arr.shape)}")
        return out
    if finite_:
        ok = bool(torch.isfinite(arr).all()) if isinstance(arr, torch.Tensor) \
            else bool(np.isfinite(arr).all())
        if not ok:
            raise ValueError(f"{name} must be finite (no NaN or inf), got {value!r:.80}")
    return out


def array(name: str, value) -> np.ndarray:
    """``value`` (scalar, list, array, tensor) as a float64 NumPy array; complex, bool, object
    and text refused (no finiteness or emptiness check: the caller does its own)."""
    return np.asarray(as_numpy(real(name, value, allow_empty=True, finite_=False)),
                      dtype=np.float64)


def tensor(name: str, value, dtype=torch.float64) -> torch.Tensor:
    """``value`` as a torch tensor of ``dtype``; complex, bool, object and text refused."""
    out = real(name, value, allow_empty=True, finite_=False)
    return torch.as_tensor(out, dtype=dtype)


def floating(name: str, x):
    """``x`` (an array or tensor evaluated at every step) with a float dtype: integers cast to
    float64, complex and bool refused; no finiteness check (a diverging run must reach its
    divergence rule)."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point():
            return x
        if x.is_complex() or x.dtype == torch.bool:
            raise _kind_error(name, x, "c" if x.is_complex() else "b")
        return x.to(torch.float64)
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind not in "iu":
        raise _kind_error(name, x, arr.dtype.kind)
    return arr.astype(np.float64)


def scalar(name: str, value) -> float:
    """A finite real number (a Python or NumPy int or float, or a 0-d array) as a float."""
    arr = real(name, value)
    if np.ndim(as_numpy(arr)) != 0 and np.size(as_numpy(arr)) != 1:
        raise ValueError(f"{name} must be a single number, got shape {np.shape(as_numpy(arr))}")
    return float(as_numpy(arr).reshape(()))


def tolerance(name: str, value) -> float:
    """A solver tolerance: a finite number > 0."""
    v = scalar(name, value)
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def symmetric_psd(name: str, A, *, definite: bool = False) -> np.ndarray:
    """A finite, square, symmetric, positive semi-definite (or definite) matrix as float64."""
    A = np.asarray(as_numpy(real(name, A)), dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {A.shape}")
    scale = max(float(np.abs(A).max()), 1e-300)
    if not np.allclose(A, A.T, rtol=1e-8, atol=1e-10 * scale):
        raise ValueError(f"{name} must be symmetric")
    lam_min = float(np.linalg.eigvalsh((A + A.T) / 2)[0])
    if lam_min < (0 if definite else -1e-10 * scale) or (definite and lam_min == 0):
        kind = "definite" if definite else "semi-definite"
        raise ValueError(f"{name} must be symmetric positive {kind}, got smallest eigenvalue "
                         f"{lam_min:.3g}")
    return A


def as_numpy(value) -> np.ndarray:
    """A NumPy view of a scalar, array or tensor (detached, on the CPU)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def finite(name: str, value) -> None:
    """Raise ValueError if `value` holds a NaN or an infinity."""
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} must be a real number, got {value!r:.80}")
    try:
        arr = as_numpy(value)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name} must be real numbers, got {value!r:.80} ({e})") from None
    if arr.dtype.kind not in "fiu":
        raise _kind_error(name, value, arr.dtype.kind)
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
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def probability(name: str, value: float, *, open_left: bool = True) -> None:
    """Raise ValueError unless 0 < value < 1 (or 0 <= value < 1)."""
    if isinstance(value, (bool, np.bool_)) or \
            not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    low_ok = value > 0 if open_left else value >= 0
    if not (low_ok and value < 1):
        raise ValueError(f"{name} must lie in {'(0' if open_left else '[0'}, 1), got {value!r}")

r"""The one record of every run in the book, its one divergence rule and its one rate fit.

A run is either a first-order method iterated on a flat vector (:mod:`momentum.optimizers`) or
an ``nn.Module`` trained through ``torch.optim.SGD`` (:mod:`momentum.networks`); both return a
:class:`Trajectory`: the losses :math:`f(x_k)`, the gradient norms, optionally the iterates,
and named per-step series (``traj.series["distances"]``, also readable as
``traj.distances``).

**The divergence rule** (:func:`first_divergence`), the same for every run. With
:math:`F` = :data:`DIVERGENCE_FACTOR` :math:`= 10^6`, a run has diverged at step :math:`k` when

.. math::
    \text{a recorded value (gradient norm, loss) is not finite, or}\quad
    \|\nabla f(z_k)\| > F\,\|\nabla f(z_0)\|,

with :math:`z_k` the point where the method evaluates its gradient. One quantity decides,
the gradient norm, which every run records (the loss of a trained module, the iterates of a
vector run); :class:`DivergenceGuard` applies the same test row by row. Why :math:`10^6`: the
legitimate transients of the book stay far below it (optimally tuned heavy ball grows
:math:`\|x_k - x^\star\|^2` by more than :math:`10\times` before it contracts; Nesterov and the
networks of Chapters 3 and 4 grow less), while a slow divergence is caught in a run of
reasonable length: gradient descent at :math:`\eta = 2.02/L` multiplies its top mode by
:math:`|1 - 2.02| = 1.02` a step (the loss by about 1.04), so it crosses :math:`10^6` within
about :math:`\ln 10^6/\ln 1.02 \approx 700` steps, where the former factor :math:`10^{12}`
needed 1400. ``tests/test_divergence.py`` holds this matrix. The arrays of a diverged run stop
at the last step before the rule fired, ``diverged`` is set and a :class:`DivergenceWarning` is
raised; nothing crashes (:meth:`Trajectory.rate` of a run that diverged at its first step is
``nan``).

**The rate fit** (:func:`fit_rate`): a linear rate :math:`\rho` read off an error sequence
:math:`e_k`, either from its tail (the default) or over a window of relative values.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from . import _validate

__all__ = [
    "DIVERGENCE_FACTOR",
    "DivergenceWarning",
    "DivergenceGuard",
    "Trajectory",
    "fit_rate",
    "first_divergence",
    "ModuleRecorder",
]

#: The growth factor of the divergence rule: a gradient norm over F times the first.
DIVERGENCE_FACTOR = 1e6


class DivergenceWarning(RuntimeWarning):
    """Warned when a run blows up; the run stops and its Trajectory has ``diverged=True``."""


# --------------------------------------------------------------------------------------------
# The divergence rule
# --------------------------------------------------------------------------------------------


def _bad(values: np.ndarray, first: np.ndarray, factor: float) -> np.ndarray:
    """Per step (axis 0), whether any entry is non-finite or over factor times ``first``."""
    v = np.asarray(values, dtype=float)
    f = np.asarray(first, dtype=float)
    f = np.where(np.isfinite(f) & (f > 0), f, np.inf)    # no growth test from a zero start
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(v) | (v > factor * f)
    return bad.reshape(v.shape[0], -1).any(axis=1) if v.ndim > 1 else bad


def first_divergence(grad_norms=None, losses=None, *, first_grad_norm=None) -> int | None:
    r"""The first step :math:`k` (index along axis 0) at which the divergence rule fires, or
    ``None``: a non-finite gradient norm or loss, or
    :math:`\|\nabla f(z_k)\| > F\,\|\nabla f(z_0)\|` with :math:`F` = :data:`DIVERGENCE_FACTOR`
    (module docstring). The reference :math:`\|\nabla f(z_0)\|` is the first row unless given
    (a block of a longer run passes the run's first value). Trailing axes are trials: the rule
    fires at a step where it fires for any trial."""
    hits = []
    grad_norms = None if grad_norms is None else _validate.array("grad_norms", grad_norms)
    losses = None if losses is None else _validate.array("losses", losses)
    for name, v in (("grad_norms", grad_norms), ("losses", losses)):
        if v is not None and v.ndim < 1:
            raise ValueError(f"{name} must have a leading axis of steps, got shape {v.shape}")
    if grad_norms is not None and np.shape(grad_norms)[0] > 0:
        v = np.asarray(grad_norms, dtype=float)
        ref = v[0] if first_grad_norm is None else np.asarray(first_grad_norm, dtype=float)
        if not np.all(np.isfinite(ref)):
            return 0
        bad = np.flatnonzero(_bad(v, ref, DIVERGENCE_FACTOR))
        if bad.size:
            hits.append(int(bad[0]))
    if losses is not None and np.shape(losses)[0] > 0:
        v = np.asarray(losses, dtype=float)
        bad = np.flatnonzero(~np.isfinite(v).reshape(v.shape[0], -1).all(axis=1))
        if bad.size:
            hits.append(int(bad[0]))
    return min(hits) if hits else None


def warn_diverged(method: str, k: int, eta, beta, *, stacklevel: int = 3) -> None:
    """The one warning of a diverged run."""
    warnings.warn(f"{method} diverged at step {k} (eta={_show(eta)}, beta={_show(beta)}); the "
                  f"record stops at step {k - 1}", DivergenceWarning, stacklevel=stacklevel)


def _show(v) -> str:
    arr = _validate.as_numpy(v)
    return f"{float(arr):g}" if arr.ndim == 0 else f"array{arr.shape}"


class DivergenceGuard:
    r"""Wraps a batched ``grad`` so that one blown-up trial does not stop a whole batch.

    A batched run stops as soon as the divergence rule fires for any row. In a sweep over
    problems some rows are *meant* to diverge; the guard applies the rule's gradient test per
    row (a non-finite gradient norm, or one over ``factor`` times its first,
    :data:`DIVERGENCE_FACTOR` by default), freezes each such row (its gradient is replaced by
    0 from then on, so the row coasts to rest under momentum, which decays like
    :math:`\beta^k`) and records it in :attr:`diverged` (a bool tensor over the leading axes).
    Such rows never reach a target loss, so ``Trajectory.iterations_to`` reports ``inf``.
    """

    def __init__(self, grad, factor: float = DIVERGENCE_FACTOR):
        if not callable(grad):
            raise ValueError(f"grad must be callable, got {type(grad).__name__}")
        factor = _validate.scalar("factor", factor)
        _validate.positive("factor", factor)
        self.grad, self.factor = grad, float(factor)
        self.first = None
        self.diverged = None

    def __call__(self, w):
        g = self.grad(w)
        norm = torch.linalg.vector_norm(g, dim=-1)
        if self.first is None:
            self.first = norm.clamp_min(1e-300)
            self.diverged = torch.zeros_like(norm, dtype=torch.bool)
        bad = ~torch.isfinite(norm) | (norm > self.factor * self.first)
        self.diverged = self.diverged | bad
        return torch.where(self.diverged[..., None], torch.zeros_like(g), g)


# --------------------------------------------------------------------------------------------
# The rate fit
# --------------------------------------------------------------------------------------------


def fit_rate(e, *, tail: float = 0.5, floor: float = 1e-12, window: tuple | None = None):
    r"""The linear rate :math:`\rho` of an error sequence :math:`e_k` (shape ``(K + 1, ...)``;
    trailing axes are trials, fitted one by one).

    * ``window=None`` (the tail fit): least squares of
      :math:`\log e_k = a + p \log(k+1) + k \log\rho` over the last ``tail`` fraction of the
      iterations before :math:`e_k` reaches ``floor`` times :math:`e_0` (below, round-off
      dominates). The :math:`\log(k+1)` term absorbs the factor :math:`k` that a repeated
      eigenvalue of the iteration matrix produces (:math:`e_k \sim k\rho^k`, as for optimally
      tuned heavy ball and Nesterov on a quadratic). Raises ValueError when fewer than 8
      points are left to fit.
    * ``window=(start, stop)`` (the window fit): :math:`\exp` of the slope of a least-squares
      line through :math:`\log(e_k/e_0)` over the steps from where :math:`e_k/e_0` first
      falls to ``start`` until it first falls to ``stop``; robust to the oscillations of
      Nesterov's loss. ``nan`` where fewer than 5 points lie in the window.

    An empty sequence (a run that diverged at its first step) gives ``nan``.
    """
    e = _validate.array("e", e)
    if e.ndim < 1:
        raise ValueError(f"e must have shape (K + 1, ...), got {e.shape}")
    if window is not None:
        if not isinstance(window, (tuple, list)) or len(window) != 2:
            raise ValueError(f"window must be a pair (start, stop), got {window!r}")
        start, stop = window
        _validate.probability("start", start)
        _validate.probability("stop", stop)
        if stop >= start:
            raise ValueError(f"stop must be < start, got start={start!r}, stop={stop!r}")
    else:
        _validate.probability("tail", tail)
    if e.shape[0] == 0:
        return math.nan if e.ndim == 1 else np.full(e.shape[1:], np.nan)
    flat = e.reshape(e.shape[0], -1)
    fit = (lambda c: _window_fit(c, *window)) if window is not None else \
        (lambda c: _tail_fit(c, tail, floor))
    rates = np.array([fit(flat[:, j]) for j in range(flat.shape[1])])
    return float(rates[0]) if e.ndim == 1 else rates.reshape(e.shape[1:])


def _tail_fit(e: np.ndarray, tail: float, floor: float) -> float:
    ok = np.isfinite(e) & (e > floor * e[0])
    end = int(np.argmin(ok)) if not ok.all() else len(e)  # first index at or below the floor
    start = int(end * (1.0 - tail))
    k = np.arange(start, end, dtype=float)
    if len(k) < 8:
        raise ValueError(
            f"only {len(k)} iterations lie above the round-off floor in the fitted tail; "
            "run more steps, or raise tail")
    design = np.stack([np.ones_like(k), np.log(k + 1.0), k], axis=1)
    coef, *_ = np.linalg.lstsq(design, np.log(e[start:end]), rcond=None)
    return float(np.exp(coef[2]))


def _window_fit(e: np.ndarray, start: float, stop: float) -> float:
    rel = e / e[0]
    below_start = np.flatnonzero(rel <= start)
    if below_start.size == 0:
        return math.nan
    i0 = below_start[0]
    below_stop = np.flatnonzero(rel <= stop)
    i1 = below_stop[0] if below_stop.size else len(rel)
    k = np.arange(i0, i1)
    if len(k) < 5 or not np.all(rel[k] > 0):
        return math.nan
    return float(np.exp(np.polyfit(k, np.log(rel[k]), 1)[0]))


# --------------------------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------------------------


@dataclass
class Trajectory:
    r"""The record of one run (or of a batch of runs along trailing axes).

    Attributes
    ----------
    method, eta, beta:
        What was run.
    x:
        Iterates :math:`x_0, \dots, x_K`, stacked on axis 0 (same array type as ``x0``), or
        ``None`` (``keep_iterates=False``, or a trained module).
    y:
        Nesterov's extrapolated points :math:`y_0, \dots, y_K` (``None`` otherwise).
    losses:
        :math:`f(x_k)`, a NumPy array of shape ``(K + 1, ...)``, when a loss was recorded.
    grad_norms:
        :math:`\|\nabla f(z_k)\|` at the point :math:`z_k` where the method evaluates the
        gradient (:math:`x_k`, or :math:`y_k` for Nesterov), shape ``(K + 1, ...)``.
    series:
        Named per-step series (NumPy arrays, axis 0 the step), e.g. ``distances``
        :math:`\max_r\|w_r(k) - w_r(0)\|` of the two-layer network or the block norms ``dx``,
        ``du`` of the deep ReLU network; each also reads as an attribute (``traj.dx``).
    diverged, diverged_at:
        Whether (and at which step) the divergence rule fired (module docstring); the arrays
        then stop at the last step before it.
    """

    method: str
    eta: object
    beta: object
    x: object | None
    y: object | None
    losses: np.ndarray | None
    grad_norms: np.ndarray
    diverged: bool = False
    diverged_at: int | None = None
    meta: dict = field(default_factory=dict)
    series: dict = field(default_factory=dict)

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "series":
            raise AttributeError(name)
        series = self.__dict__.get("series", {})
        if name in series:
            return series[name]
        raise AttributeError(f"Trajectory has no attribute or series {name!r} "
                             f"(series: {sorted(series)})")

    @property
    def steps(self) -> int:
        """Number of steps recorded, K (the arrays hold K + 1 points)."""
        return len(self.grad_norms) - 1

    def _series(self, of: str, f_star: float, x_star) -> np.ndarray:
        if not isinstance(of, str):
            raise ValueError(f"of must be the name of a series, got {of!r:.80}")
        if of in ("loss", "residual"):
            if self.losses is None:
                raise ValueError(f"of={of!r} needs a run with loss=...; pass loss to the "
                                 "optimizer")
            gap = self.losses - f_star
            return gap if of == "loss" else np.sqrt(2 * np.maximum(gap, 0.0))
        if of == "grad_norm":
            return self.grad_norms
        if of == "distance":
            if x_star is None:
                raise ValueError("of='distance' needs x_star")
            if self.x is None:
                raise ValueError("of='distance' needs the iterates; run with keep_iterates=True")
            diff = _validate.as_numpy(self.x) - _validate.as_numpy(x_star)
            return np.linalg.norm(diff, axis=-1)
        if of in self.series:
            return np.asarray(self.series[of], dtype=float)
        raise ValueError(f"of must be 'loss', 'residual', 'grad_norm', 'distance' or a series "
                         f"name {tuple(self.series)}, got {of!r}")

    def rate(self, of: str = "grad_norm", *, tail: float = 0.5, f_star: float = 0.0,
             x_star=None, floor: float = 1e-12, window: tuple | None = None):
        r"""Fitted linear rate :math:`\rho` of the chosen error sequence :math:`e_k`
        (:func:`fit_rate`: the tail fit, or the window fit with ``window=(start, stop)``).

        ``of``: ``"grad_norm"`` (default), ``"loss"`` (:math:`f(x_k) - f^\star`),
        ``"residual"`` (:math:`\sqrt{2(f(x_k) - f^\star)}`, :math:`\|F_\Lambda - Y\|_F` for a
        squared loss), ``"distance"`` (:math:`\|x_k - x^\star\|`) or a series name. On a
        quadratic the gradient norm, the residual and the distance contract like the spectral
        radius :math:`\rho` of the iteration, the loss like :math:`\rho^2`. Returns a float, or
        an array over the trial axes; ``nan`` for a run that diverged at its first step.
        """
        return fit_rate(self._series(of, f_star, x_star), tail=tail, floor=floor, window=window)

    def iterations_to(self, eps: float, of: str = "loss", *, relative: bool = True,
                      f_star: float = 0.0, x_star=None):
        r"""First k with :math:`e_k \le \varepsilon\, e_0` (or :math:`e_k \le \varepsilon` if
        ``relative=False``); ``math.inf`` if the run never gets there. ``of`` as in
        :meth:`rate`, default the loss gap :math:`f(x_k) - f^\star`."""
        eps = _validate.scalar("eps", eps)
        _validate.positive("eps", eps)
        e = self._series(of, f_star, x_star)
        if e.shape[0] == 0:
            return math.inf if e.ndim == 1 else np.full(e.shape[1:], np.inf)
        target = eps * e[0] if relative else eps
        hit = e <= target
        first = np.where(hit.any(axis=0), hit.argmax(axis=0), np.inf)
        return (int(first) if np.isfinite(first) else math.inf) if e.ndim == 1 else first


# --------------------------------------------------------------------------------------------
# Recording a trained module: per-step values stay on the device, copied in blocks
# --------------------------------------------------------------------------------------------


class ModuleRecorder:
    r"""Records the per-step values of an ``nn.Module`` training loop without a per-step copy
    to the host (which stalls a GPU): :meth:`record` keeps the step's tensors on the device;
    every ``block`` steps (and at the last) they are stacked, copied to the host in one go,
    and the divergence rule is checked on the block. ``diffs`` names series defined from step 1
    on (differences :math:`\|x_{k} - x_{k-1}\|`); they are passed from the second step.

    The loop therefore runs up to ``block - 1`` steps past the one where a run diverged
    before it stops; the record is cut back to the steps before it, as if it had stopped
    there (the trained module is left at the step where the loop stopped).
    """

    def __init__(self, method: str, eta, beta, steps: int, *, diffs: tuple = (),
                 block: int = 64, numbers_per_step: int = 2):
        # the host keeps every step's values: refuse a run whose record cannot fit
        # (``numbers_per_step``: the values recorded at one step, e.g. 2 x trials)
        _validate.positive_int("steps", steps)
        _validate.records(steps, numbers_per_step)
        self.method, self.eta, self.beta, self.steps = method, eta, beta, steps
        self.diffs, self.block = set(diffs), block
        self.pending: dict[str, list] = {}
        self.host: dict[str, list] = {}
        self.points = 0            # points recorded so far (host and pending)
        self.flushed = 0           # points already on the host
        self.first: dict[str, np.ndarray] = {}
        self.diverged_at: int | None = None

    def record(self, **values) -> bool:
        """Keep the step's values (tensors, any device); True when the loop must stop (the run
        diverged, found at a block's end)."""
        for name, v in values.items():
            self.pending.setdefault(name, []).append(v.detach())
        self.points += 1
        if self.points - self.flushed >= self.block or self.points == self.steps + 1:
            return self.flush()
        return False

    def flush(self) -> bool:
        """Copy the pending block to the host and apply the divergence rule to it."""
        if self.points == self.flushed:
            return self.diverged_at is not None
        block = {name: torch.stack(vs).cpu().numpy() for name, vs in self.pending.items() if vs}
        self.pending = {name: [] for name in self.pending}
        for name, arr in block.items():
            self.host.setdefault(name, []).append(arr)
            if name not in self.first and name not in self.diffs:
                self.first[name] = arr[0]
        hit = first_divergence(block.get("grad_norms"), block.get("losses"),
                               first_grad_norm=self.first.get("grad_norms"))
        start, self.flushed = self.flushed, self.points
        if hit is not None:
            self.diverged_at = start + hit
            warn_diverged(self.method, self.diverged_at, self.eta, self.beta, stacklevel=4)
            return True
        return False

    def trajectory(self) -> Trajectory:
        """The Trajectory of the run (after the loop)."""
        self.flush()
        n = self.points if self.diverged_at is None else self.diverged_at
        out = {}
        for name, blocks in self.host.items():
            arr = np.concatenate(blocks)
            out[name] = arr[:max(n - 1, 0)] if name in self.diffs else arr[:n]
        shape = out["losses"].shape[1:] if "losses" in out else ()
        for name in self.diffs:
            if name not in out or len(out[name]) == 0:
                out[name] = np.empty((0, *shape))
        losses = out.pop("losses", None)
        grad_norms = out.pop("grad_norms", np.empty((0, *shape)))
        return Trajectory(self.method, float(self.eta), float(self.beta), None, None, losses,
                          grad_norms, diverged=self.diverged_at is not None,
                          diverged_at=self.diverged_at, series=out)

r"""The three first-order methods of the book, on a flat parameter vector.

Notation (fixed across the book): step size :math:`\eta`, momentum :math:`\beta`, iterate
:math:`x_k`, Nesterov's extrapolated point :math:`y_k`.

* Gradient descent (Cauchy 1847):
  :math:`x_{k+1} = x_k - \eta \nabla f(x_k)`.
* Heavy ball (Polyak 1964):
  :math:`x_{k+1} = x_k - \eta \nabla f(x_k) + \beta (x_k - x_{k-1})`, with :math:`x_{-1} = x_0`.
* Nesterov's accelerated gradient (Nesterov 1983; the form of Liao & Kyrillidis 2024, eq. (2)):
  :math:`x_{k+1} = y_k - \eta \nabla f(y_k)`,
  :math:`y_{k+1} = x_{k+1} + \beta (x_{k+1} - x_k)`, with :math:`y_0 = x_0`.

Each function takes ``grad`` (a callable returning :math:`\nabla f(x)` with the shape of ``x``)
and a start ``x0`` that is a NumPy array or a torch tensor of shape ``(..., d)``. Leading axes are
independent trials run together as one tensor computation (``grad`` must act row-wise); ``eta``
and ``beta`` may then be arrays that broadcast against ``x0`` (e.g. shape ``(B, 1)``), which
sweeps hyperparameters in one run. Each returns a :class:`Trajectory`.

:func:`torch_optimizer` returns the ``torch.optim.SGD`` that *is* each method for training an
``nn.Module``; see its docstring for the change of variables behind PyTorch's Nesterov option.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from . import _validate

__all__ = [
    "DivergenceWarning",
    "Trajectory",
    "gd",
    "heavy_ball",
    "nesterov",
    "torch_optimizer",
    "METHODS",
]

METHODS = ("gd", "heavy_ball", "nesterov")

#: A run is declared divergent when a gradient norm exceeds this multiple of the first one.
DIVERGENCE_FACTOR = 1e12


class DivergenceWarning(RuntimeWarning):
    """Warned when a run blows up; the run stops and its Trajectory has ``diverged=True``."""


# --------------------------------------------------------------------------------------------
# The three update rules
# --------------------------------------------------------------------------------------------


def gd(grad: Callable, x0, *, eta, steps: int, loss: Callable | None = None,
       keep_iterates: bool = True) -> Trajectory:
    r"""Gradient descent, :math:`x_{k+1} = x_k - \eta \nabla f(x_k)`.

    Returns a :class:`Trajectory` of ``steps + 1`` points :math:`x_0, \dots, x_K`.
    """
    rec = _Recorder("gd", grad, x0, eta, 0.0, steps, loss, keep_iterates)
    x = rec.x0
    while (g := rec.record(x)) is not None:
        x = x - rec.eta * g
    return rec.trajectory


def heavy_ball(grad: Callable, x0, *, eta, beta, steps: int, loss: Callable | None = None,
               keep_iterates: bool = True) -> Trajectory:
    r"""Polyak's heavy ball, :math:`x_{k+1} = x_k - \eta \nabla f(x_k) + \beta (x_k - x_{k-1})`.

    Started with :math:`x_{-1} = x_0` (no momentum on the first step), which is also what
    ``torch.optim.SGD(momentum=beta)`` does. Polyak (1964).
    """
    rec = _Recorder("heavy_ball", grad, x0, eta, beta, steps, loss, keep_iterates)
    x = x_prev = rec.x0
    while (g := rec.record(x)) is not None:
        x, x_prev = x - rec.eta * g + rec.beta * (x - x_prev), x
    return rec.trajectory


def nesterov(grad: Callable, x0, *, eta, beta, steps: int, loss: Callable | None = None,
             keep_iterates: bool = True) -> Trajectory:
    r"""Nesterov's accelerated gradient with constant momentum.

    .. math::
        x_{k+1} = y_k - \eta \nabla f(y_k), \qquad
        y_{k+1} = x_{k+1} + \beta (x_{k+1} - x_k), \qquad y_0 = x_0 .

    The gradient is taken at the extrapolated point :math:`y_k`; the Trajectory keeps both
    sequences (``x`` and ``y``), records the loss at :math:`x_k` and the norm of the gradient
    actually evaluated, :math:`\|\nabla f(y_k)\|`. Nesterov (2018, §2.2); Liao & Kyrillidis
    (2024), eq. (2).
    """
    rec = _Recorder("nesterov", grad, x0, eta, beta, steps, loss, keep_iterates)
    x = y = rec.x0
    while (g := rec.record(x, at=y)) is not None:
        x_next = y - rec.eta * g
        x, y = x_next, x_next + rec.beta * (x_next - x)
    return rec.trajectory


# --------------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------------


def torch_optimizer(name: str, params, *, eta: float, beta: float = 0.0) -> torch.optim.SGD:
    r"""The ``torch.optim.SGD`` that is the method ``name`` (no dampening, no weight decay).

    * ``"gd"``: ``SGD(lr=eta)``; ``beta`` must be 0.
    * ``"heavy_ball"``: ``SGD(lr=eta, momentum=beta)``. PyTorch keeps a buffer
      :math:`b_k = \beta b_{k-1} + g_k` (:math:`b_0 = g_0`) and steps
      :math:`p_{k+1} = p_k - \eta b_k`; since :math:`-\eta b_{k-1} = p_k - p_{k-1}`, this is
      :math:`p_{k+1} = p_k - \eta g_k + \beta(p_k - p_{k-1})`: heavy ball with :math:`x_{-1}=x_0`.
    * ``"nesterov"``: ``SGD(lr=eta, momentum=beta, nesterov=True)``, which steps
      :math:`p_{k+1} = p_k - \eta (g_k + \beta b_k)`. Its parameters are the book's
      **extrapolated** points, :math:`p_k = y_k`: substituting
      :math:`x_{k+1} = y_k - \eta \nabla f(y_k)` into
      :math:`y_{k+1} = x_{k+1} + \beta(x_{k+1} - x_k)` gives
      :math:`y_{k+1} = y_k - \eta \nabla f(y_k) + \beta\,(x_{k+1} - x_k)`, and
      :math:`x_{k+1} - x_k = -\eta b_k` by induction (with :math:`b_k = \beta b_{k-1} +
      \nabla f(y_k)`), so :math:`y_{k+1} = y_k - \eta(\nabla f(y_k) + \beta b_k)`.
      The book's :math:`x_k` is recovered as :math:`x_{k+1} = p_k - \eta \nabla f(p_k)`.

    Sutskever, Martens, Dahl & Hinton (2013) give the same change of variables. The test
    ``tests/test_optimizers.py`` checks the iterates agree to 1e-10 over 200 steps.
    """
    if name not in METHODS:
        raise ValueError(f"name must be one of {METHODS}, got {name!r}")
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    if name == "gd" and beta != 0:
        raise ValueError(f"beta must be 0 for gradient descent, got {beta!r}")
    if name == "nesterov" and beta > 0:
        return torch.optim.SGD(params, lr=eta, momentum=beta, nesterov=True)
    return torch.optim.SGD(params, lr=eta, momentum=beta)


# --------------------------------------------------------------------------------------------
# The record of a run
# --------------------------------------------------------------------------------------------


@dataclass
class Trajectory:
    r"""The record of one run (or of a batch of runs along the leading axes).

    Attributes
    ----------
    method, eta, beta:
        What was run.
    x:
        Iterates :math:`x_0, \dots, x_K`, stacked on axis 0 (same array type as ``x0``), or
        ``None`` when ``keep_iterates=False``.
    y:
        Nesterov's extrapolated points :math:`y_0, \dots, y_K` (``None`` for the other methods).
    losses:
        :math:`f(x_k)`, a NumPy array of shape ``(K + 1, ...)``, when a ``loss`` was given.
    grad_norms:
        :math:`\|\nabla f(z_k)\|` at the point :math:`z_k` where the method evaluates the
        gradient (:math:`x_k`, or :math:`y_k` for Nesterov), shape ``(K + 1, ...)``.
    diverged:
        True if the run blew up (a non-finite value, or a gradient norm over
        ``DIVERGENCE_FACTOR`` times the first); the arrays then stop at the last finite step.
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

    @property
    def steps(self) -> int:
        """Number of steps taken, K (the arrays hold K + 1 points)."""
        return len(self.grad_norms) - 1

    def _series(self, of: str, f_star: float, x_star) -> np.ndarray:
        if of == "loss":
            if self.losses is None:
                raise ValueError("of='loss' needs a run with loss=...; pass loss to the optimizer")
            return self.losses - f_star
        if of == "grad_norm":
            return self.grad_norms
        if of == "distance":
            if x_star is None:
                raise ValueError("of='distance' needs x_star")
            if self.x is None:
                raise ValueError("of='distance' needs the iterates; run with keep_iterates=True")
            diff = _validate.as_numpy(self.x) - _validate.as_numpy(x_star)
            return np.linalg.norm(diff, axis=-1)
        raise ValueError(f"of must be 'loss', 'grad_norm' or 'distance', got {of!r}")

    def rate(self, of: str = "grad_norm", *, tail: float = 0.5, f_star: float = 0.0,
             x_star=None, floor: float = 1e-12):
        r"""Fitted linear rate :math:`\rho` of the chosen error sequence :math:`e_k`.

        Fits :math:`\log e_k = a + p \log(k+1) + k \log\rho` by least squares over the last
        ``tail`` fraction of the iterations before :math:`e_k` reaches ``floor`` times
        :math:`e_0` (below that, round-off dominates). The :math:`\log(k+1)` term absorbs the
        factor :math:`k` that a repeated eigenvalue of the iteration matrix produces
        (:math:`e_k \sim k\rho^k`, as for optimally tuned heavy ball and Nesterov on a
        quadratic), so the estimate is the asymptotic rate itself.

        ``of``: ``"grad_norm"`` (default), ``"loss"`` (:math:`f(x_k) - f^\star`) or
        ``"distance"`` (:math:`\|x_k - x^\star\|`). On a quadratic the gradient norm and the
        distance contract like the spectral radius :math:`\rho` of the iteration, the loss like
        :math:`\rho^2`. Returns a float, or an array over the trial axes of a batched run.
        """
        _validate.probability("tail", tail)
        e = self._series(of, f_star, x_star)
        flat = e.reshape(e.shape[0], -1)
        rates = np.array([_fit_rate(flat[:, j], tail, floor) for j in range(flat.shape[1])])
        return float(rates[0]) if e.ndim == 1 else rates.reshape(e.shape[1:])

    def iterations_to(self, eps: float, of: str = "loss", *, relative: bool = True,
                      f_star: float = 0.0, x_star=None):
        r"""First k with :math:`e_k \le \varepsilon\, e_0` (or :math:`e_k \le \varepsilon` if
        ``relative=False``); ``math.inf`` if the run never gets there. ``of`` as in
        :meth:`rate`, default the loss gap :math:`f(x_k) - f^\star`."""
        _validate.positive("eps", eps)
        e = self._series(of, f_star, x_star)
        target = eps * e[0] if relative else eps
        hit = e <= target
        first = np.where(hit.any(axis=0), hit.argmax(axis=0), np.inf)
        return (int(first) if np.isfinite(first) else math.inf) if e.ndim == 1 else first


def _fit_rate(e: np.ndarray, tail: float, floor: float) -> float:
    e = np.asarray(e, dtype=float)
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


class _Recorder:
    """Validates the inputs of a run, records each step, and stops it on divergence."""

    def __init__(self, method, grad, x0, eta, beta, steps, loss, keep_iterates):
        if not callable(grad):
            raise ValueError(f"grad must be callable, got {type(grad).__name__}")
        if loss is not None and not callable(loss):
            raise ValueError(f"loss must be callable or None, got {type(loss).__name__}")
        _validate.positive_int("steps", steps)
        is_torch = isinstance(x0, torch.Tensor)
        if not is_torch:
            x0 = np.asarray(x0, dtype=float)
        _validate.finite("x0", x0)
        if x0.ndim < 1:
            raise ValueError(f"x0 must have at least one axis (the parameter vector), got {x0!r}")
        _validate.positive("eta", eta)
        _validate.momentum("beta", beta)
        for name, value in (("eta", eta), ("beta", beta)):
            shape = np.shape(_validate.as_numpy(value))
            try:
                ok = np.broadcast_shapes(shape, tuple(x0.shape)) == tuple(x0.shape)
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    f"{name} of shape {shape} does not broadcast against x0 of shape "
                    f"{tuple(x0.shape)}; for a batch of B trials use shape (B, 1)")
        as_x = (lambda v: torch.as_tensor(v, dtype=x0.dtype, device=x0.device)) if is_torch \
            else (lambda v: np.asarray(v, dtype=float))
        self.method, self.grad, self.loss, self.steps = method, grad, loss, steps
        self.eta = eta if np.ndim(_validate.as_numpy(eta)) == 0 else as_x(eta)
        self.beta = beta if np.ndim(_validate.as_numpy(beta)) == 0 else as_x(beta)
        self.x0, self.is_torch, self.keep = x0, is_torch, keep_iterates
        self.xs, self.ys, self.losses, self.gnorms = [], [], [], []
        self.diverged_at = None
        self.trajectory = None

    def _norm(self, g):
        if self.is_torch:
            return torch.linalg.vector_norm(g.detach(), dim=-1).cpu().numpy()
        return np.linalg.norm(g, axis=-1)

    def record(self, x, at=None):
        """Record x_k (and y_k = ``at``); return the gradient at ``at`` (default x_k), or None
        when the run is over."""
        z = x if at is None else at
        g = self.grad(z)
        if tuple(g.shape) != tuple(z.shape):
            raise ValueError(
                f"grad returned shape {tuple(g.shape)} for an input of shape {tuple(z.shape)}")
        gn = self._norm(g)
        k = len(self.gnorms)
        blown = not np.all(np.isfinite(gn))
        if self.gnorms and not blown:
            blown = bool(np.any(gn > DIVERGENCE_FACTOR * np.maximum(self.gnorms[0], 1e-300)))
        loss_k = None
        if self.loss is not None and not blown:
            loss_k = _validate.as_numpy(self.loss(x)).astype(float)
            blown = not np.all(np.isfinite(loss_k))
        if blown:
            self.diverged_at = k
            warnings.warn(
                f"{self.method} diverged at step {k} (eta={self._show(self.eta)}, "
                f"beta={self._show(self.beta)}); the trajectory stops at step {k - 1}",
                DivergenceWarning, stacklevel=3)
            self._finish()
            return None
        self.gnorms.append(gn)
        if loss_k is not None:
            self.losses.append(loss_k)
        if self.keep:
            self.xs.append(x)
            if at is not None:
                self.ys.append(at)
        if k == self.steps:
            self._finish()
            return None
        return g

    @staticmethod
    def _show(v):
        arr = _validate.as_numpy(v)
        return f"{float(arr):g}" if arr.ndim == 0 else f"array{arr.shape}"

    def _finish(self):
        stack = (lambda s: torch.stack(s)) if self.is_torch else (lambda s: np.stack(s))
        keep = self.keep and len(self.xs) > 0
        self.trajectory = Trajectory(
            method=self.method,
            eta=self.eta,
            beta=self.beta,
            x=stack(self.xs) if keep else None,
            y=stack(self.ys) if keep and self.ys else None,
            losses=np.stack(self.losses) if self.losses else None,
            grad_norms=np.stack(self.gnorms) if self.gnorms else np.empty((0,)),
            diverged=self.diverged_at is not None,
            diverged_at=self.diverged_at,
        )

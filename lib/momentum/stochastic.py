r"""Mini-batch training on over-parameterised least squares (Chapter 6).

The problem: :math:`n` samples :math:`x_i \in \mathbb R^d` with :math:`d > n`, labels
:math:`y_i = x_i^\top w^\star`, and

.. math::
    f(w) = \frac{1}{2n} \sum_{i=1}^n (x_i^\top w - y_i)^2 = \frac{1}{2n}\|Xw - y\|^2 ,

which *interpolates*: every sample's loss is zero at the same minimisers, so the mini-batch
gradient vanishes there and SGD with a constant step converges to zero loss (the regime of Ma,
Bassily & Belkin 2018 and of Liu & Belkin 2020). The Hessian :math:`H = X^\top X/n` has rank
:math:`n`; :math:`\mu` is its smallest non-zero eigenvalue and :math:`L` its largest.

The methods, each driven by the mini-batch gradient :math:`\tilde g(z) = X_B^\top(X_B z -
y_B)/b` of a batch :math:`B` of :math:`b` samples drawn without replacement at every step:

* ``"sgd"``: :math:`w_{k+1} = w_k - \eta \tilde g(w_k)` (``torch.optim.SGD``);
* ``"heavy_ball"``, ``"nesterov"``: the book's heavy ball and Nesterov with the mini-batch
  gradient, through :func:`momentum.optimizers.torch_optimizer` (for Nesterov the stored
  parameters are the extrapolated points, where the gradient is taken);
* ``"mass"``: MaSS (Liu & Belkin 2020), Nesterov's method with a *compensation* term,

  .. math::
      w_{k+1} = u_k - \eta_1 \tilde g(u_k), \qquad
      u_{k+1} = (1 + \gamma) w_{k+1} - \gamma w_k + \eta_2\, \tilde g(u_k),

  with :math:`\eta_1` = ``eta``, :math:`\gamma` = ``beta``, :math:`\eta_2` = ``eta2``; with
  :math:`\eta_2 = 0` it is Nesterov's method in the same variables (tested).

Every method records the full loss :math:`f` at the book's iterate (:mod:`momentum.optimizers`,
convention ``"book"``): at :math:`w_k` for SGD and heavy ball, at :math:`x_k` for Nesterov
(Liao & Kyrillidis's eq. (2) from :math:`y_0 = x_0`; PyTorch's parameters are the extrapolated
:math:`y_k`, so :math:`x_k` comes from :func:`momentum.optimizers.book_iterates`) and at
:math:`w_k` for MaSS (its :math:`u_k` is the extrapolated point); the full-gradient norm is
recorded where the method takes its gradient (:math:`w_k`, :math:`y_k`, :math:`u_k`), as
:func:`momentum.optimizers.nesterov` does. ``trials`` independent runs go at once (one row of
a ``(trials, d)`` tensor each, with its own batches; the same seed gives every method the same
batches).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import _validate
from .optimizers import book_iterates, torch_optimizer
from .records import ModuleRecorder, Trajectory

__all__ = ["LeastSquares", "least_squares", "minibatch_run", "MINIBATCH_METHODS"]

MINIBATCH_METHODS = ("sgd", "heavy_ball", "nesterov", "mass")


@dataclass(frozen=True)
class LeastSquares:
    """An interpolating least-squares problem: ``X`` (n, d), ``y`` (n,), float64 tensors."""

    X: torch.Tensor
    y: torch.Tensor

    def __post_init__(self):
        X = _validate.tensor("X", self.X)
        y = _validate.tensor("y", self.y)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"X must have shape (n, d), got {tuple(X.shape)}")
        if tuple(y.shape) != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
        _validate.finite("X", X)
        _validate.finite("y", y)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    def _eigs(self) -> np.ndarray:
        return np.linalg.eigvalsh((self.X @ self.X.T).numpy() / self.n)      # the n non-zero

    @property
    def mu(self) -> float:
        """Smallest non-zero eigenvalue of the Hessian :math:`X^\\top X / n`."""
        return float(self._eigs()[0])

    @property
    def L(self) -> float:
        """Largest eigenvalue of the Hessian."""
        return float(self._eigs()[-1])

    @property
    def L_sample(self) -> float:
        r""":math:`\max_i \|x_i\|^2`, the smoothness of a single sample's loss: SGD with one
        sample per step is stable for :math:`\eta < 2/\max_i\|x_i\|^2`."""
        return float((self.X ** 2).sum(1).max())

    def loss(self, W) -> torch.Tensor:
        """:math:`f` at each row of ``W`` (shape (..., d)); shape (...)."""
        return 0.5 * ((W @ self.X.T - self.y) ** 2).mean(-1)

    def grad(self, W, idx=None) -> torch.Tensor:
        """Full gradient at each row of ``W``, or the mini-batch gradient on the samples
        ``idx`` (shape (trials, b), one batch per row)."""
        if idx is None:
            return (W @ self.X.T - self.y) @ self.X / self.n
        Xb, yb = self.X[idx], self.y[idx]                              # (trials, b, d), (trials, b)
        r = (Xb @ W.unsqueeze(-1)).squeeze(-1) - yb
        return (r.unsqueeze(-1) * Xb).mean(-2)


def least_squares(n: int, d: int, *, decay: float = 1.0, seed: int = 0) -> LeastSquares:
    r"""An over-parameterised problem (:math:`d > n`): rows :math:`x_i = D z_i` with
    :math:`z_i \sim N(0, I_d)` and :math:`D = \mathrm{diag}(j^{-\text{decay}/2})` rescaled so
    that :math:`\mathbb E\|x_i\|^2 = 1` (a power-law spectrum, as features of real data have),
    and :math:`y = X w^\star` with :math:`w^\star \sim N(0, I_d)/\sqrt d`."""
    _validate.positive_int("n", n)
    _validate.positive_int("d", d)
    if d <= n:
        raise ValueError(f"d must exceed n (over-parameterised), got n = {n}, d = {d}")
    _validate.finite("decay", decay)
    seed = _validate.seed("seed", seed)
    _validate.size("d", float(n) * d + 2 * d, what=f"a ({n}, {d}) data matrix")
    gen = torch.Generator().manual_seed(seed)
    scale = torch.arange(1, d + 1, dtype=torch.float64) ** (-decay / 2)
    scale = scale / scale.norm()
    X = torch.randn(n, d, generator=gen, dtype=torch.float64) * scale
    w_star = torch.randn(d, generator=gen, dtype=torch.float64) / d ** 0.5
    return LeastSquares(X, X @ w_star)


def minibatch_run(problem: LeastSquares, method: str, *, eta: float, beta: float = 0.0,
                  batch: int, steps: int, trials: int = 8, seed: int = 0,
                  eta2: float = 0.0) -> Trajectory:
    r"""Run ``method`` (one of :data:`MINIBATCH_METHODS`, module docstring) from
    :math:`w_0 = 0` for ``steps`` steps with batches of ``batch`` samples, ``trials`` runs at
    once. Returns a :class:`~momentum.records.Trajectory` whose ``losses`` (the full loss at
    the book's iterate: :math:`w_k`, Nesterov's :math:`x_k`, MaSS's :math:`w_k`) and
    ``grad_norms`` (the full-gradient norm where the method takes its gradient) have shape
    ``(K + 1, trials)``; the divergence rule of the book applies (a run that diverges stops
    the stack, with a warning, and the Trajectory says so)."""
    if not isinstance(method, str) or method not in MINIBATCH_METHODS:
        raise ValueError(f"method must be one of {MINIBATCH_METHODS}, got {method!r}")
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    _validate.positive_int("batch", batch)
    _validate.positive_int("steps", steps)
    _validate.positive_int("trials", trials)
    _validate.finite("eta2", eta2)
    if batch > problem.n:
        raise ValueError(f"batch must be at most n = {problem.n}, got {batch}")
    if method == "sgd" and beta != 0:
        raise ValueError(f"beta must be 0 for sgd, got {beta!r}")
    seed = _validate.seed("seed", seed)
    # the iterates (three copies for mass) and one batch draw of (trials, n) at once
    _validate.size("trials", float(trials) * (3 * problem.d + 2 * problem.n),
                   what=f"{trials} runs of {problem.d} weights")
    _validate.records(steps, 2 * trials)
    gen = torch.Generator().manual_seed(seed)
    W = torch.zeros(trials, problem.d, dtype=torch.float64)
    rec = ModuleRecorder(method, eta, beta, steps)

    def batches():
        return torch.rand(trials, problem.n, generator=gen).argsort(-1)[:, :batch]

    def record(X, Z) -> bool:
        """The loss at the iterate X, the gradient norm at Z (where the gradient is taken)."""
        return rec.record(losses=problem.loss(X),
                          grad_norms=torch.linalg.vector_norm(problem.grad(Z), dim=-1))

    if method == "mass":
        w, u = W.clone(), W.clone()
        for k in range(steps + 1):
            if record(w, u) or k == steps:
                break
            g = problem.grad(u, batches())
            w_next = u - eta * g
            u = (1 + beta) * w_next - beta * w + eta2 * g
            w = w_next
        return rec.trajectory()
    p = torch.nn.Parameter(W)
    opt = torch_optimizer("gd" if method == "sgd" else method, [p], eta=eta, beta=beta)
    for k in range(steps + 1):
        (x,) = book_iterates(opt, [p])        # x_k (= p_k but for Nesterov's y_k)
        if record(x, p.detach()) or k == steps:
            break
        p.grad = problem.grad(p.detach(), batches())
        opt.step()
    return rec.trajectory()

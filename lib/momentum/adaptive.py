r"""Adaptive methods next to the book's momentum methods, all through ``torch.optim`` (Chapter 6).

:func:`make_optimizer` returns, for a name in :data:`OPTIMIZERS`,

* ``"gd"``, ``"heavy_ball"``, ``"nesterov"``: :func:`momentum.optimizers.torch_optimizer`
  (step :math:`\eta` = ``lr``, momentum :math:`\beta` = ``beta``);
* ``"adam"``: ``torch.optim.Adam`` with its defaults :math:`(\beta_1, \beta_2) = (0.9, 0.999)`,
  :math:`\epsilon = 10^{-8}` (Kingma & Ba 2015):
  :math:`m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k`, :math:`v_k = \beta_2 v_{k-1} +
  (1-\beta_2) g_k^2`, :math:`w_{k+1} = w_k - \eta\,\hat m_k / (\sqrt{\hat v_k} + \epsilon)` with
  the bias corrections :math:`\hat m_k = m_k/(1-\beta_1^k)`, :math:`\hat v_k = v_k / (1 -
  \beta_2^k)`;
* ``"rmsprop"``: ``torch.optim.RMSprop`` with its defaults (:math:`\alpha = 0.99`, no
  momentum): :math:`v_k = \alpha v_{k-1} + (1-\alpha) g_k^2`,
  :math:`w_{k+1} = w_k - \eta\, g_k/(\sqrt{v_k} + \epsilon)` (Tieleman & Hinton 2012).

All of them act coordinate by coordinate or linearly, so a stack of independent runs (one row
of a tensor per run, the loss their sum) trains as the separate runs would.
:func:`train` runs one of them and returns the book's :class:`~momentum.records.Trajectory`;
:func:`step_search` picks each method's step from the same grid by the final loss.

**Where the loss is recorded** (:mod:`momentum.optimizers`, "Two starts"): for ``"nesterov"``
:func:`train` follows a ``convention``. ``"book"`` (the default; Chapter 6's additive model):
Liao & Kyrillidis's eq. (2) from :math:`y_0 = x_0`, through ``torch.optim.SGD(nesterov=True)``,
whose parameters are the :math:`y_k`; the loss is recorded at the book's iterate :math:`x_k`
(:func:`momentum.optimizers.book_iterates`). ``"liu"`` (Chapter 6's two-layer network): Liu et
al.'s eq. (5) from :math:`W(-1) = W(0)` (:func:`momentum.optimizers.liu_step`, first step
:math:`-\eta\nabla\ell(W(0))`), the loss recorded at :math:`W(k)`. Every other method records
the loss at its iterate :math:`w_k`, where it takes its gradient (heavy ball is the same in
both conventions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from . import _validate
from .optimizers import CONVENTIONS, book_iterates, liu_step, torch_optimizer
from .records import ModuleRecorder, Trajectory

__all__ = ["OPTIMIZERS", "make_optimizer", "train", "step_search"]

OPTIMIZERS = ("gd", "heavy_ball", "nesterov", "adam", "rmsprop")


def make_optimizer(name: str, params, *, lr: float, beta: float = 0.0) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer called ``name`` (module docstring); ``beta`` is the
    momentum of heavy ball and Nesterov, must be 0 for ``"gd"`` (as the optimizers refuse it)
    and is ignored by Adam and RMSProp."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"name must be one of {OPTIMIZERS}, got {name!r}")
    lr, beta = _validate.scalar("lr", lr), _validate.scalar("beta", beta)
    _validate.positive("lr", lr)
    _validate.momentum("beta", beta)
    if name == "gd" and beta != 0:
        raise ValueError(f"beta must be 0 for gradient descent, got {beta!r}")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch_optimizer(name, params, eta=lr, beta=beta)


def train(params: Sequence[torch.Tensor], loss: Callable[[], torch.Tensor], name: str, *,
          lr: float, steps: int, beta: float = 0.0, convention: str = "book") -> Trajectory:
    """Train ``params`` in place for ``steps`` steps of the optimizer ``name``; ``loss()``
    returns the loss of each run of a stack (shape (B,)) or a scalar. Returns a Trajectory with
    ``losses`` of shape (K + 1, B) (or (K + 1,)) and the book's divergence rule applied.

    The losses are recorded at the method's iterate (module docstring): for ``"nesterov"``
    with ``convention="book"`` at the book's :math:`x_k` (the parameters hold :math:`y_k`,
    where the gradient is taken; ``grad_norms`` are :math:`\\|\\nabla f(y_k)\\|`), with
    ``convention="liu"`` at :math:`W(k)`; for every other method at :math:`w_k`. On return
    the parameters hold the last point where a gradient was taken."""
    _validate.positive_int("steps", steps)
    if not callable(loss):
        raise ValueError(f"loss must be callable, got {type(loss).__name__}")
    if not isinstance(convention, str) or convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    params = list(params)
    opt = make_optimizer(name, params, lr=lr, beta=beta)
    rec = ModuleRecorder(name, lr, beta, steps)
    liu = convention == "liu" and name in ("heavy_ball", "nesterov")
    book_nesterov = convention == "book" and name == "nesterov" and beta > 0
    prev = None
    for k in range(steps + 1):
        opt.zero_grad()
        value = loss()
        value.sum().backward()
        grads = [p.grad.detach().clone() for p in params]
        gnorm = torch.sqrt(sum((g ** 2).sum() for g in grads))
        recorded = value.detach()
        if book_nesterov and k > 0:      # the loss at x_k, not at the parameters' y_k
            recorded = _loss_at(params, book_iterates(opt, params), loss)
        if rec.record(losses=recorded, grad_norms=gnorm.expand(value.shape)) or k == steps:
            break
        if liu:                          # Liu et al.'s eq. (4) / (5) from W(-1) = W(0)
            with torch.no_grad():
                now = [p.detach().clone() for p in params]
                for i, p in enumerate(params):
                    p.copy_(liu_step(name, now[i], None if prev is None else prev[0][i],
                                     grads[i], None if prev is None else prev[1][i],
                                     eta=lr, beta=beta))
                prev = (now, grads)
        else:
            opt.step()
    return rec.trajectory()


def _loss_at(params, points, loss):
    """``loss()`` with the parameters set to ``points`` (restored afterwards)."""
    with torch.no_grad():
        saved = [p.detach().clone() for p in params]
        for p, x in zip(params, points):
            p.copy_(x)
        value = loss().detach()
        for p, x in zip(params, saved):
            p.copy_(x)
    return value


def step_search(run: Callable[[float], Trajectory], grid: Sequence[float]):
    """Call ``run(lr)`` for every step of ``grid``; return ``(best_lr, best_run, finals)``,
    where ``finals[lr]`` is the geometric mean over runs of the final loss (``inf`` for a run
    that diverged or ends above its start) and the best step is the one with the smallest."""
    if not callable(run):
        raise ValueError(f"run must be callable, got {type(run).__name__}")
    if isinstance(grid, (str, bytes)) or not hasattr(grid, "__len__") or len(grid) == 0:
        raise ValueError(f"grid must be a non-empty sequence of steps, got {grid!r:.80}")
    for lr in grid:
        _validate.positive("grid", lr)
    finals, runs = {}, {}
    for lr in grid:
        tr = run(lr)
        last, first = np.asarray(tr.losses[-1]), np.asarray(tr.losses[0])
        bad = tr.diverged or not np.all(np.isfinite(last)) or np.any(last > first)
        finals[lr] = float("inf") if bad else float(np.exp(np.mean(np.log(last))))
        runs[lr] = tr
    best = min(finals, key=finals.get)
    return best, runs[best], finals

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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from . import _validate
from .optimizers import torch_optimizer
from .records import ModuleRecorder, Trajectory

__all__ = ["OPTIMIZERS", "make_optimizer", "train", "step_search"]

OPTIMIZERS = ("gd", "heavy_ball", "nesterov", "adam", "rmsprop")


def make_optimizer(name: str, params, *, lr: float, beta: float = 0.0) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer called ``name`` (module docstring); ``beta`` is the
    momentum of heavy ball and Nesterov and is ignored by Adam and RMSProp."""
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
          lr: float, steps: int, beta: float = 0.0) -> Trajectory:
    """Train ``params`` in place for ``steps`` steps of the optimizer ``name``; ``loss()``
    returns the loss of each run of a stack (shape (B,)) or a scalar. Returns a Trajectory with
    ``losses`` of shape (K + 1, B) (or (K + 1,)) and the book's divergence rule applied."""
    _validate.positive_int("steps", steps)
    if not callable(loss):
        raise ValueError(f"loss must be callable, got {type(loss).__name__}")
    params = list(params)
    opt = make_optimizer(name, params, lr=lr, beta=beta)
    rec = ModuleRecorder(name, lr, beta, steps)
    for k in range(steps + 1):
        opt.zero_grad()
        value = loss()
        value.sum().backward()
        gnorm = torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params))
        if rec.record(losses=value.detach(), grad_norms=gnorm.expand(value.shape)) or k == steps:
            break
        opt.step()
    return rec.trajectory()


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

r"""The partition model of Liao & Kyrillidis (2024), its additive realisation, and a tool that
measures the model's constants on any differentiable model.

**The partition model** (Liao & Kyrillidis 2024, §3). The parameters split into a "nice" block
:math:`x \in \mathbb R^{d_1}` and a "wild" block :math:`u \in \mathbb R^{d_2}`, and
:math:`f(x, u) = g(h(x, u))` with a model :math:`h` and an outer loss :math:`g`. Near the start
:math:`(x_0, u_0)`:

* A1 :math:`f(\cdot, u)` is :math:`\mu`-strongly convex; A2 it is :math:`L_1`-smooth;
* A3 :math:`g` is :math:`L_2`-smooth (the MSE :math:`g(h) = \tfrac12\|h - y\|^2` has
  :math:`L_2 = 1`);
* A4 :math:`\|h(x, u_1) - h(x, u_2)\| \le G_1 \|u_1 - u_2\|`;
* A5 :math:`\|\nabla_x f(x, u_1) - \nabla_x f(x, u_2)\| \le G_2 \|u_1 - u_2\|`;
* A6 :math:`\min_x f(x, u) = f^\star` for every :math:`u` near :math:`u_0`.

**The additive model** (Liao & Kyrillidis 2024, §5.1):
:math:`h(x, u) = A_1 x + \sigma(A_2 u)`, :math:`f = \tfrac12\|h - y\|^2` with a
:math:`B`-Lipschitz activation :math:`\sigma` (ReLU, :math:`B = 1`, by default). Its constants
in closed form:

.. math::
    \mu = \sigma_{\min}(A_1)^2,\quad L_1 = \sigma_{\max}(A_1)^2,\quad L_2 = 1,\quad
    G_1 = B\,\sigma_{\max}(A_2),\quad G_2 = B\,\sigma_{\max}(A_1)\,\sigma_{\max}(A_2),

since :math:`\nabla^2_{xx} f = A_1^\top A_1`, :math:`\partial h/\partial u = D A_2` with
:math:`D = \mathrm{diag}(\sigma'(A_2 u))`, :math:`\|D\| \le B`, and
:math:`\partial (\nabla_x f)/\partial u = A_1^\top D A_2`. With :math:`A_1` square and
invertible (:math:`n = d_1`), :math:`x^\star(u) = A_1^{-1}(y - \sigma(A_2 u))` reaches
:math:`f = 0` for *every* :math:`u`, so A6 holds with :math:`f^\star = 0` and any radius.

**Measuring the constants** of any model: :func:`estimate_constants`. **Theorem 7's sufficient
conditions**: :func:`check_theorem7` (formulas in :mod:`momentum.theory`).

The package: :mod:`.model` (the constants, the additive model), :mod:`.estimate` (measuring the
constants of any model), :mod:`.theorem7` (Theorem 7's conditions), :mod:`.sweep`
(iterations to a tolerance against :math:`\kappa`, one batched run). The run utilities it
once held live with the one record of every run, :mod:`momentum.records` (``DivergenceGuard``,
re-exported here; the rate of a loss sequence over a window is
``momentum.records.fit_rate(losses, window=(start, stop))`` or ``Trajectory.rate``).
"""

from __future__ import annotations

from ..records import DivergenceGuard
from .estimate import estimate_constants
from .model import (
    ACTIVATIONS,
    AdditiveModel,
    PartitionConstants,
    block_deltas,
    random_additive_model,
)
from .sweep import iterations_to_tolerance, kappa_batch, output_gram_eigenvalues
from .theorem7 import Theorem7Check, additive_threshold, check_theorem7

__all__ = [
    "PartitionConstants",
    "AdditiveModel",
    "random_additive_model",
    "estimate_constants",
    "Theorem7Check",
    "check_theorem7",
    "block_deltas",
    "additive_threshold",
    "DivergenceGuard",
    "ACTIVATIONS",
    "kappa_batch",
    "iterations_to_tolerance",
    "output_gram_eigenvalues",
]


r"""Iterations to a tolerance against :math:`\kappa` on the additive model, every
:math:`\kappa`, knob value and start in one batched run (Chapter 2, "Acceleration against
:math:`\kappa`").

With the step :math:`\eta = c/L_1` and, for Nesterov, the momentum
:math:`\beta = (4\sqrt\kappa - \sqrt c)/(4\sqrt\kappa + 7\sqrt c)` of Liao & Kyrillidis (2024,
Thms 6 and 7), the guaranteed loss contractions :math:`1 - c/(4\kappa)` (the book's explicit
form of Theorem 6's :math:`1 - \Theta(1/\kappa)`) and :math:`1 - c/(4\sqrt\kappa)` (Theorem 7)
bound the iterations to :math:`f(w_k) \le \varepsilon f(w_0)` by

.. math::
    k_{GD} \le \frac{\log(1/\varepsilon)}{-\log(1 - c/(4\kappa))} \approx
    \frac{4\kappa}{c}\log\frac1\varepsilon, \qquad
    k_{NAG} \le \frac{\log(2/\varepsilon)}{-\log(1 - c/(4\sqrt\kappa))} \approx
    \frac{4\sqrt\kappa}{c}\log\frac2\varepsilon,

which grow like :math:`\kappa` and :math:`\sqrt\kappa`; :func:`iterations_to_tolerance`
measures the counts, :func:`kappa_batch` builds the models.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import _validate, theory
from ..optimizers import run
from ..records import DivergenceGuard
from .model import AdditiveModel, random_additive_model

__all__ = ["kappa_batch", "iterations_to_tolerance", "output_gram_eigenvalues", "TUNED"]

#: The methods whose step (and momentum) the partition-model theorems prescribe.
TUNED = ("gd", "nesterov")


def kappa_batch(n: int, d2: int, kappas, *, sigma_max_A2, seed: int = 0,
                L1: float | None = None, sigma: str = "relu") -> AdditiveModel:
    r"""One batched :class:`AdditiveModel` holding, for every knob value :math:`s_i` in
    ``sigma_max_A2`` and every :math:`\kappa_j` in ``kappas``, the instance
    ``random_additive_model(n, d2, kappa=kappas[j], sigma_max_A2=s_i, seed=seed, L1=L1)``:
    :math:`A_1^{(j)} = U\,\mathrm{diag}(s(\kappa_j))\,V^\top` with the same :math:`U, V` and
    :math:`L_1 = \sigma_{\max}(A_1^{(j)})^2` for every :math:`\kappa_j`, the same direction of
    :math:`A_2` scaled to :math:`\sigma_{\max}(A_2) = s_i`, and the same :math:`y`.

    Shapes: ``A1`` ``(K, 1, n, n)``; ``A2`` ``(S, 1, 1, n, d2)`` for a sequence of S knob
    values, ``(n, d2)`` for one. The model therefore acts on joint vectors ``w`` of shape
    ``(S, K, T, n + d2)`` (``(K, T, n + d2)`` for one knob value): T trials per instance, each
    :math:`A_1` applied to the T rows in one matrix product.
    """
    k = _validate.array("kappas", kappas)
    if k.ndim != 1 or k.size < 1:
        raise ValueError(f"kappas must be a 1-D sequence of condition numbers, got {kappas!r}")
    _validate.kappa("kappas", k)
    s = _validate.array("sigma_max_A2", sigma_max_A2)
    if s.ndim > 1 or s.size < 1:
        raise ValueError(f"sigma_max_A2 must be a number or a 1-D sequence, got "
                         f"{sigma_max_A2!r}")
    _validate.positive("sigma_max_A2", s)
    models = [random_additive_model(n, d2, kappa=float(kk), sigma_max_A2=1.0, seed=seed,
                                    L1=L1, sigma=sigma) for kk in k]
    A1 = torch.stack([m.A1 for m in models])[:, None]
    A2 = models[0].A2
    if s.ndim:
        A2 = torch.as_tensor(s, dtype=A2.dtype)[:, None, None, None, None] * A2
    else:
        A2 = float(s) * A2
    return AdditiveModel(A1, A2, models[0].y, sigma=sigma)


def iterations_to_tolerance(method: str, model: AdditiveModel, starts, *, steps: int,
                            tol: float = 1e-8, c: float = 1.0) -> np.ndarray:
    r"""The first :math:`k` with :math:`f(w_k) \le \varepsilon f(w_0)`, :math:`\varepsilon` =
    ``tol``, for ``method`` (``"gd"`` or ``"nesterov"``) with the partition model's tuning, on
    every instance of a batched ``model`` (e.g. :func:`kappa_batch`) from every row of
    ``starts``, in one batched run of ``steps`` iterations.

    The tuning of each instance comes from its own :math:`A_1`: :math:`\mu =
    \sigma_{\min}(A_1)^2`, :math:`L_1 = \sigma_{\max}(A_1)^2`, :math:`\kappa = L_1/\mu`; the
    step :math:`\eta = c/L_1` for both methods (Theorem 6's step as Chapter 2 states it) and,
    for Nesterov, Theorem 7's :math:`\beta = (4\sqrt\kappa - \sqrt c)/(4\sqrt\kappa + 7\sqrt
    c)` (Liao & Kyrillidis 2024; :func:`momentum.theory.theorem7_tuning`). The bounds these
    tunings guarantee are in the module's docstring.

    ``starts`` is a float64 tensor of shape ``(T, d1 + d2)``; it is broadcast against the
    model's batch axes, which must end in an axis of size 1 for the trials (as
    :func:`kappa_batch` lays them out). Returns a NumPy array of shape ``(*batch, T)``, with
    ``inf`` where a run did not reach ``tol`` within ``steps`` or diverged (a diverging row is
    frozen by :class:`~momentum.records.DivergenceGuard`, so it never reaches ``tol``).
    """
    if not isinstance(method, str) or method not in TUNED:
        raise ValueError(f"method must be one of {TUNED} (the methods the partition-model "
                         f"theorems tune), got {method!r}")
    if not isinstance(model, AdditiveModel):
        raise ValueError(f"model must be an AdditiveModel, got {type(model).__name__}")
    _validate.positive_int("steps", steps)
    _validate.probability("tol", tol)
    theory._check_c(c)
    if isinstance(starts, torch.Tensor) and (starts.is_complex() or not
                                             starts.is_floating_point()):
        raise ValueError(f"starts must be a real floating tensor, got {starts.dtype}")
    if not isinstance(starts, torch.Tensor) or starts.ndim != 2 \
            or starts.shape[-1] != model.dim:
        raise ValueError(f"starts must be a torch tensor of shape (T, {model.dim}), got "
                         f"{getattr(starts, 'shape', type(starts).__name__)}")
    batch = torch.broadcast_shapes(model.A1.shape[:-2], model.A2.shape[:-2],
                                   model.y.shape[:-1])
    if len(batch) and batch[-1] != 1:
        raise ValueError(f"the model's batch axes {tuple(batch)} must end in an axis of size "
                         "1 for the trials (see kappa_batch)")
    sv = torch.linalg.svdvals(model.A1)
    if model.d1 > model.n or bool((sv[..., -1] <= 0).any()):
        raise ValueError("A1 must have full column rank (mu > 0)")
    L1 = (sv[..., 0] ** 2).numpy()[..., None]          # shape A1.shape[:-2] + (1,)
    kappa = L1 / (sv[..., -1] ** 2).numpy()[..., None]
    eta = c / L1
    beta = theory.theorem7_beta(kappa, c) if method == "nesterov" else 0.0
    shape = (*batch[:-1], starts.shape[0], model.dim)
    w0 = starts.to(torch.float64).expand(shape).clone()
    guard = DivergenceGuard(model.grad_w)
    traj = run(method, guard, w0, eta=eta, beta=beta, steps=steps, loss=model.loss_w,
               keep_iterates=False)
    return np.asarray(traj.iterations_to(tol), dtype=float)


def output_gram_eigenvalues(model: AdditiveModel, w) -> torch.Tensor:
    r"""Eigenvalues (ascending) of :math:`JJ^\top` at the joint points ``w``, where
    :math:`J = \partial h/\partial(x, u) = [A_1,\ DA_2]` with
    :math:`D = \mathrm{diag}(\sigma'(A_2 u))` (the active units, for the ReLU) is the Jacobian
    of the additive model :math:`h(x, u) = A_1 x + \sigma(A_2 u)` (Liao & Kyrillidis 2024,
    §5.1). Within one activation pattern the loss :math:`\tfrac12\|h - y\|^2` is a quadratic
    with Hessian :math:`J^\top J`, whose nonzero eigenvalues are these:
    :math:`J J^\top = A_1 A_1^\top + D A_2 A_2^\top D`. The largest is the stiffest curvature
    the step :math:`\eta` meets; the smallest, at least :math:`\sigma_{\min}(A_1)^2 = \mu` for
    a square :math:`A_1`, the flattest direction in output space.

    ``w`` has shape ``(..., d1 + d2)`` and broadcasts against the model's batch axes as in
    ``model.grad_w``; returns a float64 tensor of shape ``(..., n)``.
    """
    if not isinstance(model, AdditiveModel):
        raise ValueError(f"model must be an AdditiveModel, got {type(model).__name__}")
    if model.dsigma is None:
        raise ValueError("model.sigma must be a named activation (its derivative in closed "
                         "form)")
    if not isinstance(w, torch.Tensor) or w.ndim < 1 or w.shape[-1] != model.dim:
        raise ValueError(f"w must be a torch tensor of shape (..., {model.dim}), got "
                         f"{getattr(w, 'shape', type(w).__name__)}")
    _validate.finite("w", w)
    _, u = model.split(w)
    DA2 = model.dsigma(model._mv(model.A2, u))[..., None] * model.A2
    A1 = model.A1
    return torch.linalg.eigvalsh(A1 @ A1.mT + DA2 @ DA2.mT)

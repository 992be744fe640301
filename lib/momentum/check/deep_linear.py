r"""Chapter 5's checker: the layer gradients of a deep linear network (re-exported by
:mod:`momentum.check`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import TIMEOUT, CheckResult, _floor3, _run_parts

# --------------------------------------------------------------------------------------------
# Chapter 5: the layer gradients of a deep linear network
# --------------------------------------------------------------------------------------------


def reference_deep_linear_gradients(weights, X, Y, scale):
    r"""The gradients :math:`\nabla_{W_\ell}\ell` of :math:`\ell = \tfrac12\|a W_L\cdots W_1 X -
    Y\|_F^2` with respect to each :math:`W_\ell`, by PyTorch's autograd (a list of arrays)."""
    ws = [torch.tensor(np.asarray(w, dtype=float), requires_grad=True) for w in weights]
    F = torch.as_tensor(np.asarray(X, dtype=float))
    for W in ws:
        F = W @ F
    loss = 0.5 * ((scale * F - torch.as_tensor(np.asarray(Y, dtype=float))) ** 2).sum()
    return [g.numpy() for g in torch.autograd.grad(loss, ws)]


def _instance_deep_linear(rng, i=0):
    """Case ``i`` (0-based): depth 1 to 6, widths 1 to 20 (cases 0-4: 1 to 5), n = 1 to 20
    samples, scale a in (0, 3]; cases 5-7 are the edges, one each: depth 7 to 10, widths 21 to
    40, and n = 21 to 40 samples. Each W_l is Gaussian with variance 1/d_{l-1}, so the products
    and the gradients stay of order 1 at any depth."""
    small, edge = i < 5, i - 5
    depth = int(rng.integers(1, 7)) if edge != 0 else int(rng.integers(7, 11))
    top = 6 if small or rng.uniform() < 0.5 else 21
    widths = [int(v) for v in rng.integers(1, top, size=depth + 1)]
    if edge == 1:
        widths = [int(v) for v in rng.integers(21, 41, size=depth + 1)]
    n = int(rng.integers(1, top)) if edge != 2 else int(rng.integers(21, 41))
    weights = [rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])
               for i in range(depth)]
    X = rng.standard_normal((widths[0], n))
    Y = rng.standard_normal((widths[-1], n))
    scale = _floor3(rng.uniform(0.02, 3.0))
    return dict(weights=weights, X=X, Y=Y, scale=scale), dict(depth=depth, widths=widths, n=n)


def deep_linear_gradients(fn: Callable, *, trials: int = 20, seed: int = 0,
                          verbose: bool = True, timeout: float = TIMEOUT) -> CheckResult:
    r"""Check ``fn(weights, X, Y, scale)`` (Exercise 5.2) against the layer gradients of the
    deep linear network's loss :math:`\ell = \tfrac12\|a W_L \cdots W_1 X - Y\|_F^2`,

    .. math::
        \nabla_{W_\ell}\ell = a\,(W_L \cdots W_{\ell+1})^\top\, U\, (W_{\ell-1} \cdots W_1 X)^\top,
        \qquad U = a W_L \cdots W_1 X - Y,

    where ``weights`` is the list :math:`[W_1, \dots, W_L]` of NumPy arrays
    (:math:`W_\ell` of shape ``(d_l, d_{l-1})``), ``X`` has shape ``(d_x, n)``, ``Y``
    ``(d_y, n)`` and ``scale`` is :math:`a`. ``fn`` returns the list of gradients in the same
    order. The reference is autograd (:func:`reference_deep_linear_gradients`); depths 1 to 10,
    widths 1 to 40, 1 to 40 samples and scales in (0, 3] are drawn at random, with one case at
    each edge (depth above 6, widths above 20, n above 20; :func:`_instance_deep_linear`).
    The cases are judged as those of :func:`gd_step` are: expected values computed first, from
    private copies; a deadline of ``timeout`` seconds per case; a clear failure for a return
    that is not a list of real finite arrays; the float64 advice for a float32 answer. Prints a
    pass or the first failing case; returns a :class:`CheckResult`."""
    mistakes = [
        ("off by the factor scale: U already contains one factor a, and the derivative of "
         "a W_L ... W_1 brings a second.", lambda e, inp: [g / inp["scale"] for g in e]),
        ("one factor of scale too many.", lambda e, inp: [g * inp["scale"] for g in e]),
        ("the gradients are in reverse order: return [grad W_1, ..., grad W_L].",
         lambda e, inp: e[::-1]),
    ]

    def draw(rng, i):
        return _instance_deep_linear(rng, i)[0]

    def expect(inputs):
        expected = reference_deep_linear_gradients(**inputs)
        widths = [inputs["X"].shape[0]] + [w.shape[0] for w in inputs["weights"]]
        about = (f"depth {len(inputs['weights'])}, widths {widths}, n = {inputs['X'].shape[1]}, "
                 f"scale = {inputs['scale']:g}")
        labels = [f"layer {k + 1} (the gradient for W_{k + 1})"
                  for k in range(len(inputs["weights"]))]
        return expected, labels, about, None

    return _run_parts("deep_linear_gradients", fn, draw, expect, mistakes, trials, seed, verbose,
                      timeout, what=lambda n: f"a list of {n} gradients (one per layer)",
                      stacked=False)



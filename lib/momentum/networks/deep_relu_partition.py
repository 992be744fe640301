r"""The deep ReLU network as a partition model (Liao & Kyrillidis 2024, §5.2): the adapters
between the network's weights and the flat blocks x = vec(W_Lambda) (nice) and
u = (vec(W_1), ..., vec(W_{Lambda-1})) (wild). vec() is row-major (torch's reshape); the norms and
spectra do not depend on that choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .. import _validate
from .deep_relu import DeepReLU, _batch_shape, _check_deep, _deep_forward

__all__ = ["partition_sizes", "partition", "set_partition", "DeepReLUPartition",
           "partition_functions"]


def partition_sizes(model: DeepReLU) -> tuple[int, int]:
    r""":math:`(d_x, d_u)`: :math:`d_x = d_{\Lambda-1} d_\Lambda` entries in the last layer,
    :math:`d_u = \sum_{\ell<\Lambda} d_{\ell-1} d_\ell` in the others."""
    _check_deep(model)
    w = model.widths
    return w[-2] * w[-1], sum(w[i] * w[i + 1] for i in range(len(w) - 2))


def partition(model: DeepReLU) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The partition of Liao & Kyrillidis (2024), §5.2, as flat vectors (detached copies):
    :math:`x = \mathrm{vec}(W_\Lambda)` and
    :math:`u = (\mathrm{vec}(W_1), \dots, \mathrm{vec}(W_{\Lambda-1}))`, shapes
    ``(..., d_x)`` and ``(..., d_u)`` (:func:`partition_sizes`). :func:`set_partition` is its
    inverse."""
    _check_deep(model)
    b = _batch_shape(model)
    ws = [W.detach() for W in model.weights]
    x = ws[-1].reshape(*b, -1).clone()
    u = torch.cat([W.reshape(*b, -1) for W in ws[:-1]], dim=-1).clone()
    return x, u


def _unflatten(model: DeepReLU, x: torch.Tensor, u: torch.Tensor) -> list[torch.Tensor]:
    """The weight list W_1, ..., W_Lambda with x and u poured into the model's shapes."""
    b = tuple(x.shape[:-1])
    w = model.widths
    out, start = [], 0
    for i in range(len(w) - 2):
        size = w[i] * w[i + 1]
        out.append(u[..., start:start + size].reshape(*b, w[i], w[i + 1]))
        start += size
    out.append(x.reshape(*b, w[-2], w[-1]))
    return out


def set_partition(model: DeepReLU, x, u) -> DeepReLU:
    r"""Write :math:`x = \mathrm{vec}(W_\Lambda)` and :math:`u` (the other layers, flattened
    in order) back into ``model``, in place; the inverse of :func:`partition`. Returns the
    model."""
    _check_deep(model)
    dx, du = partition_sizes(model)
    b = _batch_shape(model)
    for name, v, d in (("x", x, dx), ("u", u, du)):
        if not isinstance(v, torch.Tensor) or tuple(v.shape) != (*b, d):
            raise ValueError(f"{name} must be a tensor of shape {(*b, d)}, got "
                             f"{tuple(getattr(v, 'shape', ()))}")
        _validate.finite(name, v)
    with torch.no_grad():
        for W, new in zip(model.weights, _unflatten(model, x, u)):
            W.copy_(new)
    return model


@dataclass(frozen=True)
class DeepReLUPartition:
    r"""The network as a partition model :math:`f(x, u) = g(h(x, u))` for
    :func:`momentum.partition.estimate_constants` (see :func:`partition_functions`).

    ``loss(x, u)`` is :math:`f`, ``output(x, u)`` the flat outputs :math:`h = \mathrm{vec}
    (F_\Lambda)` (so :math:`g(h) = \tfrac12\|h - \mathrm{vec}(Y)\|^2`, :math:`L_2 = 1`),
    ``x0``/``u0`` the current point, and ``basis`` :math:`Q` (orthonormal columns spanning the
    row space of :math:`F_{\Lambda-1}` at ``u0``) when the nice block is restricted to it, else
    ``None``; then :math:`W_\Lambda = W_\Lambda^{(0)} + Q Z` and :math:`x = \mathrm{vec}(Z)`."""

    loss: Callable
    output: Callable
    x0: torch.Tensor
    u0: torch.Tensor
    basis: torch.Tensor | None


def partition_functions(model: DeepReLU, X, Y, *, row_space: bool = True) -> DeepReLUPartition:
    r"""The loss and outputs of one network as functions of flat float64 tensors ``(x, u)``.

    **The null space.** In :math:`x = \mathrm{vec}(W_\Lambda)` the loss is a least-squares
    problem with Hessian :math:`\nabla^2_{xx} f = F_{\Lambda-1}^\top F_{\Lambda-1} \otimes
    I_{d_\Lambda}`. When :math:`d_{\Lambda-1} > n` this matrix has rank at most :math:`n\,
    d_\Lambda`: :math:`f(\cdot, u)` is flat along the :math:`(d_{\Lambda-1} - n) d_\Lambda`
    directions that :math:`F_{\Lambda-1}` annihilates, so assumption A1 (strong convexity in
    :math:`x`) fails as stated. The gradient :math:`F_{\Lambda-1}^\top(F_\Lambda - Y)` never
    points into that null space, and :math:`f` is :math:`\sigma_n(F_{\Lambda-1})^2`-strongly
    convex on the row space. With ``row_space=True`` (and :math:`d_{\Lambda-1} > n`) the nice
    block is therefore the row-space coordinate :math:`Z \in \mathbb R^{n \times d_\Lambda}`
    in :math:`W_\Lambda = W_\Lambda^{(0)} + Q Z`, where :math:`Q` holds the top :math:`n`
    right singular vectors of :math:`F_{\Lambda-1}` at ``u0`` (``torch.linalg.svd``); this
    is a partition model whose A1 holds with :math:`\mu = \sigma_{\min}(F_{\Lambda-1} Q)^2`.
    With ``row_space=False``, or :math:`d_{\Lambda-1} \le n`, :math:`x = \mathrm{vec}
    (W_\Lambda)` itself.
    """
    _check_deep(model)
    if model.batched:
        raise ValueError("partition_functions takes a single network, not a stack")
    X = model._X(X)
    Y = model.targets(Y, X.shape[0])
    x_full, u0 = partition(model)
    y_flat = Y.reshape(-1)
    basis = None
    n, width, d_out = X.shape[0], model.width, model.widths[-1]
    if row_space and width > n:
        F0 = _deep_forward(_unflatten(model, x_full, u0), X, penultimate=True).detach()
        basis = torch.linalg.svd(F0, full_matrices=False).Vh[:n].T.contiguous()   # (width, n)
        W_last0 = x_full.reshape(width, d_out)

        def to_full(x):
            return (W_last0 + basis @ x.reshape(n, d_out)).reshape(-1)

        x0 = torch.zeros(n * d_out, dtype=x_full.dtype, device=x_full.device)
    else:
        def to_full(x):
            return x

        x0 = x_full

    def output(x, u):
        return _deep_forward(_unflatten(model, to_full(x), u), X).reshape(-1)

    def loss(x, u):
        return 0.5 * ((output(x, u) - y_flat) ** 2).sum()

    return DeepReLUPartition(loss, output, x0, u0, basis)



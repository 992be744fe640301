r"""Deep linear networks and deep linear ResNets, their tangent kernel and their training
(Chapter 5).

Notation (the book's, close to Du & Hu 2019 and Hu, Xiao & Pennington 2020): inputs are the
**columns** of :math:`X \in \mathbb R^{d_x \times n}`, targets the columns of
:math:`Y \in \mathbb R^{d_y \times n}`, the loss is
:math:`\ell = \tfrac12 \|f(X) - Y\|_F^2` and the residual :math:`U = f(X) - Y`.

* :class:`DeepLinear`: :math:`f(X) = a\, W_L W_{L-1} \cdots W_1 X` with
  :math:`W_\ell \in \mathbb R^{d_\ell \times d_{\ell-1}}` (:math:`d_0 = d_x`, :math:`d_L = d_y`)
  and the output scale :math:`a = (d_1 d_2 \cdots d_{L-1}\, d_y)^{-1/2}`, which is
  :math:`(m^{L-1} d_y)^{-1/2}` for hidden layers of one width :math:`m`.
* :class:`DeepLinearResNet`: :math:`f(X) = B (I + W_L) \cdots (I + W_1) A X` with fixed
  :math:`A \in \mathbb R^{m \times d_x}`, :math:`B \in \mathbb R^{d_y \times m}` and trained
  :math:`W_\ell \in \mathbb R^{m \times m}` starting at zero (the architecture of Zou, Long & Gu
  2020).

Both are products :math:`f = S_\ell\, M_\ell\, P_\ell` around any one trained factor
:math:`M_\ell` (:math:`W_\ell`), so the tangent kernel of the residual has the closed form of
:func:`linear_ntk`. Training goes through :func:`momentum.optimizers.run` on the flattened
weights (:func:`train_deep_linear`) and returns a :class:`momentum.Trajectory`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import _validate
from ..optimizers import METHODS, run
from ..records import DivergenceGuard, Trajectory

__all__ = ["DeepLinear", "DeepLinearResNet", "linear_ntk", "LinearNTKConstants",
           "linear_ntk_constants", "end_to_end_singular_values", "regression_problem",
           "train_deep_linear"]


def _seed_list(seeds) -> tuple[list[int], bool]:
    return _validate.seeds("seeds", seeds)


def _orthogonal(rows: int, cols: int, gen: torch.Generator, dtype) -> torch.Tensor:
    r"""A ``(rows, cols)`` matrix with orthonormal columns (rows >= cols) or rows, drawn from
    the Haar measure (QR of a Gaussian matrix with the signs of R's diagonal fixed)."""
    G = torch.randn(max(rows, cols), min(rows, cols), generator=gen, dtype=dtype)
    Q, R = torch.linalg.qr(G)
    Q = Q * torch.sign(torch.diagonal(R)).where(torch.diagonal(R) != 0, torch.ones(()))
    return Q if rows >= cols else Q.T


class _LinearFamily(nn.Module):
    """What the two families share: the input checks, the loss and the closed-form factors."""

    d_in: int
    d_out: int
    batched: bool

    def _ref(self) -> torch.Tensor:
        return self.weights[0]

    def _X(self, X, name: str = "X") -> torch.Tensor:
        """X on the weights' device and dtype, checked: shape (d_x, n) or (B, d_x, n)."""
        W = self._ref()
        X = torch.as_tensor(_validate.real(name, X, allow_empty=True, finite_=False))
        if not X.is_floating_point():
            X = X.to(torch.float64)
        X = X.to(device=W.device, dtype=W.dtype)
        if X.ndim not in (2, 3) or X.shape[-2] != self.d_in:
            raise ValueError(f"{name} must have shape (d_x, n) = ({self.d_in}, n), or "
                             f"(B, {self.d_in}, n) for one input matrix per network, got "
                             f"{tuple(X.shape)}")
        if X.ndim == 3 and (not self.batched or X.shape[0] != W.shape[0]):
            raise ValueError(f"{name} of shape {tuple(X.shape)} needs a stack of "
                             f"{X.shape[0]} networks")
        _validate.finite(name, X)
        return X

    def _Y(self, Y, n: int) -> torch.Tensor:
        W = self._ref()
        Y = torch.as_tensor(_validate.real("Y", Y, allow_empty=True, finite_=False),
                            dtype=W.dtype, device=W.device)
        if Y.ndim not in (2, 3) or tuple(Y.shape[-2:]) != (self.d_out, n):
            raise ValueError(f"Y must have shape (d_y, n) = ({self.d_out}, {n}) (or a leading "
                             f"stack axis), got {tuple(Y.shape)}")
        _validate.finite("Y", Y)
        return Y

    def forward(self, X) -> torch.Tensor:
        r""":math:`f(X)`, shape ``(d_y, n)``, or ``(B, d_y, n)`` for a stack."""
        return self.apply_weights(list(self.weights), self._X(X))

    def loss(self, X, Y) -> torch.Tensor:
        r""":math:`\ell = \tfrac12\|f(X) - Y\|_F^2`; shape ``()``, or ``(B,)`` for a stack."""
        X = self._X(X)
        Y = self._Y(Y, X.shape[-1])
        return 0.5 * ((self(X) - Y) ** 2).sum((-2, -1))


class DeepLinear(_LinearFamily):
    r"""The deep fully-connected linear network

    .. math::
        f(X) = a\, W_L W_{L-1} \cdots W_1 X, \qquad
        a = \frac{1}{\sqrt{d_1 \cdots d_{L-1}\, d_y}}
        \;\Big(= \frac{1}{\sqrt{m^{L-1} d_y}} \text{ for hidden width } m\Big),

    with :math:`W_\ell \in \mathbb R^{d_\ell \times d_{\ell-1}}` and the entries of every
    :math:`W_\ell` of unit variance at initialisation:

    * ``init="gaussian"``: :math:`(W_\ell)_{ij} \sim \mathcal N(0, 1)` i.i.d., the random
      Gaussian initialisation of Du & Hu (2019) and Liu, Tao & Pan (2022) (their abstracts);
    * ``init="orthogonal"``: :math:`W_\ell = \sqrt{\max(d_\ell, d_{\ell-1})}\, Q_\ell` with
      :math:`Q_\ell` Haar-distributed with orthonormal columns or rows, so that
      :math:`W_\ell^\top W_\ell = d_\ell I` (:math:`d_\ell \ge d_{\ell-1}`) or
      :math:`W_\ell W_\ell^\top = d_{\ell-1} I`: the scaled orthogonal initialisation whose
      benefit Hu, Xiao & Pennington (2020) prove.

    The scale :math:`a` and the unit-variance entries are the book's choice; the papers'
    abstracts do not state the normalisation (see Chapter 5). With it, the tangent kernel of a
    wide network at initialisation is close to :math:`(L/d_y)\, I_{d_y} \otimes X^\top X`
    (exactly so for the orthogonal initialisation with hidden width at least
    :math:`\max(d_x, d_y)`), so step sizes scale like :math:`d_y / (L\,\sigma_{\max}^2(X))`
    (:func:`momentum.theory.deep_linear_curvature`).

    ``widths`` is :math:`(d_x, d_1, \dots, d_{L-1}, d_y)`, :math:`L \ge 1`. ``seeds`` an int gives
    one network; a sequence of ints a stack (weights of shape ``(B, d_l, d_{l-1})``), network
    ``i`` being the one drawn alone with ``seeds[i]``. ``forward(X)`` maps ``(d_x, n)`` (or one
    input matrix per network, ``(B, d_x, n)``) to ``(d_y, n)``, or ``(B, d_y, n)`` for a stack.
    """

    def __init__(self, widths: Sequence[int], *, init: str = "gaussian",
                 seeds: int | Sequence[int] = 0, dtype: torch.dtype = torch.float64):
        super().__init__()
        widths = list(widths) if isinstance(widths, (list, tuple)) else widths
        if not isinstance(widths, list) or len(widths) < 2:
            raise ValueError(f"widths must be a list (d_x, d_1, ..., d_y) of at least 2 "
                             f"integers, got {widths!r}")
        for i, w in enumerate(widths):
            _validate.positive_int(f"widths[{i}]", w)
        if not isinstance(init, str) or init not in ("gaussian", "orthogonal"):
            raise ValueError(f"init must be 'gaussian' or 'orthogonal', got {init!r}")
        seed_list, single = _seed_list(seeds)
        depth = len(widths) - 1
        _validate.size("widths", len(seed_list) * sum(
            widths[i] * widths[i + 1] for i in range(depth)) * (2 if init == "orthogonal" else 1),
            itemsize=torch.empty((), dtype=dtype).element_size(),
            what=f"the weights of {len(seed_list)} network(s) of widths {widths}")
        layers: list[list[torch.Tensor]] = [[] for _ in range(depth)]
        for s in seed_list:
            gen = torch.Generator().manual_seed(s)
            for ell in range(depth):
                d_in, d_out = widths[ell], widths[ell + 1]
                if init == "gaussian":
                    W = torch.randn(d_out, d_in, generator=gen, dtype=dtype)
                else:
                    W = math.sqrt(max(d_in, d_out)) * _orthogonal(d_out, d_in, gen, dtype)
                layers[ell].append(W)
        self.widths, self.depth, self.init = tuple(widths), depth, init
        self.d_in, self.d_out, self.batched = widths[0], widths[-1], not single
        self.scale = 1.0 / math.sqrt(math.prod(widths[1:]))
        self.weights = nn.ParameterList(
            [nn.Parameter(ws[0] if single else torch.stack(ws)) for ws in layers])

    def apply_weights(self, weights, X: torch.Tensor) -> torch.Tensor:
        r""":math:`a\, W_L \cdots W_1 X` for the given list of weights (no checks)."""
        F = X
        for W in weights:
            F = W @ F
        return self.scale * F

    def end_to_end(self) -> torch.Tensor:
        r"""The end-to-end matrix :math:`W = a\, W_L \cdots W_1`, shape ``(..., d_y, d_x)``."""
        W = self.weights[0].detach()
        for V in list(self.weights)[1:]:
            W = V.detach() @ W
        return self.scale * W

    def factors(self, X) -> list[tuple[torch.Tensor, torch.Tensor]]:
        r"""For each layer :math:`\ell`, the pair :math:`(S_\ell, P_\ell)` with
        :math:`f = S_\ell W_\ell P_\ell`: :math:`S_\ell = a\, W_L \cdots W_{\ell+1}`
        (``(..., d_y, d_l)``) and :math:`P_\ell = W_{\ell-1} \cdots W_1 X`
        (``(..., d_{l-1}, n)``)."""
        return self._factors([w.detach() for w in self.weights], self._X(X))

    def _factors(self, ws, X):
        P, Ps = X, []
        for W in ws:
            Ps.append(P)
            P = W @ P
        eye = torch.eye(self.d_out, dtype=X.dtype, device=X.device)
        S, Ss = self.scale * eye, []
        for W in reversed(ws):
            Ss.append(S)
            S = S @ W
        return list(zip(reversed(Ss), Ps))


class DeepLinearResNet(_LinearFamily):
    r"""The deep linear ResNet of Zou, Long & Gu (2020):

    .. math::
        f(X) = B\,(I + W_L)(I + W_{L-1}) \cdots (I + W_1)\, A X,

    with :math:`A \in \mathbb R^{m \times d_x}` and :math:`B \in \mathbb R^{d_y \times m}` fixed
    (buffers, never trained) and the hidden weights :math:`W_\ell \in \mathbb R^{m \times m}`
    trained from :math:`W_\ell(0) = 0`, so that :math:`f(X) = BAX` at the start.

    The book's choice of the fixed maps: :math:`A_{ij} \sim \mathcal N(0, 1/m)` and
    :math:`B_{ij} \sim \mathcal N(0, 1/m)` i.i.d., so that :math:`A^\top A \approx I_{d_x}`
    and :math:`B B^\top \approx I_{d_y}` for :math:`m \gg d_x, d_y` (Zou et al. take Gaussian
    random :math:`A, B`; their exact variances are not used here). The tangent kernel at
    initialisation is then exactly :math:`L\,(BB^\top) \otimes (X^\top A^\top A X)`, whatever the
    depth (:func:`linear_ntk`).

    ``seeds`` as in :class:`DeepLinear` (a stack has ``A`` of shape ``(B, m, d_x)``).
    """

    def __init__(self, d_in: int, width: int, d_out: int, depth: int, *,
                 seeds: int | Sequence[int] = 0, dtype: torch.dtype = torch.float64):
        super().__init__()
        for name, v in (("d_in", d_in), ("width", width), ("d_out", d_out), ("depth", depth)):
            _validate.positive_int(name, v)
        seed_list, single = _seed_list(seeds)
        _validate.size("width", len(seed_list) * width * (d_in + d_out + depth * width),
                       itemsize=torch.empty((), dtype=dtype).element_size(),
                       what=f"the weights of {len(seed_list)} ResNet(s) of width {width}, "
                            f"depth {depth}")
        As, Bs = [], []
        for s in seed_list:
            gen = torch.Generator().manual_seed(s)
            As.append(torch.randn(width, d_in, generator=gen, dtype=dtype) / math.sqrt(width))
            Bs.append(torch.randn(d_out, width, generator=gen, dtype=dtype) / math.sqrt(width))
        A, B = torch.stack(As), torch.stack(Bs)
        shape = (width, width) if single else (len(seed_list), width, width)
        self.d_in, self.width, self.d_out, self.depth = d_in, width, d_out, depth
        self.batched = not single
        self.register_buffer("A", A[0] if single else A)
        self.register_buffer("B", B[0] if single else B)
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.zeros(shape, dtype=dtype)) for _ in range(depth)])

    def apply_weights(self, weights, X: torch.Tensor) -> torch.Tensor:
        r""":math:`B (I + W_L) \cdots (I + W_1) A X` for the given list of weights."""
        F = self.A @ X
        for W in weights:
            F = F + W @ F
        return self.B @ F

    def end_to_end(self) -> torch.Tensor:
        r""":math:`B (I + W_L) \cdots (I + W_1) A`, shape ``(..., d_y, d_x)``."""
        F = self.A
        for W in self.weights:
            F = F + W.detach() @ F
        return self.B @ F

    def factors(self, X) -> list[tuple[torch.Tensor, torch.Tensor]]:
        r"""For each layer, :math:`(S_\ell, P_\ell)` with :math:`\partial f = S_\ell\,
        (\partial W_\ell)\, P_\ell`: :math:`S_\ell = B (I+W_L) \cdots (I+W_{\ell+1})`,
        :math:`P_\ell = (I+W_{\ell-1}) \cdots (I+W_1) A X`."""
        return self._factors([w.detach() for w in self.weights], self._X(X))

    def _factors(self, ws, X):
        P, Ps = self.A @ X, []
        for W in ws:
            Ps.append(P)
            P = P + W @ P
        S, Ss = self.B, []
        for W in reversed(ws):
            Ss.append(S)
            S = S + S @ W
        return list(zip(reversed(Ss), Ps))


def _check_model(model) -> None:
    if not isinstance(model, _LinearFamily):
        raise ValueError(f"model must be a DeepLinear or a DeepLinearResNet, got "
                         f"{type(model).__name__}")


def linear_ntk(model, X) -> torch.Tensor:
    r"""The tangent kernel (Gram matrix) of the residual :math:`U = f(X) - Y` at the current
    weights, shape ``(..., d_y n, d_y n)``, in the closed form

    .. math::
        H = \sum_{\ell=1}^{L} (S_\ell S_\ell^\top) \otimes (P_\ell^\top P_\ell),

    where :math:`f = S_\ell W_\ell P_\ell` (:meth:`DeepLinear.factors`); the entries of
    :math:`U` are ordered row by row (``U.reshape(-1)``). It is :math:`J J^\top` for the Jacobian
    :math:`J` of ``U.reshape(-1)`` with respect to all trained weights, and gradient descent
    with step :math:`\eta` moves the residual by :math:`-\eta H\,\mathrm{vec}(U)` to first order.
    """
    _check_model(model)
    X = model._X(X)
    stack = model.weights[0].shape[0] if model.batched else 1
    _validate.size("X", 2 * stack * (model.d_out * X.shape[-1]) ** 2,
                   itemsize=X.element_size(),
                   what=f"the kernel of {model.d_out} x {X.shape[-1]} residuals (twice, with "
                        "the term being added)")
    H = None
    for S, P in model.factors(X):
        SS = S @ S.transpose(-1, -2)
        PP = P.transpose(-1, -2) @ P
        term = (SS[..., :, None, :, None] * PP[..., None, :, None, :])
        term = term.reshape(*term.shape[:-4], SS.shape[-1] * PP.shape[-1], -1)
        H = term if H is None else H + term
    return H


@dataclass(frozen=True)
class LinearNTKConstants:
    r"""The extreme eigenvalues of the tangent kernel :math:`H` (:func:`linear_ntk`) and
    :math:`\kappa = \lambda_{\max}/\lambda_{\min}`: the curvature range of the residual
    dynamics at the current weights (floats, or NumPy arrays over a stack)."""

    lambda_min: object
    lambda_max: object
    kappa: object


def linear_ntk_constants(model, X) -> LinearNTKConstants:
    r""":class:`LinearNTKConstants` of :func:`linear_ntk` at the model's current weights:
    :math:`\lambda_{\min}(H)`, :math:`\lambda_{\max}(H)` and their ratio (``inf`` where
    :math:`H` is singular, e.g. when :math:`n > d_x`)."""
    ev = torch.linalg.eigvalsh(linear_ntk(model, X))
    lo, hi = ev[..., 0].clamp_min(0.0), ev[..., -1]
    kappa = torch.where(lo > 1e-12 * hi, hi / lo.clamp_min(1e-300), torch.full_like(hi, np.inf))
    conv = (lambda v: v.cpu().numpy()) if ev.ndim > 1 else (lambda v: float(v))
    return LinearNTKConstants(conv(lo), conv(hi), conv(kappa))


def end_to_end_singular_values(model) -> torch.Tensor:
    r"""Singular values (descending) of the end-to-end matrix of ``model``
    (:meth:`DeepLinear.end_to_end`), shape ``(..., min(d_x, d_y))``. For a Gaussian network
    they spread out as the depth grows at fixed width; for an orthogonal one they stay put."""
    _check_model(model)
    return torch.linalg.svdvals(model.end_to_end())


def regression_problem(n: int, d_in: int, d_out: int, *, kappa: float, seed: int = 0,
                       target_norm: float = 1.0, dtype: torch.dtype = torch.float64):
    r"""A regression problem with a prescribed data condition number: :math:`X \in \mathbb
    R^{d_x \times n}` (``d_in >= n``) with singular values spaced geometrically from
    :math:`\sigma_{\max} = 1` down to :math:`\sigma_{\min} = \kappa^{-1/2}`, so that
    :math:`\kappa(X^\top X) = \sigma_{\max}^2/\sigma_{\min}^2` = ``kappa``, and a Gaussian target
    :math:`Y \in \mathbb R^{d_y \times n}` rescaled to :math:`\|Y\|_F` = ``target_norm``. The
    singular vectors are Haar-random. Returns ``(X, Y)``."""
    for name, v in (("n", n), ("d_in", d_in), ("d_out", d_out)):
        _validate.positive_int(name, v)
    _validate.kappa("kappa", kappa)
    _validate.positive("target_norm", target_norm)
    if d_in < n:
        raise ValueError(f"d_in must be >= n for X to have full column rank, got d_in={d_in}, "
                         f"n={n}")
    seed = _validate.seed("seed", seed)
    _validate.size("n", n * (d_in + n + d_out) + d_in * n,
                   itemsize=torch.empty((), dtype=dtype).element_size(),
                   what=f"a ({d_in}, {n}) input matrix, its factors and a ({d_out}, {n}) target")
    gen = torch.Generator().manual_seed(seed)
    Uq = _orthogonal(d_in, n, gen, dtype)
    Vq = _orthogonal(n, n, gen, dtype)
    s = torch.as_tensor(np.geomspace(1.0, float(kappa) ** -0.5, n), dtype=dtype)
    X = (Uq * s) @ Vq.T
    Y = torch.randn(d_out, n, generator=gen, dtype=dtype)
    return X, Y * (target_norm / torch.linalg.matrix_norm(Y))


def _flat(weights) -> torch.Tensor:
    return torch.cat([w.detach().reshape(*w.shape[:-2], -1) for w in weights], dim=-1)


def _unflat(model, w: torch.Tensor) -> list[torch.Tensor]:
    out, start = [], 0
    for p in model.weights:
        size = p.shape[-2] * p.shape[-1]
        out.append(w[..., start:start + size].reshape(p.shape))
        start += size
    return out


def train_deep_linear(model, X, Y, *, method: str, eta, beta=0.0, steps: int,
                      guard: bool = True) -> Trajectory:
    r"""Full-batch training of ``model`` (one network or a stack) on
    :math:`\ell = \tfrac12\|f(X) - Y\|_F^2` with :func:`momentum.optimizers.run` (``method`` in
    ``"gd"``, ``"heavy_ball"``, ``"nesterov"``), on the weights flattened into one vector per
    network, :math:`w = (\mathrm{vec}\,W_1, \dots, \mathrm{vec}\,W_L)`. The gradient is
    closed form :math:`\nabla_{W_\ell}\ell = S_\ell^\top U P_\ell^\top` with
    :math:`U = f(X) - Y` and the factors :math:`f = S_\ell W_\ell P_\ell` of
    :meth:`DeepLinear.factors` (``tests/test_deep_linear.py`` checks it against autograd);
    the methods are the book's update rules
    (:mod:`momentum.optimizers`), so the record is about the book's iterates :math:`x_k` (for
    Nesterov the loss is taken at :math:`x_k`, the gradient at :math:`y_k`).

    ``X`` has shape ``(d_x, n)``, or ``(B, d_x, n)`` for one problem per network of a stack (a
    sweep over data sets as one tensor computation), ``Y`` likewise. ``eta`` and ``beta`` are
    numbers, or arrays of shape ``(B, 1)`` for one tuning per network. With ``guard`` (the
    default) a network of a stack that blows up is frozen by
    :class:`~momentum.records.DivergenceGuard` instead of stopping the whole stack; which ones
    did is in ``traj.meta["diverged"]`` (a bool array over the stack). A frozen network coasts
    under momentum; where its loss then overflows to inf or nan it is recorded as the largest
    finite float, so that one network's overflow does not end the record of the others (the
    recorder stops a run at a non-finite loss). A network frozen before it reached a target
    never reaches it (``traj.iterations_to`` reports ``inf``); one that reached it before it
    blew up keeps that count, so read ``meta["diverged"]`` beside it.

    The model is left at the last iterate :math:`x_K`. Returns the
    :class:`~momentum.records.Trajectory` (``losses`` of shape ``(K+1,)`` or ``(K+1, B)``,
    ``grad_norms`` likewise, no iterates).
    """
    _check_model(model)
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _validate.positive_int("steps", steps)
    X = model._X(X)
    Y = model._Y(Y, X.shape[-1])

    cache = {}

    def residual(w):
        """U = f(X) - Y at w (cached: the recorder asks for the loss where the gradient was
        just taken, for GD and heavy ball)."""
        if cache.get("w") is not w:
            cache["w"], cache["U"] = w, model.apply_weights(_unflat(model, w), X) - Y
        return cache["U"]

    def grad(w):
        ws = _unflat(model, w)
        U = residual(w)
        gs = [S.transpose(-1, -2) @ U @ P.transpose(-1, -2) for S, P in model._factors(ws, X)]
        return torch.cat([gw.reshape(*gw.shape[:-2], -1) for gw in gs], dim=-1)

    last = {}

    def loss(w):
        last["x"] = w                   # the recorder evaluates the loss at x_k: keep the last
        value = (0.5 * (residual(w) ** 2).sum((-2, -1))).cpu().numpy()
        frozen = getattr(g, "diverged", None) if isinstance(g, DivergenceGuard) else None
        if frozen is not None:          # a frozen network's overflow: the largest float
            bad = frozen.cpu().numpy() & ~np.isfinite(value)
            value = np.where(bad, np.finfo(value.dtype).max, value)
        return value

    g = DivergenceGuard(grad) if guard and model.batched else grad
    w0 = _flat(model.weights)
    traj = run(method, g, w0, eta=eta, beta=beta, steps=steps, loss=loss, keep_iterates=False)
    with torch.no_grad():
        for p, v in zip(model.weights, _unflat(model, last.get("x", w0))):
            p.copy_(v)
    diverged = (g.diverged.cpu().numpy() if isinstance(g, DivergenceGuard) and
                g.diverged is not None else np.zeros(np.shape(traj.losses)[1:], dtype=bool))
    traj.meta["diverged"] = diverged
    return traj


r"""The networks of the book, as ``torch.nn.Module``s with the papers' initialisation and scaling.

Sections (each added by its chapter):

* two-layer ReLU network, its empirical NTK Gram matrix and the arc-cosine kernel
  (Du et al. 2019; Liu et al. 2023) -- Chapter 4;
* deep fully-connected ReLU network and its partition into the last layer x and the rest u
  (Liao & Kyrillidis 2024, §5) -- Chapter 3;
* deep linear networks and linear ResNets (Liu, Tao & Pan 2022) -- Chapter 5.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from . import _validate

__all__: list[str] = []


# ============================================================================================
# Two-layer ReLU network, its NTK Gram matrix and the arc-cosine kernel (Chapter 4)
# Du, Zhai, Poczos & Singh (2019); Liu, Tao, Li, Zhan, Wang & Pan (2023), §3.
# ============================================================================================

import warnings  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from .optimizers import (  # noqa: E402
    DIVERGENCE_FACTOR,
    METHODS,
    DivergenceWarning,
    torch_optimizer,
)


def _inputs(X, name: str = "X") -> torch.Tensor:
    """X as a 2-D floating tensor of shape (n, d), checked finite."""
    X = torch.as_tensor(X)
    if not X.is_floating_point():
        X = X.to(torch.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {tuple(X.shape)}")
    _validate.finite(name, X)
    return X


class TwoLayerReLU(nn.Module):
    r"""The two-layer ReLU network of Du et al. (2019) and Liu et al. (2023), eq. (1):

    .. math::
        f(W, a; x) = \frac{1}{\sqrt m} \sum_{r=1}^m a_r\, \sigma(w_r^\top x), \qquad
        \sigma(z) = \max\{0, z\},

    with :math:`w_r(0) \sim \mathcal N(0, I_d)` and :math:`a_r` uniform on :math:`\{-1, +1\}`.
    Only :math:`W` (the parameter ``W``, rows :math:`w_r`) is trained; :math:`a` is a fixed
    buffer. The loss is eq. (2), :math:`\ell(W) = \tfrac12 \sum_i (f(W, a; x_i) - y_i)^2`.

    ``seeds`` an int gives one network (``W`` of shape ``(m, d)``); a sequence of ints gives
    one independent network per seed, stacked (``W`` of shape ``(B, m, d)``), so that several
    random initialisations train as one tensor computation. Network ``seeds[i]`` of a stack is
    the same as the single network drawn with that seed. ``forward(X)`` maps inputs of shape
    ``(n, d)`` to outputs ``(n,)``, or ``(B, n)`` for a stack.
    """

    def __init__(self, m: int, d: int, *, seeds: int | Sequence[int] = 0,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        _validate.positive_int("m", m)
        _validate.positive_int("d", d)
        single = isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool)
        seed_list = [int(seeds)] if single else \
            (list(seeds) if isinstance(seeds, Sequence) and not isinstance(seeds, str) else [])
        if not seed_list or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                    for s in seed_list):
            raise ValueError(f"seeds must be an int or a non-empty sequence of ints, got {seeds!r}")
        Ws, As = [], []
        for s in seed_list:
            gen = torch.Generator().manual_seed(int(s))
            Ws.append(torch.randn(m, d, generator=gen, dtype=dtype))
            As.append(torch.randint(0, 2, (m,), generator=gen).to(dtype) * 2 - 1)
        W, a = torch.stack(Ws), torch.stack(As)
        self.m, self.d, self.batched = m, d, not single
        self.W = nn.Parameter(W[0] if single else W)
        self.register_buffer("a", a[0] if single else a)

    def forward(self, X) -> torch.Tensor:
        # no finiteness check: runs under torch.func
        X = torch.as_tensor(X, dtype=self.W.dtype, device=self.W.device)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"X must have d = {self.d} columns, got shape {tuple(X.shape)}")
        pre = self.W @ X.T                                           # (..., m, n)
        return (self.a.unsqueeze(-1) * torch.relu(pre)).sum(-2) / math.sqrt(self.m)

    def loss(self, X, y) -> torch.Tensor:
        r""":math:`\ell(W) = \tfrac12 \sum_i (f(x_i) - y_i)^2`; shape ``()``, or ``(B,)`` for a
        stack."""
        y = torch.as_tensor(y, dtype=self.W.dtype, device=self.W.device)
        return 0.5 * ((self(X) - y) ** 2).sum(-1)

    def flat_loss(self, X, y):
        r"""The loss of a single network as a function of its flattened weights,
        :math:`w \mapsto \ell(W)` with :math:`W` = ``w.reshape(m, d)`` (for
        :mod:`momentum.optimizers`, :func:`momentum.ode.weight_ode` and ``torch.func``)."""
        if self.batched:
            raise ValueError("flat_loss takes a single network (seeds an int)")
        X = _inputs(X).to(self.W)
        y = torch.as_tensor(y, dtype=self.W.dtype, device=self.W.device)
        shape = (self.m, self.d)

        def loss(w):
            return 0.5 * ((torch.func.functional_call(self, {"W": w.reshape(shape)}, (X,)) - y)
                          ** 2).sum()

        return loss

    def activation_pattern(self, X) -> torch.Tensor:
        r"""The indicators :math:`\mathbb 1\{w_r^\top x_i \ge 0\}`, shape ``(..., m, n)``."""
        X = _inputs(X).to(self.W)
        if X.shape[1] != self.d:
            raise ValueError(f"X must have d = {self.d} columns, got shape {tuple(X.shape)}")
        return (self.W.detach() @ X.T >= 0).to(self.W.dtype)


def ntk_gram(model: TwoLayerReLU, X, *, method: str = "closed") -> torch.Tensor:
    r"""The empirical NTK Gram matrix :math:`H(t)` of a :class:`TwoLayerReLU` at its current
    weights (Liu et al. 2023, eq. (9); Du et al. 2019, eq. (4)):

    .. math::
        H_{ij} = \sum_{r=1}^m \Big\langle \frac{\partial f_i}{\partial w_r},
        \frac{\partial f_j}{\partial w_r} \Big\rangle
        = \frac{x_i^\top x_j}{m} \sum_{r=1}^m
        \mathbb 1\{w_r^\top x_i \ge 0,\ w_r^\top x_j \ge 0\},

    using :math:`\partial f_i / \partial w_r = a_r x_i \mathbb 1\{w_r^\top x_i \ge 0\}/\sqrt m`
    (eq. (16)) and :math:`a_r^2 = 1`. ``method="closed"`` evaluates the right-hand side (any
    stack of networks, shape ``(..., n, n)``); ``method="autograd"`` builds the Jacobian with
    ``torch.func.jacrev`` and forms :math:`J J^\top` (one network; it differs from the closed
    form only where some :math:`w_r^\top x_i = 0` exactly, a null event).
    """
    X = _inputs(X).to(model.W)
    if method == "closed":
        S = model.activation_pattern(X)                              # (..., m, n)
        return (X @ X.T) * (S.transpose(-1, -2) @ S) / model.m
    if method == "autograd":
        if model.batched:
            raise ValueError("method='autograd' takes a single network; use method='closed'")
        W = model.W.detach()
        J = torch.func.jacrev(lambda w: torch.func.functional_call(model, {"W": w}, (X,)))(W)
        J = J.reshape(X.shape[0], -1)
        return J @ J.T
    raise ValueError(f"method must be 'closed' or 'autograd', got {method!r}")


def arccos_kernel(X) -> torch.Tensor:
    r"""The infinite-width NTK Gram matrix :math:`H^\infty` of the two-layer ReLU network in
    closed form (Liu et al. 2023, eq. (10); Du et al. 2019, §3; the arc-cosine kernel of order 0
    of Cho & Saul 2009):

    .. math::
        H^\infty_{ij} = \mathbb E_{w \sim \mathcal N(0, I)}\big[x_i^\top x_j\,
        \mathbb 1\{w^\top x_i \ge 0,\ w^\top x_j \ge 0\}\big]
        = \frac{x_i^\top x_j\,\big(\pi - \arccos(x_i^\top x_j)\big)}{2\pi}

    for unit-norm :math:`x_i` (the angle between two Gaussian half-spaces). Raises ValueError if
    a row of ``X`` is not of unit norm.
    """
    X = _inputs(X)
    norms = torch.linalg.vector_norm(X, dim=1)
    if not torch.allclose(norms, torch.ones_like(norms), atol=1e-6):
        raise ValueError("X must have unit-norm rows (the formula assumes ||x_i|| = 1)")
    G = (X @ X.T).clamp(-1.0, 1.0)
    return G * (math.pi - torch.arccos(G)) / (2 * math.pi)


@dataclass(frozen=True)
class NTKConstants:
    r"""The constants of Liu et al. (2023), Lemmas 1-3:
    :math:`\lambda_0 = \lambda_{\min}(H^\infty)`,
    :math:`\lambda_m = \lambda_{\max}(H^\infty) + \lambda_0/4` (the bound on
    :math:`\lambda_{\max}(H(t))` near initialisation), and :math:`\kappa = \lambda_m/(\lambda_0/2)`,
    the condition number of the residual dynamics whose curvature lies in
    :math:`[\lambda_0/2, \lambda_m]`."""

    lambda_0: float
    lambda_max: float
    lambda_m: float
    kappa: float


def ntk_constants(H) -> NTKConstants:
    r""":class:`NTKConstants` of a symmetric Gram matrix ``H`` (normally :math:`H^\infty` from
    :func:`arccos_kernel`): :math:`\lambda_0`, :math:`\lambda_{\max}`,
    :math:`\lambda_m = \lambda_{\max} + \lambda_0/4`, :math:`\kappa = 2\lambda_m/\lambda_0`.
    Raises ValueError unless ``H`` is square, symmetric and positive definite (Lemma 1 needs no
    two inputs parallel)."""
    H = torch.as_tensor(H, dtype=torch.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {tuple(H.shape)}")
    _validate.finite("H", H)
    if not torch.allclose(H, H.T, atol=1e-10):
        raise ValueError("H must be symmetric")
    ev = torch.linalg.eigvalsh(H)
    lam0, lam_max = float(ev[0]), float(ev[-1])
    if lam0 <= 0:
        raise ValueError(f"H must be positive definite (lambda_0 = {lam0:.3g} <= 0); "
                         "are two inputs parallel?")
    lam_m = lam_max + lam0 / 4
    return NTKConstants(lam0, lam_max, lam_m, lam_m / (lam0 / 2))


def max_distance(model: TwoLayerReLU, W0) -> torch.Tensor:
    r""":math:`\max_r \|w_r - w_r(0)\|_2`, the largest distance any neuron has moved from its
    initialisation (Liu et al. 2023, Lemmas 4 and 6 bound it by :math:`O(1/\sqrt m)`); shape
    ``()`` or ``(B,)``."""
    W0 = torch.as_tensor(W0, dtype=model.W.dtype)
    if W0.shape != model.W.shape:
        raise ValueError(f"W0 must have the shape of model.W, {tuple(model.W.shape)}, got "
                         f"{tuple(W0.shape)}")
    _validate.finite("W0", W0)
    W0 = W0.to(model.W.device)
    return torch.linalg.vector_norm(model.W.detach() - W0, dim=-1).amax(-1)


@dataclass
class TrainRecord:
    r"""What :func:`train_two_layer` recorded at each iteration :math:`k = 0, \dots, K`:
    ``losses`` :math:`\ell(W_k)` and ``distances`` :math:`\max_r \|w_r(k) - w_r(0)\|`, NumPy
    arrays of shape ``(K + 1,)`` or ``(K + 1, B)`` for a stack; ``diverged`` as in
    :class:`momentum.Trajectory` (the arrays then stop at the last finite step)."""

    method: str
    eta: float
    beta: float
    losses: np.ndarray
    distances: np.ndarray
    diverged: bool = False


def train_two_layer(model: TwoLayerReLU, X, y, *, method: str, eta: float, beta: float,
                    steps: int) -> TrainRecord:
    r"""Train ``model`` (one network or a stack) on :math:`\ell(W)` with full-batch heavy ball
    (Liu et al. 2023, eq. (4)) or Nesterov (eq. (5)),

    .. math::
        w_r(k+1) = w_r(k) + \beta\,(w_r(k) - w_r(k-1)) - \eta\,\nabla_{w_r}\ell(W(k))
        \;\big[-\, \beta\eta\,(\nabla_{w_r}\ell(W(k)) - \nabla_{w_r}\ell(W(k-1)))\big],

    the bracket being Nesterov's gradient correction, through
    :func:`momentum.optimizers.torch_optimizer` (``torch.optim.SGD``; eq. (5) is Nesterov in
    the extrapolated variables, which is what PyTorch's ``nesterov=True`` iterates). The loss
    of a stack is the sum of the networks' losses, whose gradient with respect to network
    :math:`b`'s weights is that network's own gradient, so the stack trains as independent runs.
    The model is trained in place.
    """
    if not isinstance(model, TwoLayerReLU):
        raise ValueError(f"model must be a TwoLayerReLU, got {type(model).__name__}")
    _validate.positive_int("steps", steps)
    X = _inputs(X).to(model.W)
    y = torch.as_tensor(y, dtype=model.W.dtype, device=model.W.device)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
    opt = torch_optimizer(method, [model.W], eta=eta, beta=beta)
    W0 = model.W.detach().clone()
    losses, dists = [], []
    diverged = False
    for k in range(steps + 1):
        opt.zero_grad()
        loss = model.loss(X, y)
        lv = loss.detach().cpu().numpy()
        if not np.all(np.isfinite(lv)) or (losses and np.any(lv > DIVERGENCE_FACTOR * losses[0])):
            diverged = True
            warnings.warn(f"{method} diverged at step {k} (eta={eta:g}, beta={beta:g}); the "
                          f"record stops at step {k - 1}", DivergenceWarning, stacklevel=2)
            break
        losses.append(lv)
        dists.append(max_distance(model, W0).cpu().numpy())
        if k == steps:
            break
        loss.sum().backward()
        opt.step()
    return TrainRecord(method, float(eta), float(beta), np.stack(losses), np.stack(dists),
                       diverged)


__all__ += ["TwoLayerReLU", "ntk_gram", "arccos_kernel", "NTKConstants", "ntk_constants",
            "max_distance", "TrainRecord", "train_two_layer"]


# ============================================================================================
# Deep fully-connected ReLU network and its partition (Chapter 3)
# Liao & Kyrillidis (2024), §5.2 (Lemma 14, Theorem 15).
# ============================================================================================
#
# Notation: widths d_0, ..., d_Lambda; inputs X in R^{n x d_0}; F_0 = X,
# F_l = relu(F_{l-1} W_l) for l < Lambda, F_Lambda = F_{Lambda-1} W_Lambda, loss
# f = ||F_Lambda - Y||_F^2 / 2. The partition: x = vec(W_Lambda) (the nice block), u = (vec(W_1),
# ..., vec(W_{Lambda-1})) (the wild block). vec() is row-major (torch's reshape); the norms and
# spectra below do not depend on that choice.

from collections.abc import Callable  # noqa: E402


def _deep_forward(weights, X: torch.Tensor, *, penultimate: bool = False) -> torch.Tensor:
    r""":math:`F_\Lambda` (or :math:`F_{\Lambda-1}` if ``penultimate``) for a list of weights
    :math:`W_1, \dots, W_\Lambda` of shapes ``(..., d_{l-1}, d_l)`` and inputs ``(n, d_0)``."""
    F = X
    for W in weights[:-1]:
        F = torch.relu(F @ W)
    return F if penultimate else F @ weights[-1]


class DeepReLU(nn.Module):
    r"""The deep fully-connected ReLU network of Liao & Kyrillidis (2024), §5.2:

    .. math::
        F_0 = X,\qquad F_\ell = \sigma(F_{\ell-1} W_\ell)\ (1 \le \ell < \Lambda),\qquad
        F_\Lambda = F_{\Lambda-1} W_\Lambda,\qquad
        f(W) = \tfrac12 \|F_\Lambda - Y\|_F^2,

    with :math:`\sigma = \mathrm{relu}`, :math:`W_\ell \in \mathbb R^{d_{\ell-1}\times d_\ell}`
    and the paper's initialisation :math:`(W_\ell)_{ij} \sim \mathcal N(0, 1/d_{\ell-1})` for
    :math:`\ell < \Lambda`, :math:`(W_\Lambda)_{ij} \sim \mathcal N(0, d_{\Lambda-1}^{-3/2})`
    (the last layer starts small, so the outputs start near 0 and the last layer dominates the
    gradient).

    ``widths`` is :math:`(d_0, d_1, \dots, d_\Lambda)` with :math:`\Lambda \ge 2` (at least one
    hidden layer, else there is no wild block). ``seeds`` an int gives one network; a sequence
    of ints a stack of independent networks (weights of shape ``(B, d_{l-1}, d_l)``), network
    ``i`` being the one drawn alone with ``seeds[i]``. ``forward(X)`` maps ``(n, d_0)`` to
    ``(n, d_Lambda)``, or ``(B, n, d_Lambda)`` for a stack.
    """

    def __init__(self, widths: Sequence[int], *, seeds: int | Sequence[int] = 0,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        widths = list(widths) if isinstance(widths, (list, tuple)) else widths
        if not isinstance(widths, list) or len(widths) < 3:
            raise ValueError(f"widths must be a list (d_0, ..., d_Lambda) of at least 3 "
                             f"integers (Lambda >= 2), got {widths!r}")
        for i, w in enumerate(widths):
            _validate.positive_int(f"widths[{i}]", w)
        single = isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool)
        if not single and not isinstance(seeds, (list, tuple, range, np.ndarray)):
            raise ValueError(f"seeds must be an int or a non-empty sequence of ints, got "
                             f"{seeds!r}")
        seed_list = [int(seeds)] if single else list(seeds)
        if not seed_list or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                    for s in seed_list):
            raise ValueError(f"seeds must be an int or a non-empty sequence of ints, got {seeds!r}")
        depth = len(widths) - 1
        layers: list[list[torch.Tensor]] = [[] for _ in range(depth)]
        for s in seed_list:
            gen = torch.Generator().manual_seed(int(s))
            for ell in range(depth):
                d_in, d_out = widths[ell], widths[ell + 1]
                std = d_in ** -0.5 if ell < depth - 1 else d_in ** -0.75
                layers[ell].append(std * torch.randn(d_in, d_out, generator=gen, dtype=dtype))
        self.widths, self.depth, self.batched = tuple(widths), depth, not single
        self.weights = nn.ParameterList(
            [nn.Parameter(ws[0] if single else torch.stack(ws)) for ws in layers])

    @property
    def width(self) -> int:
        r""":math:`d_{\Lambda-1}`, the width of the penultimate layer."""
        return self.widths[-2]

    def _X(self, X) -> torch.Tensor:
        """X on the weights' device and dtype, checked: shape (n, d_0), finite."""
        W = self.weights[0]
        X = _inputs(X).to(device=W.device, dtype=W.dtype)
        if X.shape[1] != self.widths[0]:
            raise ValueError(f"X must have d_0 = {self.widths[0]} columns, got shape "
                             f"{tuple(X.shape)}")
        return X

    def features(self, X) -> torch.Tensor:
        r"""The penultimate features :math:`F_{\Lambda-1}`, shape ``(..., n, d_{Lambda-1})``."""
        return _deep_forward(list(self.weights), self._X(X), penultimate=True)

    def forward(self, X) -> torch.Tensor:
        return _deep_forward(list(self.weights), self._X(X))

    def targets(self, Y, n: int) -> torch.Tensor:
        """Y as a tensor of shape (n, d_Lambda); a vector (n,) is allowed when d_Lambda = 1."""
        Y = torch.as_tensor(Y, dtype=self.weights[0].dtype, device=self.weights[0].device)
        if Y.ndim == 1 and self.widths[-1] == 1:
            Y = Y.unsqueeze(-1)
        if tuple(Y.shape) != (n, self.widths[-1]):
            raise ValueError(f"Y must have shape ({n}, {self.widths[-1]}), got {tuple(Y.shape)}")
        _validate.finite("Y", Y)
        return Y

    def loss(self, X, Y) -> torch.Tensor:
        r""":math:`f = \tfrac12\|F_\Lambda - Y\|_F^2`; shape ``()``, or ``(B,)`` for a stack."""
        X = self._X(X)
        Y = self.targets(Y, X.shape[0])
        return 0.5 * ((self(X) - Y) ** 2).sum((-2, -1))


def partition_sizes(model: DeepReLU) -> tuple[int, int]:
    r""":math:`(d_x, d_u)`: :math:`d_x = d_{\Lambda-1} d_\Lambda` entries in the last layer,
    :math:`d_u = \sum_{\ell<\Lambda} d_{\ell-1} d_\ell` in the others."""
    _check_deep(model)
    w = model.widths
    return w[-2] * w[-1], sum(w[i] * w[i + 1] for i in range(len(w) - 2))


def _check_deep(model) -> None:
    if not isinstance(model, DeepReLU):
        raise ValueError(f"model must be a DeepReLU, got {type(model).__name__}")


def _batch_shape(model: DeepReLU) -> tuple:
    return tuple(model.weights[0].shape[:-2])


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


def feature_spectrum(model: DeepReLU, X) -> torch.Tensor:
    r"""Singular values of the penultimate features :math:`F_{\Lambda-1}` (descending), shape
    ``(..., min(n, d_{Lambda-1}))``; ``torch.linalg.svdvals``."""
    _check_deep(model)
    return torch.linalg.svdvals(model.features(X).detach())


@dataclass(frozen=True)
class DeepReLUConstants:
    r"""The constants of Theorem 15 (Liao & Kyrillidis 2024) for a network at its current
    weights (floats, or NumPy arrays over a stack). See :func:`deep_relu_constants`."""

    n: int
    width: int
    null_dim: int
    alpha_0: object
    sigma_max: object
    L1: object
    mu: object
    kappa: object
    kappa_x: object


def deep_relu_constants(model: DeepReLU, X) -> DeepReLUConstants:
    r"""Theorem 15's constants, measured at the network's current weights (Liao & Kyrillidis
    2024, §5.2; the authors' essay, Theorem 15):

    .. math::
        \alpha_0 = \sigma_{\min}(F_{\Lambda-1}),\qquad
        L_1 = \sigma_{\max}(F_{\Lambda-1})^2,\qquad
        \mu = \alpha_0^2/2,\qquad
        \kappa = \frac{L_1}{\mu} = \frac{2 L_1}{\alpha_0^2}.

    :math:`\sigma_{\min}` is the :math:`\min(n, d_{\Lambda-1})`-th singular value, i.e.
    :math:`\sigma_n` for a wide network: the strong convexity on the row space (see
    :func:`partition_functions` for the :math:`(d_{\Lambda-1} - n) d_\Lambda`-dimensional null
    space, reported as ``null_dim``). Why :math:`\alpha_0^2/2` and not :math:`\alpha_0^2`:
    the theorem needs A1 on a whole neighbourhood of the start, and by Weyl's inequality
    :math:`\sigma_{\min}(F) \ge \alpha_0 - \|F - F^{(0)}\|_2 \ge \alpha_0/\sqrt2` while the
    features move by at most :math:`(1 - 1/\sqrt2)\,\alpha_0` in spectral norm, which gives
    :math:`\mu = \alpha_0^2/2` there. ``kappa_x`` :math:`= L_1/\alpha_0^2` is the condition
    number of the last-layer least-squares problem at the start itself (on the row space),
    the one that sets the rates of GD and Nesterov while the features stay put. ``L1`` is
    the value at the current point (the paper bounds it over the neighbourhood).
    Raises ValueError when :math:`\alpha_0 = 0` (rank-deficient features).
    """
    _check_deep(model)
    X = model._X(X)
    s = feature_spectrum(model, X)
    n, width, d_out = X.shape[0], model.width, model.widths[-1]
    alpha, smax = s[..., -1], s[..., 0]
    if torch.any(alpha <= 1e-12 * smax):
        raise ValueError("the penultimate features are rank-deficient (alpha_0 = 0): A1 fails "
                         "even on the row space; are two inputs equal, or is the network too "
                         "narrow (dead units, d_{Lambda-1} near n)?")
    L1 = smax ** 2
    out = [v.cpu().numpy() if v.ndim else float(v) for v in (alpha, smax, L1, alpha ** 2 / 2,
                                                      2 * L1 / alpha ** 2, L1 / alpha ** 2)]
    return DeepReLUConstants(n, width, max(width - n, 0) * d_out, *out)


def width_requirement(n: int, d0: int) -> float:
    r"""Theorem 15's sufficient penultimate width, without its absolute constant (Liao &
    Kyrillidis 2024, Thm 15): :math:`d_{\Lambda-1} \gtrsim n^{4.5}\max\{n, d_0^2\}`, which is
    :math:`n^{5.5}` when :math:`d_0^2 \le n`."""
    _validate.positive_int("n", n)
    _validate.positive_int("d0", d0)
    return float(n) ** 4.5 * max(n, d0 ** 2)


@dataclass
class DeepReLURecord:
    r"""What :func:`train_deep_relu` recorded, for the book's iterates :math:`(x_k, u_k)`
    (:math:`k = 0, \dots, K`), as NumPy arrays with a trailing axis over a stack:

    * ``losses`` :math:`f(x_k, u_k)`, shape ``(K+1, ...)``;
    * ``dx``, ``du`` :math:`\|x_{k+1} - x_k\|`, :math:`\|u_{k+1} - u_k\|`, shape ``(K, ...)``;
    * ``dx_null`` the part of :math:`x_{k+1} - x_k` in the null space of
      :math:`F_{\Lambda-1}(u_k)` (zero when :math:`d_{\Lambda-1} \le n`), shape ``(K, ...)``;
    * ``alphas`` :math:`\alpha_k = \sigma_{\min}(F_{\Lambda-1}(u_k))`, shape ``(K+1, ...)``;
    * ``drift`` :math:`\|F_{\Lambda-1}(u_k) - F_{\Lambda-1}(u_0)\|_2`, shape ``(K+1, ...)``;
    * ``diverged`` as in :class:`momentum.Trajectory` (the arrays then stop early).
    """

    method: str
    eta: float
    beta: float
    losses: np.ndarray
    dx: np.ndarray
    du: np.ndarray
    dx_null: np.ndarray
    alphas: np.ndarray
    drift: np.ndarray
    diverged: bool = False

    def rate(self, *, tail: float = 0.5, floor: float = 1e-12):
        r"""Fitted linear rate of the residual norm :math:`\|F_\Lambda - Y\|_F =
        \sqrt{2 f(x_k, u_k)}` (:meth:`momentum.Trajectory.rate`'s fit: last ``tail`` fraction
        above ``floor`` times the start). On the last-layer least-squares problem with frozen
        features, GD with :math:`\eta = 1/L_1` contracts it like :math:`1 - 1/\kappa_x` and
        Nesterov with :math:`\beta = (\sqrt{\kappa_x}-1)/(\sqrt{\kappa_x}+1)` like
        :math:`1 - 1/\sqrt{\kappa_x}`; the loss contracts like the square. A float, or an array
        over a stack."""
        from .optimizers import _fit_rate

        _validate.probability("tail", tail)
        r = np.sqrt(2 * np.maximum(self.losses, 0.0))
        flat = r.reshape(r.shape[0], -1)
        rates = np.array([_fit_rate(flat[:, j], tail, floor) for j in range(flat.shape[1])])
        return float(rates[0]) if r.ndim == 1 else rates.reshape(r.shape[1:])


def train_deep_relu(model: DeepReLU, X, Y, *, method: str, eta: float, beta: float = 0.0,
                    steps: int, track_features: bool = True) -> DeepReLURecord:
    r"""Full-batch training of ``model`` (one network or a stack) on
    :math:`f = \tfrac12\|F_\Lambda - Y\|_F^2` with ``method`` in ``"gd"``, ``"heavy_ball"``,
    ``"nesterov"``, through :func:`momentum.optimizers.torch_optimizer` (``torch.optim.SGD``),
    in place.

    PyTorch's Nesterov iterates the extrapolated points :math:`p_k = y_k` (see
    :func:`~momentum.optimizers.torch_optimizer`); the record is about the book's
    :math:`x_k`, recovered from the momentum buffer :math:`b_k` as
    :math:`x_{k} = p_k + \beta\eta\, b_{k-1}` (:math:`b_{-1} = 0`), since
    :math:`y_k = x_k + \beta(x_k - x_{k-1})` and :math:`x_k - x_{k-1} = -\eta b_{k-1}`. For GD
    and heavy ball :math:`x_k = p_k`. The loss of a stack is the sum over networks, so each
    network follows its own gradient; the record stops for the whole stack at the first step
    where one network diverges. A layer with ``requires_grad=False`` is held fixed (with the
    hidden layers frozen, training is least squares in :math:`W_\Lambda` on fixed features,
    the reference problem of condition number ``kappa_x``). ``track_features=False`` skips the
    singular values (``alphas``, ``drift`` and ``dx_null`` are then NaN). The model may live on
    any device (``model.to("cuda")``): ``X`` and ``Y`` are moved to it, and the record comes
    back as NumPy arrays.
    """
    _check_deep(model)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _validate.positive_int("steps", steps)
    X = model._X(X)
    Y = model.targets(Y, X.shape[0])
    params = list(model.weights)
    opt = torch_optimizer(method, params, eta=eta, beta=beta)
    nesterov_shift = method == "nesterov" and beta > 0
    width = model.width
    F0 = model.features(X).detach()

    def book_iterate():
        """The book's x_k as a weight list (PyTorch's p_k shifted back for Nesterov)."""
        if not nesterov_shift:
            return [p.detach().clone() for p in params]
        out = []
        for p in params:
            buf = opt.state[p].get("momentum_buffer") if p in opt.state else None
            out.append(p.detach().clone() if buf is None else p.detach() + beta * eta * buf)
        return out

    def spectrum(F):
        if not track_features:
            nan = torch.full(_batch_shape(model), float("nan"), dtype=F0.dtype, device=F0.device)
            return nan, nan, None
        _, S, Vh = torch.linalg.svd(F, full_matrices=False)
        return S[..., -1], torch.linalg.matrix_norm(F - F0, ord=2), Vh

    losses, dxs, dus, dnull, alphas, drifts = [], [], [], [], [], []
    diverged = False
    prev = None
    for k in range(steps + 1):
        ws = book_iterate()
        with torch.no_grad():
            F = _deep_forward(ws, X, penultimate=True)
            lv = (0.5 * ((F @ ws[-1] - Y) ** 2).sum((-2, -1))).cpu().numpy()
        if not np.all(np.isfinite(lv)) or (losses and np.any(lv > DIVERGENCE_FACTOR * losses[0])):
            diverged = True
            warnings.warn(f"{method} diverged at step {k} (eta={eta:g}, beta={beta:g}); the "
                          f"record stops at step {k - 1}", DivergenceWarning, stacklevel=2)
            break
        alpha, drift, Vh = spectrum(F)
        if prev is not None:
            p_ws, p_Vh = prev
            dW = ws[-1] - p_ws[-1]
            dxs.append(torch.linalg.vector_norm(dW, dim=(-2, -1)).cpu().numpy())
            dus.append(torch.sqrt(sum(torch.linalg.vector_norm(a - b, dim=(-2, -1)) ** 2
                                      for a, b in zip(ws[:-1], p_ws[:-1]))).cpu().numpy())
            if p_Vh is None:
                dnull.append(np.full(lv.shape, np.nan))
            elif width <= X.shape[0]:
                dnull.append(np.zeros(lv.shape))
            else:
                inside = p_Vh.transpose(-1, -2) @ (p_Vh @ dW)
                dnull.append(torch.linalg.vector_norm(dW - inside, dim=(-2, -1)).cpu().numpy())
        losses.append(lv)
        alphas.append(alpha.cpu().numpy())
        drifts.append(drift.cpu().numpy())
        prev = (ws, Vh)
        if k == steps:
            break
        opt.zero_grad()
        model.loss(X, Y).sum().backward()
        opt.step()
    return DeepReLURecord(method, float(eta), float(beta), np.stack(losses),
                          np.stack(dxs) if dxs else np.empty((0, *lv.shape)),
                          np.stack(dus) if dus else np.empty((0, *lv.shape)),
                          np.stack(dnull) if dnull else np.empty((0, *lv.shape)),
                          np.stack(alphas), np.stack(drifts), diverged)


__all__ += ["DeepReLU", "partition_sizes", "partition", "set_partition", "DeepReLUPartition",
            "partition_functions", "feature_spectrum", "DeepReLUConstants",
            "deep_relu_constants", "width_requirement", "DeepReLURecord", "train_deep_relu"]

r"""The two-layer ReLU network of Chapter 4, its NTK Gram matrix and the arc-cosine kernel.

Du, Zhai, Poczos & Singh (2019); Liu, Tao, Li, Zhan, Wang & Pan (2023), §3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .. import _validate
from ..optimizers import METHODS
from ..records import ModuleRecorder, Trajectory
from ._shared import _inputs

__all__ = ["TwoLayerReLU", "ntk_gram", "arccos_kernel", "max_distance", "kernel_drift",
           "train_two_layer"]


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
        if isinstance(seeds, range):
            _validate.size("seeds", 1.0 * len(seeds), what=f"{len(seeds)} networks")
        seed_list, single = _validate.seeds("seeds", seeds)
        # W (B x m x d) and its stacked copy, plus training's W(0), gradient, W(k-1) and
        # gradient at W(k-1)
        _validate.size("m", 6.0 * len(seed_list) * m * d,
                       what=f"{len(seed_list)} network(s) of width m = {m}, d = {d}")
        Ws, As = [], []
        for s in seed_list:
            gen = torch.Generator().manual_seed(int(s))
            Ws.append(torch.randn(m, d, generator=gen, dtype=dtype))
            As.append(torch.randint(0, 2, (m,), generator=gen).to(dtype) * 2 - 1)
        W, a = torch.stack(Ws), torch.stack(As)
        self.m, self.d, self.batched = m, d, not single
        self.W = nn.Parameter(W[0] if single else W)
        self.register_buffer("a", a[0] if single else a)

    @property
    def output_scale(self) -> float:
        r"""The factor :math:`c_m` in :math:`f = c_m \sum_r a_r \sigma(w_r^\top x)`:
        :math:`1/\sqrt m` here (the NTK scaling), :math:`1/m` for
        :class:`~momentum.networks.mean_field.MeanFieldTwoLayer`."""
        return 1 / math.sqrt(self.m)

    def forward(self, X) -> torch.Tensor:
        # no finiteness check: runs under torch.func; but no complex or bool input either
        if not isinstance(X, torch.Tensor):
            X = _validate.array("X", X)
        elif X.is_complex() or X.dtype == torch.bool:
            raise ValueError(f"X must be real numbers, got a tensor of {X.dtype}")
        X = torch.as_tensor(X, dtype=self.W.dtype, device=self.W.device)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"X must have d = {self.d} columns, got shape {tuple(X.shape)}")
        pre = self.W @ X.T                                           # (..., m, n)
        return (self.a.unsqueeze(-1) * torch.relu(pre)).sum(-2) * self.output_scale

    def loss(self, X, y) -> torch.Tensor:
        r""":math:`\ell(W) = \tfrac12 \sum_i (f(x_i) - y_i)^2`; shape ``()``, or ``(B,)`` for a
        stack."""
        y = torch.as_tensor(_validate.real("y", y, finite_=False), dtype=self.W.dtype,
                            device=self.W.device)
        out = self(X)
        if tuple(y.shape) != (out.shape[-1],):    # a (n, 1) y would broadcast to a matrix
            raise ValueError(f"y must have shape ({out.shape[-1]},), one label per row of X, "
                             f"got {tuple(y.shape)}")
        return 0.5 * ((out - y) ** 2).sum(-1)

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
    r"""The empirical NTK Gram matrix :math:`H(t)` of a :class:`TwoLayerReLU` (or of a
    :class:`~momentum.networks.mean_field.MeanFieldTwoLayer`) at its current weights, the Gram
    matrix of the model's own Jacobian (Liu et al. 2023, eq. (9); Du et al. 2019, eq. (4)):

    .. math::
        H_{ij} = \sum_{r=1}^m \Big\langle \frac{\partial f_i}{\partial w_r},
        \frac{\partial f_j}{\partial w_r} \Big\rangle
        = c_m^2\, x_i^\top x_j \sum_{r=1}^m
        \mathbb 1\{w_r^\top x_i \ge 0,\ w_r^\top x_j \ge 0\},

    using :math:`\partial f_i / \partial w_r = c_m a_r x_i \mathbb 1\{w_r^\top x_i \ge 0\}`
    (eq. (16)) and :math:`a_r^2 = 1`, with :math:`c_m` = ``model.output_scale``:
    :math:`1/\sqrt m` for the NTK network (so :math:`c_m^2 = 1/m`, the paper's
    :math:`\frac1m \sum_r`), :math:`1/m` for the mean-field one (whose kernel is therefore
    :math:`1/m` times the NTK kernel of the same weights; to compare it in the NTK
    normalisation use :func:`~momentum.networks.mean_field.ntk_normalised_gram`).
    ``method="closed"`` evaluates the right-hand side (any stack of networks, shape
    ``(..., n, n)``); ``method="autograd"`` builds the Jacobian with ``torch.func.jacrev`` and
    forms :math:`J J^\top` (one network). The two agree for every model (tested); they differ
    only where some :math:`w_r^\top x_i = 0` exactly, a null event.
    """
    if not isinstance(method, str) or method not in ("closed", "autograd"):
        raise ValueError(f"method must be 'closed' or 'autograd', got {method!r:.80}")
    X = _inputs(X).to(model.W)
    if method == "closed":
        if X.shape[1] != model.d:
            raise ValueError(f"X must have d = {model.d} columns, got shape {tuple(X.shape)}")
        return _gram(model.W.detach(), X, model.output_scale)
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



def max_distance(model: TwoLayerReLU, W0) -> torch.Tensor:
    r""":math:`\max_r \|w_r - w_r(0)\|_2`, the largest distance any neuron has moved from its
    initialisation (Liu et al. 2023, Lemmas 4 and 6 bound it by :math:`O(1/\sqrt m)`); shape
    ``()`` or ``(B,)``."""
    W0 = torch.as_tensor(_validate.real("W0", W0, allow_empty=True, finite_=False),
                         dtype=model.W.dtype)
    if W0.shape != model.W.shape:
        raise ValueError(f"W0 must have the shape of model.W, {tuple(model.W.shape)}, got "
                         f"{tuple(W0.shape)}")
    _validate.finite("W0", W0)
    return _max_distance(model.W, W0.to(model.W.device))


def kernel_drift(model: TwoLayerReLU, X, H0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""How far the kernel has moved from ``H0``, and its smallest eigenvalue now:

    .. math::
        \big(\|H(W) - H_0\|_2,\ \lambda_{\min}(H(W))\big),

    with :math:`H(W)` the empirical NTK Gram matrix at the current weights (:func:`ntk_gram`)
    and :math:`\|\cdot\|_2` the spectral norm, the largest absolute eigenvalue of the
    symmetric difference. Liu et al. (2023), Lemmas 2-3 (after Du et al. 2019, Lemma 3.2), keep
    :math:`\|H(t) - H(0)\|_2 < \lambda_0/4` while every neuron stays near its start, which
    gives :math:`\lambda_{\min}(H(t)) > \lambda_0/2`. Shapes ``()`` each, or ``(B,)`` for a
    stack; ``H0`` has the shape of ``ntk_gram(model, X)``."""
    H0 = _validate.real("H0", H0, allow_empty=True, finite_=False)
    H = ntk_gram(model, X)
    H0 = torch.as_tensor(H0, dtype=H.dtype, device=H.device)
    if H0.shape != H.shape:
        raise ValueError(f"H0 must have the shape of ntk_gram(model, X), {tuple(H.shape)}, "
                         f"got {tuple(H0.shape)}")
    _validate.finite("H0", H0)
    return _kernel_drift(H, H0)


def _kernel_drift(H, H0):
    change = torch.linalg.eigvalsh(H - H0).abs().amax(-1)
    return change, torch.linalg.eigvalsh(H)[..., 0]


def train_two_layer(model: TwoLayerReLU, X, y, *, method: str, eta: float, beta: float,
                    steps: int, kernel_every: int | None = None) -> Trajectory:
    r"""Train ``model`` (one network or a stack; a :class:`TwoLayerReLU` or a
    :class:`~momentum.networks.mean_field.MeanFieldTwoLayer`) on :math:`\ell(W)` with
    full-batch gradient descent, heavy ball (Liu et al. 2023, eq. (4)) or Nesterov (eq. (5)),
    as the paper writes them and from its start :math:`W(-1) = W(0)`,

    .. math::
        w_r(k+1) = w_r(k) + \beta\,(w_r(k) - w_r(k-1)) - \eta\,\nabla_{w_r}\ell(W(k))
        \;\big[-\, \beta\eta\,(\nabla_{w_r}\ell(W(k)) - \nabla_{w_r}\ell(W(k-1)))\big],

    the bracket being Nesterov's gradient correction (:func:`momentum.optimizers.liu_step`, the
    book's convention ``"liu"``): the first step is :math:`-\eta\nabla\ell(W(0))` for both
    methods, not PyTorch's :math:`-(1 + \beta)\eta\nabla\ell(W(0))` for Nesterov (the map
    between the two starts is in :mod:`momentum.optimizers`). ``beta`` must be 0 for ``"gd"``.

    The gradient is taken in closed form (Liu et al. 2023, eq. (16)): with
    :math:`P = W X^\top`, :math:`S = \mathbb 1\{P > 0\}` (autograd's :math:`\sigma'(0) = 0`),
    residuals :math:`r = f - y` and the output scale :math:`c_m` (``model.output_scale``),
    :math:`\nabla_W \ell = c_m\,\mathrm{diag}(a)\, S\, \mathrm{diag}(r)\, X`; the tests
    check the iterates against an autograd loop of eq. (5). The networks of a stack train as
    independent runs. The model is trained in place (its ``W`` holds the last iterate on
    return). Speed: the (m, n) activations and the arrays of ``W``'s shape are allocated once
    per run and overwritten in place, so a step allocates nothing of the network's size; the
    operations and their order are those of the direct expressions (for the update,
    :func:`~momentum.optimizers.liu_step`'s), so every iterate and recorded number is the
    same, bit for bit (tested). Sizes are checked against ``MOMENTUM_MAX_BYTES`` before any work.

    Returns a :class:`~momentum.records.Trajectory` whose ``losses`` :math:`\ell(W(k))`,
    ``grad_norms`` :math:`\|\nabla \ell(W(k))\|_F` and series ``distances``
    :math:`\max_r \|w_r(k) - w_r(0)\|` (:func:`max_distance`) are all recorded at the
    paper's iterate :math:`W(k)`, where the gradient is taken; NumPy arrays of shape
    ``(K + 1,)`` or ``(K + 1, B)`` for a stack, kept on the device during the run and copied
    to the host in blocks (:class:`~momentum.records.ModuleRecorder`, which also applies the
    divergence rule).

    With ``kernel_every`` :math:`= j`, the record also holds the series ``kernel_drift``
    :math:`\|H(k) - H(0)\|_2` and ``kernel_min_eig`` :math:`\lambda_{\min}(H(k))`
    (:func:`kernel_drift`, the kernel of Liu et al. 2023, Lemmas 2-3), measured at the steps
    :math:`k` divisible by :math:`j` and at the last step, NaN at the others (the
    eigenvalues cost more than a step).
    """
    if not isinstance(model, TwoLayerReLU):
        raise ValueError(f"model must be a TwoLayerReLU, got {type(model).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    if method == "gd" and beta != 0:
        raise ValueError(f"beta must be 0 for gradient descent, got {beta!r}")
    _validate.positive_int("steps", steps)
    X = _inputs(X).to(model.W)
    if X.shape[1] != model.d:
        raise ValueError(f"X must have d = {model.d} columns, got shape {tuple(X.shape)}")
    y = torch.as_tensor(_validate.real("y", y), dtype=model.W.dtype, device=model.W.device)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
    if kernel_every is not None:
        _validate.positive_int("kernel_every", kernel_every)
    eta, beta = float(eta), float(beta)
    W = model.W
    batch = tuple(W.shape[:-2])
    trials, n = math.prod(batch), X.shape[0]
    # the run's own arrays: the (m, n) activations, and six of W's shape (W(0), W(k), W(k-1)
    # or the next iterate, a scratch array, the gradient and the one at W(k-1))
    _validate.size("X", 1.0 * trials * model.m * n, itemsize=W.element_size(),
                   what=f"the activations of {trials} network(s) of width m = {model.m} on "
                        f"n = {n} inputs")
    _validate.size("m", 6.0 * trials * model.m * model.d, itemsize=W.element_size(),
                   what=f"training {trials} network(s) of width m = {model.m}, d = {model.d}")
    series = 3 + 2 * bool(kernel_every)
    rec = ModuleRecorder(method, eta, beta, steps, numbers_per_step=series * trials)
    with torch.no_grad():
        H0 = ntk_gram(model, X) if kernel_every else None
        grad = _ClosedFormGradient(model, X, y)
        W0 = W.detach().clone()
        w, w_prev = W0.clone(), W0.clone()        # W(k) and W(k-1); W(-1) = W(0)
        scratch = torch.empty_like(w)
        G = torch.empty_like(w)
        G_prev = torch.empty_like(w) if method == "nesterov" else None
        for k in range(steps + 1):
            loss = grad(w, out=G)
            gnorm = torch.linalg.vector_norm(G, dim=(-2, -1))
            torch.sub(w, W0, out=scratch)
            distance = torch.linalg.vector_norm(scratch, dim=-1).amax(-1)
            extra = {}
            if kernel_every:
                if k % kernel_every == 0 or k == steps:
                    drift, low = _kernel_drift(_gram(w, X, model.output_scale), H0)
                else:
                    drift = low = torch.full_like(gnorm, float("nan"))
                extra = {"kernel_drift": drift, "kernel_min_eig": low}
            stop = rec.record(losses=loss, grad_norms=gnorm, distances=distance, **extra)
            if stop or k == steps:
                break
            _liu_step_(method, w, w_prev, G, G_prev if k > 0 else None, eta=eta, beta=beta,
                       scratch=scratch)
            w, w_prev = w_prev, w                 # w_prev held W(k+1)
            if G_prev is not None:
                G, G_prev = G_prev, G
        W.copy_(w)
    return rec.trajectory()


class _ClosedFormGradient:
    r"""The loss :math:`\tfrac12\|r\|^2` and its gradient in W in closed form (Liu et al.
    2023, eq. (16); :func:`train_two_layer`), for the fixed ``X``, ``y`` and output weights of
    ``model`` at any weights ``w`` of ``model.W``'s shape:

    .. math::
        R = \sigma(w X^\top),\quad r = c_m\, a^\top R - y,\quad
        \nabla_W \ell = \big(\mathbb 1\{R > 0\}\, \mathrm{diag}(r)\, X\big)
        \odot (c_m a \mathbb 1^\top).

    The (m, n) activations are computed into one array allocated once and overwritten in
    place (relu, then the sign that is :math:`\mathbb 1\{R > 0\}`), not into three new
    ones a step; the operations and their order are those of the formula, so the numbers are
    those of the direct expression (tested)."""

    def __init__(self, model: TwoLayerReLU, X: torch.Tensor, y: torch.Tensor):
        W, a, c = model.W.detach(), model.a, model.output_scale
        self.X, self.XT, self.y, self.c = X, X.T, y, c
        self.a_row = a.unsqueeze(-2)                                   # (..., 1, m)
        self.a_col = a.unsqueeze(-1) * c                               # (..., m, 1)
        self.R = torch.empty((*W.shape[:-1], X.shape[0]), dtype=W.dtype, device=W.device)

    def __call__(self, w: torch.Tensor, *, out: torch.Tensor) -> torch.Tensor:
        R = torch.matmul(w, self.XT, out=self.R).relu_()              # (..., m, n)
        r = (self.a_row @ R).squeeze(-2) * self.c - self.y            # (..., n)
        torch.matmul(R.sign_(), r.unsqueeze(-1) * self.X, out=out).mul_(self.a_col)
        return 0.5 * (r ** 2).sum(-1)


def _liu_step_(method: str, w, w_prev, g, g_prev, *, eta: float, beta: float,
               scratch) -> None:
    r""":func:`momentum.optimizers.liu_step` written into ``w_prev``, which on return holds
    :math:`W(k+1) = W(k) + \beta(W(k) - W(k-1)) - \eta g_k\,[-\,\beta\eta(g_k -
    g_{k-1})]` (the bracket for Nesterov when ``g_prev`` is given): the same operations in the
    same order, each in place or into ``scratch`` instead of a new array, so the numbers are
    :func:`~momentum.optimizers.liu_step`'s (tested); for ``"gd"`` (``beta`` = 0) the
    momentum term, which is zero, is skipped."""
    if method == "gd":
        torch.sub(w, torch.mul(g, eta, out=scratch), out=w_prev)
        return
    torch.sub(w, w_prev, out=w_prev).mul_(beta).add_(w)           # w + beta (w - w_prev)
    w_prev.sub_(torch.mul(g, eta, out=scratch))                    # - eta g
    if method == "nesterov" and g_prev is not None:
        w_prev.sub_(torch.sub(g, g_prev, out=scratch).mul_(beta * eta))


def _gram(W, X, scale: float) -> torch.Tensor:
    r"""The closed form of :func:`ntk_gram` at weights ``W``:
    :math:`c_m^2 (X X^\top) \odot (S^\top S)`, :math:`S = \mathbb 1\{W X^\top \ge 0\}`."""
    S = (W @ X.T >= 0).to(W.dtype)                                    # (..., m, n)
    return (X @ X.T) * (S.transpose(-1, -2) @ S) * scale ** 2


def _max_distance(W, W0):
    return torch.linalg.vector_norm(W.detach() - W0, dim=-1).amax(-1)

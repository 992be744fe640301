r"""The deep fully-connected ReLU network of Chapter 3, its constants and its training.

Liao & Kyrillidis (2024), §5.2 (Lemma 14, Theorem 15).

Notation: widths d_0, ..., d_Lambda; inputs X in R^{n x d_0}; F_0 = X,
F_l = relu(F_{l-1} W_l) for l < Lambda, F_Lambda = F_{Lambda-1} W_Lambda, loss
f = ||F_Lambda - Y||_F^2 / 2. The partition (:mod:`.deep_relu_partition`): x = vec(W_Lambda) (the
nice block), u = (vec(W_1), ..., vec(W_{Lambda-1})) (the wild block).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import _validate, theory
from ..optimizers import METHODS, torch_optimizer
from ..records import ModuleRecorder, Trajectory
from ._shared import _inputs

__all__ = ["DeepReLU", "feature_spectrum", "DeepReLUConstants", "deep_relu_constants",
           "width_requirement", "train_deep_relu"]


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
    and the book's initialisation :math:`(W_\ell)_{ij} \sim \mathcal N(0, 1/d_{\ell-1})` for
    :math:`\ell < \Lambda`, :math:`(W_\Lambda)_{ij} \sim \mathcal N(0, d_{\Lambda-1}^{-3/2})`.
    Liao & Kyrillidis state only a "standard Gaussian initialization"; these variances are the
    book's choice, not taken from the papers: the fan-in scale for the hidden layers, and a last
    layer whose variance is smaller than the fan-in :math:`1/d_{\Lambda-1}` by a factor
    :math:`d_{\Lambda-1}^{-1/2}`, so that the outputs start near 0 and the gradient of the
    earlier layers, which reaches them through :math:`W_\Lambda`, starts small next to the last
    layer's (Chapter 3, exercise "Why the last layer starts small").

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
        if isinstance(seeds, range):
            _validate.size("seeds", 1.0 * len(seeds), what=f"{len(seeds)} networks")
        seed_list, single = _validate.seeds("seeds", seeds)
        n_seeds = len(seed_list)
        _validate.size("widths", 4.0 * n_seeds * sum(a * b for a, b in zip(widths, widths[1:])),
                       what=f"{n_seeds} network(s) of widths {widths}")
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
        Y = torch.as_tensor(_validate.real("Y", Y, allow_empty=True, finite_=False),
                            dtype=self.weights[0].dtype, device=self.weights[0].device)
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


def _check_deep(model) -> None:
    if not isinstance(model, DeepReLU):
        raise ValueError(f"model must be a DeepReLU, got {type(model).__name__}")


def _batch_shape(model: DeepReLU) -> tuple:
    return tuple(model.weights[0].shape[:-2])


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


#: Theorem 15's width; the formula lives in :mod:`momentum.theory`.
width_requirement = theory.width_requirement


def train_deep_relu(model: DeepReLU, X, Y, *, method: str, eta: float, beta: float = 0.0,
                    steps: int, track_features=False) -> Trajectory:
    r"""Full-batch training of ``model`` (one network or a stack) on
    :math:`f = \tfrac12\|F_\Lambda - Y\|_F^2` with ``method`` in ``"gd"``, ``"heavy_ball"``,
    ``"nesterov"``, through :func:`momentum.optimizers.torch_optimizer` (``torch.optim.SGD``),
    in place.

    The record is about the book's iterates :math:`(x_k, u_k)`, not PyTorch's parameters
    (for Nesterov these are the extrapolated points; :func:`momentum.optimizers.book_iterates`
    undoes the change of variables). The loss of a stack is the sum over networks, so each
    network follows its own gradient; the record stops for the whole stack at the first step
    where one network diverges. A layer with ``requires_grad=False`` is held fixed (with the
    hidden layers frozen, training is least squares in :math:`W_\Lambda` on fixed features,
    the reference problem of condition number ``kappa_x``). The model may live on any device
    (``model.to("cuda")``): ``X`` and ``Y`` are moved to it; the per-step values stay there
    and are copied to the host in blocks (:class:`~momentum.records.ModuleRecorder`).

    Returns a :class:`~momentum.records.Trajectory` (NumPy arrays, a trailing axis over a
    stack) with ``losses`` :math:`f(x_k, u_k)`, shape ``(K+1, ...)``, ``grad_norms`` (at
    PyTorch's point) and the series

    * ``dx``, ``du``: :math:`\|x_{k+1} - x_k\|`, :math:`\|u_{k+1} - u_k\|`, shape ``(K, ...)``;
    * ``dx_null``: the part of :math:`x_{k+1} - x_k` in the null space of
      :math:`F_{\Lambda-1}(u_k)` (zero when :math:`d_{\Lambda-1} \le n`), shape ``(K, ...)``;
    * ``alphas``: :math:`\alpha_k = \sigma_{\min}(F_{\Lambda-1}(u_k))`, shape ``(K+1, ...)``;
    * ``drift``: :math:`\|F_{\Lambda-1}(u_k) - F_{\Lambda-1}(u_0)\|_2`, shape ``(K+1, ...)``,

    each computed only on request (:data:`SERIES`), NaN otherwise, so that a run pays only
    for what it reads: ``track_features=True`` computes all five, ``False`` (the default)
    none (the record is then the loss and the gradient norm), a tuple of names those. The
    spectra are taken from the small factor of a QR decomposition (:math:`F^\top = QR`, so
    :math:`F` and :math:`R^\top` share their singular values, and :math:`QQ^\top` projects
    onto the row space of :math:`F`) and the drift from the largest eigenvalue of
    :math:`DD^\top`, :math:`D = F - F_0`: the same numbers as a full SVD to round-off, at a
    fraction of its cost. Without Nesterov's momentum PyTorch's parameters are the book's
    iterates, and the one forward pass of the step also gives the record; with it, the record
    needs one more forward pass, at :math:`x_k`. The book's iterates and the steps' differences
    are written into arrays allocated once per run (the same operations as
    :func:`~momentum.optimizers.book_iterates` and the direct differences, so the same numbers:
    tested), and the block steps :math:`x_k - x_{k-1}` are kept only when a series needs them.
    ``traj.rate(of="residual")`` fits the rate of
    :math:`\|F_\Lambda - Y\|_F = \sqrt{2 f}`: on the last-layer least-squares problem with
    frozen features, GD with :math:`\eta = 1/L_1` contracts it like :math:`1 - 1/\kappa_x` and
    Nesterov with :math:`\beta = (\sqrt{\kappa_x}-1)/(\sqrt{\kappa_x}+1)` like
    :math:`1 - 1/\sqrt{\kappa_x}`.
    """
    _check_deep(model)
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _validate.positive_int("steps", steps)
    track = _tracked(track_features)
    X = model._X(X)
    Y = model.targets(Y, X.shape[0])
    params = list(model.weights)
    opt = torch_optimizer(method, params, eta=eta, beta=beta)
    batch = _batch_shape(model)
    trials = math.prod(batch)
    rec = ModuleRecorder(method, eta, beta, steps, diffs=("dx", "du", "dx_null"),
                         numbers_per_step=7 * trials)
    F0 = model.features(X).detach() if "drift" in track else None
    shifted = method == "nesterov" and float(beta) > 0    # PyTorch's p_k is not x_k
    steps_of = [t for t in ("dx", "du", "dx_null") if t in track]   # need x_k - x_{k-1}
    spectra = tuple(t for t in FEATURE_SERIES if t in track)
    iterates = _BookIterates(opt, params) if shifted or steps_of else None
    nan = torch.full(batch, float("nan"), dtype=params[0].dtype, device=params[0].device)
    prev = None
    for k in range(steps + 1):
        # the book's x_k (PyTorch's p_k shifted), when the loss or the block steps need it
        ws = iterates.next() if iterates is not None else None
        opt.zero_grad()
        F_p = _deep_forward(params, X, penultimate=True)
        out = F_p @ params[-1]
        (0.5 * ((out - Y) ** 2).sum((-2, -1))).sum().backward()
        if shifted:
            with torch.no_grad():
                F = _deep_forward(ws, X, penultimate=True)
                loss = 0.5 * ((F @ ws[-1] - Y) ** 2).sum((-2, -1))
        else:                                            # the step's own forward pass is x_k's
            F = F_p.detach()
            loss = 0.5 * ((out.detach() - Y) ** 2).sum((-2, -1))
        alpha, drift, Vh = _spectrum(F, F0, spectra, vectors=model.width > X.shape[0], nan=nan)
        values = {"losses": loss, "alphas": alpha, "drift": drift}
        if prev is not None:
            values.update(_block_steps(ws, Vh_prev_ws=prev, n=X.shape[0], width=model.width,
                                       track=steps_of, nan=nan, scratch=iterates.scratch,
                                       moving=iterates.moving))
        elif k > 0:                                      # no series needs the block steps
            values.update(dx=nan, du=nan, dx_null=nan)
        values["grad_norms"] = torch.sqrt(sum(torch.linalg.vector_norm(p.grad, dim=(-2, -1)) ** 2
                                              for p in params if p.grad is not None))
        if rec.record(**values) or k == steps:
            break
        if steps_of:
            prev = (ws, Vh)
        opt.step()
    return rec.trajectory()


class _BookIterates:
    r"""The book's iterates :math:`x_k` of a run, as :func:`momentum.optimizers.book_iterates`
    computes them (:math:`x_k = p_k + \beta\eta\, b_{k-1}` for PyTorch's Nesterov, a copy
    of :math:`p_k` otherwise), written into two sets of arrays allocated once and used in
    turn, so that :math:`x_{k-1}` is still there when :math:`x_k` is formed (for the block
    steps) and no step allocates arrays of the weights' size. The same operations in the same
    order (the shift times the buffer, then the sum), so the same numbers (tested). A layer
    that does not train (``requires_grad=False``) is the parameter itself, not a copy: it
    never changes, and its step is zero (``moving[l]`` is False)."""

    def __init__(self, opt: torch.optim.SGD, params: list):
        self.opt, self.params = opt, params
        self.moving = [p.requires_grad for p in params]
        self.sets = [[torch.empty_like(p) if m else p.detach() for p, m in
                      zip(params, self.moving)] for _ in range(2)]
        self.scratch = [torch.empty_like(p) if m else None
                        for p, m in zip(params, self.moving)]
        self.k = 0
        group = opt.param_groups[0]
        self.shift = group["momentum"] * group["lr"] if group.get("nesterov") else 0.0

    def next(self) -> list:
        """:math:`x_k` for the current parameters (call once per step, before the update)."""
        out = self.sets[self.k % 2]
        self.k += 1
        for p, x, tmp, m in zip(self.params, out, self.scratch, self.moving):
            if not m:
                continue
            state = self.opt.state.get(p)
            buf = state.get("momentum_buffer") if state else None
            if buf is None or self.shift == 0:
                x.copy_(p.detach())
            else:
                torch.add(p.detach(), torch.mul(buf, self.shift, out=tmp), out=x)
        return out


#: The per-step feature series :func:`train_deep_relu` can track (the spectra).
FEATURE_SERIES = ("alphas", "drift", "dx_null")
#: Every per-step series :func:`train_deep_relu` computes on request: the block steps and
#: the feature series.
SERIES = ("dx", "du") + FEATURE_SERIES


def _tracked(track_features) -> tuple:
    if isinstance(track_features, (bool, np.bool_)):
        return SERIES if track_features else ()
    if isinstance(track_features, (list, tuple, set)) and all(
            isinstance(t, str) and t in SERIES for t in track_features):
        return tuple(track_features)
    raise ValueError(f"track_features must be True, False or a tuple of some of "
                     f"{SERIES}, got {track_features!r:.80}")


def _spectrum(F, F0, track: tuple, *, vectors: bool, nan=None):
    r""":math:`\alpha = \sigma_{\min}(F)`, :math:`\|F - F_0\|_2` and the right singular vectors of
    the features ``F`` (NaN and ``None`` where not tracked; the vectors only for
    ``dx_null``, and only when ``vectors``, i.e. :math:`d_{\Lambda-1} > n`). Non-finite entries
    (a run past the step where it diverged, cut from the record) are zeroed so the
    decompositions do not fail. With :math:`F^\top = QR` (:math:`F` of shape ``(n, d)``,
    :math:`n \le d`), :math:`F = R^\top Q^\top` has the singular values of the small
    :math:`R^\top`, and its row space is the column space of :math:`Q` (the projector
    :math:`QQ^\top` onto it is all ``dx_null`` needs)."""
    if nan is None:
        nan = torch.full(F.shape[:-2], float("nan"), dtype=F.dtype, device=F.device)
    if not track:
        return nan, nan, None
    # one reduction tells whether any entry is non-finite (a sum of finite entries that
    # overflows only sends finite entries through nan_to_num, which leaves them as they are)
    if not bool(torch.isfinite(F.sum())):
        F = torch.nan_to_num(F, nan=0.0, posinf=0.0, neginf=0.0)
    alpha, drift, Vh = nan, nan, None
    want_vh = "dx_null" in track and vectors
    if "alphas" in track or want_vh:
        tall = F.shape[-2] <= F.shape[-1]
        if want_vh and tall:
            # the row space of F is the column space of Q (F^T = QR): project with Q itself,
            # returned as the rows of an orthonormal basis, as Vh would be
            Q, R = torch.linalg.qr(F.transpose(-1, -2))
            Vh = Q.transpose(-1, -2)
        elif want_vh:
            _, S, Vh = torch.linalg.svd(F, full_matrices=False)
            R = None
        else:
            R = torch.linalg.qr(F.transpose(-1, -2) if tall else F, mode="r")[1]
        if "alphas" in track:
            alpha = (torch.linalg.svdvals(R) if R is not None else S)[..., -1]
    if "drift" in track:
        # ||D||_2 = s * sqrt(lambda_max((D/s)(D/s)^T)) with s = max |D_ij|: the scaling keeps the
        # Gram matrix finite for a run whose features have grown huge (but not yet non-finite),
        # on which eigvalsh of the unscaled Gram matrix (overflowed to inf) fails
        # (the scaling only where the unscaled Gram matrix overflows or its largest diagonal
        # entry is so small that round-off to subnormals could matter: a check on the small
        # matrix, not a pass over the features)
        D = F - F0
        G = _gram(D)
        top = G.diagonal(dim1=-2, dim2=-1).amax(-1)
        if bool((torch.isfinite(top) & ((top == 0) | (top > 1e-250))).all()):
            drift = torch.linalg.eigvalsh(G)[..., -1].clamp_min(0).sqrt()
        else:
            s = D.abs().amax(dim=(-2, -1), keepdim=True)
            s = torch.where(s > 0, s, torch.ones_like(s))
            drift = torch.linalg.eigvalsh(_gram(D / s))[..., -1].clamp_min(0).sqrt() \
                * s[..., 0, 0]
    return alpha, drift, Vh


def _gram(D):
    """The smaller of the Gram matrices D D^T and D^T D (they share their nonzero eigenvalues)."""
    return D @ D.transpose(-1, -2) if D.shape[-2] <= D.shape[-1] else D.transpose(-1, -2) @ D


def _block_steps(ws, *, Vh_prev_ws, n: int, width: int, track=("dx", "du", "dx_null"),
                 nan=None, scratch=None, moving=None) -> dict:
    r""":math:`\|x_{k} - x_{k-1}\|`, :math:`\|u_{k} - u_{k-1}\|` and the part of the last-layer
    step in the null space of :math:`F_{\Lambda-1}(u_{k-1})` (device tensors), those named in
    ``track`` (``nan``, a NaN tensor of the batch shape, for the others). ``scratch``: arrays
    of the layers' shapes to hold the differences (else new ones); ``moving[l]`` False: layer
    l does not train, so its difference is zero and is left out of the sum (which changes no
    bit of it)."""
    p_ws, p_Vh = Vh_prev_ws
    L = len(ws)
    scratch = scratch or [None] * L
    moving = moving or [True] * L
    if nan is None:
        nan = torch.full(ws[-1].shape[:-2], float("nan"), dtype=ws[-1].dtype,
                         device=ws[-1].device)
    out = {"dx": nan, "du": nan, "dx_null": nan}
    if "dx" in track or "dx_null" in track:
        dW = _diff(ws[-1], p_ws[-1], scratch[-1])
        dx = torch.linalg.vector_norm(dW, dim=(-2, -1))
        if "dx" in track:
            out["dx"] = dx
        if "dx_null" in track:
            if width <= n:
                out["dx_null"] = torch.zeros_like(dx)
            elif p_Vh is not None:
                inside = p_Vh.transpose(-1, -2) @ (p_Vh @ dW)
                out["dx_null"] = torch.linalg.vector_norm(dW - inside, dim=(-2, -1))
    if "du" in track:
        sq = [torch.linalg.vector_norm(_diff(a, b, t), dim=(-2, -1)) ** 2
              for a, b, t, m in zip(ws[:-1], p_ws[:-1], scratch[:-1], moving[:-1]) if m]
        out["du"] = torch.sqrt(sum(sq)) if sq else torch.zeros_like(nan)
    return out


def _diff(a, b, out):
    return a - b if out is None else torch.sub(a, b, out=out)

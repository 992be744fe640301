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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import func

from . import _validate, theory

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
    "window_rate",
    "ACTIVATIONS",
]

DTYPE = torch.float64

#: Named activations: (sigma, its derivative, Lipschitz constant B).
ACTIVATIONS: dict[str, tuple[Callable, Callable, float]] = {
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype), 1.0),
    "tanh": (torch.tanh, lambda z: 1.0 - torch.tanh(z) ** 2, 1.0),
    "identity": (lambda z: z, torch.ones_like, 1.0),
    "leaky_relu": (lambda z: torch.nn.functional.leaky_relu(z, 0.1),
                   lambda z: torch.where(z > 0, 1.0, 0.1).to(z.dtype), 1.0),
}


# --------------------------------------------------------------------------------------------
# The constants
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionConstants:
    r"""The constants of the partition model (assumptions A1-A5 of Liao & Kyrillidis 2024).

    ``mu`` (A1), ``L1`` (A2), ``L2`` (A3; ``None`` when the outer loss is unknown), ``G1`` (A4;
    ``None`` when the model h is unknown), ``G2`` (A5), and :attr:`kappa` :math:`= L_1/\mu`.
    ``source`` says where they come from.
    """

    mu: float
    L1: float
    L2: float | None
    G1: float | None
    G2: float
    source: str = field(default="closed form", compare=False)

    @property
    def kappa(self) -> float:
        r""":math:`\kappa = L_1 / \mu`."""
        return self.L1 / self.mu

    def as_dict(self) -> dict:
        """The five constants and kappa, as plain floats (L2 and G1 may be None)."""
        return {"mu": self.mu, "L1": self.L1, "L2": self.L2, "G1": self.G1, "G2": self.G2,
                "kappa": self.kappa}

    def __str__(self) -> str:
        cells = [f"{k} = {_fmt(v)}" for k, v in self.as_dict().items()]
        return f"PartitionConstants({self.source}): " + ", ".join(cells)


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return f"{v:.3g}"


# --------------------------------------------------------------------------------------------
# The additive model
# --------------------------------------------------------------------------------------------


def _tensor(name: str, value) -> torch.Tensor:
    t = torch.as_tensor(_validate.as_numpy(value) if not isinstance(value, torch.Tensor)
                        else value, dtype=DTYPE)
    _validate.finite(name, t)
    return t


class AdditiveModel:
    r"""The additive model :math:`h(x, u) = A_1 x + \sigma(A_2 u)`,
    :math:`f(x, u) = \tfrac12 \|A_1 x + \sigma(A_2 u) - y\|^2` (Liao & Kyrillidis 2024, §5.1).

    ``A1`` has shape ``(..., n, d1)``, ``A2`` ``(..., n, d2)``, ``y`` ``(..., n)``; leading
    axes (optional) are a batch of instances that broadcasts against the leading axes of
    ``x`` and ``u``. ``sigma`` is a name in :data:`ACTIVATIONS` or an elementwise callable on
    tensors with Lipschitz constant ``lipschitz`` (B). All methods take float64 torch tensors
    ``x`` of shape ``(..., d1)`` and ``u`` of shape ``(..., d2)``; ``w`` is the joint vector
    :math:`(x, u)` of shape ``(..., d1 + d2)`` that the optimizers of
    :mod:`momentum.optimizers` iterate on.
    """

    def __init__(self, A1, A2, y, *, sigma: str | Callable = "relu",
                 lipschitz: float | None = None):
        self.A1, self.A2, self.y = _tensor("A1", A1), _tensor("A2", A2), _tensor("y", y)
        if self.A1.ndim < 2 or self.A2.ndim < 2 or self.y.ndim < 1:
            raise ValueError("A1 and A2 must be matrices (..., n, d) and y a vector (..., n)")
        n = self.A1.shape[-2]
        if self.A2.shape[-2] != n or self.y.shape[-1] != n:
            raise ValueError(f"A1, A2 and y must share the output dimension n: got A1 "
                             f"{tuple(self.A1.shape)}, A2 {tuple(self.A2.shape)}, "
                             f"y {tuple(self.y.shape)}")
        if isinstance(sigma, str):
            if sigma not in ACTIVATIONS:
                raise ValueError(f"sigma must be one of {tuple(ACTIVATIONS)} or a callable, "
                                 f"got {sigma!r}")
            fn, dfn, B = ACTIVATIONS[sigma]
            self.sigma_name = sigma
        elif callable(sigma):
            if lipschitz is None:
                raise ValueError("lipschitz (B) must be given for a custom sigma")
            fn, dfn, B = sigma, None, lipschitz
            self.sigma_name = getattr(sigma, "__name__", "custom")
        else:
            raise ValueError(f"sigma must be a name or a callable, got {type(sigma).__name__}")
        if lipschitz is not None:
            B = lipschitz
        _validate.positive("lipschitz", B)
        self.sigma, self.dsigma, self.B = fn, dfn, float(B)
        self._A1T = self.A1.mT.contiguous()
        self._A2T = self.A2.mT.contiguous()
        self.n, self.d1, self.d2 = n, self.A1.shape[-1], self.A2.shape[-1]

    # -- shapes ---------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """d1 + d2, the length of the joint vector w = (x, u)."""
        return self.d1 + self.d2

    @property
    def batched(self) -> bool:
        """True when A1, A2 or y carry leading batch axes."""
        return self.A1.ndim > 2 or self.A2.ndim > 2 or self.y.ndim > 1

    def split(self, w):
        """(x, u) from the joint vector w of shape (..., d1 + d2)."""
        if w.shape[-1] != self.dim:
            raise ValueError(f"w must have last axis of length {self.dim}, got {tuple(w.shape)}")
        return w[..., : self.d1], w[..., self.d1:]

    def join(self, x, u):
        """The joint vector w = (x, u)."""
        shape = torch.broadcast_shapes(x.shape[:-1], u.shape[:-1])
        return torch.cat([x.expand(*shape, self.d1), u.expand(*shape, self.d2)], dim=-1)

    def _check(self, x, u):
        if not isinstance(x, torch.Tensor) or not isinstance(u, torch.Tensor):
            raise ValueError("x and u must be torch tensors (use dtype=torch.float64)")
        if x.shape[-1] != self.d1:
            raise ValueError(f"x must have last axis of length d1 = {self.d1}, got "
                             f"{tuple(x.shape)}")
        if u.shape[-1] != self.d2:
            raise ValueError(f"u must have last axis of length d2 = {self.d2}, got "
                             f"{tuple(u.shape)}")

    @staticmethod
    def _mv(A, v):
        """A v over the last axes, broadcasting A's batch axes against v's leading axes. The
        trailing batch axes where A has size 1 are folded into one matrix product (fast)."""
        if A.ndim == 2:
            return v @ A.mT
        batch = torch.broadcast_shapes(A.shape[:-2], v.shape[:-1])
        a = (1,) * (len(batch) - (A.ndim - 2)) + tuple(A.shape[:-2])
        j = len(a)
        while j > 0 and a[j - 1] == 1:
            j -= 1
        core = A.reshape(*a[:j], *A.shape[-2:]).expand(*batch[:j], *A.shape[-2:])
        vv = v.expand(*batch, v.shape[-1]).reshape(*batch[:j], -1, v.shape[-1])
        return (vv @ core.mT).reshape(*batch, A.shape[-2])

    # -- the model, the loss, the gradient --------------------------------------------------
    def output(self, x, u):
        r""":math:`h(x, u) = A_1 x + \sigma(A_2 u)`, shape ``(..., n)``."""
        self._check(x, u)
        return self._mv(self.A1, x) + self.sigma(self._mv(self.A2, u))

    def residual(self, x, u):
        r""":math:`r = h(x, u) - y`."""
        return self.output(x, u) - self.y

    def loss(self, x, u):
        r""":math:`f(x, u) = \tfrac12 \|h(x, u) - y\|^2`, shape ``(...)``."""
        return 0.5 * (self.residual(x, u) ** 2).sum(-1)

    def grad(self, x, u):
        r"""The two gradient blocks, :math:`\nabla_x f = A_1^\top r` and
        :math:`\nabla_u f = A_2^\top (\sigma'(A_2 u) \odot r)` with :math:`r = h - y`
        (:math:`\sigma'` in closed form for the named activations, ReLU's being
        :math:`\mathbb 1[A_2 u > 0]`; by one forward-mode ``torch.func.jvp`` for a custom
        elementwise :math:`\sigma`)."""
        self._check(x, u)
        z = self._mv(self.A2, u)
        if self.dsigma is None:  # a custom elementwise sigma: sigma'(z) by one JVP
            sz, dsig = func.jvp(self.sigma, (z,), (torch.ones_like(z),))
        else:
            sz, dsig = self.sigma(z), self.dsigma(z)
        r = self._mv(self.A1, x) + sz - self.y
        gx = self._mv(self._A1T, r)
        gu = self._mv(self._A2T, dsig * r)
        return gx, gu

    def loss_w(self, w):
        """f at the joint vector w = (x, u); for the optimizers' ``loss=``."""
        return self.loss(*self.split(w))

    def grad_w(self, w):
        r""":math:`\nabla f(w) = (\nabla_x f, \nabla_u f)` at w = (x, u); for the optimizers'
        ``grad``. Broadcasts a batch of instances against the trials in w."""
        gx, gu = self.grad(*self.split(w))
        shape = torch.broadcast_shapes(gx.shape[:-1], gu.shape[:-1], w.shape[:-1])
        return torch.cat([gx.expand(*shape, self.d1), gu.expand(*shape, self.d2)], dim=-1)

    def minimiser_x(self, u):
        r""":math:`x^\star(u) = \arg\min_x f(x, u)`, the least-squares solution of
        :math:`A_1 x = y - \sigma(A_2 u)` (``torch.linalg.lstsq``); with :math:`A_1` square and
        invertible, :math:`A_1^{-1}(y - \sigma(A_2 u))` (``torch.linalg.solve``) and
        :math:`f(x^\star(u), u) = 0`. ``u`` may carry leading axes (many u's, one solve)."""
        if u.shape[-1] != self.d2:
            raise ValueError(f"u must have last axis of length d2 = {self.d2}")
        rhs = self.y - self.sigma(self._mv(self.A2, u))
        if self.A1.ndim == 2:  # one matrix, many right-hand sides: one solve
            flat = rhs.reshape(-1, self.n).T
            sol = torch.linalg.lstsq(self.A1, flat).solution if self.n != self.d1 else \
                torch.linalg.solve(self.A1, flat)
            return sol.T.reshape(*rhs.shape[:-1], self.d1)
        A1 = self.A1.expand(*rhs.shape[:-1], self.n, self.d1)
        return torch.linalg.lstsq(A1, rhs.unsqueeze(-1)).solution.squeeze(-1)

    # -- closed-form constants -------------------------------------------------------------
    def singular_values(self):
        """Singular values of A1 and A2 (descending), as NumPy arrays."""
        return (torch.linalg.svdvals(self.A1).numpy(), torch.linalg.svdvals(self.A2).numpy())

    @property
    def constants(self) -> PartitionConstants:
        r"""The closed forms :math:`\mu = \sigma_{\min}(A_1)^2`, :math:`L_1 =
        \sigma_{\max}(A_1)^2`, :math:`L_2 = 1`, :math:`G_1 = B\sigma_{\max}(A_2)`,
        :math:`G_2 = B\sigma_{\max}(A_1)\sigma_{\max}(A_2)` (Liao & Kyrillidis 2024, §5.1).
        :math:`\mu` is that of A1 only when :math:`d_1 \le n` (else :math:`A_1^\top A_1` is
        singular and :math:`\mu = 0`, which raises ValueError)."""
        if self.batched:
            raise ValueError("constants of a batched model: take them from each instance")
        s1, s2 = self.singular_values()
        mu = float(s1[-1] ** 2) if self.d1 <= self.n else 0.0
        if mu <= 0:
            raise ValueError(f"A1 (shape {self.n} x {self.d1}) must have full column rank for "
                             "f to be strongly convex in x")
        return PartitionConstants(mu=mu, L1=float(s1[0] ** 2), L2=1.0,
                                  G1=self.B * float(s2[0]),
                                  G2=self.B * float(s1[0]) * float(s2[0]))

    def __repr__(self) -> str:
        batch = f", batch={tuple(torch.broadcast_shapes(self.A1.shape[:-2], self.A2.shape[:-2]))}" \
            if self.batched else ""
        return (f"AdditiveModel(n={self.n}, d1={self.d1}, d2={self.d2}, "
                f"sigma={self.sigma_name}{batch})")


def random_additive_model(n: int, d2: int, *, kappa: float, sigma_max_A2: float,
                          L1: float | None = None, seed: int = 0,
                          sigma: str = "relu") -> AdditiveModel:
    r"""An additive model with :math:`n = d_1` (square, invertible :math:`A_1`, so A6 holds with
    :math:`f^\star = 0`), a prescribed :math:`\kappa = L_1/\mu = \sigma_{\max}(A_1)^2 /
    \sigma_{\min}(A_1)^2` and a prescribed :math:`\sigma_{\max}(A_2)`.

    * :math:`A_1 = U\,\mathrm{diag}(s)\,V^\top` with Haar-random orthogonal :math:`U, V`
      (``scipy.stats.ortho_group``) and singular values log-spaced from
      :math:`\sqrt{L_1/\kappa}` to :math:`\sqrt{L_1}` (default :math:`L_1 = n`, the scale of a
      matrix with unit-variance entries);
    * :math:`A_2` has i.i.d. Gaussian entries, rescaled so that its largest singular value is
      ``sigma_max_A2`` (so ``sigma_max_A2`` is the one knob that sets :math:`G_1, G_2`);
    * :math:`y \sim N(0, I_n)`.

    The same ``seed`` gives the same :math:`A_1`, :math:`y` and direction of :math:`A_2` for
    every ``sigma_max_A2``, so a sweep over it changes nothing else.
    """
    _validate.positive_int("n", n)
    _validate.positive_int("d2", d2)
    _validate.kappa("kappa", kappa)
    _validate.positive("sigma_max_A2", sigma_max_A2)
    L1 = float(n) if L1 is None else L1
    _validate.positive("L1", L1)
    from scipy.stats import ortho_group

    rng = np.random.default_rng(seed)
    U = ortho_group.rvs(n, random_state=rng) if n > 1 else np.eye(1)
    V = ortho_group.rvs(n, random_state=rng) if n > 1 else np.eye(1)
    s = np.sqrt(L1) * np.exp(np.linspace(-0.5 * np.log(kappa), 0.0, n))[::-1]
    A1 = (U * s) @ V.T
    G = rng.standard_normal((n, d2))
    A2 = sigma_max_A2 * G / np.linalg.norm(G, 2)
    y = rng.standard_normal(n)
    return AdditiveModel(A1, A2, y, sigma=sigma)


def block_deltas(traj, d1: int):
    r""":math:`\|x_{k+1} - x_k\|` and :math:`\|u_{k+1} - u_k\|` from a Trajectory of joint
    iterates :math:`w_k = (x_k, u_k)` (run with ``keep_iterates=True``); each of shape
    ``(K, ...)`` as NumPy arrays."""
    if traj.x is None:
        raise ValueError("traj has no iterates; run the optimizer with keep_iterates=True")
    _validate.positive_int("d1", d1)
    w = torch.as_tensor(_validate.as_numpy(traj.x))
    dw = w[1:] - w[:-1]
    dx = torch.linalg.vector_norm(dw[..., :d1], dim=-1).numpy()
    du = torch.linalg.vector_norm(dw[..., d1:], dim=-1).numpy()
    return dx, du


# --------------------------------------------------------------------------------------------
# Measuring the constants of any model
# --------------------------------------------------------------------------------------------


def _x_spectrum(loss, x, u, dense_limit):
    """Smallest and largest eigenvalue of the x-Hessian block of loss at (x, u)."""
    fx = lambda xx: loss(xx, u)  # noqa: E731
    if x.numel() <= dense_limit:
        H = func.hessian(fx)(x)
        H = 0.5 * (H + H.T)
        ev = torch.linalg.eigvalsh(H)
        return float(ev[0]), float(ev[-1])
    from scipy.sparse.linalg import LinearOperator, eigsh

    g = func.grad(fx)

    def hvp(v):
        vt = torch.as_tensor(np.asarray(v).reshape(-1), dtype=x.dtype)
        return func.jvp(g, (x,), (vt,))[1].detach().numpy()

    op = LinearOperator((x.numel(), x.numel()), matvec=hvp, dtype=np.float64)
    lo = eigsh(op, k=1, which="SA", return_eigenvectors=False, tol=1e-8)[0]
    hi = eigsh(op, k=1, which="LA", return_eigenvectors=False, tol=1e-8)[0]
    return float(lo), float(hi)


def _jacobian_norm(F, u, dense_limit, iters=100):
    r"""Spectral norm of the Jacobian of :math:`F` at :math:`u` and its top right singular
    vector: dense (``torch.func.jacrev``) when small, else power iteration on :math:`J^\top J`
    with ``torch.func.jvp`` / ``vjp``."""
    out = F(u)
    if out.numel() * u.numel() <= dense_limit:
        J = func.jacrev(F)(u).reshape(out.numel(), u.numel())
        _, S, Vh = torch.linalg.svd(J, full_matrices=False)
        return float(S[0]), Vh[0]
    _, vjp_fn = func.vjp(F, u)
    v = torch.randn(u.shape, dtype=u.dtype, generator=torch.Generator().manual_seed(0))
    v = v / torch.linalg.vector_norm(v)
    s = 0.0
    for _ in range(iters):
        Jv = func.jvp(F, (u,), (v,))[1]
        w = vjp_fn(Jv)[0]
        nw = torch.linalg.vector_norm(w)
        if nw == 0:
            return 0.0, v
        s, v = float(torch.sqrt(nw)), w / nw
    return s, v


def _unit(rng, shape):
    v = torch.as_tensor(rng.standard_normal(shape), dtype=DTYPE)
    return v / torch.linalg.vector_norm(v)


def estimate_constants(loss: Callable, x, u, *, model: Callable | None = None,
                       outer: Callable | None = None, radius: float = 0.1, samples: int = 8,
                       seed: int = 0, dense_limit: int = 2_000_000) -> PartitionConstants:
    r"""Measure the partition-model constants of ``loss`` near the point :math:`(x, u)`.

    ``loss(x, u)`` returns the scalar :math:`f` (a torch tensor) for flat float64 tensors ``x``
    of shape ``(d1,)`` and ``u`` of shape ``(d2,)``; it must be differentiable by
    ``torch.func``. ``model(x, u)`` (optional) returns the output vector :math:`h` with
    :math:`f = g \circ h`. Points are sampled uniformly in the ball of radius ``radius``
    around :math:`(x, u)` (``samples`` of them, plus the point itself; seeded by ``seed``).

    * :math:`\mu`, :math:`L_1` (A1, A2): the smallest and largest eigenvalues of the x-Hessian
      block :math:`\nabla^2_{xx} f` (``torch.func.hessian``, or Lanczos on Hessian-vector
      products via ``scipy.sparse.linalg.eigsh`` when :math:`d_1^2` exceeds ``dense_limit``),
      the minimum and maximum over the point and the samples. They are exact where the Hessian
      is constant in the ball (as for the additive model); otherwise :math:`\mu` is an *upper*
      and :math:`L_1` a *lower* bound on the true constants over the ball.
    * :math:`L_2` (A3): ``None`` without a model. With a model: the largest eigenvalue of the
      Hessian of ``outer`` at :math:`h` when ``outer`` (g) is given, else 1, the constant of the
      MSE :math:`g(h) = \tfrac12\|h - y\|^2` whose Hessian is the identity.
    * :math:`G_1` (A4, needs ``model``; ``None`` without one) and :math:`G_2` (A5): Lipschitz
      constants in :math:`u` of :math:`h(x, \cdot)` and of :math:`\nabla_x f(x, \cdot)`. Each is
      the largest of (i) the spectral norm of the Jacobian in :math:`u` (of :math:`h`, or the
      mixed block :math:`\nabla^2_{ux} f`) at the sampled points, computed exactly with
      ``torch.func`` (dense, or power iteration on JVPs / VJPs for large ones), and (ii) finite
      ratios :math:`\|F(u_1) - F(u_2)\| / \|u_1 - u_2\|` for pairs in the ball, along a random
      direction and along the top singular direction of the Jacobian. Every such number is
      attained, so each estimate is a **lower bound** on the constant over the ball; it is
      tight when the worst case is sampled (for the additive model with ReLU: a point where all
      units are active and the singular directions align).
    """
    if not callable(loss):
        raise ValueError(f"loss must be callable, got {type(loss).__name__}")
    if model is not None and not callable(model):
        raise ValueError(f"model must be callable or None, got {type(model).__name__}")
    if outer is not None and model is None:
        raise ValueError("outer (g) needs model (h): f = g(h(x, u))")
    for name, v in (("x", x), ("u", u)):
        if not isinstance(v, torch.Tensor) or v.ndim != 1:
            raise ValueError(f"{name} must be a flat (1-D) torch tensor, got "
                             f"{type(v).__name__} of shape {tuple(getattr(v, 'shape', ()))}")
        _validate.finite(name, v)
    x, u = x.detach().to(DTYPE), u.detach().to(DTYPE)
    _validate.positive("radius", radius)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 0:
        raise ValueError(f"samples must be an integer >= 0, got {samples!r}")
    out = loss(x, u)
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        raise ValueError("loss(x, u) must return a scalar torch tensor")
    rng = np.random.default_rng(seed)

    def ball(v):
        r = radius * rng.uniform() ** (1.0 / v.numel())
        return v + r * _unit(rng, v.shape)

    points = [(x, u)] + [(ball(x), ball(u)) for _ in range(samples)]

    # A1, A2: spectrum of the x-Hessian block
    spec = [_x_spectrum(loss, xx, uu, dense_limit) for xx, uu in points]
    mu = min(s[0] for s in spec)
    L1 = max(s[1] for s in spec)

    # A3
    if model is None:
        L2 = None
    elif outer is None:
        L2 = 1.0
    else:
        h0 = model(x, u).detach()
        L2 = _x_spectrum(lambda hh, _: outer(hh), h0, None, dense_limit)[1]

    # A4, A5: Lipschitz constants in u
    def lipschitz(F):
        best = 0.0
        for xx, uu in points:
            Fx = lambda vv, xx=xx: F(xx, vv)  # noqa: E731
            s, v_top = _jacobian_norm(Fx, uu, dense_limit)
            best = max(best, s)
            step = radius / 4
            for direction in (v_top.reshape(uu.shape), _unit(rng, uu.shape)):
                d = step * direction / torch.linalg.vector_norm(direction)
                ratio = torch.linalg.vector_norm(Fx(uu + d) - Fx(uu)) / step
                best = max(best, float(ratio))
        return best

    grad_x = func.grad(loss, argnums=0)
    G2 = lipschitz(lambda xx, uu: grad_x(xx, uu))
    G1 = lipschitz(model) if model is not None else None
    return PartitionConstants(mu=mu, L1=L1, L2=L2, G1=G1, G2=G2,
                              source=f"estimated, radius {radius:g}, {samples} samples")


# --------------------------------------------------------------------------------------------
# Theorem 7's sufficient conditions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theorem7Check:
    r"""Which of Theorem 7's sufficient conditions hold (see :func:`check_theorem7`).

    ``rows``: one tuple ``(name, lhs, rhs, holds, margin)`` per condition, with
    ``margin = rhs / lhs`` (> 1: holds with that factor to spare; ``None`` when unknown).
    """

    constants: PartitionConstants
    beta: float
    c: float
    constant: float
    rows: tuple

    @property
    def holds(self) -> bool | None:
        """True if every condition holds, False if one fails, None if one is unknown."""
        flags = [r[3] for r in self.rows]
        if any(f is False for f in flags):
            return False
        return None if any(f is None for f in flags) else True

    def __str__(self) -> str:
        head = f"{'condition':<34} {'lhs':>10} {'rhs':>10} {'holds':>6} {'rhs/lhs':>9}"
        lines = [f"Theorem 7 (c = {self.c:g}, beta = {self.beta:.4g}, kappa = "
                 f"{self.constants.kappa:.3g}, hidden constant C = {self.constant:g})", head,
                 "-" * len(head)]
        for name, lhs, rhs, ok, margin in self.rows:
            flag = {True: "yes", False: "NO", None: "?"}[ok]
            lines.append(f"{name:<34} {_fmt(lhs):>10} {_fmt(rhs):>10} {flag:>6} "
                         f"{_fmt(margin):>9}")
        return "\n".join(lines)


def check_theorem7(constants: PartitionConstants, beta: float, c: float = 1.0, *,
                   constant: float = 1.0) -> Theorem7Check:
    r"""Evaluate Theorem 7's sufficient conditions on small :math:`G_1, G_2` (Liao &
    Kyrillidis 2024, Thm 7, in the form the authors' essay states it):

    .. math::
        G_1^4 \le \frac{\mu^2}{C\,L_2 (L_2+1)^2}\Big(\frac{1-\beta}{1+\beta}\Big)^3, \qquad
        G_1^2 G_2^2 \le \frac{\mu^3}{C\,L_2 (L_2+1)\sqrt\kappa}\Big(\frac{1-\beta}{1+\beta}\Big)^2 .

    The essay writes these with :math:`\lesssim`; :math:`C` (``constant``) is the absolute
    constant it hides, 1 by default, so the margins are indicative, not the paper's exact
    thresholds. The bounds are :func:`momentum.theory.theorem7_bounds`. Also reported: whether
    ``beta`` is Theorem 7's choice :func:`momentum.theory.theorem7_beta` for this
    :math:`\kappa` and ``c``. The theorem's further lower bounds on the radii
    :math:`R_x, R_u` are not checked here (for the additive model the assumptions hold for
    every :math:`u`).
    """
    if not isinstance(constants, PartitionConstants):
        raise ValueError(f"constants must be a PartitionConstants, got "
                         f"{type(constants).__name__}")
    _validate.momentum("beta", beta)
    _validate.positive("c", c)
    if c > 1:
        raise ValueError(f"c must lie in (0, 1], got {c!r}")
    _validate.positive("constant", constant)
    k = constants.kappa
    beta_thm = theory.theorem7_beta(k, c)
    rows = [("beta = Theorem 7's beta", beta, beta_thm, bool(abs(beta - beta_thm) <= 1e-9),
             None)]
    known = constants.L2 is not None and constants.G1 is not None
    if known:
        b1, b2 = theory.theorem7_bounds(constants.mu, constants.L2, k, beta, constant=constant)
        lhs1 = constants.G1 ** 4
        lhs2 = constants.G1 ** 2 * constants.G2 ** 2
        for name, lhs, rhs in (("G1^4 <= bound (small G1)", lhs1, b1),
                               ("G1^2 G2^2 <= bound (small G1 G2)", lhs2, b2)):
            rows.append((name, lhs, rhs, bool(lhs <= rhs), rhs / lhs if lhs > 0 else math.inf))
    else:
        rows += [("G1^4 <= bound (small G1)", None, None, None, None),
                 ("G1^2 G2^2 <= bound (small G1 G2)", None, None, None, None)]
    return Theorem7Check(constants=constants, beta=float(beta), c=float(c),
                         constant=float(constant), rows=tuple(rows))


def additive_threshold(mu: float, L1: float, c: float = 1.0, *, B: float = 1.0,
                       constant: float = 1.0) -> float:
    r"""The largest :math:`\sigma_{\max}(A_2)` for which the additive model satisfies both of
    :func:`check_theorem7`'s conditions with Theorem 7's :math:`\beta`.

    With :math:`s = \sigma_{\max}(A_2)`: :math:`G_1 = Bs`, :math:`G_2 = B\sqrt{L_1}\,s`,
    :math:`L_2 = 1`, so the conditions read :math:`B^4 s^4 \le b_1` and
    :math:`B^4 L_1 s^4 \le b_2` (:func:`momentum.theory.theorem7_bounds`), and
    :math:`s^\star = \min\{b_1^{1/4}, (b_2/L_1)^{1/4}\}/B`.
    """
    _validate.mu_L(mu, L1)
    _validate.positive("B", B)
    kappa = L1 / mu
    beta = theory.theorem7_beta(kappa, c)
    b1, b2 = theory.theorem7_bounds(mu, 1.0, kappa, beta, constant=constant)
    return min(b1 ** 0.25, (b2 / L1) ** 0.25) / B


class DivergenceGuard:
    r"""Wraps a batched ``grad`` so that one blown-up trial does not stop a whole batch.

    ``momentum.optimizers`` stops a batched run as soon as any row diverges. In a sweep over
    problems some rows are *meant* to diverge; the guard freezes each row whose gradient norm
    exceeds ``factor`` times its first one (its gradient is replaced by 0 from then on, so the
    row coasts to rest under momentum, which decays like :math:`\beta^k`) and records it in
    :attr:`diverged` (a bool tensor over the leading axes). Such rows never reach a target
    loss, so ``Trajectory.iterations_to`` reports ``inf`` for them.
    """

    def __init__(self, grad: Callable, factor: float = 1e6):
        if not callable(grad):
            raise ValueError(f"grad must be callable, got {type(grad).__name__}")
        _validate.positive("factor", factor)
        self.grad, self.factor = grad, float(factor)
        self.first = None
        self.diverged = None

    def __call__(self, w):
        g = self.grad(w)
        norm = torch.linalg.vector_norm(g, dim=-1)
        if self.first is None:
            self.first = norm.clamp_min(1e-300)
            self.diverged = torch.zeros_like(norm, dtype=torch.bool)
        bad = ~torch.isfinite(norm) | (norm > self.factor * self.first)
        self.diverged = self.diverged | bad
        return torch.where(self.diverged[..., None], torch.zeros_like(g), g)


def window_rate(losses, *, start: float = 1e-2, stop: float = 1e-20):
    r"""Average linear rate of a loss sequence: :math:`\exp(\text{slope})` of a least-squares
    line through :math:`\log f_k` over the window where the relative loss :math:`f_k/f_0`
    first falls below ``start`` until it first falls below ``stop`` (round-off lies below).

    Over a window, a fitted line is robust to the oscillations of Nesterov's loss, which a
    fit on the last few iterations is not. ``losses`` has shape ``(K + 1, ...)`` (a
    Trajectory's ``losses``); returns a float, or an array over the trailing axes (``nan``
    where fewer than 5 points lie in the window). Compare with :math:`\rho^2` for a distance
    rate :math:`\rho` (on a quadratic the loss contracts like the square).
    """
    _validate.probability("start", start)
    _validate.probability("stop", stop)
    if stop >= start:
        raise ValueError(f"stop must be < start, got start={start!r}, stop={stop!r}")
    e = np.asarray(_validate.as_numpy(losses), dtype=float)
    if e.ndim < 1 or e.shape[0] < 2:
        raise ValueError(f"losses must have shape (K + 1, ...) with K >= 1, got {e.shape}")
    flat = e.reshape(e.shape[0], -1)
    out = np.full(flat.shape[1], np.nan)
    for j in range(flat.shape[1]):
        rel = flat[:, j] / flat[0, j]
        below_start = np.flatnonzero(rel <= start)
        if below_start.size == 0:
            continue
        i0 = below_start[0]
        below_stop = np.flatnonzero(rel <= stop)
        i1 = below_stop[0] if below_stop.size else len(rel)
        k = np.arange(i0, i1)
        if len(k) < 5 or not np.all(rel[k] > 0):
            continue
        slope = np.polyfit(k, np.log(rel[k]), 1)[0]
        out[j] = np.exp(slope)
    return float(out[0]) if e.ndim == 1 else out.reshape(e.shape[1:])

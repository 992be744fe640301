r"""The partition model's constants and its additive realisation (Liao & Kyrillidis 2024,
§3 and §5.1); the formulas are in :mod:`momentum.partition`'s docstring."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import func

from .. import _validate

__all__ = ["PartitionConstants", "AdditiveModel", "random_additive_model", "block_deltas",
           "ACTIVATIONS", "DTYPE"]

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
    t = _validate.tensor(name, value, DTYPE)
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
    # A2 and its Gaussian draw (n x d2, and the model's copy), U, V, A1 (n x n): float64
    _validate.size("d2", 3 * float(n) * d2 + 4 * float(n) ** 2,
                   what=f"an additive model with n = {n}, d2 = {d2}")
    from scipy.stats import ortho_group

    rng = np.random.default_rng(_validate.seed("seed", seed))
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

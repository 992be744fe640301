r"""Test problems with known constants.

* :class:`Quadratic`: :math:`f(x) = \tfrac12 (x - x^\star)^\top A (x - x^\star)` with
  :math:`A = A^\top \succ 0`; :math:`\mu = \lambda_{\min}(A)`, :math:`L = \lambda_{\max}(A)`,
  :math:`\kappa = L/\mu`, :math:`\nabla f(x) = A(x - x^\star)`.
* :func:`random_quadratic`: a quadratic with prescribed :math:`\kappa`, eigenvalues spread
  log-uniformly over :math:`[\mu, L] = [1/\kappa, 1]` and a random orthogonal eigenbasis.
* :func:`lessard_counterexample`: the one-dimensional, 1-strongly convex, 25-smooth function of
  Lessard, Recht & Packard (2016, §4.6) on which heavy ball with its quadratic-optimal tuning
  cycles forever.

Every ``loss`` and ``grad`` accepts a NumPy array or a torch tensor of shape ``(..., d)`` and
acts on the last axis, so a batch of trials is one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import _validate

__all__ = [
    "Quadratic", "QuadraticBatch", "random_quadratic", "lessard_counterexample", "LessardFunction",
]


def _like(a: np.ndarray, x):
    """``a`` as the same array type (and dtype) as ``x``."""
    if isinstance(x, torch.Tensor):
        return torch.as_tensor(a, dtype=x.dtype, device=x.device)
    return a


class Quadratic:
    r""":math:`f(x) = \tfrac12 (x - x^\star)^\top A (x - x^\star)`, strongly convex.

    Give either ``eigenvalues`` (then :math:`A = Q\,\mathrm{diag}(\lambda)\,Q^\top` with ``basis``
    :math:`Q`, identity by default) or a symmetric positive definite ``matrix``.
    """

    def __init__(self, eigenvalues=None, *, matrix=None, basis=None, minimiser=None):
        if (eigenvalues is None) == (matrix is None):
            raise ValueError("give exactly one of eigenvalues or matrix")
        if matrix is not None:
            A = _validate.array("matrix", matrix)
            _validate.finite("matrix", A)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise ValueError(f"matrix must be square, got shape {A.shape}")
            if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * np.abs(A).max()):
                raise ValueError("matrix must be symmetric")
            lam, Q = np.linalg.eigh(A)
        else:
            lam = _validate.array("eigenvalues", eigenvalues)
            if lam.ndim != 1 or lam.size == 0:
                raise ValueError(
                    f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
            Q = np.eye(len(lam)) if basis is None else _validate.array("basis", basis)
            _validate.finite("basis", Q)
            if Q.shape != (len(lam), len(lam)):
                raise ValueError(f"basis must have shape {(len(lam), len(lam))}, got {Q.shape}")
            if not np.allclose(Q.T @ Q, np.eye(len(lam)), atol=1e-10):
                raise ValueError("basis must be orthogonal")
            order = np.argsort(lam)
            lam, Q = lam[order], Q[:, order]
        _validate.positive("eigenvalues", lam)
        self.eigenvalues = lam
        self.basis = Q
        self.matrix = (Q * lam) @ Q.T
        self.dim = len(lam)
        x_star = np.zeros(self.dim) if minimiser is None else \
            _validate.array("minimiser", minimiser)
        _validate.finite("minimiser", x_star)
        if x_star.shape != (self.dim,):
            raise ValueError(f"minimiser must have shape ({self.dim},), got {x_star.shape}")
        self.minimiser = x_star

    @property
    def mu(self) -> float:
        r"""Strong convexity constant :math:`\mu = \lambda_{\min}(A)`."""
        return float(self.eigenvalues[0])

    @property
    def L(self) -> float:
        r"""Smoothness constant :math:`L = \lambda_{\max}(A)`."""
        return float(self.eigenvalues[-1])

    @property
    def kappa(self) -> float:
        r"""Condition number :math:`\kappa = L/\mu`."""
        return self.L / self.mu

    def _check(self, x):
        x = _validate.floating("x", x)     # an int tensor would cast A to int
        if x.ndim < 1 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have last axis of length {self.dim}, got shape "
                             f"{tuple(x.shape)}")
        return x

    def loss(self, x):
        r""":math:`f(x) = \tfrac12 (x-x^\star)^\top A (x-x^\star)`, over the last axis."""
        x = self._check(x)
        r = x - _like(self.minimiser, x)
        return 0.5 * ((r @ _like(self.matrix, x)) * r).sum(-1)

    def grad(self, x):
        r""":math:`\nabla f(x) = A (x - x^\star)`, over the last axis."""
        x = self._check(x)
        return (x - _like(self.minimiser, x)) @ _like(self.matrix, x)

    def __repr__(self) -> str:
        return (f"Quadratic(dim={self.dim}, mu={self.mu:.4g}, L={self.L:.4g}, "
                f"kappa={self.kappa:.4g})")


def random_quadratic(kappa: float, dim: int, seed: int = 0, *, L: float = 1.0) -> Quadratic:
    r"""A :class:`Quadratic` with condition number exactly ``kappa``.

    Eigenvalues: :math:`\mu = L/\kappa` and :math:`L` at the ends, the other ``dim - 2`` drawn
    log-uniformly in between; eigenbasis: a Haar-random orthogonal matrix
    (``scipy.stats.ortho_group``); minimiser :math:`x^\star = 0`.
    """
    _validate.kappa("kappa", kappa)
    _validate.positive_int("dim", dim)
    _validate.positive("L", L)
    if not L / kappa >= np.finfo(float).tiny:
        raise ValueError(f"L too small for kappa: the smallest eigenvalue L / kappa = "
                         f"{L / kappa:.3g} underflows float64 (L={L!r}, kappa={kappa!r})")
    if dim < 2 and kappa != 1:
        raise ValueError(f"dim must be >= 2 to have kappa > 1, got dim={dim}")
    # the basis, the matrix and eigh's workspace: about 4 dense d x d float64 arrays
    _validate.size("dim", 4 * float(dim) ** 2, what=f"a {dim} x {dim} quadratic")
    from scipy.stats import ortho_group

    rng = np.random.default_rng(_validate.seed("seed", seed))
    inner = np.exp(rng.uniform(np.log(1.0 / kappa), 0.0, size=max(dim - 2, 0)))
    lam = L * np.concatenate([[1.0 / kappa], inner, [1.0]])[:dim]
    Q = ortho_group.rvs(dim, random_state=rng) if dim > 1 else np.eye(1)
    return Quadratic(lam, basis=Q)


class QuadraticBatch:
    r"""Several quadratics of one dimension run as one batch: row :math:`b` of ``x`` (shape
    ``(B, d)``) sees :math:`f_b(x) = \tfrac12 (x - x_b^\star)^\top A_b (x - x_b^\star)`.

    ``mu``, ``L`` and ``kappa`` are arrays of shape ``(B, 1)``, so that a tuning computed from
    them broadcasts against ``x`` in :mod:`momentum.optimizers` (one run sweeps every problem).
    """

    def __init__(self, quadratics):
        if isinstance(quadratics, (str, bytes)) or not hasattr(quadratics, "__iter__"):
            raise ValueError(f"quadratics must be a sequence of Quadratic, got "
                             f"{quadratics!r:.80}")
        quadratics = list(quadratics)
        if not quadratics:
            raise ValueError("quadratics must not be empty")
        if not all(isinstance(q, Quadratic) for q in quadratics):
            raise ValueError("quadratics must be a sequence of Quadratic, got "
                             f"{[type(q).__name__ for q in quadratics][:5]}")
        dims = {q.dim for q in quadratics}
        if len(dims) != 1:
            raise ValueError(f"quadratics must share one dimension, got dimensions {sorted(dims)}")
        self.quadratics = quadratics
        self.dim = dims.pop()
        self.matrices = np.stack([q.matrix for q in quadratics])
        self.minimisers = np.stack([q.minimiser for q in quadratics])
        self.mu = np.array([[q.mu] for q in quadratics])
        self.L = np.array([[q.L] for q in quadratics])
        self.kappa = self.L / self.mu

    def __len__(self) -> int:
        return len(self.quadratics)

    def _check(self, x):
        x = _validate.floating("x", x)
        if tuple(x.shape) != (len(self), self.dim):
            raise ValueError(f"x must have shape {(len(self), self.dim)}, got {tuple(x.shape)}")
        return x

    def grad(self, x):
        r""":math:`\nabla f_b(x_b) = A_b (x_b - x_b^\star)` for every row :math:`b`."""
        x = self._check(x)
        lib = torch if isinstance(x, torch.Tensor) else np
        r = x - _like(self.minimisers, x)
        return lib.einsum("bij,bj->bi", _like(self.matrices, x), r)

    def loss(self, x):
        r""":math:`f_b(x_b)` for every row, shape ``(B,)``."""
        x = self._check(x)
        r = x - _like(self.minimisers, x)
        return 0.5 * (self.grad(x) * r).sum(-1)


@dataclass(frozen=True)
class LessardFunction:
    r"""The piecewise quadratic of Lessard, Recht & Packard (2016, §4.6):

    .. math::
        f(x) = \begin{cases}
        \tfrac{25}{2} x^2, & x < 1,\\
        \tfrac12 x^2 + 24 x - 12, & 1 \le x < 2,\\
        \tfrac{25}{2} x^2 - 24 x + 36, & x \ge 2,
        \end{cases}

    continuously differentiable, :math:`\mu = 1`-strongly convex and :math:`L = 25`-smooth
    (its second derivative is 25 or 1), minimised at :math:`x^\star = 0` with :math:`f^\star = 0`.
    Works elementwise on arrays of shape ``(..., 1)``.
    """

    mu: float = 1.0
    L: float = 25.0

    @property
    def kappa(self) -> float:
        return self.L / self.mu

    @property
    def minimiser(self) -> np.ndarray:
        return np.zeros(1)

    def loss(self, x):
        """f(x), summed over the last axis (of length 1)."""
        lib = torch if isinstance(x, torch.Tensor) else np
        val = lib.where(x < 1, 12.5 * x**2,
                        lib.where(x < 2, 0.5 * x**2 + 24 * x - 12, 12.5 * x**2 - 24 * x + 36))
        return val.sum(-1)

    def grad(self, x):
        """f'(x), elementwise."""
        lib = torch if isinstance(x, torch.Tensor) else np
        return lib.where(x < 1, 25 * x, lib.where(x < 2, x + 24, 25 * x - 24))


def lessard_counterexample() -> LessardFunction:
    r"""The Lessard-Recht-Packard function (see :class:`LessardFunction`): smooth, strongly
    convex, and heavy ball with :math:`\eta = 4/(\sqrt L + \sqrt\mu)^2 = 1/9`,
    :math:`\beta = ((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^2 = 4/9` does not converge on it from
    some starting points (from :math:`x_0 = 3.3` it falls into a 3-cycle near
    :math:`\{-1.80, 2.12, 0.65\}`)."""
    return LessardFunction()

r"""Measuring the partition-model constants of any differentiable model numerically
(:func:`estimate_constants`)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import func

from .. import _validate
from .model import DTYPE, PartitionConstants

__all__ = ["estimate_constants"]


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
    if not bool(torch.isfinite(out.detach()).all()):
        raise ValueError(f"loss(x, u) must be finite at the given point, got {float(out):g}")
    rng = np.random.default_rng(_validate.seed("seed", seed))

    def ball(v):
        r = radius * rng.uniform() ** (1.0 / v.numel())
        return v + r * _unit(rng, v.shape)

    points = [(x, u)] + [(ball(x), ball(u)) for _ in range(samples)]

    # A1, A2: spectrum of the x-Hessian block
    spec = [_x_spectrum(loss, xx, uu, dense_limit) for xx, uu in points]
    if not np.all(np.isfinite(np.asarray(spec, dtype=float))):
        raise ValueError("loss has a non-finite x-Hessian in the ball (NaN or inf); its "
                         "constants cannot be estimated there")
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
    def lipschitz(F, name):
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
                if not (math.isfinite(s) and math.isfinite(float(ratio))):
                    raise ValueError(f"{name} is not finite in the ball (NaN or inf); its "
                                     "Lipschitz constant in u cannot be estimated")
        return best

    grad_x = func.grad(loss, argnums=0)
    G2 = lipschitz(lambda xx, uu: grad_x(xx, uu), "loss")
    G1 = lipschitz(model, "model") if model is not None else None
    return PartitionConstants(mu=mu, L1=L1, L2=L2, G1=G1, G2=G2,
                              source=f"estimated, radius {radius:g}, {samples} samples")

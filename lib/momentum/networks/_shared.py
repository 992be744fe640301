r"""What the network families share: input checks and the NTK constants of a Gram matrix."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import _validate, theory

__all__ = ["NTKConstants", "ntk_constants"]


def _inputs(X, name: str = "X") -> torch.Tensor:
    """X as a 2-D floating tensor of shape (n, d), checked finite."""
    X = _validate.real(name, X if isinstance(X, torch.Tensor) else _validate.array(name, X),
                       allow_empty=True, finite_=False)
    X = torch.as_tensor(X)
    if not X.is_floating_point():
        X = X.to(torch.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {tuple(X.shape)}")
    _validate.finite(name, X)
    return X



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
    H = _validate.tensor("H", H)
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
    lam_m = theory.ntk_lambda_m(lam0, lam_max)
    return NTKConstants(lam0, lam_max, lam_m, theory.ntk_kappa(lam0, lam_m))


r"""Chapter 5's formulas: the curvature, tuning and stability limit of deep linear networks and
deep linear ResNets near initialisation (re-exported by :mod:`momentum.theory`)."""

from __future__ import annotations

import numpy as np

from .. import _validate
from .core import Tuning, tuning

__all__: list[str] = []

# =====================================================================================
# Chapter 5: deep linear networks and deep linear ResNets (the book's derivation; see the
# docstrings for what is taken from which paper)
# ============================================================================================


def deep_linear_curvature(sigma_max, sigma_min, depth, d_out):
    r"""The curvature range :math:`(\mu, L)` of the residual dynamics of a wide deep linear
    network :math:`f(X) = a W_L \cdots W_1 X`, :math:`a = (m^{L-1} d_y)^{-1/2}`
    (:class:`momentum.networks.DeepLinear`), at initialisation:

    .. math::
        H \approx \frac{L}{d_y}\, I_{d_y} \otimes X^\top X, \qquad
        \mu = \frac{L\,\sigma_{\min}^2(X)}{d_y}, \qquad L_H = \frac{L\,\sigma_{\max}^2(X)}{d_y},

    so :math:`\kappa = \sigma_{\max}^2(X)/\sigma_{\min}^2(X)`, the condition number of
    :math:`X^\top X`. Each of the :math:`L` layers contributes
    :math:`a^2 (S S^\top) \otimes (P^\top P)` with :math:`S S^\top \approx m^{L-\ell} I` and
    :math:`P^\top P \approx m^{\ell-1} X^\top X` for Gaussian weights of unit variance (exact
    for the orthogonal initialisation); this is the book's computation, not a paper's
    statement. Returns ``(mu, L)``."""
    sigma_max = _validate.scalar("sigma_max", sigma_max)
    sigma_min = _validate.scalar("sigma_min", sigma_min)
    _validate.positive("sigma_max", sigma_max)
    _validate.positive("sigma_min", sigma_min)
    _validate.positive_int("depth", depth)
    _validate.positive_int("d_out", d_out)
    if sigma_min > sigma_max:
        raise ValueError(f"sigma_min must be <= sigma_max, got {sigma_min!r} > {sigma_max!r}")
    with np.errstate(over="ignore", under="ignore"):
        out = tuple(float(np.float64(depth) * np.float64(s) ** 2 / d_out)
                    for s in (sigma_min, sigma_max))
    if out[0] == 0:
        raise ValueError(f"sigma_min too small: mu = depth sigma_min^2 / d_out underflows to 0 "
                         f"(sigma_min={sigma_min!r})")
    return _validate.result("sigma_max and depth", out)


def resnet_curvature(sigma_max, sigma_min, depth):
    r"""The same for the deep linear ResNet :math:`f = B (I + W_L) \cdots (I + W_1) A X` with
    :math:`W_\ell(0) = 0` and :math:`A^\top A \approx I`, :math:`BB^\top \approx I`
    (:class:`momentum.networks.DeepLinearResNet`): :math:`H(0) = L\,(BB^\top) \otimes
    (X^\top A^\top A X) \approx L\, I \otimes X^\top X`, so
    :math:`(\mu, L_H) = (L\sigma_{\min}^2(X), L\sigma_{\max}^2(X))`. Returns ``(mu, L)``."""
    return deep_linear_curvature(sigma_max, sigma_min, depth, 1)


def deep_linear_tuning(method: str, sigma_max, sigma_min, depth, d_out, *,
                       resnet: bool = False) -> Tuning:
    r"""The step, momentum and rate that the curvature range of
    :func:`deep_linear_curvature` (or :func:`resnet_curvature` with ``resnet=True``) prescribes
    for ``method``, with the textbook tunings of :func:`tuning`:

    * GD: :math:`\eta = d_y / (L\,\sigma_{\max}^2(X))`, rate :math:`1 - 1/\kappa`;
    * Nesterov: the same :math:`\eta`, :math:`\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`,
      rate :math:`1 - 1/\sqrt\kappa`;
    * heavy ball: Polyak's :math:`\eta = 4/(\sqrt{L_H} + \sqrt\mu)^2`,
      :math:`\beta = ((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^2`,

    with :math:`\kappa = \sigma_{\max}^2(X)/\sigma_{\min}^2(X)`. The rates are those of the
    linearised (frozen-kernel) residual dynamics. Liu, Tao & Pan (2022) prove a rate
    :math:`1 - O(1/\sqrt\kappa)` for Nesterov with constant step and momentum of this kind; their
    constants are not reproduced here (the book's choice)."""
    mu, L = (resnet_curvature(sigma_max, sigma_min, depth) if resnet else
             deep_linear_curvature(sigma_max, sigma_min, depth, d_out))
    return tuning(method, mu, L)


def nesterov_stability_limit(beta):
    r"""The largest :math:`\eta\lambda` for which Nesterov's iteration on a quadratic mode of
    curvature :math:`\lambda` is stable: :math:`\eta\lambda < 2(1+\beta)/(1+2\beta)` (the roots
    of :math:`z^2 - (1+\beta)(1-\eta\lambda) z + \beta(1-\eta\lambda) = 0` leave the unit disc
    through :math:`z = -1` there). With the tuning :math:`\eta = 1/L_H`, a network whose
    tangent kernel at initialisation has :math:`\lambda_{\max}(H_0) > L_H \cdot` this limit
    starts outside the stable range."""
    _validate.momentum("beta", beta)
    b = np.asarray(beta, dtype=float)
    out = 2 * (1 + b) / (1 + 2 * b)
    return out if out.ndim else float(out)


__all__ += ["deep_linear_curvature", "resnet_curvature", "deep_linear_tuning",
            "nesterov_stability_limit"]


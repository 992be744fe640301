r"""Every rate and parameter formula the book states.

Notation: :math:`\mu` strong convexity, :math:`L` smoothness, :math:`\kappa = L/\mu`,
:math:`\eta` step size, :math:`\beta` momentum. A *rate* :math:`\rho` means the error contracts
like :math:`\rho^k` (on a quadratic: the spectral radius of the iteration matrix, the factor by
which :math:`\|x_k - x^\star\|` and :math:`\|\nabla f(x_k)\|` shrink per step asymptotically).

Chapter 1 (strongly convex quadratics):

* GD: :math:`\eta = 1/L`, rate :math:`1 - 1/\kappa`; with the optimal
  :math:`\eta = 2/(L+\mu)`, rate :math:`(\kappa-1)/(\kappa+1)`.
* Heavy ball: :math:`\eta = 4/(\sqrt L+\sqrt\mu)^2`,
  :math:`\beta = ((\sqrt\kappa-1)/(\sqrt\kappa+1))^2`, rate :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`.
* Nesterov: :math:`\eta = 1/L`, :math:`\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)`,
  rate :math:`1 - 1/\sqrt\kappa`.

Sources: Polyak (1964) and Polyak, *Introduction to Optimization* (1987, §3.2) for heavy ball;
Nesterov, *Lectures on Convex Optimization* (2018, §2.2) for Nesterov; Lessard, Recht & Packard
(2016, §2-3) for the iteration-matrix view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _validate

__all__ = [
    "Tuning",
    "gd_tuning",
    "heavy_ball_tuning",
    "nesterov_tuning",
    "tuning",
    "rate_gd",
    "rate_heavy_ball",
    "rate_nesterov",
    "iterations_for",
    "iteration_matrix",
    "spectral_radius",
    "rate_on_spectrum",
]


@dataclass(frozen=True)
class Tuning:
    r"""A step size, a momentum, and the rate they guarantee on an (mu, L) quadratic."""

    eta: float
    beta: float
    rate: float


def gd_tuning(mu: float, L: float, *, optimal: bool = False) -> Tuning:
    r"""Gradient descent: :math:`\eta = 1/L`, rate :math:`1 - \mu/L = 1 - 1/\kappa`; or, with
    ``optimal=True``, :math:`\eta = 2/(L + \mu)`, rate :math:`(\kappa - 1)/(\kappa + 1)`
    (Nesterov 2018, Thm 2.1.15; Polyak 1987, §1.4)."""
    _validate.mu_L(mu, L)
    kappa = L / mu
    if optimal:
        return Tuning(2.0 / (L + mu), 0.0, (kappa - 1.0) / (kappa + 1.0))
    return Tuning(1.0 / L, 0.0, rate_gd(kappa))


def heavy_ball_tuning(mu: float, L: float) -> Tuning:
    r"""Polyak's optimal heavy-ball tuning for quadratics:
    :math:`\eta = 4/(\sqrt L + \sqrt\mu)^2`,
    :math:`\beta = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2`, rate
    :math:`(\sqrt\kappa - 1)/(\sqrt\kappa + 1)` (Polyak 1964; Lessard et al. 2016, Prop. 1)."""
    _validate.mu_L(mu, L)
    s = math.sqrt(L / mu)
    return Tuning(4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, ((s - 1) / (s + 1)) ** 2,
                  rate_heavy_ball(L / mu))


def nesterov_tuning(mu: float, L: float) -> Tuning:
    r"""Nesterov's constant-momentum tuning for :math:`\mu`-strongly convex, :math:`L`-smooth
    :math:`f`: :math:`\eta = 1/L`, :math:`\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`, rate
    :math:`1 - 1/\sqrt\kappa` (Nesterov 2018, §2.2.1, scheme (2.2.22))."""
    _validate.mu_L(mu, L)
    s = math.sqrt(L / mu)
    return Tuning(1.0 / L, (s - 1) / (s + 1), rate_nesterov(L / mu))


def tuning(method: str, mu: float, L: float) -> Tuning:
    """The standard tuning of ``method`` ("gd", "heavy_ball" or "nesterov") for (mu, L)."""
    table = {"gd": gd_tuning, "heavy_ball": heavy_ball_tuning, "nesterov": nesterov_tuning}
    if method not in table:
        raise ValueError(f"method must be one of {tuple(table)}, got {method!r}")
    return table[method](mu, L)


def rate_gd(kappa):
    r"""Gradient descent with :math:`\eta = 1/L`: :math:`\rho = 1 - 1/\kappa`."""
    _validate.kappa("kappa", kappa)
    return 1.0 - 1.0 / np.asarray(kappa, dtype=float) if np.ndim(kappa) else 1.0 - 1.0 / kappa


def rate_heavy_ball(kappa):
    r"""Optimally tuned heavy ball: :math:`\rho = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`."""
    _validate.kappa("kappa", kappa)
    s = np.sqrt(np.asarray(kappa, dtype=float))
    out = (s - 1.0) / (s + 1.0)
    return out if np.ndim(kappa) else float(out)


def rate_nesterov(kappa):
    r"""Nesterov with :math:`\eta = 1/L`, :math:`\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)`:
    :math:`\rho = 1 - 1/\sqrt\kappa`."""
    _validate.kappa("kappa", kappa)
    out = 1.0 - 1.0 / np.sqrt(np.asarray(kappa, dtype=float))
    return out if np.ndim(kappa) else float(out)


def iterations_for(rate, eps: float):
    r"""Iterations :math:`k` for :math:`\rho^k \le \varepsilon`:
    :math:`k = \lceil \log(1/\varepsilon) / \log(1/\rho) \rceil`. For :math:`\rho = 1 - 1/\kappa`
    this is about :math:`\kappa \log(1/\varepsilon)`; for :math:`1 - 1/\sqrt\kappa`, about
    :math:`\sqrt\kappa \log(1/\varepsilon)`."""
    _validate.probability("eps", eps)
    r = np.asarray(rate, dtype=float)
    if np.any((r <= 0) | (r >= 1)) or not np.all(np.isfinite(r)):
        raise ValueError(f"rate must lie in (0, 1), got {rate!r}")
    out = np.ceil(np.log(eps) / np.log(r))
    return out if np.ndim(rate) else int(out)


def _trace_det(method: str, lam, eta, beta):
    a = 1.0 - eta * lam
    if method == "gd":
        return a, np.zeros_like(a)
    if method == "heavy_ball":
        return 1.0 + beta - eta * lam, beta * np.ones_like(a)
    if method == "nesterov":
        return (1.0 + beta) * a, beta * a
    raise ValueError(f"method must be 'gd', 'heavy_ball' or 'nesterov', got {method!r}")


def iteration_matrix(method: str, lam: float, eta: float, beta: float = 0.0) -> np.ndarray:
    r"""The 2x2 matrix :math:`T` with :math:`(x_{k+1}, x_k)^\top = T\,(x_k, x_{k-1})^\top` on the
    eigen-direction of :math:`A` with eigenvalue :math:`\lambda`:

    .. math::
        T_{\mathrm{GD}} = \begin{pmatrix} 1-\eta\lambda & 0\\ 1 & 0\end{pmatrix},\quad
        T_{\mathrm{HB}} = \begin{pmatrix} 1+\beta-\eta\lambda & -\beta\\ 1 & 0\end{pmatrix},\quad
        T_{\mathrm{NAG}} = \begin{pmatrix} (1+\beta)(1-\eta\lambda) & -\beta(1-\eta\lambda)\\
        1 & 0\end{pmatrix}.

    (Lessard, Recht & Packard 2016, §2; Goh 2017.)
    """
    _validate.finite("lam", lam)
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    t, d = _trace_det(method, float(lam), float(eta), float(beta))
    return np.array([[t, -d], [1.0, 0.0]])


def spectral_radius(method: str, lam, eta, beta=0.0):
    r"""Spectral radius of :func:`iteration_matrix`, in closed form and broadcast over arrays:
    the roots of :math:`z^2 - \operatorname{tr}(T) z + \det T = 0` have largest modulus
    :math:`\sqrt{\det T}` when complex, else :math:`\max|\operatorname{tr}T \pm
    \sqrt{\operatorname{tr}^2 T - 4\det T}|/2`."""
    _validate.finite("lam", lam)
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    lam, eta, beta = (np.asarray(v, dtype=float) for v in (lam, eta, beta))
    t, d = _trace_det(method, lam, eta, beta)
    disc = t * t - 4.0 * d
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(t + root), np.abs(t - root)) / 2.0
    out = np.where(disc < 0, np.sqrt(np.abs(d)), real)
    return out if out.ndim else float(out)


def rate_on_spectrum(method: str, eigenvalues, eta, beta=0.0):
    r"""The asymptotic rate of ``method`` on a quadratic with the given eigenvalues:
    :math:`\rho(\eta, \beta) = \max_i \rho(T(\lambda_i))`. ``eta`` and ``beta`` broadcast
    (e.g. a grid for a heat map); the result has their broadcast shape."""
    lam = np.asarray(eigenvalues, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    eta = np.asarray(eta, dtype=float)[..., None]
    beta = np.asarray(beta, dtype=float)[..., None]
    out = np.max(spectral_radius(method, lam, eta, beta), axis=-1)
    return out if out.ndim else float(out)

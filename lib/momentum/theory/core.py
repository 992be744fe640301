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

from .. import _validate

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
    mu, L = _scalar_mu_L(mu, L)
    kappa = L / mu
    if optimal:
        return _tuning_result(2.0 / (L + mu), 0.0, (kappa - 1.0) / (kappa + 1.0))
    return _tuning_result(1.0 / L, 0.0, rate_gd(kappa))


def _scalar_mu_L(mu, L, names=("mu", "L")) -> tuple[float, float]:
    """mu and L as floats, 0 < mu <= L, each a single number (an array is refused by name)."""
    mu, L = _validate.scalar(names[0], mu), _validate.scalar(names[1], L)
    _validate.positive(names[0], mu)
    _validate.positive(names[1], L)
    if not mu <= L:
        raise ValueError(f"{names[0]} must be <= {names[1]}, got {names[0]}={mu!r}, "
                         f"{names[1]}={L!r}")
    if not math.isfinite(L / mu):
        raise ValueError(f"{names[0]} and {names[1]}: kappa = {names[1]}/{names[0]} overflows, "
                         f"got {names[0]}={mu!r}, {names[1]}={L!r}")
    return mu, L


def _tuning_result(eta, beta, rate, names: str = "mu and L") -> Tuning:
    _validate.result(names, (eta, beta, rate))
    return Tuning(float(eta), float(beta), float(rate))


def heavy_ball_tuning(mu: float, L: float) -> Tuning:
    r"""Polyak's optimal heavy-ball tuning for quadratics:
    :math:`\eta = 4/(\sqrt L + \sqrt\mu)^2`,
    :math:`\beta = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2`, rate
    :math:`(\sqrt\kappa - 1)/(\sqrt\kappa + 1)` (Polyak 1964; Lessard et al. 2016, Prop. 1)."""
    mu, L = _scalar_mu_L(mu, L)
    s = math.sqrt(L / mu)
    return _tuning_result(4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, ((s - 1) / (s + 1)) ** 2,
                  rate_heavy_ball(L / mu))


def nesterov_tuning(mu: float, L: float) -> Tuning:
    r"""Nesterov's constant-momentum tuning for :math:`\mu`-strongly convex, :math:`L`-smooth
    :math:`f`: :math:`\eta = 1/L`, :math:`\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`, rate
    :math:`1 - 1/\sqrt\kappa` (Nesterov 2018, §2.2.1, scheme (2.2.22))."""
    mu, L = _scalar_mu_L(mu, L)
    s = math.sqrt(L / mu)
    return _tuning_result(1.0 / L, (s - 1) / (s + 1), rate_nesterov(L / mu))


def tuning(method: str, mu: float, L: float) -> Tuning:
    """The standard tuning of ``method`` ("gd", "heavy_ball" or "nesterov") for (mu, L)."""
    table = {"gd": gd_tuning, "heavy_ball": heavy_ball_tuning, "nesterov": nesterov_tuning}
    if not isinstance(method, str) or method not in table:
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
    eps = float(eps)                  # a float32 eps would take its logarithm in float32
    r = _validate.array("rate", rate)
    if r.size == 0 or np.any((r <= 0) | (r >= 1)) or not np.all(np.isfinite(r)):
        raise ValueError(f"rate must lie in (0, 1), got {rate!r}")
    # the quotient of logarithms is only near the integer at exact powers (log(2**-29) /
    # log(0.5) = 29.000000000000004): correct the ceiling by one either way, so that k is the
    # least integer with rate**k <= eps as the powers themselves compare
    k = np.ceil(np.log(eps) / np.log(r))
    k = np.where((k >= 2) & (r ** (k - 1) <= eps), k - 1, k)
    k = np.where(r ** k > eps, k + 1, k)
    return k if np.ndim(rate) else int(k)


def _trace_det(method: str, lam, eta, beta):
    if not isinstance(method, str) or method not in ("gd", "heavy_ball", "nesterov"):
        raise ValueError(f"method must be 'gd', 'heavy_ball' or 'nesterov', got {method!r:.80}")
    if method == "gd" and np.any(np.asarray(_validate.as_numpy(beta)) != 0):
        raise ValueError(f"beta must be 0 for gradient descent, got {beta!r:.80}")
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
    lam, eta, beta = (_validate.scalar(n, v) for n, v in
                      (("lam", lam), ("eta", eta), ("beta", beta)))
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    t, d = _trace_det(method, lam, eta, beta)
    return _validate.result("lam and eta", np.array([[t, -d], [1.0, 0.0]]))


def spectral_radius(method: str, lam, eta, beta=0.0):
    r"""Spectral radius of :func:`iteration_matrix`, in closed form and broadcast over arrays:
    the roots of :math:`z^2 - \operatorname{tr}(T) z + \det T = 0` have largest modulus
    :math:`\sqrt{\det T}` when complex, else :math:`\max|\operatorname{tr}T \pm
    \sqrt{\operatorname{tr}^2 T - 4\det T}|/2`."""
    _validate.finite("lam", lam)
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    lam, eta, beta = (_validate.array(n, v) for n, v in
                      (("lam", lam), ("eta", eta), ("beta", beta)))
    t, d = _trace_det(method, lam, eta, beta)
    _validate.result("lam and eta", t)
    with np.errstate(over="ignore", invalid="ignore"):
        disc = t * t - 4.0 * d
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(t + root), np.abs(t - root)) / 2.0
    out = _validate.result("lam and eta", np.where(disc < 0, np.sqrt(np.abs(d)), real))
    return out if out.ndim else float(out)


def rate_on_spectrum(method: str, eigenvalues, eta, beta=0.0):
    r"""The asymptotic rate of ``method`` on a quadratic with the given eigenvalues:
    :math:`\rho(\eta, \beta) = \max_i \rho(T(\lambda_i))`. ``eta`` and ``beta`` broadcast
    (e.g. a grid for a heat map); the result has their broadcast shape."""
    lam = _validate.array("eigenvalues", eigenvalues)
    _validate.finite("eta", eta)
    _validate.finite("beta", beta)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {lam.shape}")
    _validate.finite("eigenvalues", lam)
    eta = np.asarray(eta, dtype=float)[..., None]
    beta = np.asarray(beta, dtype=float)[..., None]
    out = np.max(spectral_radius(method, lam, eta, beta), axis=-1)
    return out if out.ndim else float(out)


# --------------------------------------------------------------------------------------------
# Chapter 2: the partition model, Theorems 6 and 7 of Liao & Kyrillidis (2024)
# --------------------------------------------------------------------------------------------
#
# Under assumptions A1-A6 (mu-strongly convex and L1-smooth in the nice block x, kappa = L1/mu),
# with a constant c in (0, 1] that the step size exposes:
#
# * GD: Theorem 6 gives only the rate 1 - Theta(1/kappa); the book uses eta = c / L1 and the
#   explicit bound f(x_k, u_k) - f* <= (1 - c/(4 kappa))^k (f(x_0, u_0) - f*), its own choice
#   (Chapter 2 derives and checks it);
# * Theorem 7 (Nesterov): eta = c / L1, beta = (4 sqrt(kappa) - sqrt(c)) / (4 sqrt(kappa)
#   + 7 sqrt(c)), f(x_k, u_k) - f* <= 2 (1 - c/(4 sqrt(kappa)))^k (f(x_0, u_0) - f*),
#   when G1 and G2 are small enough (theorem7_bounds).
#
# These are bounds on the LOSS gap; on a quadratic the loss contracts like the square of the
# spectral radius, so 1 - 1/kappa (distance) corresponds to about 1 - 2/kappa (loss).


def _check_c(c) -> None:
    _validate.positive("c", c)
    if not np.all(np.asarray(c, dtype=float) <= 1):
        raise ValueError(f"c must lie in (0, 1], got {c!r}")


def theorem7_beta(kappa, c=1.0):
    r"""Theorem 7's momentum, :math:`\beta = (4\sqrt\kappa - \sqrt c)/(4\sqrt\kappa + 7\sqrt c)`
    (Liao & Kyrillidis 2024, Thm 7), :math:`c \in (0, 1]`. Broadcasts over arrays."""
    _validate.kappa("kappa", kappa)
    _check_c(c)
    s, r = np.sqrt(np.asarray(kappa, dtype=float)), np.sqrt(np.asarray(c, dtype=float))
    out = (4 * s - r) / (4 * s + 7 * r)
    return out if out.ndim else float(out)


def rate_theorem7(kappa, c=1.0):
    r"""Theorem 7's guaranteed loss contraction for Nesterov on the partition model,
    :math:`1 - c/(4\sqrt\kappa)` (Liao & Kyrillidis 2024, Thm 7)."""
    _validate.kappa("kappa", kappa)
    _check_c(c)
    out = 1.0 - np.asarray(c, dtype=float) / (4 * np.sqrt(np.asarray(kappa, dtype=float)))
    return out if out.ndim else float(out)


def rate_theorem6(kappa, c=1.0):
    r"""The book's explicit loss contraction for GD on the partition model,
    :math:`1 - c/(4\kappa)`, :math:`c \in (0, 1]`; Liao & Kyrillidis 2024 (Thm 6) state only
    :math:`1 - \Theta(1/\kappa)` (see Chapter 2)."""
    _validate.kappa("kappa", kappa)
    _check_c(c)
    out = 1.0 - np.asarray(c, dtype=float) / (4 * np.asarray(kappa, dtype=float))
    return out if out.ndim else float(out)


def theorem7_tuning(mu: float, L1: float, c: float = 1.0) -> Tuning:
    r"""Nesterov on the partition model (Liao & Kyrillidis 2024, Thm 7): :math:`\eta = c/L_1`,
    :math:`\beta =` :func:`theorem7_beta`, loss rate :math:`1 - c/(4\sqrt\kappa)`."""
    mu, L1 = _scalar_mu_L(mu, L1, ("mu", "L1"))
    c = _validate.scalar("c", c)
    _check_c(c)
    k = L1 / mu
    return Tuning(c / L1, theorem7_beta(k, c), rate_theorem7(k, c))


def theorem6_tuning(mu: float, L1: float, c: float = 1.0) -> Tuning:
    r"""GD on the partition model with the book's step :math:`\eta = c/L_1` and its explicit loss
    rate :math:`1 - c/(4\kappa)` (Liao & Kyrillidis 2024, Thm 6, give
    :math:`1 - \Theta(1/\kappa)`)."""
    mu, L1 = _scalar_mu_L(mu, L1, ("mu", "L1"))
    c = _validate.scalar("c", c)
    _check_c(c)
    return Tuning(c / L1, 0.0, rate_theorem6(L1 / mu, c))


def theorem7_bounds(mu, L2, kappa, beta, *, constant: float = 1.0):
    r"""The right-hand sides of Theorem 7's conditions on :math:`G_1, G_2`, as the authors'
    essay states them (Liao & Kyrillidis 2024, Thm 7; :math:`\lesssim` read as
    :math:`\le` up to the absolute constant :math:`C` = ``constant``):

    .. math::
        G_1^4 \le \frac{\mu^2}{C L_2 (L_2+1)^2}\Big(\frac{1-\beta}{1+\beta}\Big)^3, \qquad
        G_1^2 G_2^2 \le \frac{\mu^3}{C L_2 (L_2+1)\sqrt\kappa}\Big(\frac{1-\beta}{1+\beta}\Big)^2.

    Returns the two bounds ``(bound_G1^4, bound_G1^2 G2^2)``."""
    mu, L2, kappa, beta, constant = (_validate.scalar(n, v) for n, v in (
        ("mu", mu), ("L2", L2), ("kappa", kappa), ("beta", beta), ("constant", constant)))
    _validate.positive("mu", mu)
    _validate.positive("L2", L2)
    _validate.kappa("kappa", kappa)
    _validate.momentum("beta", beta)
    _validate.positive("constant", constant)
    q = (1.0 - beta) / (1.0 + beta)
    b1 = mu**2 / (constant * L2 * (L2 + 1.0) ** 2) * q**3
    b2 = mu**3 / (constant * L2 * (L2 + 1.0) * math.sqrt(kappa)) * q**2
    return _validate.result("mu, L2 and constant", (float(b1), float(b2)))


__all__ += [
    "theorem7_beta", "rate_theorem7", "rate_theorem6", "theorem7_tuning", "theorem6_tuning",
    "theorem7_bounds",
]


# --------------------------------------------------------------------------------------------
# Chapter 4: heavy ball against Nesterov on a two-layer ReLU network, through high-resolution
# ODEs (Liu, Tao, Li, Zhan, Wang & Pan, IJCAI 2023; Shi, Du, Jordan & Su 2021).
# Here a rate rho means the training loss obeys l(t) <= C exp(-rho sqrt(lambda_0 / 2) t) in the
# ODE time t = k sqrt(s), s the step size.
# --------------------------------------------------------------------------------------------


def rho_hb() -> float:
    r"""Heavy ball's rate exponent in Liu et al. (2023), Theorem 1:
    :math:`\ell(t) \le \frac{6\hat\ell(0)}{\lambda_0} e^{-(2-\sqrt2)\sqrt{\lambda_0/2}\,t}`,
    so :math:`\rho_{HB} = 2 - \sqrt 2 \approx 0.586`."""
    return 2.0 - math.sqrt(2.0)


def rho_nag(alpha):
    r"""Nesterov's rate exponent in Liu et al. (2023), Theorem 2:
    :math:`\rho^*_{NAG}(\alpha) = \tfrac12\big(4 + 3\alpha - \sqrt{8 + 16\alpha + 9\alpha^2}\big)`,
    with :math:`\alpha = \sqrt{2\lambda_0 s}/4 \in (0, 1/2]` for :math:`0 < s \le 1/\lambda_m`
    (:func:`nag_alpha`). :math:`\rho^*_{NAG}(0) = 2 - \sqrt 2` and
    :math:`\rho^*_{NAG}(1/2) = (11 - \sqrt{73})/4` (eq. (30)). ``alpha`` in [0, 1/2], scalar or
    array."""
    _validate.finite("alpha", alpha)
    a = np.asarray(alpha, dtype=float)
    if np.any((a < 0) | (a > 0.5)):
        raise ValueError(f"alpha must lie in [0, 1/2], got {alpha!r}")
    out = 0.5 * (4.0 + 3.0 * a - np.sqrt(8.0 + 16.0 * a + 9.0 * a * a))
    return out if out.ndim else float(out)


def nag_alpha(lambda_0, s):
    r""":math:`\alpha = \sqrt{2\lambda_0 s}/4`, the argument of :func:`rho_nag`
    (Liu et al. 2023, Theorem 2); :math:`\lambda_0 = \lambda_{\min}(H^\infty)`, :math:`s` the
    step size."""
    _validate.positive("lambda_0", lambda_0)
    _validate.positive("s", s)
    with np.errstate(over="ignore"):
        out = np.sqrt(2.0 * _validate.array("lambda_0", lambda_0) * _validate.array("s", s)) / 4.0
    _validate.result("lambda_0 and s", out)
    return out if out.ndim else float(out)


def rho_without_correction(phi):
    r"""The rate the Lyapunov argument of Liu et al. (2023, after Remark 3) gives for a given
    Young's-inequality weight :math:`\phi > 0` once Nesterov's gradient-correction term is
    dropped: :math:`\min\{2/(3+2\phi),\ 4/(2+1/\phi),\ 4/(1+\phi)\}`. Its maximum over
    :math:`\phi`, at :math:`\phi = (\sqrt2 - 1)/2`, is :math:`2 - \sqrt2` = :func:`rho_hb`."""
    _validate.positive("phi", phi)
    p = np.asarray(phi, dtype=float)
    out = np.minimum(np.minimum(2.0 / (3.0 + 2.0 * p), 4.0 / (2.0 + 1.0 / p)), 4.0 / (1.0 + p))
    return out if out.ndim else float(out)


def high_resolution_beta(mu, s):
    r"""The momentum that ties a step size :math:`s` to the high-resolution ODEs of Shi et al.
    (2021, §1.1): :math:`\beta = (1 - \sqrt{\mu s})/(1 + \sqrt{\mu s})`. With it, heavy ball
    and Nesterov (NAG-SC) with step :math:`s` follow their ODEs at the times
    :math:`t_k = k\sqrt s`; Liu et al. (2023) take :math:`\mu = \lambda_0/2`."""
    _validate.positive("mu", mu)
    _validate.positive("s", s)
    r = np.sqrt(np.asarray(mu, dtype=float) * np.asarray(s, dtype=float))
    if np.any(r >= 1):
        raise ValueError(f"mu * s must be < 1 for a momentum in [0, 1), got mu={mu!r}, s={s!r}")
    out = (1.0 - r) / (1.0 + r)
    return out if out.ndim else float(out)


__all__ += ["rho_hb", "rho_nag", "nag_alpha", "rho_without_correction", "high_resolution_beta"]


def ntk_lambda_m(lambda_0, lambda_max):
    r""":math:`\lambda_m = \lambda_{\max}(H^\infty) + \lambda_0/4`, the bound on
    :math:`\lambda_{\max}(H(t))` near initialisation (Liu et al. 2023, Lemmas 1-3, with
    :math:`\lambda_0 = \lambda_{\min}(H^\infty)`); the largest step is :math:`s = 1/\lambda_m`."""
    lambda_0 = _validate.scalar("lambda_0", lambda_0)
    lambda_max = _validate.scalar("lambda_max", lambda_max)
    _validate.positive("lambda_0", lambda_0)
    _validate.positive("lambda_max", lambda_max)
    return _validate.result("lambda_0 and lambda_max", lambda_max + lambda_0 / 4)


def ntk_kappa(lambda_0, lambda_m):
    r""":math:`\kappa = \lambda_m/(\lambda_0/2) = 2\lambda_m/\lambda_0`, the condition number of
    the residual dynamics of Liu et al. (2023), whose curvature lies in
    :math:`[\lambda_0/2, \lambda_m]` near initialisation (Lemmas 1-3)."""
    lambda_0 = _validate.scalar("lambda_0", lambda_0)
    lambda_m = _validate.scalar("lambda_m", lambda_m)
    _validate.positive("lambda_0", lambda_0)
    _validate.positive("lambda_m", lambda_m)
    with np.errstate(divide="ignore", over="ignore"):
        out = np.float64(lambda_m) / (np.float64(lambda_0) / 2)
    return float(_validate.result("lambda_0 and lambda_m", out))


def heavy_ball_underdamped_above(mu, s):
    r"""The eigenvalue above which a mode of heavy ball's residual ODE is underdamped,
    :math:`\lambda > \mu/(1 + \sqrt{\mu s})`. The mode obeys
    :math:`\ddot\delta + 2\sqrt\mu\,\dot\delta + (1 + \sqrt{\mu s})\lambda\,\delta = 0` (the
    heavy-ball high-resolution ODE of Shi, Du, Jordan & Su 2021, §1.1, on the residual as in
    Liu et al. 2023), underdamped when :math:`\mu < (1 + \sqrt{\mu s})\lambda`."""
    mu, s = _validate.scalar("mu", mu), _validate.scalar("s", s)
    _validate.positive("mu", mu)
    _validate.positive("s", s)
    return _validate.result("mu and s", mu / (1 + math.sqrt(mu * s)))


def nesterov_underdamped_interval(mu, s):
    r"""The eigenvalues :math:`\lambda_- < \lambda < \lambda_+` for which a mode of Nesterov's
    residual ODE is underdamped,

    .. math:: \lambda_\pm = \frac{2 \pm 2\sqrt{1 - \mu s}}{s}.

    The mode obeys :math:`\ddot\delta + (2\sqrt\mu + \sqrt s\,\lambda)\dot\delta +
    (1 + \sqrt{\mu s})\lambda\,\delta = 0` (NAG-SC's high-resolution ODE, Shi, Du, Jordan & Su
    2021, §1.1, on the residual as in Liu et al. 2023): underdamped when
    :math:`(\sqrt\mu + \sqrt s\lambda/2)^2 < (1 + \sqrt{\mu s})\lambda`, i.e.
    :math:`s\lambda^2/4 - \lambda + \mu < 0`. Needs :math:`\mu s \le 1`."""
    mu, s = _validate.scalar("mu", mu), _validate.scalar("s", s)
    _validate.positive("mu", mu)
    _validate.positive("s", s)
    if mu * s > 1:
        raise ValueError(f"mu * s must be <= 1, got mu={mu!r}, s={s!r}")
    root = math.sqrt(1 - mu * s)
    return _validate.result("mu and s", ((2 - 2 * root) / s, (2 + 2 * root) / s))


__all__ += ["ntk_lambda_m", "ntk_kappa", "heavy_ball_underdamped_above",
            "nesterov_underdamped_interval"]


def two_layer_width_requirement(n: int, lambda_0, p=1.0) -> float:
    r"""The width that Theorems 1 and 2 of Liu et al. (2023) assume, without its absolute
    constant:

    .. math:: m = \Omega\Big(\frac{n^6}{p^3\lambda_0^4}\Big),

    for the bounds to hold with probability at least :math:`1 - p` over the initialisation.
    At :math:`p = 1` (the default) it is the smallest this expression gets for any :math:`p`."""
    _validate.positive_int("n", n)
    lambda_0 = _validate.scalar("lambda_0", lambda_0)
    _validate.positive("lambda_0", lambda_0)
    if not (isinstance(p, (int, float, np.floating)) and not isinstance(p, bool) and 0 < p <= 1):
        raise ValueError(f"p must be in (0, 1], got {p!r}")
    with np.errstate(over="ignore", divide="ignore"):
        out = np.float64(n) ** 6 / (np.float64(p) ** 3 * np.float64(lambda_0) ** 4)
    return float(_validate.result("n and lambda_0", out))


__all__ += ["two_layer_width_requirement"]


# --------------------------------------------------------------------------------------------
# Chapter 2 and 3: the additive model's threshold and Theorem 15's width (Liao & Kyrillidis 2024)
# --------------------------------------------------------------------------------------------


def additive_threshold(mu: float, L1: float, c: float = 1.0, *, B: float = 1.0,
                       constant: float = 1.0) -> float:
    r"""The largest :math:`\sigma_{\max}(A_2)` for which the additive model
    :math:`h = A_1 x + \sigma(A_2 u)` satisfies both of Theorem 7's conditions
    (:func:`theorem7_bounds`) with Theorem 7's :math:`\beta` (Liao & Kyrillidis 2024, §5.1).

    With :math:`s = \sigma_{\max}(A_2)`: :math:`G_1 = Bs`, :math:`G_2 = B\sqrt{L_1}\,s`,
    :math:`L_2 = 1`, so the conditions read :math:`B^4 s^4 \le b_1` and
    :math:`B^4 L_1 s^4 \le b_2`, and

    .. math:: s^\star = \min\{b_1^{1/4},\ (b_2/L_1)^{1/4}\}/B .
    """
    mu, L1 = _scalar_mu_L(mu, L1, ("mu", "L1"))
    B = _validate.scalar("B", B)
    _validate.positive("B", B)
    kappa = L1 / mu
    beta = theorem7_beta(kappa, c)
    b1, b2 = theorem7_bounds(mu, 1.0, kappa, beta, constant=constant)
    return _validate.result("mu, L1 and B", min(b1 ** 0.25, (b2 / L1) ** 0.25) / B)


def width_requirement(n: int, d0: int) -> float:
    r"""Theorem 15's sufficient penultimate width, without its absolute constant (Liao &
    Kyrillidis 2024, Thm 15):

    .. math:: d_{\Lambda-1} \gtrsim n^{4.5}\max\{n, d_0^2\},

    which is :math:`n^{5.5}` when :math:`d_0^2 \le n`."""
    _validate.positive_int("n", n)
    _validate.positive_int("d0", d0)
    with np.errstate(over="ignore"):
        out = np.float64(n) ** 4.5 * np.float64(max(n, d0 ** 2))
    return float(_validate.result("n and d0", out))


__all__ += ["additive_threshold", "width_requirement"]

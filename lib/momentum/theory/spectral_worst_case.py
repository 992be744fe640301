r"""Chapter 6's formulas: the residual polynomials of the momentum methods and the n-step worst
case over quadratics with spectrum in :math:`[\mu, L]`, in closed form (re-exported by
:mod:`momentum.theory`). The worst case over all smooth strongly convex functions, by
performance estimation (PEPit), is :mod:`momentum.pep`."""

from __future__ import annotations

import numpy as np

from .. import _validate
from .core import _trace_det

__all__: list[str] = []

# --------------------------------------------------------------------------------------------
# Chapter 6: the n-step worst case over a spectrum (added for "Beyond the theorems")
# --------------------------------------------------------------------------------------------


def step_polynomials(method: str, lam, eta, beta=0.0, steps: int = 1) -> np.ndarray:
    r"""The residual polynomials :math:`p_k(\lambda)`, :math:`k = 0, \dots, K`, of ``method``
    started at rest (:math:`x_{-1} = x_0`): on a quadratic with Hessian :math:`A`,
    :math:`x_k - x^\star = p_k(A)\,(x_0 - x^\star)`, and on the eigen-direction with
    eigenvalue :math:`\lambda`

    .. math::
        \begin{pmatrix} p_{k}(\lambda) \\ p_{k-1}(\lambda) \end{pmatrix}
        = T(\lambda)^k \begin{pmatrix} 1 \\ 1 \end{pmatrix},

    with :math:`T(\lambda)` the :func:`iteration_matrix`; that is, the recurrence
    :math:`p_{k+1} = \operatorname{tr}T\,p_k - \det T\,p_{k-1}`, :math:`p_0 = p_{-1} = 1`.
    Returns an array of shape ``(K + 1, *lam.shape)``."""
    _validate.finite("lam", lam)
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    _validate.positive_int("steps", steps)
    lam = _validate.array("lam", lam)
    _validate.size("steps", (float(steps) + 3) * max(lam.size, 1),
                   what=f"{steps + 1} polynomials at {lam.size} eigenvalue(s)")
    t, d = _trace_det(method, lam, float(eta), float(beta))
    out = np.empty((steps + 1, *lam.shape))
    prev, cur = np.ones_like(lam), np.ones_like(lam)
    out[0] = cur
    for k in range(1, steps + 1):
        prev, cur = cur, t * cur - d * prev
        out[k] = cur
    return out


def worst_case_on_spectrum(method: str, mu: float, L: float, eta, beta=0.0, *, steps: int,
                           grid: int = 4001) -> np.ndarray:
    r"""The exact :math:`k`-step worst case of ``method`` over the quadratics whose spectrum
    lies in :math:`[\mu, L]`, for :math:`k = 0, \dots, K`:

    .. math::
        r_k = \sup_{\mu I \preceq A \preceq L I}\ \sup_{x_0 \ne x^\star}
        \frac{\|x_k - x^\star\|}{\|x_0 - x^\star\|}
        = \max_{\lambda \in [\mu, L]} \Big| e_1^\top T(\lambda)^k
        \begin{pmatrix} 1 \\ 1\end{pmatrix} \Big| = \max_{\lambda\in[\mu, L]} |p_k(\lambda)|,

    started at rest (:math:`x_{-1} = x_0`), with :math:`p_k` from :func:`step_polynomials`
    (the sup over :math:`x_0` puts all of :math:`x_0 - x^\star` on the worst eigenvector).
    The maximum is taken on a grid of ``grid`` points and refined by a bounded scalar search
    around the best grid point. As :math:`k \to \infty`, :math:`r_k^{1/k}` tends to the
    :func:`spectral_radius` at the worst eigenvalue, the asymptotic rate of Chapter 1
    (Lessard, Recht & Packard 2016, §2; Goujaud, Taylor & Dieuleveut 2023, who compare this
    class of quadratics with all smooth strongly convex functions)."""
    from scipy.optimize import minimize_scalar

    _validate.mu_L(mu, L)
    _validate.positive_int("grid", grid)
    _validate.positive_int("steps", steps)
    _validate.size("grid", float(max(grid, 3)) * (steps + 4),
                   what=f"{steps + 1} polynomials on a grid of {grid} eigenvalues")
    lam = np.linspace(mu, L, max(grid, 3))
    P = np.abs(step_polynomials(method, lam, eta, beta, steps))       # (K + 1, grid)
    out = P.max(axis=1)
    for k in range(1, steps + 1):
        i = int(P[k].argmax())
        lo, hi = lam[max(i - 1, 0)], lam[min(i + 1, lam.size - 1)]
        if hi > lo:
            res = minimize_scalar(
                lambda v, k=k: -abs(step_polynomials(method, v, eta, beta, k)[k]),
                bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * (hi - lo)})
            out[k] = max(out[k], -float(res.fun))
    return out


__all__ += ["step_polynomials", "worst_case_on_spectrum"]

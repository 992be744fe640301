r"""Exact worst cases of the momentum methods over a function class, by performance estimation
(PEPit). The closed-form worst case over quadratics with a given spectrum interval is
:mod:`momentum.theory.spectral_worst_case` (``theory.worst_case_on_spectrum``).

A *performance estimation problem* (PEP; Drori & Teboulle 2014, made exact for smooth strongly
convex functions by Taylor, Hendrickx & Glineur 2017) asks for the largest value of a
performance measure after :math:`K` steps of a fixed method, over every function of a class and
every starting point that satisfies an initial condition. For the classes used here the
problem is a small semidefinite program whose optimal value is that worst case. This module
poses it with PEPit (Goujaud, Moucer, Glineur, Hendrickx, Taylor & Dieuleveut 2024) and solves
it with the open-source SDP solver Clarabel through CVXPY.

The measure is the one :func:`momentum.theory.worst_case_on_spectrum` computes on quadratics:

.. math::
    r_K(\mathcal F) = \sup_{f \in \mathcal F}\ \sup_{x_0 \ne x^\star}
    \frac{\|x_K - x^\star\|}{\|x_0 - x^\star\|},

with the method started at rest (:math:`x_{-1} = x_0`; for Nesterov :math:`y_0 = x_0`) and
:math:`\mathcal F` either all :math:`L`-smooth :math:`\mu`-strongly convex functions
(``"smooth_strongly_convex"``) or only the quadratics among them (``"quadratic"``, with the
interpolation conditions of Bousselmi, Hendrickx & Glineur 2023 that PEPit implements). On
quadratics the two computations must agree (``tests/test_worst_case.py``); the gap between the
classes is what Chapter 6 plots.

The SDP solver's last digits vary between machines and versions: print two or three
significant digits of what it returns.

**When the solver fails.** The SDP grows with the number of steps and gets worse conditioned
with :math:`\kappa`; an interior-point solver can then stop without an optimal solution
(``SolverError: Solver 'CLARABEL' failed``, or a status "optimal_inaccurate" whose value is
wrong: with too few iterations Clarabel returns 4.64 for a worst case of 6.27). A value is
accepted with the status "optimal", or "optimal_inaccurate" when PEPit's dual certificate and
the primal value agree to :data:`GAP_TOL` (Clarabel stops so on many of Chapter 6's problems,
with values right to many digits); otherwise the next setting of :data:`FALLBACKS` is tried
(Clarabel with more iterations, then the first-order solver SCS, accurate to about
:math:`10^{-4}`, enough for the two or three digits a chapter prints), and when none succeeds
a :class:`PEPSolverError` says which problem failed and what to do.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings

from . import _validate

__all__ = ["CLASSES", "FALLBACKS", "GAP_TOL", "PEPSolverError", "pep_worst_case", "pep_worst_cases"]

#: The solver settings tried, in order, after the one asked for, until one reports an optimal
#: solution: ``(solver, options)`` pairs passed to CVXPY.
FALLBACKS: tuple = (("CLARABEL", {"max_iter": 2000}), ("SCS", {"max_iters": 200_000}))
#: A solve reported "optimal_inaccurate" is accepted when PEPit's dual certificate (the value
#: returned) and the primal value agree to this gap, relative to max(|primal|, 1).
GAP_TOL = 1e-6


class PEPSolverError(RuntimeError):
    """No solver setting found an optimal solution of a performance estimation problem."""

#: The function classes :func:`pep_worst_case` knows.
CLASSES = ("smooth_strongly_convex", "quadratic")


def _function_class(name: str):
    from PEPit.functions import (
        SmoothStronglyConvexFunction,
        SmoothStronglyConvexQuadraticFunction,
    )

    if name == "smooth_strongly_convex":
        return SmoothStronglyConvexFunction
    if name == "quadratic":
        return SmoothStronglyConvexQuadraticFunction
    raise ValueError(f"function_class must be one of {CLASSES}, got {name!r}")


def pep_worst_case(method: str, mu: float, L: float, eta: float, beta: float = 0.0, *,
                   steps: int, function_class: str = "smooth_strongly_convex",
                   solver: str = "CLARABEL", solver_options: dict | None = None) -> float:
    r"""The worst case :math:`r_K(\mathcal F)` of the module docstring for ``method`` in
    ``("gd", "heavy_ball", "nesterov")`` with step ``eta`` and momentum ``beta``:

    * heavy ball: :math:`x_{k+1} = x_k - \eta\nabla f(x_k) + \beta(x_k - x_{k-1})`;
    * Nesterov: :math:`y_k = x_k + \beta(x_k - x_{k-1})`, :math:`x_{k+1} = y_k - \eta\nabla
      f(y_k)`; GD is either with :math:`\beta = 0`.

    The PEP maximises :math:`\|x_K - x^\star\|^2` subject to :math:`\|x_0 - x^\star\|^2 \le 1`;
    the square root of its value is returned. ``solver`` and ``solver_options`` (CVXPY's) are
    tried first, then :data:`FALLBACKS` (module docstring); the solvers print nothing."""
    if not isinstance(method, str) or method not in ("gd", "heavy_ball", "nesterov"):
        raise ValueError(f"method must be 'gd', 'heavy_ball' or 'nesterov', got {method!r}")
    mu, L = _validate.scalar("mu", mu), _validate.scalar("L", L)
    eta, beta = _validate.scalar("eta", eta), _validate.scalar("beta", beta)
    _validate.mu_L(mu, L)
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    _validate.positive_int("steps", steps)
    if method == "gd" and beta != 0:
        raise ValueError(f"beta must be 0 for gradient descent, got {beta!r}")
    _function_class(function_class)
    if not isinstance(solver, str):
        raise ValueError(f"solver must be a CVXPY solver name, got {solver!r}")
    if solver_options is not None and not isinstance(solver_options, dict):
        raise ValueError(f"solver_options must be a dict or None, got {solver_options!r}")
    failures = []
    for name, options in ((solver, solver_options or {}), *FALLBACKS):
        value, why = _solve(method, mu, L, eta, beta, steps, function_class, name, options)
        if value is not None:
            return value
        failures.append(f"{name} {options or ''}: {why}".replace(" :", ":"))
    raise PEPSolverError(
        f"no solver found the worst case of {method} after steps={steps} (mu={mu:.3g}, "
        f"L={L:.3g}, kappa={L / mu:.3g}, class {function_class!r}): "
        + "; ".join(failures) + ". Fewer steps or a smaller kappa make the SDP smaller and "
        "better conditioned; another installed solver can be named with solver=...")


def _solve(method, mu, L, eta, beta, steps, function_class, solver, options):
    """One attempt: (the worst case, None), or (None, why it was not accepted)."""
    from PEPit import PEP

    problem = PEP()
    f = problem.declare_function(_function_class(function_class), mu=mu, L=L)
    xs = f.stationary_point()
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    x, x_prev = x0, x0
    for _ in range(steps):
        if method == "nesterov":
            y = x + beta * (x - x_prev)
            x_next = y - eta * f.gradient(y)
        else:
            x_next = x - eta * f.gradient(x) + beta * (x - x_prev)
        x_prev, x = x, x_next
    problem.set_performance_metric((x - xs) ** 2)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        # CVXPY's "solution may be inaccurate" and PEPit's printed notes on the duality gap:
        # the status below decides instead
        warnings.simplefilter("ignore", UserWarning)
        try:
            value = problem.solve(wrapper="cvxpy", solver=solver, verbose=0, **options)
        except Exception as e:           # cvxpy's SolverError, or a solver's own error
            return None, f"{type(e).__name__}: {str(e)[:120]}"
    prob = getattr(problem.wrapper, "prob", None)
    status = getattr(prob, "status", "optimal")
    primal = getattr(prob, "value", value)
    if value is None or primal is None:
        return None, f"status {status!r}, no value"
    value = float(value)
    if not (math.isfinite(value) and primal is not None and math.isfinite(float(primal))):
        return None, f"status {status!r}, value {value:.6g}"
    gap = abs(value - float(primal))           # PEPit's dual certificate against the primal
    if status == "optimal" or (status == "optimal_inaccurate"
                               and gap <= GAP_TOL * max(abs(float(primal)), 1.0)):
        return math.sqrt(max(value, 0.0)), None
    return None, f"status {status!r}, primal {float(primal):.6g}, dual {value:.6g}"


def pep_worst_cases(method: str, mu: float, L: float, eta: float, beta: float = 0.0, *,
                    steps, function_class: str = "smooth_strongly_convex",
                    solver: str = "CLARABEL", solver_options: dict | None = None,
                    progress: bool = False) -> list[float]:
    """:func:`pep_worst_case` for each number of steps in ``steps`` (one SDP each; the size of
    the SDP grows with the steps, so keep them to a dozen or so on a laptop)."""
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
        raise ValueError(f"steps must be a sequence of step counts, got {steps!r:.80}")
    steps = list(steps)
    if not steps:
        raise ValueError("steps must not be empty")
    for k in steps:
        _validate.positive_int("steps", k)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc=f"PEP {method}", leave=False)
    return [pep_worst_case(method, mu, L, eta, beta, steps=k, function_class=function_class,
                           solver=solver, solver_options=solver_options) for k in steps]

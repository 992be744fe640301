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
"""

from __future__ import annotations

import math
import warnings

from . import _validate

__all__ = ["CLASSES", "pep_worst_case", "pep_worst_cases"]

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
                   solver: str = "CLARABEL") -> float:
    r"""The worst case :math:`r_K(\mathcal F)` of the module docstring for ``method`` in
    ``("gd", "heavy_ball", "nesterov")`` with step ``eta`` and momentum ``beta``:

    * heavy ball: :math:`x_{k+1} = x_k - \eta\nabla f(x_k) + \beta(x_k - x_{k-1})`;
    * Nesterov: :math:`y_k = x_k + \beta(x_k - x_{k-1})`, :math:`x_{k+1} = y_k - \eta\nabla
      f(y_k)`; GD is either with :math:`\beta = 0`.

    The PEP maximises :math:`\|x_K - x^\star\|^2` subject to :math:`\|x_0 - x^\star\|^2 \le 1`;
    the square root of its value is returned. The solver prints nothing."""
    if method not in ("gd", "heavy_ball", "nesterov"):
        raise ValueError(f"method must be 'gd', 'heavy_ball' or 'nesterov', got {method!r}")
    _validate.mu_L(mu, L)
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    _validate.positive_int("steps", steps)
    if method == "gd" and beta != 0:
        raise ValueError(f"beta must be 0 for gradient descent, got {beta!r}")
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
    with warnings.catch_warnings():
        # CVXPY's "solution may be inaccurate" fires on some well-solved instances; the tests
        # check the values against the closed form on quadratics instead
        warnings.simplefilter("ignore", UserWarning)
        value = problem.solve(wrapper="cvxpy", solver=solver, verbose=0)
    return math.sqrt(max(float(value), 0.0))


def pep_worst_cases(method: str, mu: float, L: float, eta: float, beta: float = 0.0, *,
                    steps, function_class: str = "smooth_strongly_convex",
                    solver: str = "CLARABEL", progress: bool = False) -> list[float]:
    """:func:`pep_worst_case` for each number of steps in ``steps`` (one SDP each; the size of
    the SDP grows with the steps, so keep them to a dozen or so on a laptop)."""
    steps = list(steps)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc=f"PEP {method}", leave=False)
    return [pep_worst_case(method, mu, L, eta, beta, steps=k, function_class=function_class,
                           solver=solver) for k in steps]

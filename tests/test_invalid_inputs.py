"""Property-based tests (hypothesis): every public function of the library, given an invalid
input (eta <= 0, beta outside [0, 1), kappa < 1, NaN or infinity, mismatched shapes, empty data),
raises a ValueError that names the parameter: never a crash deep inside NumPy or torch, never a
silent NaN result.

The cases are one table, CASES: to cover a new function, add a row
``(id, parameter, strategy of bad values, call)`` where ``call(bad)`` calls the function with
the bad value in that parameter and valid values elsewhere. The number of inputs tried is
printed at the end of the run.
"""

from __future__ import annotations

import math
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from momentum import (
    _validate,
    adaptive,
    check,
    data,
    display,
    networks,
    ode,
    optimizers,
    partition,
    pep,
    plotting,
    problems,
    records,
    stochastic,
    theory,
    widgets,
)
from momentum.networks import deep_relu_grid, mean_field

TRIED: Counter = Counter()
CLEAN: Counter = Counter()

# --------------------------------------------------------------------------------------------
# Strategies of invalid values
# --------------------------------------------------------------------------------------------

NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NOT_POSITIVE = st.one_of(st.floats(max_value=0.0, allow_nan=False), NONFINITE)
NOT_MOMENTUM = st.one_of(st.floats(max_value=-1e-12, allow_nan=False),
                         st.floats(min_value=1.0, allow_nan=False), NONFINITE)
NOT_KAPPA = st.one_of(st.floats(max_value=1.0 - 1e-9, allow_nan=False), NONFINITE)
NOT_PROBABILITY = st.one_of(st.floats(max_value=0.0, allow_nan=False),
                            st.floats(min_value=1.0, allow_nan=False), st.just(math.nan))
NOT_POSITIVE_INT = st.one_of(st.integers(max_value=0), st.floats(allow_nan=True),
                             st.just(True), st.text(max_size=3))


@st.composite
def vector_with_nonfinite(draw, dim=None):
    """A float vector (length ``dim`` or 1-6) with a NaN or infinity at a random place."""
    d = dim or draw(st.integers(1, 6))
    x = np.array(draw(st.lists(st.floats(-10, 10), min_size=d, max_size=d)))
    x[draw(st.integers(0, d - 1))] = draw(NONFINITE)
    return x


@st.composite
def wrong_batch(draw, batch=3):
    """An (eta or beta) column of a batch size that is not ``batch`` (or of a wrong rank)."""
    b = draw(st.integers(1, 8).filter(lambda n: n not in (1, batch)))
    shape = draw(st.sampled_from([(b, 1), (b,), (1, batch, 2)]))
    return np.full(shape, 0.1)


EMPTY = st.sampled_from([np.array([]), np.zeros((0,)), np.zeros((3, 0))])
#: Complex numbers with a non-zero imaginary part (never silently accepted or truncated).
COMPLEX = st.builds(complex, st.floats(0.01, 2.0), st.floats(0.01, 2.0))
#: Inputs that are not real numbers: bool, object, text, None.
NOT_REAL = st.sampled_from([True, np.bool_(False), "0.1", None, np.array([0.1], dtype=object),
                            np.array([True, False, True])])
NOT_REAL_VECTOR = st.sampled_from([np.array([True, False, True]), np.ones(3, dtype=object),
                                   np.array(["a", "b", "c"]), np.ones(3) + 1j, "abc", None,
                                   [1, "2", 3]])
NOT_TOLERANCE = st.one_of(NOT_POSITIVE, COMPLEX, st.sampled_from([True, "1e-6", None]))
#: Seeds no generator takes: negative, 2**64 or more, text, bool, float.
NOT_SEED = st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64),
                     st.sampled_from(["0", True, 1.5, None, [0, -1]]))
#: An array where one number is expected.
NOT_SCALAR = st.sampled_from([np.array([0.5, 0.6]), [0.5, 0.6], np.ones((2, 2)) * 0.5])
#: Numbers so large (or small) that a formula overflows.
HUGE = st.sampled_from([1e300, 1e308, 1.7e308])
TINY = st.sampled_from([1e-320, 5e-324, 1e-310])

# --------------------------------------------------------------------------------------------
# Fixed valid inputs
# --------------------------------------------------------------------------------------------

Q = problems.random_quadratic(kappa=10.0, dim=3, seed=0)
X0 = np.ones(3)
XB = np.ones((3, 3))
BATCH = problems.QuadraticBatch([problems.random_quadratic(5.0, 3, seed=s) for s in range(3)])
RUN = optimizers.gd(Q.grad, X0, eta=0.5, steps=60, loss=Q.loss)
RUNNERS = {
    "gd": lambda **kw: optimizers.gd(**{"grad": Q.grad, "x0": X0, "eta": 0.5, "steps": 3, **kw}),
    "heavy_ball": lambda **kw: optimizers.heavy_ball(
        **{"grad": Q.grad, "x0": X0, "eta": 0.5, "beta": 0.5, "steps": 3, **kw}),
    "nesterov": lambda **kw: optimizers.nesterov(
        **{"grad": Q.grad, "x0": X0, "eta": 0.5, "beta": 0.5, "steps": 3, **kw}),
}

TWO_LAYER = networks.TwoLayerReLU(4, 3)
DEEP_LINEAR = networks.DeepLinear([3, 4, 2])
DEEP_LINEAR_DATA = networks.regression_problem(2, 3, 2, kappa=4.0)
DEEP = networks.DeepReLU([3, 4, 1])
XU = torch.eye(3, dtype=torch.float64)
YU = torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)


def _draw(fig, value):
    fig.add_subplot().plot([0, 1], [0, value])


def _wrong_length(x):
    return np.ones(x.shape[:-1] + (x.shape[-1] + 1,))


# --------------------------------------------------------------------------------------------
# The table: (id, parameter named in the error, strategy, call with the bad value)
# --------------------------------------------------------------------------------------------

CASES = []
for name, run in RUNNERS.items():
    CASES += [
        (f"{name}-eta", "eta", NOT_POSITIVE, lambda v, run=run: run(eta=v)),
        (f"{name}-x0-nonfinite", "x0", vector_with_nonfinite(3), lambda v, run=run: run(x0=v)),
        (f"{name}-x0-empty", "x0", EMPTY, lambda v, run=run: run(x0=v)),
        (f"{name}-x0-torch-nan", "x0", vector_with_nonfinite(3),
         lambda v, run=run: run(x0=torch.as_tensor(v))),
        (f"{name}-steps", "steps", NOT_POSITIVE_INT, lambda v, run=run: run(steps=v)),
        (f"{name}-eta-batch-shape", "eta", wrong_batch(),
         lambda v, run=run: run(x0=XB, eta=v, grad=lambda x: x)),
        (f"{name}-grad-shape", "grad", st.integers(1, 4),
         lambda v, run=run: run(grad=lambda x: np.ones(x.shape[-1] + v))),
        (f"{name}-grad-not-callable", "grad", st.one_of(st.none(), st.integers(), st.text()),
         lambda v, run=run: run(grad=v)),
        (f"{name}-eta-complex", "eta", COMPLEX, lambda v, run=run: run(eta=v)),
        (f"{name}-eta-not-real", "eta", NOT_REAL, lambda v, run=run: run(eta=v)),
        (f"{name}-x0-complex", "x0", COMPLEX, lambda v, run=run: run(x0=X0 * v)),
        (f"{name}-x0-not-real", "x0", NOT_REAL_VECTOR, lambda v, run=run: run(x0=v)),
        (f"{name}-steps-iterates-too-large", "steps", st.integers(10**9, 10**12),
         lambda v, run=run: run(steps=v)),
        (f"{name}-eta-per-coordinate", "eta", st.just(np.full(3, 0.1)),
         lambda v, run=run: run(x0=XB, eta=v, grad=lambda x: x)),
    ]
    if name != "gd":
        CASES += [
            (f"{name}-beta", "beta", NOT_MOMENTUM, lambda v, run=run: run(beta=v)),
            (f"{name}-beta-batch-shape", "beta", wrong_batch(),
             lambda v, run=run: run(x0=XB, beta=v, grad=lambda x: x)),
            (f"{name}-beta-complex", "beta", COMPLEX, lambda v, run=run: run(beta=v * 0.2)),
        ]

CASES += [
    # optimizers: torch_optimizer and the Trajectory's methods
    ("torch_optimizer-eta", "eta", NOT_POSITIVE,
     lambda v: optimizers.torch_optimizer("nesterov", [torch.zeros(2, requires_grad=True)],
                                          eta=v, beta=0.9)),
    ("torch_optimizer-beta", "beta", NOT_MOMENTUM,
     lambda v: optimizers.torch_optimizer("heavy_ball", [torch.zeros(2, requires_grad=True)],
                                          eta=0.1, beta=v)),
    ("torch_optimizer-name", "name", st.text(max_size=8).filter(
        lambda s: s not in optimizers.METHODS),
     lambda v: optimizers.torch_optimizer(v, [torch.zeros(2, requires_grad=True)], eta=0.1)),
    ("Trajectory.rate-tail", "tail", NOT_PROBABILITY, lambda v: RUN.rate(tail=v)),
    ("Trajectory.rate-of", "of", st.text(max_size=8).filter(
        lambda s: s not in ("loss", "grad_norm", "distance", "residual")),
     lambda v: RUN.rate(of=v)),
    ("run-method", "method", st.text(max_size=8).filter(lambda s: s not in optimizers.METHODS),
     lambda v: optimizers.run(v, lambda x: x, np.ones(2), eta=0.1, steps=2)),
    ("method_by_name-method", "method", st.text(max_size=8).filter(
        lambda s: s not in optimizers.METHODS), lambda v: optimizers.method_by_name(v)),
    ("gd-beta", "beta", st.floats(0.01, 0.99), lambda v: optimizers.gd(
        lambda x: x, np.ones(2), eta=0.1, beta=v, steps=2)),
    ("book_iterates-opt", "opt", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: optimizers.book_iterates(v)),
    ("liu_step-method", "method", st.text(max_size=8).filter(
        lambda s: s not in optimizers.METHODS),
     lambda v: optimizers.liu_step(v, 1.0, None, 2.0, None, eta=0.1, beta=0.5)),
    ("Trajectory.iterations_to-eps", "eps", NOT_POSITIVE, lambda v: RUN.iterations_to(v)),
    # theory
    ("rate_gd-kappa", "kappa", NOT_KAPPA, lambda v: theory.rate_gd(v)),
    ("rate_heavy_ball-kappa", "kappa", NOT_KAPPA, lambda v: theory.rate_heavy_ball(v)),
    ("rate_nesterov-kappa", "kappa", NOT_KAPPA, lambda v: theory.rate_nesterov(v)),
    ("rate_gd-kappa-complex", "kappa", COMPLEX, lambda v: theory.rate_gd(10 * v)),
    ("rate_heavy_ball-kappa-complex", "kappa", COMPLEX,
     lambda v: theory.rate_heavy_ball(10 * v)),
    ("rate_nesterov-kappa-not-real", "kappa", NOT_REAL, lambda v: theory.rate_nesterov(v)),
    ("rate_nesterov-kappa-array", "kappa", vector_with_nonfinite(),
     lambda v: theory.rate_nesterov(np.abs(v) + 1)),
    ("gd_tuning-mu", "mu", NOT_POSITIVE, lambda v: theory.gd_tuning(v, 1.0)),
    ("heavy_ball_tuning-L", "L", NOT_POSITIVE, lambda v: theory.heavy_ball_tuning(0.1, v)),
    ("nesterov_tuning-mu>L", "mu", st.floats(1.0, 1e6, exclude_min=True),
     lambda v: theory.nesterov_tuning(v, 1.0)),
    ("tuning-method", "method", st.text(max_size=8).filter(
        lambda s: s not in optimizers.METHODS), lambda v: theory.tuning(v, 0.1, 1.0)),
    ("iterations_for-eps", "eps", NOT_PROBABILITY, lambda v: theory.iterations_for(0.9, v)),
    ("iterations_for-rate", "rate", st.one_of(NOT_PROBABILITY, NONFINITE),
     lambda v: theory.iterations_for(v, 1e-3)),
    ("iteration_matrix-eta", "eta", NOT_POSITIVE,
     lambda v: theory.iteration_matrix("nesterov", 0.5, v, 0.5)),
    ("iteration_matrix-beta", "beta", NOT_MOMENTUM,
     lambda v: theory.iteration_matrix("heavy_ball", 0.5, 0.5, v)),
    ("iteration_matrix-lam", "lam", NONFINITE,
     lambda v: theory.iteration_matrix("gd", v, 0.5)),
    ("spectral_radius-eta-array", "eta", vector_with_nonfinite(),
     lambda v: theory.spectral_radius("nesterov", 0.5, np.abs(v) + 0.1, 0.5)),
    ("spectral_radius-beta", "beta", NOT_MOMENTUM,
     lambda v: theory.spectral_radius("heavy_ball", 0.5, 0.5, v)),
    ("spectral_radius-method", "method", st.text(max_size=8).filter(
        lambda s: s not in optimizers.METHODS), lambda v: theory.spectral_radius(v, 0.5, 0.5)),
    ("rate_on_spectrum-eigenvalues-empty", "eigenvalues", EMPTY,
     lambda v: theory.rate_on_spectrum("gd", v, 0.5)),
    ("rate_on_spectrum-eigenvalues-nan", "eigenvalues", vector_with_nonfinite(),
     lambda v: theory.rate_on_spectrum("gd", v, 0.5)),
    ("rate_on_spectrum-eta", "eta", NOT_POSITIVE,
     lambda v: theory.rate_on_spectrum("gd", [0.1, 1.0], v)),
    # problems
    ("Quadratic-eigenvalues-not-positive", "eigenvalues", NOT_POSITIVE,
     lambda v: problems.Quadratic([1.0, v])),
    ("Quadratic-eigenvalues-nan", "eigenvalues", vector_with_nonfinite(),
     lambda v: problems.Quadratic(v)),
    ("Quadratic-eigenvalues-empty", "eigenvalues", EMPTY, lambda v: problems.Quadratic(v)),
    ("Quadratic-matrix-nan", "matrix", vector_with_nonfinite(4),
     lambda v: problems.Quadratic(matrix=v.reshape(2, 2))),
    ("Quadratic-matrix-shape", "matrix", st.integers(1, 4),
     lambda v: problems.Quadratic(matrix=np.eye(v + 1)[:v])),
    ("Quadratic-minimiser-shape", "minimiser", st.integers(1, 5).filter(lambda n: n != 3),
     lambda v: problems.Quadratic([1.0, 2.0, 3.0], minimiser=np.zeros(v))),
    ("Quadratic.grad-x-shape", "x", st.just(None), lambda v: Q.grad(_wrong_length(X0))),
    ("Quadratic.loss-x-shape", "x", st.integers(1, 3),
     lambda v: Q.loss(np.ones((v, Q.dim + v)))),
    ("random_quadratic-kappa", "kappa", NOT_KAPPA,
     lambda v: problems.random_quadratic(v, 4)),
    ("random_quadratic-dim", "dim", NOT_POSITIVE_INT,
     lambda v: problems.random_quadratic(10.0, v)),
    ("random_quadratic-dim-too-large", "dim", st.integers(20_000, 10**9),
     lambda v: problems.random_quadratic(10.0, v)),
    ("random_additive_model-d2-too-large", "d2", st.integers(10**9, 10**13),
     lambda v: partition.random_additive_model(3, v, kappa=10.0, sigma_max_A2=1.0)),
    ("estimate_constants-loss-nan", "loss", NONFINITE,
     lambda v: partition.estimate_constants(lambda x, u: v * (x ** 2).sum() + (u ** 2).sum(),
                                            torch.ones(2, dtype=torch.float64),
                                            torch.ones(2, dtype=torch.float64))),
    ("Quadratic.grad-x-complex", "x", COMPLEX, lambda v: Q.grad(X0 * v)),
    ("Quadratic-eigenvalues-complex", "eigenvalues", COMPLEX,
     lambda v: problems.Quadratic([1.0, 2.0 * v])),
    ("Quadratic-matrix-complex", "matrix", COMPLEX,
     lambda v: problems.Quadratic(matrix=np.eye(2) * v)),
    ("Quadratic-eigenvalues-bool", "eigenvalues", st.just([True, True]),
     lambda v: problems.Quadratic(v)),
    ("Quadratic-minimiser-complex", "minimiser", COMPLEX,
     lambda v: problems.Quadratic([1.0, 2.0], minimiser=[v, 0.0])),
    ("fit_rate-e-complex", "e", COMPLEX,
     lambda v: __import__("momentum").records.fit_rate(np.geomspace(1, 1e-3, 20) * v)),
    ("fit_rate-window", "window", st.sampled_from([(1e-2,), "ab", 0.5, (1e-2, 1e-3, 1e-4)]),
     lambda v: records.fit_rate(np.geomspace(1, 1e-30, 50), window=v)),
    ("AdditiveModel-y-complex", "y", COMPLEX,
     lambda v: partition.AdditiveModel(np.eye(2), np.eye(2), np.ones(2) * v)),
    ("rate_on_spectrum-eigenvalues-complex", "eigenvalues", COMPLEX,
     lambda v: theory.rate_on_spectrum("gd", [0.1, v], 0.5)),
    ("power_law_fit-y-complex", "y", COMPLEX,
     lambda v: plotting.power_law_fit([1.0, 2.0], [v, 2.0])),
    ("random_quadratic-L", "L", NOT_POSITIVE,
     lambda v: problems.random_quadratic(10.0, 4, L=v)),
    # issue 25's fuzz: L = 5e-324 underflowed L / kappa to 0 and the error named `eigenvalues`
    ("random_quadratic-L-underflow", "L", st.one_of(TINY, st.floats(1e-320, 1e-309)),
     lambda v: problems.random_quadratic(10.0, 4, L=v)),
    ("QuadraticBatch-empty", "quadratics", st.sampled_from([[], ()]),
     lambda v: problems.QuadraticBatch(v)),
    ("QuadraticBatch-dims", "quadratics", st.integers(1, 5).filter(lambda n: n != 3),
     lambda v: problems.QuadraticBatch([Q, problems.Quadratic(np.ones(v))])),
    ("QuadraticBatch.grad-x-shape", "x", st.integers(1, 5).filter(lambda n: n != 3),
     lambda v: BATCH.grad(np.ones((v, 3)))),
    # plotting and widgets
    ("bands-values-nan", "values", vector_with_nonfinite(),
     lambda v: plotting.bands(plt.gca(), np.abs(v)[None, :])),
    ("bands-values-rank", "values", st.integers(1, 5),
     lambda v: plotting.bands(plt.gca(), np.ones(v))),
    ("slider-values-empty", "values", st.sampled_from([[], ()]),
     lambda v: plotting.slider(_draw, v)),
    ("slider-values-too-many", "values", st.integers(plotting.MAX_FRAMES + 1, 500),
     lambda v: plotting.slider(_draw, range(v))),
    ("power_law_fit-y", "y", NOT_POSITIVE, lambda v: plotting.power_law_fit([1.0, 2.0], [1.0, v])),
    ("power_law_fit-x-shape", "x", st.integers(3, 6),
     lambda v: plotting.power_law_fit(np.ones(v), [1.0, 2.0])),
    ("kappa_race-kappa", "kappa", NOT_KAPPA, lambda v: plotting.kappa_race(plt.gca(), v)),
    ("live_slider-values-empty", "values", st.sampled_from([[], ()]),
     lambda v: widgets.live_slider(_draw, v)),
    ("live_slider-draw", "draw", st.sampled_from([None, 1, "draw"]),
     lambda v: widgets.live_slider(v, [1, 2])),
    ("kappa_slider-kappas", "kappas", st.sampled_from(
        ["abc", 5, [], [0.5], [10, math.nan], [10, -3], [10, 2j], [None]]),
     lambda v: widgets.kappa_slider(v)),
    ("kappa_slider-eps", "eps", NOT_PROBABILITY, lambda v: widgets.kappa_slider(eps=v)),
    # the exercise checkers
    ("check.gd_step-fn", "fn", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: check.gd_step(v)),
    ("check.heavy_ball_step-trials", "trials", NOT_POSITIVE_INT,
     lambda v: check.heavy_ball_step(lambda *a: a[0], trials=v)),
    ("check.heavy_ball_step-trials-too-many", "trials",
     st.integers(min_value=10_001, max_value=10**15),
     lambda v: check.heavy_ball_step(lambda *a: a[0], trials=v)),
    ("check.nesterov_step-fn", "fn", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: check.nesterov_step(v)),
    ("check.deep_linear_gradients-fn", "fn", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: check.deep_linear_gradients(v)),
    ("check.mass_step-fn", "fn", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: check.mass_step(v)),
    ("check.function-reference", "reference", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: check.function(lambda a: a, v, [dict(a=1.0)])),
    ("check.gd_step-timeout", "timeout", NOT_POSITIVE,
     lambda v: check.gd_step(lambda x, g, eta: x - eta * g, timeout=v, verbose=False)),
    # networks: the two-layer ReLU network (Chapter 4) and the deep ReLU network (Chapter 3)
    ("TwoLayerReLU-m", "m", NOT_POSITIVE_INT, lambda v: networks.TwoLayerReLU(v, 3)),
    ("TwoLayerReLU-seeds", "seeds", st.sampled_from([[], (), "a", 1.5, [0, 1.5]]),
     lambda v: networks.TwoLayerReLU(4, 3, seeds=v)),
    ("TwoLayerReLU-m-too-large", "m", st.integers(10**6, 10**9),
     lambda v: networks.TwoLayerReLU(v, 10**4)),
    ("DeepReLU-widths-too-large", "widths", st.integers(10**5, 10**7),
     lambda v: networks.DeepReLU([3, v, v, 1])),
    ("TwoLayerReLU.loss-X-complex", "X", COMPLEX,
     lambda v: TWO_LAYER.loss(torch.eye(3, dtype=torch.complex128) * v, YU)),
    ("arccos_kernel-X-complex", "X", COMPLEX,
     lambda v: networks.arccos_kernel(torch.eye(2, dtype=torch.complex128) * v)),
    ("arccos_kernel-X-nan", "X", vector_with_nonfinite(6),
     lambda v: networks.arccos_kernel(torch.as_tensor(v).reshape(2, 3))),
    ("arccos_kernel-X-not-unit", "X", st.floats(1.01, 10.0),
     lambda v: networks.arccos_kernel(torch.eye(3, dtype=torch.float64) * v)),
    ("ntk_gram-X-shape", "X", st.integers(1, 5).filter(lambda n: n != 3),
     lambda v: networks.ntk_gram(TWO_LAYER, torch.ones(2, v, dtype=torch.float64))),
    ("ntk_gram-method", "method", st.text(max_size=8).filter(
        lambda s: s not in ("closed", "autograd")),
     lambda v: networks.ntk_gram(TWO_LAYER, XU, method=v)),
    ("ntk_constants-H-nan", "H", vector_with_nonfinite(4),
     lambda v: networks.ntk_constants(torch.as_tensor(v).reshape(2, 2))),
    ("ntk_constants-H-not-positive-definite", "H", st.floats(-10.0, 0.0),
     lambda v: networks.ntk_constants(torch.diag(torch.tensor([1.0, v], dtype=torch.float64)))),
    # deep linear networks and linear ResNets (Chapter 5)
    ("DeepLinear-widths", "widths", st.integers(-3, 0), lambda v: networks.DeepLinear([3, v, 2])),
    ("DeepLinear-init", "init", st.text(max_size=8).filter(
        lambda s: s not in ("gaussian", "orthogonal")),
     lambda v: networks.DeepLinear([3, 4, 2], init=v)),
    ("DeepLinearResNet-width", "width", st.integers(-3, 0),
     lambda v: networks.DeepLinearResNet(3, v, 2, depth=2)),
    ("regression_problem-kappa", "kappa", NOT_KAPPA,
     lambda v: networks.regression_problem(4, 5, 2, kappa=v)),
    ("linear_ntk-X", "X", st.integers(1, 6).filter(lambda d: d != 3),
     lambda v: networks.linear_ntk(DEEP_LINEAR, torch.ones(v, 4, dtype=torch.float64))),
    ("linear_ntk_constants-X", "X", vector_with_nonfinite(12),
     lambda v: networks.linear_ntk_constants(DEEP_LINEAR, torch.as_tensor(v).reshape(3, 4))),
    ("end_to_end_singular_values-model", "model", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: networks.end_to_end_singular_values(v)),
    ("train_deep_linear-eta", "eta", NOT_POSITIVE,
     lambda v: networks.train_deep_linear(DEEP_LINEAR, *DEEP_LINEAR_DATA, method="gd", eta=v,
                                          steps=2)),
    ("kernel_drift-H0", "H0", vector_with_nonfinite(4),
     lambda v: networks.kernel_drift(TWO_LAYER, XU[:2], torch.as_tensor(v).reshape(2, 2))),
    ("iterate_gap-horizon", "horizon", NOT_POSITIVE,
     lambda v: ode.iterate_gap(np.diag([1.0, 4.0]), [1.0, 1.0], s=0.01, mu=0.5,
                               method="nesterov", horizon=v)),
    ("times_ten-v", "v", NONFINITE, lambda v: plotting.times_ten(v)),
    ("smallest_text_pt-fig", "fig", st.one_of(st.none(), st.integers(), st.text()),
     lambda v: plotting.smallest_text_pt(v)),
    ("max_distance-W0", "W0", vector_with_nonfinite(12),
     lambda v: networks.max_distance(TWO_LAYER, torch.as_tensor(v).reshape(4, 3))),
    ("train_two_layer-eta", "eta", NOT_POSITIVE,
     lambda v: networks.train_two_layer(networks.TwoLayerReLU(4, 3), XU, YU, method="nesterov",
                                        eta=v, beta=0.9, steps=2)),
    ("train_two_layer-beta", "beta", NOT_MOMENTUM,
     lambda v: networks.train_two_layer(networks.TwoLayerReLU(4, 3), XU, YU, method="heavy_ball",
                                        eta=0.1, beta=v, steps=2)),
    ("TwoLayerReLU.loss-y-shape", "y", st.sampled_from([(3, 1), (1, 3), (2,), (4,), ()]),
     lambda v: TWO_LAYER.loss(XU, torch.ones(v, dtype=torch.float64))),
    ("train_two_layer-y-nan", "y", NONFINITE,
     lambda v: networks.train_two_layer(networks.TwoLayerReLU(4, 3), XU,
                                        torch.tensor([1.0, v, 1.0], dtype=torch.float64),
                                        method="gd", eta=0.1, beta=0.0, steps=2)),
    ("train_two_layer-y-complex", "y", COMPLEX,
     lambda v: networks.train_two_layer(networks.TwoLayerReLU(4, 3), XU, np.ones(3) * v,
                                        method="gd", eta=0.1, beta=0.0, steps=2)),
    ("train_two_layer-steps", "steps", NOT_POSITIVE_INT,
     lambda v: networks.train_two_layer(networks.TwoLayerReLU(4, 3), XU, YU, method="gd",
                                        eta=0.1, beta=0.0, steps=v)),
    ("DeepReLU-widths", "widths", NOT_POSITIVE_INT,
     lambda v: networks.DeepReLU([3, v, 1])),
    ("partition_sizes-model", "model", st.sampled_from([None, 1, "net"]),
     lambda v: networks.partition_sizes(v)),
    ("partition-model", "model", st.sampled_from([None, 1, "net"]),
     lambda v: networks.partition(v)),
    ("set_partition-x", "x", vector_with_nonfinite(4),
     lambda v: networks.set_partition(DEEP, torch.as_tensor(v), networks.partition(DEEP)[1])),
    ("partition_functions-Y", "Y", vector_with_nonfinite(3),
     lambda v: networks.partition_functions(DEEP, XU, v)),
    ("feature_spectrum-X", "X", vector_with_nonfinite(9),
     lambda v: networks.feature_spectrum(DEEP, torch.as_tensor(v).reshape(3, 3))),
    ("deep_relu_constants-X", "X", vector_with_nonfinite(9),
     lambda v: networks.deep_relu_constants(DEEP, torch.as_tensor(v).reshape(3, 3))),
    ("width_requirement-n", "n", NOT_POSITIVE_INT, lambda v: networks.width_requirement(v, 3)),
    ("train_deep_relu-eta", "eta", NOT_POSITIVE,
     lambda v: networks.train_deep_relu(networks.DeepReLU([3, 4, 1]), XU, YU, method="gd",
                                        eta=v, steps=2)),
    ("train_deep_relu-beta", "beta", NOT_MOMENTUM,
     lambda v: networks.train_deep_relu(networks.DeepReLU([3, 4, 1]), XU, YU,
                                        method="nesterov", eta=0.01, beta=v, steps=2)),
    # networks.deep_relu_grid: Chapter 3's training grids
    ("layer_widths-depth", "depth", st.one_of(st.integers(max_value=1),
                                              st.sampled_from([2.5, True, "3", None])),
     lambda v: deep_relu_grid.layer_widths(3, v, 8)),
    ("rescale_init-gain", "gain", NOT_POSITIVE,
     lambda v: deep_relu_grid.rescale_init(networks.DeepReLU([3, 4, 1]), gain=v)),
    ("rescale_init-last_scale", "last_scale", NOT_POSITIVE,
     lambda v: deep_relu_grid.rescale_init(networks.DeepReLU([3, 4, 1]), last_scale=v)),
    ("tuned_betas-kappa_x", "kappa_x", NOT_KAPPA,
     lambda v: deep_relu_grid.tuned_betas(v, 10.0)),
    ("train_grid-c", "c", NOT_POSITIVE,
     lambda v: deep_relu_grid.train_grid(XU, YU, [2], [4], seeds=[0], steps=2, c=v)),
    ("measured_rate-rec", "rec", st.sampled_from([None, 1.0, np.ones(3), "rec"]),
     lambda v: deep_relu_grid.measured_rate(v)),
    ("rate_table-grid", "grid", st.sampled_from([None, {}, [], "grid"]),
     lambda v: deep_relu_grid.rate_table(v)),
    ("quietness-name", "name", st.text(max_size=8).filter(
        lambda s: s not in deep_relu_grid.NAMES), lambda v: deep_relu_grid.quietness({}, v)),
    ("scale_sweep-gains", "gains", NOT_POSITIVE,
     lambda v: deep_relu_grid.scale_sweep(XU, YU, depth=2, widths=[4], scales=[1.0],
                                          gains=[v], seeds=[0], steps=2)),
    ("early_curvature-eta", "eta", NOT_POSITIVE,
     lambda v: deep_relu_grid.early_curvature(XU, YU, [3, 4, 1], eta=v, beta=0.5, seeds=[0],
                                              steps=2)),
    # ode: the high-resolution ODEs (Chapter 4)
    ("coefficients-s", "s", NOT_POSITIVE,
     lambda v: ode.coefficients("nesterov", s=v, mu=0.1)),
    ("coefficients-method", "method", st.text(max_size=8).filter(
        lambda s: s not in ("heavy_ball", "nesterov")),
     lambda v: ode.coefficients(v, s=0.01, mu=0.1)),
    ("residual_ode-mu", "mu", NOT_POSITIVE,
     lambda v: ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=v,
                                method="heavy_ball")),
    ("residual_ode-delta0", "delta0", vector_with_nonfinite(2),
     lambda v: ode.residual_ode(np.eye(2), v, [0.0, 1.0], s=0.01, mu=0.1, method="nesterov")),
    ("residual_ode-H-shape", "H", st.integers(1, 4),
     lambda v: ode.residual_ode(np.ones((v, v + 1)), np.ones(v), [0.0, 1.0], s=0.01, mu=0.1,
                                method="nesterov")),
    ("residual_ode-rtol", "rtol", NOT_TOLERANCE,
     lambda v: ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=0.1,
                                method="nesterov", rtol=v)),
    ("residual_ode-atol", "atol", NOT_TOLERANCE,
     lambda v: ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=0.1,
                                method="heavy_ball", atol=v)),
    # issue 25's fuzz: mu = 1e12 made DOP853 take ~1e6 steps per unit time (minutes to hours);
    # atol = 5e-324 overflowed SciPy's step-size control (an AttributeError on its empty result)
    ("residual_ode-mu-stiff", "mu", st.floats(3e11, 1e300),
     lambda v: ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=v,
                                method="nesterov")),
    ("residual_ode-atol-below-floor", "atol", st.one_of(TINY, st.floats(1e-300, 9e-101)),
     lambda v: ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=0.1,
                                method="heavy_ball", atol=v)),
    ("weight_ode-mu-stiff", "mu", st.floats(3e11, 1e300),
     lambda v: ode.weight_ode(lambda w: (w * w).sum(), np.ones(2), [0.0, 1.0], s=0.01, mu=v,
                              method="heavy_ball")),
    ("weight_ode-atol-below-floor", "atol", TINY,
     lambda v: ode.weight_ode(lambda w: (w * w).sum(), np.ones(2), [0.0, 1.0], s=0.01,
                              mu=0.1, method="heavy_ball", atol=v)),
    ("residual_ode-H-indefinite", "H", st.floats(-10.0, -1e-6),
     lambda v: ode.residual_ode(np.diag([1.0, v]), np.ones(2), [0.0, 50.0], s=0.01, mu=0.1,
                                method="nesterov")),
    ("residual_ode-H-not-symmetric", "H", st.floats(0.1, 1.0),
     lambda v: ode.residual_ode(np.array([[1.0, v], [0.0, 1.0]]), np.ones(2), [0.0, 1.0],
                                s=0.01, mu=0.1, method="nesterov")),
    ("residual_ode_exact-H-indefinite", "H", st.floats(-10.0, -1e-6),
     lambda v: ode.residual_ode_exact(np.diag([1.0, v]), np.ones(2), [0.0, 1.0], s=0.01,
                                      mu=0.1, method="nesterov")),
    ("modal_solution-lam-negative", "lam", st.floats(-10.0, -1e-6),
     lambda v: ode.modal_solution(v, [0.0, 1.0], s=0.01, mu=0.1, method="nesterov")),
    ("weight_ode-rtol", "rtol", NOT_TOLERANCE,
     lambda v: ode.weight_ode(lambda w: (w ** 2).sum(), np.ones(2), [0.0, 1.0], s=0.01, mu=0.1,
                              method="nesterov", rtol=v)),
    ("weight_ode-loss-nan", "loss", NONFINITE,
     lambda v: ode.weight_ode(lambda w: v * (w ** 2).sum(), np.ones(2), [0.0, 5.0], s=0.01,
                              mu=0.1, method="nesterov")),
    ("residual_ode_exact-delta0", "delta0", st.integers(1, 4).filter(lambda n: n != 2),
     lambda v: ode.residual_ode_exact(np.eye(2), np.ones(v), [0.0, 1.0], s=0.01, mu=0.1,
                                      method="nesterov")),
    ("modal_solution-lam", "lam", vector_with_nonfinite(),
     lambda v: ode.modal_solution(v, [0.0, 1.0], s=0.01, mu=0.1, method="nesterov")),
    ("modal_solution-t", "t", vector_with_nonfinite(),
     lambda v: ode.modal_solution(1.0, v, s=0.01, mu=0.1, method="heavy_ball")),
    ("modal_decay_rate-s", "s", NOT_POSITIVE,
     lambda v: ode.modal_decay_rate(1.0, s=v, mu=0.1, method="nesterov")),
    ("shi_initial_velocity-s", "s", NOT_POSITIVE,
     lambda v: ode.shi_initial_velocity(np.ones(2), s=v, mu=0.1)),
    ("iterate_initial_velocity-s", "s", NOT_POSITIVE,
     lambda v: ode.iterate_initial_velocity(np.ones(2), s=v)),
    ("weight_ode-w0", "w0", vector_with_nonfinite(2),
     lambda v: ode.weight_ode(lambda w: (w ** 2).sum(), v, [0.0, 1.0], s=0.01, mu=0.1,
                              method="nesterov")),
    # data (Chapter 4): only the offline digits, so that nothing is downloaded
    ("two_class-n", "n", NOT_POSITIVE_INT, lambda v: data.two_class("digits", n=v)),
    ("two_class-name", "name", st.text(max_size=8).filter(lambda s: s not in data.DATASETS),
     lambda v: data.two_class(v)),
    # display (what a chapter stores of a number)
    ("rounded-value", "value", st.one_of(COMPLEX, NONFINITE, st.text(max_size=3),
                                         st.just(np.ones(2))),
     lambda v: display.rounded(v)),
    ("rounded-digits", "digits", st.one_of(st.integers(max_value=0), st.floats()),
     lambda v: display.rounded(0.5, digits=v)),
    ("below_floor-value", "value", st.one_of(COMPLEX, st.booleans()),
     lambda v: display.below_floor(v)),
    ("floored-value", "value", COMPLEX, lambda v: display.floored(v)),
    ("floored_frame-value", "value", COMPLEX,
     lambda v: display.floored_frame(__import__("pandas").DataFrame({"a": [v + 0.5]}))),
    ("sci-value", "value", st.one_of(COMPLEX, NONFINITE), lambda v: display.sci(v)),
    ("glue-name", "name", st.one_of(st.just(""), st.integers()), lambda v: display.glue(v, 1.0)),
    ("glue-value", "value", NONFINITE, lambda v: display.glue("x", v)),
    ("chapter_glue-chapter", "chapter", st.one_of(st.integers(max_value=0), st.floats(),
                                                  st.text(max_size=2)),
     lambda v: display.chapter_glue(v, "k")),
    ("chapter_glue-key", "key", st.one_of(st.just(""), st.integers()),
     lambda v: display.chapter_glue(1, v)),
    ("table-caption", "caption", st.one_of(st.just(""), st.just("  "), st.integers()),
     lambda v: display.table(__import__("pandas").DataFrame({"a": ["1"]}), v, "tab-x")),
    ("table-label", "label", st.one_of(st.just(""), st.just("a b"), st.integers()),
     lambda v: display.table(__import__("pandas").DataFrame({"a": ["1"]}), "C.", v)),
    ("table-frame", "frame", st.one_of(st.integers(), st.lists(st.integers(), max_size=2)),
     lambda v: display.table(v, "C.", "tab-x")),
]

# --------------------------------------------------------------------------------------------
# Issue 25: sizes, records, complex values, arrays for numbers, overflow, seeds, and the
# callables that had no row
# --------------------------------------------------------------------------------------------

LS = stochastic.least_squares(4, 8)
ADD = partition.random_additive_model(3, 4, kappa=10.0, sigma_max_A2=0.1)
ADD_BATCH = partition.kappa_batch(3, 4, [5.0, 10.0], sigma_max_A2=0.1)
for name, run in RUNNERS.items():
    CASES += [
        (f"{name}-steps-records-too-large", "steps", st.integers(10**12, 10**15),
         lambda v, run=run: run(steps=v, keep_iterates=False)),
        (f"{name}-grad-complex", "grad", COMPLEX,
         lambda v, run=run: run(grad=lambda x: x * v)),
        (f"{name}-grad-not-real", "grad", st.sampled_from([None, [1.0, 2.0, 3.0], "g"]),
         lambda v, run=run: run(grad=lambda x: v)),
    ]
CASES += [
    # sizes refused before allocating
    ("DeepLinear-widths-too-large", "widths", st.integers(10**6, 10**8),
     lambda v: networks.DeepLinear([3, v, v, 2])),
    ("DeepLinearResNet-width-too-large", "width", st.integers(10**5, 10**8),
     lambda v: networks.DeepLinearResNet(3, v, 2, depth=2)),
    ("regression_problem-n-too-large", "n", st.integers(10**6, 10**9),
     lambda v: networks.regression_problem(v, v, 2, kappa=4.0)),
    ("linear_ntk-X-too-large", "X", st.integers(10**5, 10**6),
     lambda v: networks.linear_ntk(networks.DeepLinear([1, 1, 2]),
                                   torch.ones(1, v, dtype=torch.float64))),
    ("least_squares-d-too-large", "d", st.integers(10**9, 10**12),
     lambda v: stochastic.least_squares(100, v)),
    ("minibatch_run-trials-too-large", "trials", st.integers(10**9, 10**12),
     lambda v: stochastic.minibatch_run(LS, "sgd", eta=0.1, batch=2, steps=2, trials=v)),
    ("minibatch_run-steps-records-too-large", "steps", st.integers(10**12, 10**15),
     lambda v: stochastic.minibatch_run(LS, "sgd", eta=0.1, batch=2, steps=v)),
    ("step_polynomials-steps-too-large", "steps", st.integers(10**10, 10**13),
     lambda v: theory.step_polynomials("nesterov", np.ones(10), 0.5, 0.5, steps=v)),
    ("worst_case_on_spectrum-grid-too-large", "grid", st.integers(10**9, 10**12),
     lambda v: theory.worst_case_on_spectrum("gd", 0.1, 1.0, 1.0, steps=2, grid=v)),
    ("train_deep_relu-steps-records-too-large", "steps", st.integers(10**12, 10**15),
     lambda v: networks.train_deep_relu(networks.DeepReLU([3, 4, 1]), XU, YU, method="gd",
                                        eta=0.01, steps=v)),
    ("train_deep_linear-steps-records-too-large", "steps", st.integers(10**12, 10**15),
     lambda v: networks.train_deep_linear(DEEP_LINEAR, *DEEP_LINEAR_DATA, method="gd",
                                          eta=0.1, steps=v)),
    ("train-steps-records-too-large", "steps", st.integers(10**12, 10**15),
     lambda v: adaptive.train([torch.zeros(2, requires_grad=True)],
                              lambda: torch.zeros(()), "adam", lr=0.1, steps=v)),
    # complex values given to the networks
    ("DeepLinear.loss-Y-complex", "Y", COMPLEX,
     lambda v: DEEP_LINEAR.loss(DEEP_LINEAR_DATA[0], DEEP_LINEAR_DATA[1].numpy() * v)),
    ("DeepLinear-X-complex", "X", COMPLEX,
     lambda v: DEEP_LINEAR(DEEP_LINEAR_DATA[0].numpy() * v)),
    ("linear_ntk-X-complex", "X", COMPLEX,
     lambda v: networks.linear_ntk(DEEP_LINEAR, DEEP_LINEAR_DATA[0].numpy() * v)),
    ("DeepReLU.loss-Y-complex", "Y", COMPLEX, lambda v: DEEP.loss(XU, YU.numpy() * v)),
    ("train_deep_relu-Y-complex", "Y", COMPLEX,
     lambda v: networks.train_deep_relu(networks.DeepReLU([3, 4, 1]), XU, YU.numpy() * v,
                                        method="gd", eta=0.01, steps=2)),
    ("max_distance-W0-complex", "W0", COMPLEX,
     lambda v: networks.max_distance(TWO_LAYER, TWO_LAYER.W.detach().numpy() * v)),
    ("kernel_drift-H0-complex", "H0", COMPLEX,
     lambda v: networks.kernel_drift(TWO_LAYER, XU, np.eye(3) * v)),
    ("kappa_batch-kappas-complex", "kappas", COMPLEX,
     lambda v: partition.kappa_batch(3, 4, [10.0 * v, 20.0], sigma_max_A2=0.1)),
    ("iterations_to_tolerance-starts-complex", "starts", COMPLEX,
     lambda v: partition.iterations_to_tolerance(
         "gd", ADD_BATCH, torch.ones(2, ADD_BATCH.dim, dtype=torch.complex128) * v, steps=3)),
    # seeds
    ("random_quadratic-seed", "seed", NOT_SEED, lambda v: problems.random_quadratic(4.0, 3, v)),
    ("random_additive_model-seed", "seed", NOT_SEED,
     lambda v: partition.random_additive_model(3, 4, kappa=4.0, sigma_max_A2=0.1, seed=v)),
    ("two_class-seed", "seed", NOT_SEED, lambda v: data.two_class("digits", n=10, seed=v)),
    ("TwoLayerReLU-seeds-range", "seeds", NOT_SEED, lambda v: networks.TwoLayerReLU(4, 3, seeds=v)),
    ("DeepReLU-seeds", "seeds", NOT_SEED, lambda v: networks.DeepReLU([3, 4, 1], seeds=v)),
    ("DeepLinear-seeds", "seeds", NOT_SEED, lambda v: networks.DeepLinear([3, 4, 2], seeds=v)),
    ("regression_problem-seed", "seed", NOT_SEED,
     lambda v: networks.regression_problem(2, 3, 2, kappa=4.0, seed=v)),
    ("least_squares-seed", "seed", NOT_SEED, lambda v: stochastic.least_squares(4, 8, seed=v)),
    ("minibatch_run-seed", "seed", NOT_SEED,
     lambda v: stochastic.minibatch_run(LS, "sgd", eta=0.1, batch=2, steps=2, seed=v)),
    ("estimate_constants-seed", "seed", NOT_SEED,
     lambda v: partition.estimate_constants(lambda x, u: (x ** 2).sum() + (u ** 2).sum(),
                                            torch.ones(2, dtype=torch.float64),
                                            torch.ones(2, dtype=torch.float64), seed=v)),
    # an array where a number is expected
    ("gd_tuning-mu-array", "mu", NOT_SCALAR, lambda v: theory.gd_tuning(v, 1.0)),
    ("heavy_ball_tuning-mu-array", "mu", NOT_SCALAR, lambda v: theory.heavy_ball_tuning(v, 1.0)),
    ("nesterov_tuning-L-array", "L", NOT_SCALAR,
     lambda v: theory.nesterov_tuning(0.1, np.asarray(v) + 1)),
    ("iteration_matrix-lam-array", "lam", NOT_SCALAR,
     lambda v: theory.iteration_matrix("gd", v, 0.5)),
    ("theorem7_tuning-mu-array", "mu", NOT_SCALAR, lambda v: theory.theorem7_tuning(v, 1.0)),
    ("theorem6_tuning-c-array", "c", NOT_SCALAR, lambda v: theory.theorem6_tuning(0.1, 1.0, v)),
    ("theorem7_bounds-beta-array", "beta", NOT_SCALAR,
     lambda v: theory.theorem7_bounds(0.1, 1.0, 10.0, v)),
    ("ntk_lambda_m-lambda_0-array", "lambda_0", NOT_SCALAR,
     lambda v: theory.ntk_lambda_m(v, 1.0)),
    ("ntk_kappa-lambda_m-array", "lambda_m", NOT_SCALAR, lambda v: theory.ntk_kappa(0.1, v)),
    ("heavy_ball_underdamped_above-mu-array", "mu", NOT_SCALAR,
     lambda v: theory.heavy_ball_underdamped_above(v, 0.1)),
    ("nesterov_underdamped_interval-s-array", "s", NOT_SCALAR,
     lambda v: theory.nesterov_underdamped_interval(0.1, v)),
    ("two_layer_width_requirement-lambda_0-array", "lambda_0", NOT_SCALAR,
     lambda v: theory.two_layer_width_requirement(10, v)),
    ("additive_threshold-mu-array", "mu", NOT_SCALAR, lambda v: theory.additive_threshold(v, 1.0)),
    ("deep_linear_curvature-sigma_min-array", "sigma_min", NOT_SCALAR,
     lambda v: theory.deep_linear_curvature(1.0, v, 2, 1)),
    ("resnet_curvature-sigma_max-array", "sigma_max", NOT_SCALAR,
     lambda v: theory.resnet_curvature(np.asarray(v) + 1, 0.1, 2)),
    ("deep_linear_tuning-sigma_min-array", "sigma_min", NOT_SCALAR,
     lambda v: theory.deep_linear_tuning("nesterov", 1.0, v, 2, 1)),
    ("coefficients-mu-array", "mu", NOT_SCALAR,
     lambda v: ode.coefficients("nesterov", s=0.1, mu=v)),
    ("MeanFieldTwoLayer-m", "m", NOT_POSITIVE_INT, lambda v: mean_field.MeanFieldTwoLayer(v, 3)),
    ("ntk_normalised_gram-model", "model", st.sampled_from([None, 1.0, "net"]),
     lambda v: mean_field.ntk_normalised_gram(v, torch.ones(2, 3))),
    ("mean_field_step-eta-array", "eta", NOT_SCALAR, lambda v: mean_field.mean_field_step(v, 10)),
    # overflow to inf or NaN
    ("coefficients-s-overflow", "s", HUGE, lambda v: ode.coefficients("nesterov", s=v, mu=v)),
    ("nag_alpha-s-overflow", "s", HUGE, lambda v: theory.nag_alpha(v, v)),
    ("mean_field_step-eta-overflow", "eta", HUGE, lambda v: mean_field.mean_field_step(v, 10**9)),
    ("deep_linear_curvature-sigma_max-overflow", "sigma_max", HUGE,
     lambda v: theory.deep_linear_curvature(v, 1.0, 10, 1)),
    ("deep_linear_curvature-sigma_min-underflow", "sigma_min", TINY,
     lambda v: theory.deep_linear_curvature(1.0, v, 1, 10)),
    ("modal_decay_rate-lam-overflow", "lam", HUGE,
     lambda v: ode.modal_decay_rate(v, s=0.5, mu=0.1, method="nesterov")),
    ("gd_tuning-mu-underflow", "mu", TINY, lambda v: theory.gd_tuning(v, 1e10)),
    ("ntk_kappa-lambda_0-underflow", "lambda_0", TINY, lambda v: theory.ntk_kappa(v, 1e300)),
    ("two_layer_width_requirement-lambda_0-underflow", "lambda_0", TINY,
     lambda v: theory.two_layer_width_requirement(10, v)),
    ("width_requirement-n-overflow", "n", st.integers(10**70, 10**80),
     lambda v: theory.width_requirement(v, 1)),
    # gradient descent has no momentum, in theory as in the optimizers
    ("iteration_matrix-beta-gd", "beta", st.floats(0.01, 0.99),
     lambda v: theory.iteration_matrix("gd", 0.5, 0.5, v)),
    ("spectral_radius-beta-gd", "beta", st.floats(0.01, 0.99),
     lambda v: theory.spectral_radius("gd", 0.5, 0.5, v)),
    ("rate_on_spectrum-beta-gd", "beta", st.floats(0.01, 0.99),
     lambda v: theory.rate_on_spectrum("gd", [0.1, 1.0], 0.5, v)),
    ("make_optimizer-beta-gd", "beta", st.floats(0.01, 0.99),
     lambda v: adaptive.make_optimizer("gd", [torch.zeros(2, requires_grad=True)], lr=0.1,
                                       beta=v)),
    # theory: the rows the table lacked
    ("theorem7_beta-kappa", "kappa", NOT_KAPPA, lambda v: theory.theorem7_beta(v)),
    ("rate_theorem7-c", "c", st.one_of(NOT_POSITIVE, st.floats(1.01, 10)),
     lambda v: theory.rate_theorem7(10.0, v)),
    ("rate_theorem6-kappa", "kappa", NOT_KAPPA, lambda v: theory.rate_theorem6(v)),
    ("rho_nag-alpha", "alpha", st.one_of(st.floats(0.51, 10), st.floats(-10, -0.01), NONFINITE),
     lambda v: theory.rho_nag(v)),
    ("rho_without_correction-phi", "phi", NOT_POSITIVE,
     lambda v: theory.rho_without_correction(v)),
    ("high_resolution_beta-s", "s", st.one_of(NOT_POSITIVE, st.floats(10.01, 100)),
     lambda v: theory.high_resolution_beta(0.1, v)),
    ("nesterov_stability_limit-beta", "beta", NOT_MOMENTUM,
     lambda v: theory.nesterov_stability_limit(v)),
    ("step_polynomials-method", "method", st.text(max_size=8).filter(
        lambda s: s not in optimizers.METHODS),
     lambda v: theory.step_polynomials(v, 0.5, 0.5, 0.5, 3)),
    ("worst_case_on_spectrum-steps", "steps", NOT_POSITIVE_INT,
     lambda v: theory.worst_case_on_spectrum("gd", 0.1, 1.0, 1.0, steps=v)),
    # records and partition: the rows the table lacked
    ("first_divergence-grad_norms", "grad_norms", COMPLEX,
     lambda v: records.first_divergence(np.ones(3) * v)),
    ("DivergenceGuard-factor", "factor", NOT_POSITIVE,
     lambda v: records.DivergenceGuard(lambda w: w, factor=v)),
    ("ModuleRecorder-steps", "steps", NOT_POSITIVE_INT,
     lambda v: records.ModuleRecorder("gd", 0.1, 0.0, v)),
    ("check_theorem7-beta", "beta", NOT_MOMENTUM,
     lambda v: partition.check_theorem7(ADD.constants, v)),
    ("block_deltas-d1", "d1", NOT_POSITIVE_INT, lambda v: partition.block_deltas(RUN, v)),
    ("kappa_batch-kappas", "kappas", NOT_KAPPA,
     lambda v: partition.kappa_batch(3, 4, [10.0, v], sigma_max_A2=0.1)),
    ("iterations_to_tolerance-tol", "tol", NOT_PROBABILITY,
     lambda v: partition.iterations_to_tolerance(
         "gd", ADD_BATCH, torch.ones(2, ADD_BATCH.dim, dtype=torch.float64), steps=3, tol=v)),
    ("output_gram_eigenvalues-w", "w", vector_with_nonfinite(7),
     lambda v: partition.output_gram_eigenvalues(ADD, torch.as_tensor(v))),
    # stochastic, adaptive and pep
    ("LeastSquares-X", "X", vector_with_nonfinite(6),
     lambda v: stochastic.LeastSquares(torch.as_tensor(v).reshape(2, 3),
                                       torch.ones(2, dtype=torch.float64))),
    ("least_squares-n", "n", NOT_POSITIVE_INT, lambda v: stochastic.least_squares(v, 8)),
    ("minibatch_run-eta", "eta", NOT_POSITIVE,
     lambda v: stochastic.minibatch_run(LS, "sgd", eta=v, batch=2, steps=2)),
    ("make_optimizer-lr", "lr", NOT_POSITIVE,
     lambda v: adaptive.make_optimizer("adam", [torch.zeros(2, requires_grad=True)], lr=v)),
    ("train-lr", "lr", NOT_POSITIVE,
     lambda v: adaptive.train([torch.zeros(2, requires_grad=True)], lambda: torch.zeros(()),
                              "nesterov", lr=v, steps=2, beta=0.5)),
    ("step_search-grid", "grid", st.sampled_from([[], (), "ab", [0.1, -1.0], [math.nan]]),
     lambda v: adaptive.step_search(lambda lr: RUN, v)),
    ("pep_worst_case-eta", "eta", NOT_POSITIVE,
     lambda v: pep.pep_worst_case("gd", 0.1, 1.0, v, steps=2)),
    ("pep_worst_cases-steps", "steps", st.sampled_from([[], [0], [1, -2], "ab", 3, [1.5]]),
     lambda v: pep.pep_worst_cases("gd", 0.1, 1.0, 1.0, steps=v)),
    ("pep_worst_case-solver_options", "solver_options", st.sampled_from([1, "a", [1]]),
     lambda v: pep.pep_worst_case("gd", 0.1, 1.0, 1.0, steps=2, solver_options=v)),
]


#: Known library issues, reported to the lead: the test fails strictly once they are fixed, so
#: that the entry is then removed from here.
KNOWN_ISSUES: dict[str, str] = {}
PARAMS = [pytest.param(*case, id=case[0], marks=pytest.mark.xfail(
    strict=True, reason=KNOWN_ISSUES[case[0]])) if case[0] in KNOWN_ISSUES
    else pytest.param(*case, id=case[0]) for case in CASES]


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if TRIED and reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nhypothesis: {sum(TRIED.values())} invalid inputs tried over {len(TRIED)} "
                f"cases (fewest {min(TRIED.values())}); {sum(CLEAN.values())} clean ValueErrors "
                f"naming the parameter, {sum(TRIED.values()) - sum(CLEAN.values())} not"
                + (f", except the {len(KNOWN_ISSUES)} known issues marked xfail"
                   if KNOWN_ISSUES else ""))


@pytest.mark.parametrize("case_id, param, strategy, call", PARAMS)
def test_invalid_input_raises_value_error_naming_the_parameter(case_id, param, strategy, call):
    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    @given(bad=strategy)
    def prop(bad):
        TRIED[case_id] += 1
        with pytest.raises(ValueError) as info:
            call(bad)
        assert param in str(info.value), f"the message does not name {param}: {info.value}"
        CLEAN[case_id] += 1

    try:
        prop()
    finally:
        plt.close("all")


#: Callables of an ``__all__`` that take no input to refuse (no arguments, or a record or an
#: exception built by the library itself), and why.
NO_INVALID_INPUT = {
    "DivergenceWarning": "a warning class", "PEPSolverError": "an exception class",
    "DataUnavailableError": "an exception class", "CheckResult": "a checker's result",
    "Tuning": "a result", "PartitionConstants": "a result", "Theorem7Check": "a result",
    "NTKConstants": "a result", "DeepReLUPartition": "a result",
    "DeepReLUConstants": "a result", "LinearNTKConstants": "a result",
    "ODESolution": "a result", "PowerLaw": "a result",
    "LessardFunction": "no arguments", "lessard_counterexample": "no arguments",
    "use_style": "no arguments", "rho_hb": "no arguments", "default_cache_dir": "no arguments",
}
#: Every module whose ``__all__`` the table must cover (the package ``networks`` re-exports its
#: modules' names, except ``mean_field``'s and ``deep_relu_grid``'s, listed on their own;
#: ``theory`` those of its three modules; tests/test_invalid_inputs.py's
#: test_every_module_with_an_all_is_in_the_table finds any other).
TABLE_MODULES = (optimizers, records, problems, theory, partition, networks, mean_field,
                 deep_relu_grid, ode, data, plotting, display, widgets, check, stochastic,
                 adaptive, pep)


def _row_counts():
    """Per module: (callables of __all__ with a row, callables of __all__ that need one,
    the names without a row)."""
    ids = [c[0] for c in CASES]
    out = {}
    for mod in TABLE_MODULES:
        names = [n for n in mod.__all__ if callable(getattr(mod, n))
                 and n not in NO_INVALID_INPUT]
        have = [n for n in names if any(i.startswith((f"{n}-", f"{n}.")) or
                                        f".{n}-" in i for i in ids)]
        out[mod.__name__] = (len(have), len(names), sorted(set(names) - set(have)))
    return out


def test_every_module_with_an_all_is_in_the_table():
    """Every module of the library whose ``__all__`` names a callable is in TABLE_MODULES, or
    every such name is re-exported by a module that is (a new module cannot slip past the
    count)."""
    import importlib
    import pkgutil

    import momentum

    covered = {id(getattr(mod, n)) for mod in TABLE_MODULES for n in mod.__all__
               if callable(getattr(mod, n))}
    missing = {}
    for info in pkgutil.walk_packages(momentum.__path__, "momentum."):
        mod = importlib.import_module(info.name)
        names = [n for n in getattr(mod, "__all__", ()) if callable(getattr(mod, n))
                 and n not in NO_INVALID_INPUT and id(getattr(mod, n)) not in covered]
        if names and mod not in TABLE_MODULES:
            missing[info.name] = names
    assert missing == {}


def test_the_table_covers_every_public_callable_of_every_module(request):
    """Prints, per module, how many callables of its ``__all__`` have a row; each needs one
    (or a reason in NO_INVALID_INPUT)."""
    counts = _row_counts()
    lines = [f"  {name:<32} {have:>3} of {total:<3} callables of __all__ have a row"
             for name, (have, total, _) in counts.items()]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\ninvalid-input table, per module:\n" + "\n".join(lines))
    missing = {name: m for name, (_, _, m) in counts.items() if m}
    assert missing == {}
    assert all(total > 0 and have == total for have, total, _ in counts.values())


# --------------------------------------------------------------------------------------------
# Issue 11's examples, one test each: no silent wrong number, no hang, sizes refused early
# --------------------------------------------------------------------------------------------


def test_complex_inputs_are_refused_not_truncated():
    for kw in ({"eta": 0.1 + 1j}, {"x0": np.ones(3) + 1j}, {"x0": torch.ones(3) * (1 + 1j)}):
        with pytest.raises(ValueError, match="eta|x0"):
            RUNNERS["gd"](**kw)
    with pytest.raises(ValueError, match="kappa"):
        theory.rate_gd(10 + 5j)


def test_ints_and_lists_of_ints_are_cast_to_float64():
    tr = optimizers.gd(Q.grad, [1, 2, 3], eta=1, steps=3)
    assert tr.x.dtype == np.float64
    g_int = Q.grad(torch.ones(3, dtype=torch.int64))
    assert g_int.dtype == torch.float64
    np.testing.assert_allclose(g_int.numpy(), Q.grad(np.ones(3)))
    assert Q.grad(np.ones(3, dtype=int)).dtype == np.float64
    tr_t = optimizers.nesterov(Q.grad, torch.tensor([1, 2, 3]), eta=0.5, beta=0.5, steps=3)
    assert tr_t.x.dtype == torch.float64


def test_an_eta_of_shape_B_against_a_B_by_B_batch_is_refused():
    with pytest.raises(ValueError, match=r"eta.*\(B, 1\)"):
        optimizers.gd(lambda x: x, np.ones((3, 3)), eta=np.array([0.1, 0.2, 0.3]), steps=3)
    # the per-trial column is what a batch takes
    tr = optimizers.gd(lambda x: x, np.ones((3, 3)), eta=np.array([[0.1], [0.2], [0.3]]),
                       steps=3)
    np.testing.assert_allclose(tr.x[-1][:, 0], [0.9 ** 3, 0.8 ** 3, 0.7 ** 3])


def test_two_layer_loss_refuses_a_column_of_labels():
    with pytest.raises(ValueError, match="y must have shape"):
        TWO_LAYER.loss(XU, YU[:, None])
    assert TWO_LAYER.loss(XU, YU).shape == ()


def test_train_two_layer_with_a_nan_label_names_y():
    with pytest.raises(ValueError, match="^y must be finite"):
        networks.train_two_layer(networks.TwoLayerReLU(4, 3), XU,
                                 torch.tensor([1.0, math.nan, 1.0], dtype=torch.float64),
                                 method="gd", eta=0.1, beta=0.0, steps=5)


def test_estimate_constants_on_a_nan_loss_is_an_error_not_zeros():
    with pytest.raises(ValueError, match="loss"):
        partition.estimate_constants(lambda x, u: torch.tensor(math.nan) * x.sum(),
                                     torch.ones(2, dtype=torch.float64),
                                     torch.ones(2, dtype=torch.float64))


def test_the_odes_never_hang_and_refuse_an_indefinite_H():
    import time
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="rtol"):
        ode.residual_ode(np.eye(2), np.ones(2), np.linspace(0, 5, 5), s=0.01, mu=0.1,
                         method="nesterov", rtol=math.nan)
    with pytest.raises(ValueError, match="loss gives a non-finite"):
        ode.weight_ode(lambda w: (w * math.nan).sum(), torch.ones(2, dtype=torch.float64),
                       np.linspace(0, 5, 5), s=0.01, mu=0.1, method="nesterov")
    with pytest.raises(ValueError, match="positive semi-definite"):
        ode.residual_ode(np.diag([1.0, -1.0]), np.ones(2), np.linspace(0, 50, 5), s=0.01,
                         mu=0.1, method="nesterov")
    assert time.perf_counter() - t0 < 10


def test_sizes_over_the_limit_are_refused_before_allocating(monkeypatch):
    with pytest.raises(ValueError, match=r"dim too large: .* about 298 GiB"):
        problems.random_quadratic(10, 100_000)
    with pytest.raises(ValueError, match=r"d2 too large: .*GiB.*MOMENTUM_MAX_BYTES"):
        partition.random_additive_model(3, 10**9, kappa=10.0, sigma_max_A2=1.0)
    monkeypatch.setattr(_validate, "MAX_BYTES", 10_000)
    with pytest.raises(ValueError, match="dim too large"):
        problems.random_quadratic(10, 30)
    monkeypatch.undo()
    assert problems.random_quadratic(10, 30).dim == 30


def test_the_size_limit_is_read_from_the_environment(tmp_path):
    import subprocess
    import sys
    code = "from momentum import _validate; print(_validate.MAX_BYTES)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "MOMENTUM_MAX_BYTES": "12345"},
                         check=True).stdout
    assert out.strip() == "12345"
    assert _validate.MAX_BYTES >= 4 * 2**30      # the default: above what MOMENTUM_FULL needs


def test_widgets_refuse_bad_arguments_up_front():
    with pytest.raises(ValueError, match="kappas"):
        widgets.kappa_slider("abc")
    with pytest.raises(ValueError, match="kappas"):
        widgets.kappa_slider([10, 0.5])


# --------------------------------------------------------------------------------------------
# Property-based tests of the shared checks (momentum._validate)
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=8))
def test_real_casts_ints_to_float64(values):
    out = _validate.real("x", values)
    assert out.dtype == np.float64 and np.array_equal(out, np.array(values, dtype=float))
    t = _validate.real("x", torch.tensor(values))
    assert t.dtype == torch.float64


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.one_of(COMPLEX, NOT_REAL, NOT_REAL_VECTOR,
                 st.lists(st.booleans(), min_size=1, max_size=4)))
def test_real_refuses_complex_bool_object_and_text(value):
    with pytest.raises(ValueError, match="^x must"):
        _validate.real("x", value)
    with pytest.raises(ValueError, match="^x must"):
        _validate.finite("x", value)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.floats(0, 1e15), st.sampled_from([1, 4, 8]))
def test_size_refuses_exactly_above_the_limit(n, itemsize):
    if n * itemsize > _validate.MAX_BYTES:
        with pytest.raises(ValueError, match=r"^n too large: .*GiB"):
            _validate.size("n", n, itemsize=itemsize)
    else:
        _validate.size("n", n, itemsize=itemsize)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.floats(-10, 10), min_size=2, max_size=5), st.integers(0, 2**32 - 1))
def test_symmetric_psd_accepts_exactly_the_psd_matrices(lam, seed):
    from scipy.stats import ortho_group
    Qm = ortho_group.rvs(len(lam), random_state=seed)
    H = (Qm * np.array(lam)) @ Qm.T
    H = (H + H.T) / 2
    if min(lam) < -1e-6 * max(1.0, max(abs(v) for v in lam)):
        with pytest.raises(ValueError, match="^H must be symmetric positive semi-definite"):
            _validate.symmetric_psd("H", H)
    elif min(lam) >= 0:
        np.testing.assert_array_equal(_validate.symmetric_psd("H", H), H)


def test_fuzz_findings_of_issue_25_are_refused_by_name():
    """Inputs the fuzz (tests/fuzz_inputs.py) found answered by NumPy's, torch's or PEPit's own
    errors, a MemoryError, or silently."""
    w = [torch.zeros(2, requires_grad=True)]
    cases = [
        ("lr", lambda: adaptive.make_optimizer("adam", w, lr=np.array([0.1, 0.2]))),
        ("method", lambda: networks.ntk_gram(TWO_LAYER, XU, method=np.array(["closed"] * 2))),
        ("horizon", lambda: ode.iterate_gap(np.eye(2), [1.0, 1.0], s=1e-4, mu=0.1,
                                            method="nesterov", horizon=1e308)),
        ("s", lambda: ode.shi_initial_velocity(np.ones(2), s=np.array([0.1, 0.2]), mu=0.1)),
        ("values", lambda: plotting.slider(_draw, 5)),
        ("kappa", lambda: plotting.kappa_race(plt.gca(), 1e12)),
        ("kappa", lambda: plotting.kappa_race(plt.gca(), 1e308)),
        ("eta", lambda: pep.pep_worst_case("gd", 0.1, 1.0, np.array([1.0, 0.5]), steps=2)),
        ("quadratics", lambda: problems.QuadraticBatch(3)),
        ("quadratics", lambda: problems.QuadraticBatch(["a", "b"])),
        ("factor", lambda: records.DivergenceGuard(lambda x: x, factor=np.array([1.0, 2.0]))),
        ("of", lambda: RUN.rate(of=[])),
        ("eps", lambda: RUN.iterations_to(np.array([0.1, 0.2]))),
        ("beta", lambda: partition.check_theorem7(ADD.constants, np.array([0.1, 0.2]))),
        ("method", lambda: theory.tuning(np.array(["gd", "gd"]), 0.1, 1.0)),
        ("eta", lambda: optimizers.torch_optimizer("nesterov", w, eta=np.array([0.1, 0.2]))),
        ("lam", lambda: ode.modal_solution(1e308, [0.0, 1.0], s=0.5, mu=0.1, method="nesterov")),
        ("eta", lambda: theory.spectral_radius("nesterov", 1.0, 1e308, 0.5)),
    ]
    try:
        for param, call in cases:
            with pytest.raises(ValueError, match=param):
                call()
    finally:
        plt.close("all")

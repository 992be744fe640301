"""The one divergence rule against a matrix of legitimate transients and of true divergence.

The rule (momentum.records): a non-finite value, or a gradient norm over 1e6 times the first.
Legitimate transients must pass untouched: optimally tuned heavy ball (whose top mode grows
like (1 + 2k) rho^k before it contracts: ||x - x*||^2 more than 10x), Nesterov, Theorem 7's
Nesterov on the additive model, and the networks of Chapters 3 and 4 at their chapters'
settings (slow). True divergence must be caught: gradient descent at eta = 2.02/L (the loss
grows about 1.04x a step) within 1000 steps, heavy ball just past its stability edge, and a
non-finite first step reported cleanly.
"""

import math
import warnings

import numpy as np
import pytest
import torch

from momentum import data, networks, optimizers, partition, problems, theory
from momentum.records import DIVERGENCE_FACTOR, DivergenceWarning


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Legitimate transients: never flagged
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [1e2, 1e4])
def test_optimally_tuned_heavy_ball_transient_is_not_divergence(kappa):
    q = problems.random_quadratic(kappa, 30, seed=0)
    x0 = q.minimiser + q.basis[:, np.argmax(q.eigenvalues)]   # start on the top mode
    t = theory.heavy_ball_tuning(q.mu, q.L)
    tr = _quiet(optimizers.heavy_ball, q.grad, x0, eta=t.eta, beta=t.beta, steps=4000,
                loss=q.loss)
    d2 = np.sum((tr.x - q.minimiser) ** 2, axis=-1)
    if kappa >= 1e4:
        assert d2.max() > 10 * d2[0]             # the transient the rule must tolerate
    assert not tr.diverged and tr.steps == 4000
    assert tr.grad_norms.max() < DIVERGENCE_FACTOR * tr.grad_norms[0]


@pytest.mark.parametrize("method", ["nesterov", "gd"])
def test_tuned_nesterov_and_gd_are_not_flagged(method):
    q = problems.random_quadratic(1e4, 30, seed=1)
    x0 = q.minimiser + q.basis[:, np.argmax(q.eigenvalues)]
    t = theory.tuning(method, q.mu, q.L)
    tr = _quiet(optimizers.run, method, q.grad, x0, eta=t.eta, beta=t.beta, steps=3000)
    assert not tr.diverged


@pytest.mark.slow
def test_theorem7_nesterov_on_the_additive_model_is_not_flagged():
    m = partition.random_additive_model(20, 20, kappa=25.0, sigma_max_A2=0.3, seed=0)
    c = m.constants
    t7 = theory.theorem7_tuning(c.mu, c.L1)
    w0 = torch.randn(10, m.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    tr = _quiet(optimizers.nesterov, m.grad_w, w0, eta=t7.eta, beta=t7.beta, steps=300,
                loss=m.loss_w)
    assert not tr.diverged


@pytest.mark.slow
def test_chapter4_networks_are_not_flagged():
    # Chapter 4's setting: digits, eta = 1/(10 lambda_m), beta = 0.99 (the largest), heavy ball
    # and Nesterov, at the smallest width of the paper's grid and over several seeds.
    X, y = data.two_class("digits")
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    const = networks.ntk_constants(networks.arccos_kernel(X))
    for method in ("heavy_ball", "nesterov"):
        model = networks.TwoLayerReLU(1000, X.shape[1], seeds=[0, 1, 2])
        tr = _quiet(networks.train_two_layer, model, X, y, method=method,
                    eta=1 / (10 * const.lambda_m), beta=0.99, steps=300)
        assert not tr.diverged and tr.steps == 300


@pytest.mark.slow
def test_chapter3_networks_are_not_flagged():
    # Chapter 3's setting: depth 3, eta = 1/L1 at initialisation, GD, the classical Nesterov
    # tuning for kappa_x and Theorem 7's beta for kappa = 2 L1 / alpha_0^2.
    g = torch.Generator().manual_seed(0)
    X = torch.randn(16, 8, dtype=torch.float64, generator=g)
    X = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    Y = torch.randn(16, 1, dtype=torch.float64, generator=g)
    shape = [8, 64, 64, 1]
    c = networks.deep_relu_constants(networks.DeepReLU(shape, seeds=[0, 1]), X)
    eta = float(1 / c.L1.max())
    betas = {"gd": 0.0, "nesterov": float((math.sqrt(c.kappa_x.min()) - 1)
                                          / (math.sqrt(c.kappa_x.min()) + 1)),
             "theorem 7": float(theory.theorem7_beta(c.kappa.min()))}
    for name, beta in betas.items():
        method = "gd" if name == "gd" else "nesterov"
        tr = _quiet(networks.train_deep_relu, networks.DeepReLU(shape, seeds=[0, 1]), X, Y,
                    method=method, eta=eta, beta=beta, steps=300, track_features=False)
        assert not tr.diverged


# ---------------------------------------------------------------------------------------------
# True divergence: always flagged, in a run of reasonable length
# ---------------------------------------------------------------------------------------------


def test_slow_divergence_of_gd_past_2_over_L_is_caught_within_1000_steps():
    q = problems.random_quadratic(100.0, 20, seed=0)
    x0 = np.random.default_rng(1).standard_normal(20)
    with pytest.warns(DivergenceWarning, match="gd diverged at step"):
        tr = optimizers.gd(q.grad, x0, eta=2.02 / q.L, steps=1000, loss=q.loss)
    assert tr.diverged and tr.diverged_at < 1000
    assert tr.losses[-1] / tr.losses[-2] == pytest.approx(1.0404, rel=1e-3)   # |1 - 2.02|^2
    assert np.all(np.isfinite(tr.losses))


def test_heavy_ball_past_its_stability_edge_is_caught():
    # heavy ball is stable for eta * L < 2 (1 + beta); 1% past it diverges slowly
    q = problems.random_quadratic(100.0, 20, seed=0)
    x0 = np.random.default_rng(1).standard_normal(20)
    with pytest.warns(DivergenceWarning):
        tr = optimizers.heavy_ball(q.grad, x0, eta=1.01 * 2 * 1.5 / q.L, beta=0.5, steps=3000)
    assert tr.diverged and tr.diverged_at < 3000


def test_batched_run_stops_at_the_first_diverging_row_and_guard_freezes_it():
    q = problems.Quadratic([1.0, 10.0])
    x0 = np.ones((2, 2))
    eta = np.array([[0.1], [0.25]])                  # the second row is past 2/L
    with pytest.warns(DivergenceWarning):
        tr = optimizers.gd(q.grad, x0, eta=eta, steps=500)
    assert tr.diverged and tr.grad_norms.shape[1] == 2


def test_non_finite_first_step_is_reported_cleanly():
    with pytest.warns(DivergenceWarning, match="at step 0"):
        tr = optimizers.nesterov(lambda x: x * np.nan, np.ones(3), eta=0.1, beta=0.5, steps=10,
                                 loss=lambda x: (x ** 2).sum(-1))
    assert tr.diverged and tr.diverged_at == 0 and tr.steps == -1
    assert math.isnan(tr.rate()) and math.isnan(tr.rate(of="loss"))
    assert tr.iterations_to(1e-3) == math.inf
    # a batch
    with pytest.warns(DivergenceWarning):
        tb = optimizers.gd(lambda x: x * np.nan, np.ones((4, 3)), eta=0.1, steps=10)
    assert np.isnan(tb.rate()).all() and tb.rate().shape == (4,)

"""Rate and parameter formulas, checked against the algebra and against measured runs."""

import math

import numpy as np
import pytest

from momentum import optimizers, problems, theory


def test_tunings_match_their_formulas():
    mu, L = 0.5, 50.0
    k = L / mu
    s = math.sqrt(k)
    assert theory.gd_tuning(mu, L) == theory.Tuning(1 / L, 0.0, 1 - 1 / k)
    opt = theory.gd_tuning(mu, L, optimal=True)
    assert opt.eta == pytest.approx(2 / (L + mu)) and opt.rate == pytest.approx((k - 1) / (k + 1))
    hb = theory.heavy_ball_tuning(mu, L)
    assert hb.eta == pytest.approx(4 / (math.sqrt(L) + math.sqrt(mu)) ** 2)
    assert hb.beta == pytest.approx(((s - 1) / (s + 1)) ** 2)
    assert hb.rate == pytest.approx((s - 1) / (s + 1))
    nag = theory.nesterov_tuning(mu, L)
    assert (nag.eta, nag.beta, nag.rate) == pytest.approx((1 / L, (s - 1) / (s + 1), 1 - 1 / s))
    assert theory.tuning("nesterov", mu, L) == nag
    np.testing.assert_allclose(theory.rate_nesterov(np.array([4.0, 100.0])), [0.5, 0.9])


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_spectral_radius_equals_eigenvalues_of_iteration_matrix(method):
    rng = np.random.default_rng(0)
    for _ in range(200):
        lam, eta, beta = rng.uniform(0.01, 2), rng.uniform(0.01, 1.5), rng.uniform(0, 0.99)
        T = theory.iteration_matrix(method, lam, eta, beta if method != "gd" else 0.0)
        expected = np.max(np.abs(np.linalg.eigvals(T)))
        got = theory.spectral_radius(method, lam, eta, beta if method != "gd" else 0.0)
        assert got == pytest.approx(expected, rel=1e-7, abs=1e-12)


def test_iteration_matrix_propagates_a_mode():
    # the 2x2 matrix reproduces the method's iterates along one eigen-direction
    lam, eta, beta = 0.3, 0.9, 0.6
    q = problems.Quadratic([lam])
    traj = optimizers.nesterov(q.grad, np.array([1.0]), eta=eta, beta=beta, steps=20)
    T = theory.iteration_matrix("nesterov", lam, eta, beta)
    state = np.array([traj.x[1, 0], traj.x[0, 0]])
    for k in range(1, 20):
        state = T @ state
        assert state[0] == pytest.approx(traj.x[k + 1, 0], rel=1e-12, abs=1e-15)


def test_rate_on_spectrum_predicts_measured_rate_across_a_grid():
    q = problems.random_quadratic(50, 20, seed=3)
    x0 = np.random.default_rng(0).standard_normal(20)
    for eta, beta in [(1.0, 0.5), (1.5, 0.7), (0.7, 0.8), (1.2, 0.3)]:
        predicted = theory.rate_on_spectrum("heavy_ball", q.eigenvalues, eta, beta)
        traj = optimizers.heavy_ball(q.grad, x0, eta=eta, beta=beta, steps=3000,
                                     keep_iterates=False)
        # oscillating (complex-root) modes make the fit good to a few 1e-3, not better
        assert traj.rate() == pytest.approx(predicted, abs=5e-3)
    grid = theory.rate_on_spectrum("nesterov", q.eigenvalues, np.full((4, 5), 0.5),
                                   np.linspace(0, 0.9, 5))
    assert grid.shape == (4, 5)


def test_optimal_tunings_minimise_the_spectral_radius():
    q = problems.random_quadratic(100, 30, seed=0)
    etas, betas = np.meshgrid(np.linspace(0.05, 4.0, 160), np.linspace(0, 0.98, 150))
    rho = theory.rate_on_spectrum("heavy_ball", q.eigenvalues, etas, betas)
    hb = theory.heavy_ball_tuning(q.mu, q.L)
    assert rho.min() >= hb.rate - 2e-3  # no grid point beats Polyak's tuning
    assert theory.rate_on_spectrum("heavy_ball", q.eigenvalues, hb.eta, hb.beta) == \
        pytest.approx(hb.rate, rel=1e-6)


def test_iterations_for_matches_a_run():
    q = problems.Quadratic([0.01, 1.0])
    traj = optimizers.gd(q.grad, np.array([1.0, 0.0]), eta=1.0, steps=3000)
    measured = traj.iterations_to(1e-6, of="grad_norm")
    assert measured == theory.iterations_for(theory.rate_gd(100.0), 1e-6)
    assert theory.iterations_for(0.5, 1e-3) == 10


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: theory.gd_tuning(0.0, 1.0), "mu"),
        (lambda: theory.gd_tuning(2.0, 1.0), "mu must be <= L"),
        (lambda: theory.heavy_ball_tuning(1.0, float("inf")), "L"),
        (lambda: theory.rate_nesterov(0.5), "kappa"),
        (lambda: theory.rate_gd(np.array([2.0, np.nan])), "kappa"),
        (lambda: theory.iterations_for(1.5, 1e-3), "rate"),
        (lambda: theory.iterations_for(0.5, 0.0), "eps"),
        (lambda: theory.spectral_radius("nesterov", 1.0, -0.1, 0.5), "eta"),
        (lambda: theory.spectral_radius("nesterov", 1.0, 0.1, 1.5), "beta"),
        (lambda: theory.iteration_matrix("adam", 1.0, 0.1, 0.5), "method"),
        (lambda: theory.tuning("adam", 1.0, 2.0), "method"),
        (lambda: theory.rate_on_spectrum("gd", [], 0.1), "eigenvalues"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_iterations_for_is_exact_at_powers_and_for_float32_eps():
    # log(2**-29) / log(0.5) = 29.000000000000004 once rounded: the count is still 29
    for n in range(1, 60):
        assert theory.iterations_for(0.5, 2.0 ** -n) == n
        assert theory.iterations_for(0.25, 4.0 ** -n) == n if n < 30 else True
    assert theory.iterations_for(0.5, np.float32(0.125)) == 3
    # the definition, on a grid: the least k with rate**k <= eps
    for r in np.linspace(0.01, 0.999, 60):
        for eps in np.geomspace(1e-12, 0.9, 30):
            k = theory.iterations_for(r, eps)
            assert r ** k <= eps and (k == 1 or r ** (k - 1) > eps), (r, eps, k)
    ks = theory.iterations_for(np.array([0.5, 0.5]), 2.0 ** -29)
    np.testing.assert_array_equal(ks, [29, 29])

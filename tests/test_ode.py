"""momentum.ode (high-resolution ODEs) and the rate exponents of Liu et al. (2023) in theory."""

import math

import numpy as np
import pytest
import torch

from momentum import ode, optimizers, theory

METHODS = ["heavy_ball", "nesterov"]


def spd(n, lo, hi, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.geomspace(lo, hi, n)
    return (Q * lam) @ Q.T


# ------------------------------------------------------------------------------------------
# rate exponents (theory.rho_*)
# ------------------------------------------------------------------------------------------


def test_rho_values():
    assert theory.rho_hb() == pytest.approx(2 - math.sqrt(2), abs=1e-15)
    assert theory.rho_nag(0.0) == pytest.approx(2 - math.sqrt(2), abs=1e-15)
    assert theory.rho_nag(0.5) == pytest.approx((11 - math.sqrt(73)) / 4, abs=1e-15)
    a = np.linspace(0.0, 0.5, 201)
    r = theory.rho_nag(a)
    assert r.shape == a.shape and np.all(np.diff(r) > 0)     # increasing on [0, 1/2]
    assert np.all(r[1:] > theory.rho_hb())


def test_rho_without_correction_peaks_at_heavy_ball():
    phi = np.linspace(1e-3, 3.0, 300_001)
    r = theory.rho_without_correction(phi)
    star = (math.sqrt(2) - 1) / 2
    assert theory.rho_without_correction(star) == pytest.approx(theory.rho_hb(), abs=1e-14)
    assert r.max() <= theory.rho_hb() + 1e-14
    assert r.max() == pytest.approx(theory.rho_hb(), abs=1e-5)
    assert phi[r.argmax()] == pytest.approx(star, abs=1e-4)


def test_nag_alpha_and_high_resolution_beta():
    lam0, lam_m = 0.02, 30.0
    # 0 < s <= 1 / lambda_m gives alpha <= 1 / (2 sqrt(kappa)) with kappa = 2 lambda_m / lambda_0
    assert theory.nag_alpha(lam0, 1 / lam_m) == pytest.approx(
        1 / (2 * math.sqrt(2 * lam_m / lam0)), rel=1e-14)
    assert theory.high_resolution_beta(0.04, 0.25) == pytest.approx(0.9 / 1.1, rel=1e-14)
    for bad in [lambda: theory.rho_nag(0.6), lambda: theory.nag_alpha(-1.0, 0.1),
                lambda: theory.high_resolution_beta(1.0, 1.0)]:
        with pytest.raises(ValueError):
            bad()


# ------------------------------------------------------------------------------------------
# coefficients, closed form and solver
# ------------------------------------------------------------------------------------------


def test_coefficients():
    assert ode.coefficients("heavy_ball", s=0.04, mu=0.25) == pytest.approx((1.0, 0.0, 1.1))
    assert ode.coefficients("nesterov", s=0.04, mu=0.25) == pytest.approx((1.0, 0.2, 1.1))


@pytest.mark.parametrize("method", METHODS)
def test_solver_matches_exact_modal_solution(method):
    H = spd(6, 0.05, 20.0, seed=1)
    rng = np.random.default_rng(2)
    d0, v0 = rng.standard_normal(6), rng.standard_normal(6)
    t = np.linspace(0, 8, 81)
    num = ode.residual_ode(H, d0, t, s=0.01, mu=0.025, method=method, v0=v0)
    exact = ode.residual_ode_exact(H, d0, t, s=0.01, mu=0.025, method=method, v0=v0)
    assert num.success and num.z.shape == exact.z.shape == (81, 6)
    np.testing.assert_allclose(num.t, t)
    np.testing.assert_allclose(num.z, exact.z, atol=1e-8)
    np.testing.assert_allclose(num.z[0], d0) and np.testing.assert_allclose(num.v[0], v0)
    # default initial velocity is zero
    a = ode.residual_ode(H, d0, t, s=0.01, mu=0.025, method=method)
    b = ode.residual_ode_exact(H, d0, t, s=0.01, mu=0.025, method=method)
    np.testing.assert_allclose(a.z, b.z, atol=1e-8)


def _critical_lambda(method, s, mu):
    """The eigenvalue at which a mode is critically damped, gamma^2 / 4 = g lambda."""
    b, c, g = ode.coefficients(method, s=s, mu=mu)
    # (b + c lam)^2 / 4 - g lam = 0: c^2 lam^2 + (2 b c - 4 g) lam + b^2 = 0, smaller root
    if c == 0:
        return b * b / (4 * g)
    A, B, C = c * c, 2 * b * c - 4 * g, b * b
    return (-B - math.sqrt(B * B - 4 * A * C)) / (2 * A)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("regime", ["under", "critical", "over"])
def test_modal_solution_satisfies_its_ode(method, regime):
    s, mu = 0.04, 0.09
    lc = _critical_lambda(method, s, mu)
    lam = {"under": 20 * lc, "critical": lc, "over": lc / 20}[regime]
    b, c, g = ode.coefficients(method, s=s, mu=mu)
    gamma, omega2 = b + c * lam, g * lam
    disc = gamma ** 2 / 4 - omega2
    assert {"under": disc < 0, "critical": abs(disc) < 1e-12, "over": disc > 0}[regime]
    h = 1e-4
    t = np.arange(0, 6 + h / 2, h)
    d = ode.modal_solution(lam, t, s=s, mu=mu, method=method, delta0=0.7, v0=-1.3)
    d1 = (d[2:] - d[:-2]) / (2 * h)
    d2 = (d[2:] - 2 * d[1:-1] + d[:-2]) / h ** 2
    resid = d2 + gamma * d1 + omega2 * d[1:-1]
    assert np.abs(resid).max() < 1e-5 * max(1.0, omega2)
    assert d[0] == pytest.approx(0.7, abs=1e-14)
    assert (d[1] - d[0]) / h == pytest.approx(-1.3, abs=1e-3 * max(1.0, omega2))


def test_modal_solution_broadcasts():
    lam = np.array([0.1, 1.0, 10.0])
    t = np.linspace(0, 1, 5)
    out = ode.modal_solution(lam, t, s=0.01, mu=0.1, method="nesterov", delta0=[1.0, 2.0, 3.0])
    assert out.shape == (3, 5)
    one = ode.modal_solution(1.0, t, s=0.01, mu=0.1, method="nesterov", delta0=2.0)
    np.testing.assert_allclose(out[1], one)


def _fitted_rate(lam, method, s, mu):
    """Decay rate of |delta(t)| fitted on its envelope: the maxima over windows at least one
    oscillation period long, over the second half of [0, T]."""
    b, c, g = ode.coefficients(method, s=s, mu=mu)
    disc = (b + c * lam) ** 2 / 4 - g * lam
    win = max(2 * math.pi / math.sqrt(-disc), 1.0) if disc < 0 else 1.0
    windows = 40
    t = np.linspace(0, windows * win, windows * 400 + 1)
    d = np.abs(ode.modal_solution(lam, t, s=s, mu=mu, method=method, delta0=1.0, v0=0.0))
    env = d[:-1].reshape(windows, -1).max(1)
    mid = t[:-1].reshape(windows, -1).mean(1)
    keep = slice(windows // 2, windows)
    return -np.polyfit(mid[keep], np.log(env[keep]), 1)[0]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("lam", [0.02, 0.3, 5.0, 60.0])
def test_modal_decay_rate_matches_fitted_decay(method, lam):
    s, mu = 0.01, 0.09
    r = ode.modal_decay_rate(lam, s=s, mu=mu, method=method)
    assert _fitted_rate(lam, method, s, mu) == pytest.approx(r, rel=0.03, abs=2e-3)


def test_gradient_correction_damps_high_modes():
    s, mu = 0.01, 0.09
    lam = np.geomspace(1.0, 100.0, 20)     # all underdamped for heavy ball
    hb = ode.modal_decay_rate(lam, s=s, mu=mu, method="heavy_ball")
    nag = ode.modal_decay_rate(lam, s=s, mu=mu, method="nesterov")
    np.testing.assert_allclose(hb, math.sqrt(mu))
    under = (2 * math.sqrt(mu) + math.sqrt(s) * lam) ** 2 / 4 < (1 + math.sqrt(mu * s)) * lam
    np.testing.assert_allclose(nag[under], math.sqrt(mu) + math.sqrt(s) * lam[under] / 2)
    assert np.all(nag >= hb) and nag[-1] > 5 * hb[-1]


# ------------------------------------------------------------------------------------------
# weight space, and the discrete iterates
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_weight_ode_on_quadratic_is_residual_ode(method):
    A = spd(4, 0.2, 5.0, seed=3)
    w_star = np.array([0.5, -1.0, 2.0, 0.0])
    At, wt = torch.as_tensor(A), torch.as_tensor(w_star)

    def loss(w):
        e = w - wt
        return 0.5 * e @ (At @ e)

    w0 = np.array([1.0, 1.0, -1.0, 0.5])
    v0 = np.array([0.3, 0.0, -0.2, 0.1])
    t = np.linspace(0, 5, 26)
    sol = ode.weight_ode(loss, w0, t, s=0.04, mu=0.1, method=method, v0=v0, rtol=1e-10,
                         atol=1e-12)
    ref = ode.residual_ode_exact(A, w0 - w_star, t, s=0.04, mu=0.1, method=method, v0=v0)
    assert sol.success
    np.testing.assert_allclose(sol.z - w_star, ref.z, atol=1e-7)


def test_shi_initial_velocity():
    g = np.array([1.0, -2.0])
    np.testing.assert_allclose(ode.shi_initial_velocity(g, s=0.04, mu=0.25),
                               -2 * 0.2 * g / 1.1)


def test_iterate_initial_velocity():
    g = np.array([1.0, -2.0])
    np.testing.assert_allclose(ode.iterate_initial_velocity(g, s=0.04), -0.1 * g)


def _distance_to_ode(method, ode_method, s, A, x0, mu, *, v0="iterate", T=6.0):
    """max_k ||x_k - X(k sqrt s)|| over t_k <= T, X the exact solution of ``ode_method``."""
    steps = int(round(T / math.sqrt(s)))
    beta = theory.high_resolution_beta(mu, s)
    run = getattr(optimizers, method)(lambda x: A @ x, x0, eta=s, beta=beta, steps=steps)
    t = np.arange(steps + 1) * math.sqrt(s)
    g0 = A @ x0
    v = {"iterate": ode.iterate_initial_velocity(g0, s=s), "zero": 0 * g0,
         "shi": ode.shi_initial_velocity(g0, s=s, mu=mu)}[v0]
    sol = ode.residual_ode_exact(A, x0, t, s=s, mu=mu, method=ode_method, v0=v)
    return np.linalg.norm(np.asarray(run.x) - sol.z, axis=1).max()


@pytest.mark.parametrize("method", METHODS)
def test_iterates_approach_their_ode_as_s_shrinks(method):
    A = spd(5, 0.1, 10.0, seed=4)
    x0 = np.ones(5)
    mu = 0.1
    steps = [4e-3, 1e-3, 2.5e-4]                     # sqrt(s) halves each time
    dist = [_distance_to_ode(method, method, s, A, x0, mu) for s in steps]
    # first order in s: each quartering of s cuts the gap by about 4 (3 at least)
    assert dist[0] > 3 * dist[1] > 9 * dist[2]
    # with the paper's zero initial velocity, or Shi et al.'s, only about sqrt(s)
    for v0 in ["zero", "shi"]:
        d = [_distance_to_ode(method, method, s, A, x0, mu, v0=v0) for s in steps]
        assert d[0] > d[1] > d[2] > dist[2] and d[0] < 5 * d[2]
    # and the method's own ODE describes it far better than the other method's ODE
    other = "heavy_ball" if method == "nesterov" else "nesterov"
    assert _distance_to_ode(method, other, steps[1], A, x0, mu) > 10 * dist[1]


# ------------------------------------------------------------------------------------------
# bad inputs
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, word", [
    (lambda: ode.coefficients("adam", s=0.1, mu=0.1), "method"),
    (lambda: ode.coefficients("nesterov", s=0.0, mu=0.1), "s"),
    (lambda: ode.coefficients("nesterov", s=0.1, mu=-1.0), "mu"),
    (lambda: ode.residual_ode(np.ones((2, 3)), np.ones(2), [0, 1], s=0.1, mu=0.1,
                              method="nesterov"), "H"),
    (lambda: ode.residual_ode(np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2), [0, 1], s=0.1,
                              mu=0.1, method="nesterov"), "H"),
    (lambda: ode.residual_ode(np.eye(2), np.ones(3), [0, 1], s=0.1, mu=0.1,
                              method="nesterov"), "delta0"),
    (lambda: ode.residual_ode(np.eye(2), np.ones(2), [0, 1], s=0.1, mu=0.1,
                              method="nesterov", v0=[np.nan, 0.0]), "v0"),
    (lambda: ode.residual_ode_exact(np.eye(2), np.ones(2), [1, 0], s=0.1, mu=0.1,
                                    method="heavy_ball"), "t"),
    (lambda: ode.modal_solution(1.0, [-1.0, 1.0], s=0.1, mu=0.1, method="heavy_ball"), "t"),
    (lambda: ode.modal_solution(np.inf, [0.0, 1.0], s=0.1, mu=0.1, method="heavy_ball"),
     "lam"),
    (lambda: ode.modal_decay_rate(1.0, s=0.1, mu=0.1, method="gd"), "method"),
    (lambda: ode.shi_initial_velocity(np.ones(2), s=-0.1, mu=0.1), "s"),
    (lambda: ode.iterate_initial_velocity(np.ones(2), s=0.0), "s"),
    (lambda: ode.iterate_initial_velocity(np.array([np.nan]), s=0.1), "grad0"),
    (lambda: ode.weight_ode("loss", np.ones(2), [0, 1], s=0.1, mu=0.1, method="nesterov"),
     "loss"),
    (lambda: ode.weight_ode(lambda w: (w ** 2).sum(), np.ones(2), [0, 1], s=0.1, mu=0.1,
                            method="nesterov", v0=np.ones(3)), "v0"),
])
def test_bad_inputs_name_the_parameter(call, word):
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        call()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mu, s", [(0.025, 0.01), (10.0, 0.5), (1e6, 1e-4)])
def test_stiffness_bounds_the_rates_of_the_residual_system(method, mu, s):
    """ode._stiffness (what residual_ode's refusal of stiff settings rests on) bounds the
    eigenvalues of the first-order system [[0, I], [-g H, -(b I + c H)]] in modulus."""
    H = spd(5, 0.01, 50.0, seed=3)
    b, c, g = ode.coefficients(method, s=s, mu=mu)
    n = H.shape[0]
    A = np.block([[np.zeros((n, n)), np.eye(n)], [-g * H, -(b * np.eye(n) + c * H)]])
    rate = ode._stiffness(b, c, g, float(np.linalg.eigvalsh(H)[-1]))
    top = float(np.abs(np.linalg.eigvals(A)).max())
    assert top <= rate * (1 + 1e-12) and rate <= 4 * top


def test_stiff_settings_are_refused_at_once():
    """mu = 1e12 (damping 2e6 per unit time) ran for minutes before issue 25; now refused,
    with the reason, before any solving; a setting just inside the bound still solves."""
    import time
    start = time.process_time()
    with pytest.raises(ValueError, match="mu.*stiff.*residual_ode_exact"):
        ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=1e12, method="nesterov")
    assert time.process_time() - start < 1.0
    sol = ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=1e-6, mu=1e8,
                           method="heavy_ball")
    exact = ode.residual_ode_exact(np.eye(2), np.ones(2), [0.0, 1.0], s=1e-6, mu=1e8,
                                   method="heavy_ball")
    assert sol.success
    np.testing.assert_allclose(sol.z, exact.z, atol=1e-8)


def test_tolerances_below_the_floor_are_refused_by_name():
    for bad in (5e-324, 1e-200, 1e-101):
        with pytest.raises(ValueError, match=r"^atol must be >= 1e-100"):
            ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=0.1,
                             method="heavy_ball", atol=bad)
    sol = ode.residual_ode(np.eye(2), np.ones(2), [0.0, 1.0], s=0.01, mu=0.1,
                           method="heavy_ball", atol=ode.ATOL_FLOOR)
    assert sol.success

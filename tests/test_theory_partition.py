"""Theorems 6 and 7 of Liao & Kyrillidis (2024): parameters, rates and conditions, checked
against the algebra and against measured runs on the additive model."""

import math

import numpy as np
import pytest
import torch

from momentum import optimizers, partition, records, theory


def test_theorem7_parameters_match_formulas():
    for kappa, c in ((16.0, 1.0), (100.0, 0.5), (1.0, 0.1)):
        s, r = math.sqrt(kappa), math.sqrt(c)
        t = theory.theorem7_tuning(2.0, 2.0 * kappa, c)
        assert t.eta == pytest.approx(c / (2.0 * kappa))
        assert t.beta == pytest.approx((4 * s - r) / (4 * s + 7 * r))
        assert t.rate == pytest.approx(1 - c / (4 * s))
        g = theory.theorem6_tuning(2.0, 2.0 * kappa, c)
        assert (g.eta, g.beta, g.rate) == pytest.approx((c / (2 * kappa), 0.0, 1 - c / (4 * kappa)))
    np.testing.assert_allclose(theory.theorem7_beta(np.array([16.0, 400.0])),
                               [15 / 23, 79 / 87])
    # beta -> 1 as kappa grows, and stays in [0, 1)
    b = theory.theorem7_beta(np.logspace(0, 6, 7))
    assert np.all(np.diff(b) > 0) and b[0] >= 0 and b[-1] < 1


def test_theorem7_bounds_formula_and_monotonicity():
    mu, L2, kappa, beta = 2.0, 1.0, 25.0, 0.6
    q = 0.4 / 1.6
    b1, b2 = theory.theorem7_bounds(mu, L2, kappa, beta)
    assert b1 == pytest.approx(mu**2 / (L2 * (L2 + 1) ** 2) * q**3)
    assert b2 == pytest.approx(mu**3 / (L2 * (L2 + 1) * 5.0) * q**2)
    c1, c2 = theory.theorem7_bounds(mu, L2, kappa, beta, constant=10.0)
    assert (c1, c2) == pytest.approx((b1 / 10, b2 / 10))
    # more momentum leaves less room for the wild block
    assert theory.theorem7_bounds(mu, L2, kappa, 0.9)[0] < b1


def _in_regime_runs(steps=200):
    m = partition.random_additive_model(30, 30, kappa=25, sigma_max_A2=0.01, seed=0)
    c = m.constants
    w0 = torch.randn(6, m.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    t7, t6 = theory.theorem7_tuning(c.mu, c.L1), theory.theorem6_tuning(c.mu, c.L1)
    nag = optimizers.nesterov(m.grad_w, w0, eta=t7.eta, beta=t7.beta, steps=steps,
                              loss=m.loss_w)
    gd = optimizers.gd(m.grad_w, w0, eta=t6.eta, steps=steps, loss=m.loss_w)
    return m, c, t6, t7, gd, nag


@pytest.mark.slow
def test_theorem6_and_7_bounds_hold_on_measured_runs():
    m, c, t6, t7, gd, nag = _in_regime_runs()
    assert partition.check_theorem7(c, t7.beta).holds  # we are inside the theorem
    k = np.arange(gd.steps + 1)[:, None]
    assert np.all(nag.losses <= 2 * t7.rate**k * nag.losses[0] * (1 + 1e-9) + 1e-28)
    assert np.all(gd.losses <= t6.rate**k * gd.losses[0] * (1 + 1e-9))


def test_measured_rates_against_kappa_formulas():
    # the loss contracts like the square of the distance rate: GD near (1 - 1/kappa)^2,
    # Nesterov near the spectral radius of its iteration at mu, far below GD's
    m, c, t6, t7, gd, nag = _in_regime_runs(steps=400)
    rho_gd = np.median(records.fit_rate(gd.losses, window=(1e-2, 1e-20)))
    rho_nag = np.median(records.fit_rate(nag.losses, window=(1e-2, 1e-20)))
    assert rho_gd == pytest.approx((1 - 1 / c.kappa) ** 2, abs=0.01)
    expected = theory.spectral_radius("nesterov", c.mu, t7.eta, t7.beta) ** 2
    assert rho_nag == pytest.approx(expected, abs=0.03)
    assert rho_nag < theory.rate_nesterov(c.kappa) < rho_gd
    # and both sit well inside the theorems' guarantees
    assert rho_gd < t6.rate and rho_nag < t7.rate


def test_theory_partition_rejects_bad_input():
    with pytest.raises(ValueError, match="kappa"):
        theory.theorem7_beta(0.5)
    with pytest.raises(ValueError, match="c must"):
        theory.theorem7_beta(10.0, c=2.0)
    with pytest.raises(ValueError, match="c"):
        theory.rate_theorem6(10.0, c=0.0)
    with pytest.raises(ValueError, match="beta"):
        theory.theorem7_bounds(1.0, 1.0, 4.0, 1.2)
    with pytest.raises(ValueError, match="mu"):
        theory.theorem7_tuning(2.0, 1.0)


def test_the_window_fit_recovers_a_known_rate():
    k = np.arange(200)[:, None]
    wiggle = 1 + 0.5 * np.cos(2.0 * k)  # oscillation, as Nesterov's loss has
    losses = np.concatenate([0.9**k * wiggle, 0.7**k], axis=1)
    np.testing.assert_allclose(records.fit_rate(losses, window=(1e-2, 1e-20)), [0.9, 0.7],
                               rtol=2e-3)
    assert np.isnan(records.fit_rate(np.ones(50), window=(1e-2, 1e-20)))
    with pytest.raises(ValueError, match="stop"):
        records.fit_rate(losses, window=(1e-5, 1e-2))
    assert not hasattr(partition, "window_rate")          # the shim is gone

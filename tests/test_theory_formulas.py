"""The formulas the chapters used to compute by hand, now in momentum.theory."""

import math

import numpy as np
import pytest

from momentum import networks, ode, partition, theory


def test_ntk_lambda_m_and_kappa():
    assert theory.ntk_lambda_m(0.4, 2.0) == pytest.approx(2.1)
    assert theory.ntk_kappa(0.4, 2.1) == pytest.approx(10.5)
    H = np.array([[1.0, 0.3], [0.3, 1.0]])
    c = networks.ntk_constants(H)
    assert c.lambda_m == theory.ntk_lambda_m(c.lambda_0, c.lambda_max)
    assert c.kappa == theory.ntk_kappa(c.lambda_0, c.lambda_m)
    with pytest.raises(ValueError, match="lambda_0"):
        theory.ntk_kappa(0.0, 1.0)


def test_underdamped_ranges_match_the_modal_ode():
    mu, s = 0.05, 1.0
    lo = theory.heavy_ball_underdamped_above(mu, s)
    lm, lp = theory.nesterov_underdamped_interval(mu, s)
    assert lo == pytest.approx(mu / (1 + math.sqrt(mu * s)))
    # inside the range a mode's decay rate is gamma/2; the fastest Nesterov mode sits at lp
    grid = np.geomspace(lm * 1.01, lp * 0.99, 200)
    r = ode.modal_decay_rate(grid, s=s, mu=mu, method="nesterov")
    np.testing.assert_allclose(r, math.sqrt(mu) + math.sqrt(s) * grid / 2, rtol=1e-9)
    r_hb = ode.modal_decay_rate(np.array([2 * lo, 10 * lo]), s=s, mu=mu, method="heavy_ball")
    np.testing.assert_allclose(r_hb, math.sqrt(mu), rtol=1e-9)
    with pytest.raises(ValueError, match="mu"):
        theory.nesterov_underdamped_interval(2.0, 1.0)


def test_additive_threshold_and_width_requirement_live_in_theory():
    assert partition.additive_threshold is theory.additive_threshold
    assert networks.width_requirement is theory.width_requirement
    s = theory.additive_threshold(1.0, 25.0)
    b1, b2 = theory.theorem7_bounds(1.0, 1.0, 25.0, theory.theorem7_beta(25.0))
    assert s == pytest.approx(min(b1 ** 0.25, (b2 / 25.0) ** 0.25))
    assert theory.width_requirement(10, 3) == pytest.approx(10 ** 5.5)
    assert theory.width_requirement(10, 5) == pytest.approx(10 ** 4.5 * 25)
    with pytest.raises(ValueError, match="d0"):
        theory.width_requirement(10, 0)

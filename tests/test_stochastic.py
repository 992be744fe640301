"""Mini-batch least squares (stochastic), the MaSS checker (check.mass_step)."""

import warnings

import numpy as np
import pytest
import torch

from momentum import check, optimizers, stochastic
from momentum.check import mass
from momentum.records import DivergenceWarning


@pytest.fixture(scope="module")
def prob():
    return stochastic.least_squares(20, 60, seed=1)


def test_problem_interpolates(prob):
    assert prob.d > prob.n
    w = torch.linalg.lstsq(prob.X, prob.y.unsqueeze(-1), driver="gelsd").solution.squeeze(-1)
    assert prob.loss(w).item() < 1e-20
    assert 0 < prob.mu < prob.L <= prob.L_sample * 1.0001


def test_full_batch_sgd_is_gd(prob):
    tr = stochastic.minibatch_run(prob, "sgd", eta=1 / prob.L, batch=prob.n, steps=30,
                                  trials=2)
    ref = optimizers.gd(lambda w: prob.grad(w), torch.zeros(prob.d, dtype=torch.float64),
                        eta=1 / prob.L, steps=30, loss=lambda w: prob.loss(w))
    np.testing.assert_allclose(tr.losses[:, 0], ref.losses, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(tr.losses[:, 1], ref.losses, rtol=1e-9, atol=1e-15)


def test_mass_without_compensation_is_nesterov(prob):
    kw = dict(eta=0.5 / prob.L_sample, beta=0.8, batch=4, steps=40, trials=3, seed=5)
    a = stochastic.minibatch_run(prob, "mass", eta2=0.0, **kw)
    b = stochastic.minibatch_run(prob, "nesterov", **kw)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-9)


def test_mass_full_compensation_is_sgd(prob):
    kw = dict(eta=0.5 / prob.L_sample, batch=4, steps=40, trials=3, seed=5)
    a = stochastic.minibatch_run(prob, "mass", beta=0.8, eta2=0.8 * kw["eta"], **kw)
    b = stochastic.minibatch_run(prob, "sgd", **kw)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-9)


def test_trials_are_independent(prob):
    kw = dict(eta=0.5 / prob.L_sample, beta=0.5, batch=2, steps=20, seed=3)
    a = stochastic.minibatch_run(prob, "heavy_ball", trials=3, **kw)
    assert not np.allclose(a.losses[:, 0], a.losses[:, 1])


def test_divergence_is_flagged(prob):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        tr = stochastic.minibatch_run(prob, "sgd", eta=10 / prob.L_sample, batch=1, steps=300)
    assert tr.diverged


def test_invalid(prob):
    with pytest.raises(ValueError):
        stochastic.minibatch_run(prob, "adam", eta=0.1, batch=1, steps=5)
    with pytest.raises(ValueError):
        stochastic.minibatch_run(prob, "sgd", eta=0.1, beta=0.5, batch=1, steps=5)
    with pytest.raises(ValueError):
        stochastic.minibatch_run(prob, "sgd", eta=0.1, batch=prob.n + 1, steps=5)
    with pytest.raises(ValueError):
        stochastic.least_squares(10, 5)


def test_mass_reference_matches_the_runner(prob):
    kw = dict(eta=0.3 / prob.L_sample, beta=0.7, eta2=0.05, batch=prob.n, steps=3, trials=1)
    tr = stochastic.minibatch_run(prob, "mass", **kw)
    w = u = torch.zeros(prob.d, dtype=torch.float64)
    for _ in range(3):
        w, u = mass.reference_mass_step(w, u, prob.grad(u), kw["eta"], kw["eta2"], kw["beta"])
    assert prob.loss(w).item() == pytest.approx(tr.losses[-1, 0], rel=1e-9)   # at w_k


def test_mass_checker(capsys):
    assert check.mass_step(mass.reference_mass_step)
    ref = mass.reference_mass_step
    bad = check.mass_step(lambda w, u, g, e1, e2, gm: ref(w, u, g, e1, 0.0, gm))
    assert not bad and "Nesterov" in bad.message
    bad = check.mass_step(lambda w, u, g, e1, e2, gm: ref(u, u, g, e1, e2, gm))
    assert not bad and "hint" in bad.message
    assert not check.mass_step(lambda *a: None)
    with pytest.raises(ValueError):
        check.mass_step(3)

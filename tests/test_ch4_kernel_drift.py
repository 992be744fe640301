"""Chapter 4's library functions: the iterate-vs-ODE gap, the kernel's drift during training
and the width Liu et al.'s theorems assume."""

import math

import numpy as np
import pytest
import torch

from momentum import networks as nw
from momentum import ode, optimizers, theory


def spd(n, lo, hi, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(lo, hi, n)) @ Q.T


def unit_rows(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    return X / torch.linalg.vector_norm(X, dim=1, keepdim=True)


# ------------------------------------------------------------------------------------------
# ode.iterate_gap
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ode.METHODS)
def test_iterate_gap_is_the_largest_relative_distance(method):
    H, d0, mu, s = spd(4, 0.1, 5.0, seed=1), np.array([1.0, -2.0, 0.5, 1.0]), 0.05, 1e-2
    out = ode.iterate_gap(H, d0, s=s, mu=mu, method=method, horizon=5.0)
    steps = int(round(5.0 / math.sqrt(s)))
    run = optimizers.run(method, lambda r: H @ r, d0, eta=s,
                         beta=theory.high_resolution_beta(mu, s), steps=steps)
    np.testing.assert_array_equal(out.iterates, np.asarray(run.x))
    np.testing.assert_allclose(out.t, np.arange(steps + 1) * math.sqrt(s))
    v0 = ode.iterate_initial_velocity(H @ d0, s=s)
    z = ode.residual_ode_exact(H, d0, out.t, s=s, mu=mu, method=method, v0=v0).z
    np.testing.assert_allclose(out.exact, z)
    gap = np.linalg.norm(out.iterates - z, axis=1).max() / np.linalg.norm(d0)
    assert out.gap == pytest.approx(gap)


@pytest.mark.parametrize("method", ode.METHODS)
def test_iterate_gap_shrinks_like_s_matched_and_sqrt_s_at_rest(method):
    H, d0, mu = spd(5, 0.1, 10.0, seed=4), np.ones(5), 0.1
    s_values = [4e-3, 1e-3, 2.5e-4]                  # quartered each time
    matched = [ode.iterate_gap(H, d0, s=s, mu=mu, method=method, horizon=10.0).gap
               for s in s_values]
    rest = [ode.iterate_gap(H, d0, s=s, mu=mu, method=method, horizon=10.0, v0="zero").gap
            for s in s_values]
    # first order: a quarter of s cuts the matched gap about 4-fold; at rest about 2-fold
    assert matched[0] > 3 * matched[1] > 9 * matched[2]
    assert all(1.5 < a / b < 2.7 for a, b in zip(rest, rest[1:]))


@pytest.mark.parametrize("kwargs, word", [
    ({"v0": "shi"}, "v0"),
    ({"horizon": 0.0}, "horizon"),
    ({"method": "gd"}, "method"),
    ({"s": -1.0}, "s"),
    ({"delta0": np.zeros(2)}, "delta0"),
    ({"delta0": np.ones(3)}, "delta0"),
])
def test_iterate_gap_bad_inputs(kwargs, word):
    args = {"s": 0.01, "mu": 0.1, "method": "nesterov", "horizon": 1.0, "delta0": np.ones(2)}
    args.update(kwargs)
    d0 = args.pop("delta0")
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        ode.iterate_gap(np.eye(2), d0, **args)


# ------------------------------------------------------------------------------------------
# networks.kernel_drift and the kernel series of train_two_layer
# ------------------------------------------------------------------------------------------


def test_kernel_drift_formula():
    X = unit_rows(8, 5, 0)
    net = nw.TwoLayerReLU(40, 5, seeds=[1, 2])
    H0 = nw.ntk_gram(net, X).clone()
    with torch.no_grad():
        net.W.add_(0.3 * torch.randn(net.W.shape, dtype=torch.float64,
                                     generator=torch.Generator().manual_seed(3)))
    change, low = nw.kernel_drift(net, X, H0)
    H = nw.ntk_gram(net, X)
    for b in range(2):
        want = np.linalg.norm((H[b] - H0[b]).numpy(), ord=2)
        assert change[b].item() == pytest.approx(want, rel=1e-12)
        assert low[b].item() == pytest.approx(np.linalg.eigvalsh(H[b].numpy())[0], abs=1e-12)
    assert change.min() > 0
    zero, _ = nw.kernel_drift(net, X, H)
    assert torch.all(zero.abs() < 1e-12)


def test_training_records_the_kernel_every_few_steps():
    X, y = unit_rows(10, 6, 0), torch.linspace(-1, 1, 10, dtype=torch.float64)
    args = {"method": "nesterov", "eta": 0.05, "beta": 0.9, "steps": 23}
    plain = nw.train_two_layer(nw.TwoLayerReLU(50, 6, seeds=[0, 1]), X, y, **args)
    net = nw.TwoLayerReLU(50, 6, seeds=[0, 1])
    H0 = nw.ntk_gram(net, X).clone()
    rec = nw.train_two_layer(net, X, y, kernel_every=5, **args)
    # the measurement does not change the run
    np.testing.assert_array_equal(rec.losses, plain.losses)
    assert rec.kernel_drift.shape == rec.kernel_min_eig.shape == (24, 2)
    measured = ~np.isnan(rec.kernel_drift[:, 0])
    assert np.flatnonzero(measured).tolist() == [0, 5, 10, 15, 20, 23]
    assert np.all(rec.kernel_drift[0] == 0)
    # the last entry is the drift of the trained network
    change, low = nw.kernel_drift(net, X, H0)
    np.testing.assert_allclose(rec.kernel_drift[-1], change.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rec.kernel_min_eig[-1], low.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rec.kernel_min_eig[0],
                               torch.linalg.eigvalsh(H0)[:, 0].numpy(), rtol=1e-12)


def test_kernel_drift_shrinks_with_width():
    """The measured behaviour the chapter reads: a wider network's kernel moves less."""
    X, y = unit_rows(20, 8, 1), torch.sign(torch.linspace(-1, 1, 20, dtype=torch.float64))
    final = []
    for m in [200, 800, 3200]:
        rec = nw.train_two_layer(nw.TwoLayerReLU(m, 8, seeds=[0, 1]), X, y,
                                 method="heavy_ball", eta=0.05, beta=0.9, steps=40,
                                 kernel_every=40)
        final.append(rec.kernel_drift[-1].mean())
    assert final[0] > 1.5 * final[1] > 2.25 * final[2]


@pytest.mark.parametrize("call, word", [
    (lambda X, y, n: nw.kernel_drift(n, X, torch.eye(3)), "H0"),
    (lambda X, y, n: nw.kernel_drift(n, X, torch.full((5, 5), float("nan"))), "H0"),
    (lambda X, y, n: nw.train_two_layer(n, X, y, method="nesterov", eta=0.1, beta=0.9,
                                        steps=3, kernel_every=0), "kernel_every"),
])
def test_kernel_bad_inputs(call, word):
    X, y = unit_rows(5, 3, 0), torch.ones(5, dtype=torch.float64)
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        call(X, y, nw.TwoLayerReLU(10, 3, seeds=0))


# ------------------------------------------------------------------------------------------
# theory.two_layer_width_requirement
# ------------------------------------------------------------------------------------------


def test_two_layer_width_requirement():
    assert theory.two_layer_width_requirement(10, 0.1) == pytest.approx(1e6 / 1e-4)
    assert theory.two_layer_width_requirement(10, 0.1, p=0.5) == pytest.approx(8e10)
    # smaller lambda_0 or p, larger n: a larger width
    assert theory.two_layer_width_requirement(20, 0.1) == pytest.approx(64e10)
    with pytest.raises(ValueError, match=r"\bp\b"):
        theory.two_layer_width_requirement(10, 0.1, p=0.0)
    with pytest.raises(ValueError, match=r"\blambda_0\b"):
        theory.two_layer_width_requirement(10, -0.1)
    with pytest.raises(ValueError, match=r"\bn\b"):
        theory.two_layer_width_requirement(0, 0.1)

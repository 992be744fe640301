"""Chapter 3's training grids (momentum.networks.deep_relu_grid) and its loss figure
(momentum.plotting.loss_panels): the layer widths, the rescaled initialisation against the
homogeneity of the features, the measured rate against the frozen-features theory and the
former window fit, the tables, a stacked scale sweep against the same networks alone, and bad
input."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from momentum import networks, plotting, records
from momentum.networks import deep_relu_grid as grids

matplotlib.use("Agg")
D = torch.float64


def _task(n=12, d0=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d0, generator=g, dtype=D)
    X = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    return X, torch.sign(X @ torch.randn(d0, generator=g, dtype=D))


@pytest.fixture(scope="module")
def grid():
    X, y = _task()
    return grids.train_grid(X, y, [2], [64], seeds=[0, 1], steps=300, hidden=16)


def test_layer_widths():
    assert grids.layer_widths(8, 2, 32) == [8, 32, 1]
    assert grids.layer_widths(8, 4, 32, hidden=16) == [8, 16, 16, 32, 1]
    with pytest.raises(ValueError, match="depth"):
        grids.layer_widths(8, 1, 32)
    with pytest.raises(ValueError, match="width"):
        grids.layer_widths(8, 2, 0)


def test_rescale_init_homogeneity_and_last_layer_std():
    X, _ = _task()
    shape = grids.layer_widths(X.shape[1], 3, 512, hidden=32)
    base = networks.deep_relu_constants(networks.DeepReLU(shape, seeds=[0, 1]), X)
    g = math.sqrt(2)
    net = grids.rescale_init(networks.DeepReLU(shape, seeds=[0, 1]), last_scale=[1.0, 1e-3],
                             gain=g)
    c = networks.deep_relu_constants(net, X)
    # F -> g^(Lambda-1) F: alpha_0 x g^2, L1 x g^4, kappa unchanged; s changes none of them
    np.testing.assert_allclose(c.alpha_0, g ** 2 * base.alpha_0, rtol=1e-12)
    np.testing.assert_allclose(c.L1, g ** 4 * base.L1, rtol=1e-12)
    np.testing.assert_allclose(c.kappa, base.kappa, rtol=1e-12)
    # the last layer's std is s / sqrt(d): 1 / sqrt(512) and 1e-3 / sqrt(512)
    stds = net.weights[-1].detach().reshape(2, -1).std(dim=1).numpy() * math.sqrt(512)
    np.testing.assert_allclose(stds, [1.0, 1e-3], rtol=0.1)
    # no scale given: the book's d^(-3/4) is kept
    book = grids.rescale_init(networks.DeepReLU(shape, seeds=0))
    assert abs(book.weights[-1].detach().std().item() * 512 ** 0.75 - 1) < 0.1


def test_rescale_init_bad_input():
    net = networks.DeepReLU([4, 8, 1], seeds=[0, 1])
    with pytest.raises(ValueError, match="gain"):
        grids.rescale_init(net, gain=0.0)
    with pytest.raises(ValueError, match="last_scale"):
        grids.rescale_init(net, last_scale=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="last_scale"):
        grids.rescale_init(net, last_scale=-1.0)
    with pytest.raises(ValueError, match="model"):
        grids.rescale_init(torch.nn.Linear(2, 2))


@pytest.mark.slow
def test_measured_rate_against_frozen_theory_and_window_fit(grid):
    r = grid[2, 64]
    kx = r["kappa_x"]
    gd, nes = r["runs"]["gd"]["frozen"], r["runs"]["classical"]["frozen"]
    # frozen features: least squares; GD no slower than 1 - 1/kappa_x, Nesterov near
    # 1 - 1/sqrt(kappa_x) (the seed with the largest L1 sets eta)
    assert grids.measured_rate(gd) <= 1 - 1 / kx + 1e-3
    assert abs(grids.measured_rate(nes) - (1 - 1 / math.sqrt(kx))) < 0.03
    assert grids.measured_rate(nes) < grids.measured_rate(gd)
    # the measured rate is the window option of the one rate fit, per seed, square-rooted
    old = float(np.median(np.sqrt(records.fit_rate(nes.losses, window=(1e-1, 1e-20)))))
    assert grids.measured_rate(nes) == pytest.approx(old, rel=1e-12)
    assert grids.measured_rate(nes, per_seed=True).shape == (2,)
    with pytest.raises(ValueError, match="rec"):
        grids.measured_rate(np.ones(3))


@pytest.mark.slow
def test_measured_rate_of_a_diverged_run_is_none():
    X, y = _task()
    net = networks.DeepReLU([X.shape[1], 32, 1], seeds=0)
    c = networks.deep_relu_constants(net, X)
    with pytest.warns(Warning):
        rec = networks.train_deep_relu(net, X, y, method="gd", eta=5.0 / c.L1, steps=100)
    assert rec.diverged and grids.measured_rate(rec) is None


@pytest.mark.slow
def test_tables(grid):
    table = grids.rate_table(grid)
    assert list(table.columns) == ["reference", "frozen", "all layers"]
    assert len(table) == 3
    q = grids.quietness(grid, "gd")
    ratio, drift, diverged = q[2, 64]
    assert ratio > 0 and drift > 0 and diverged is False
    with pytest.raises(ValueError, match="name"):
        grids.quietness(grid, "adam")
    with pytest.raises(ValueError, match="grid"):
        grids.rate_table({})


@pytest.mark.slow
def test_scale_sweep_stack_is_each_network_alone():
    X, y = _task()
    kw = dict(depth=2, widths=[32], gains=[1.0, 2.0], seeds=[0, 1], steps=60, hidden=8)
    both = grids.scale_sweep(X, y, scales=[1.0, "book"], **kw)
    alone = grids.scale_sweep(X, y, scales=["book"], **kw)
    assert [r["scale"] for r in both] == [1.0, "book", 1.0, "book"]
    for a, b in zip([r for r in both if r["scale"] == "book"], alone):
        assert a["f0"] == pytest.approx(b["f0"], rel=1e-12)
        for m in ["gd", "nesterov"]:
            assert a[m]["ratio"] == pytest.approx(b[m]["ratio"], rel=1e-9)
            assert a[m]["drift"] == pytest.approx(b[m]["drift"], rel=1e-9)
    assert both[0]["kappa"] == pytest.approx(both[2]["kappa"], rel=1e-12)  # gain: same kappa
    assert both[1]["s"] == pytest.approx(32 ** -0.25)
    with pytest.raises(ValueError, match="scales"):
        grids.scale_sweep(X, y, scales=[0.0], **kw)
    with pytest.raises(ValueError, match="steps"):
        grids.scale_sweep(X, y, scales=[1.0], **{**kw, "steps": 0})


@pytest.mark.slow
def test_loss_panels(grid):
    fig = plotting.loss_panels(grid, [2], 64, lambda d, kx: f"{d} {kx:.0f}",
                               names=grids.NAMES)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 5
    with pytest.raises(ValueError, match="grid"):
        plotting.loss_panels(grid, [3], 64, str, names=grids.NAMES)


def test_early_curvature_reruns_the_training_loop():
    X, y = _task()
    shape = grids.layer_widths(X.shape[1], 2, 32)
    net = networks.DeepReLU(shape, seeds=[0, 1])
    c = networks.deep_relu_constants(net, X)
    eta, beta = 1 / float(c.L1.max()), 0.8
    rec = networks.train_deep_relu(net, X, y, method="nesterov", eta=eta, beta=beta, steps=5)
    out = grids.early_curvature(X, y, shape, eta=eta, beta=beta, seeds=[0, 1], steps=5)
    for s, (rel, lam, lam_x) in enumerate(out):
        np.testing.assert_allclose(rel, rec.losses[:, s] / rec.losses[0, s], rtol=1e-9)
        # at the start the whole kernel's curvature is at least the last layer's, and the
        # last layer's is sigma_max(F)^2 = L1 of that seed
        assert lam[0] >= lam_x[0] and lam_x[0] == pytest.approx(eta * c.L1[s], rel=1e-9)
    with pytest.raises(ValueError, match="beta"):
        grids.early_curvature(X, y, shape, eta=eta, beta=1.0, seeds=[0], steps=1)
    with pytest.raises(ValueError, match="shape"):
        grids.early_curvature(X, y, [6, 8, 2], eta=eta, beta=0.0, seeds=[0], steps=1)


def test_the_feature_series_are_computed_for_the_tracked_runs_only(grid):
    runs = grid[2, 64]["runs"]
    for name in ("gd", "classical"):             # the two runs Chapter 3 reads
        assert np.all(np.isfinite(runs[name]["rec"].drift))
        assert np.all(np.isfinite(runs[name]["rec"].alphas))
    assert np.all(np.isnan(runs["theorem 7"]["rec"].drift))
    assert np.all(np.isnan(runs["theorem 7"]["rec"].alphas))
    X, y = _task()
    with pytest.raises(ValueError, match="track"):
        grids.train_grid(X, y, [2], [8], seeds=[0], steps=2, track=("adam",))

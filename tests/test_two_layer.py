"""The two-layer ReLU network of Chapter 4: model, NTK Gram matrices, constants, training."""

import math

import numpy as np
import pytest
import torch

from momentum import networks as nw
from momentum import optimizers
from momentum.optimizers import DivergenceWarning


def unit_rows(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    return X / torch.linalg.vector_norm(X, dim=1, keepdim=True)


def test_model_and_loss_formula():
    X = unit_rows(7, 5, 0)
    y = torch.linspace(-1, 1, 7, dtype=torch.float64)
    net = nw.TwoLayerReLU(30, 5, seeds=4)
    assert net.W.shape == (30, 5) and net.a.shape == (30,) and not net.a.requires_grad
    assert set(net.a.tolist()) == {-1.0, 1.0}
    W, a = net.W.detach(), net.a
    f = torch.stack([(a * torch.relu(W @ x)).sum() / math.sqrt(30) for x in X])
    torch.testing.assert_close(net(X).detach(), f, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(net.loss(X, y).detach(), 0.5 * ((f - y) ** 2).sum())
    torch.testing.assert_close(net.flat_loss(X, y)(W.reshape(-1)), net.loss(X, y).detach())
    S = net.activation_pattern(X)
    assert S.shape == (30, 7) and torch.equal(S, (W @ X.T >= 0).double())
    # initialisation: N(0, 1) weights, a balanced sign vector, reproducible by seed
    big = nw.TwoLayerReLU(4000, 5, seeds=1)
    assert abs(big.W.mean().item()) < 0.05 and abs(big.W.std().item() - 1) < 0.05
    assert abs(big.a.mean().item()) < 0.06
    assert torch.equal(nw.TwoLayerReLU(30, 5, seeds=4).W, net.W)
    assert not torch.equal(nw.TwoLayerReLU(30, 5, seeds=5).W, net.W)


def test_stack_equals_single_networks():
    X = unit_rows(6, 4, 1)
    y = torch.ones(6, dtype=torch.float64)
    stack = nw.TwoLayerReLU(20, 4, seeds=[3, 8, 11])
    assert stack.W.shape == (3, 20, 4) and stack.batched
    out, loss, H = stack(X), stack.loss(X, y), nw.ntk_gram(stack, X)
    assert out.shape == (3, 6) and loss.shape == (3,) and H.shape == (3, 6, 6)
    for i, s in enumerate([3, 8, 11]):
        one = nw.TwoLayerReLU(20, 4, seeds=s)
        assert torch.equal(stack.W[i], one.W) and torch.equal(stack.a[i], one.a)
        torch.testing.assert_close(out[i], one(X), rtol=0, atol=1e-14)
        torch.testing.assert_close(loss[i], one.loss(X, y), rtol=0, atol=1e-13)
        torch.testing.assert_close(H[i], nw.ntk_gram(one, X), rtol=0, atol=1e-14)


def test_ntk_gram_closed_equals_autograd():
    X = unit_rows(9, 6, 2)
    net = nw.TwoLayerReLU(50, 6, seeds=0)
    closed = nw.ntk_gram(net, X)
    auto = nw.ntk_gram(net, X, method="autograd")
    torch.testing.assert_close(closed, auto, rtol=1e-12, atol=1e-12)
    # and after the weights have moved (H(t), not only H(0))
    with torch.no_grad():
        net.W.add_(0.3 * torch.randn(50, 6, dtype=torch.float64,
                                     generator=torch.Generator().manual_seed(1)))
    torch.testing.assert_close(nw.ntk_gram(net, X), nw.ntk_gram(net, X, method="autograd"),
                               rtol=1e-12, atol=1e-12)
    # H is the Gram matrix of the per-sample gradients: symmetric positive semi-definite
    assert torch.allclose(closed, closed.T) and torch.linalg.eigvalsh(closed).min() > -1e-12


def test_arccos_kernel_formula():
    X = unit_rows(5, 3, 3)
    H = nw.arccos_kernel(X)
    torch.testing.assert_close(torch.diagonal(H), torch.full((5,), 0.5, dtype=torch.float64))
    # orthogonal inputs: 0; opposite inputs: 0; parallel: 1/2
    E = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(nw.arccos_kernel(E), torch.diag(torch.full((3,), 0.5,
                                                                          dtype=torch.float64)))
    G = X @ X.T
    i, j = 0, 1
    theta = math.acos(G[i, j].item())
    assert H[i, j].item() == pytest.approx(G[i, j].item() * (math.pi - theta) / (2 * math.pi))


def test_arccos_kernel_is_the_wide_limit_of_h0():
    """H(0) is a Monte-Carlo average over m neurons of H-infinity's integrand: the entrywise
    error shrinks like 1/sqrt(m)."""
    X = unit_rows(8, 5, 4)
    Hinf = nw.arccos_kernel(X)
    widths = [500, 2000, 8000, 32000]
    errs = []
    for m in widths:
        H0 = nw.ntk_gram(nw.TwoLayerReLU(m, 5, seeds=list(range(10))), X)
        errs.append((H0 - Hinf).abs().amax((-1, -2)).mean().item())
    slope = np.polyfit(np.log(widths), np.log(errs), 1)[0]
    assert -0.65 < slope < -0.35
    assert errs[-1] < 0.01
    # the scaled error sqrt(m) * err is of order one and roughly constant
    scaled = np.sqrt(widths) * np.array(errs)
    assert scaled.max() / scaled.min() < 2.0


def test_ntk_constants():
    H = torch.diag(torch.tensor([0.2, 1.0, 3.0], dtype=torch.float64))
    c = nw.ntk_constants(H)
    assert c.lambda_0 == pytest.approx(0.2) and c.lambda_max == pytest.approx(3.0)
    assert c.lambda_m == pytest.approx(3.05) and c.kappa == pytest.approx(3.05 / 0.1)
    X = unit_rows(12, 6, 5)
    c = nw.ntk_constants(nw.arccos_kernel(X))
    ev = np.linalg.eigvalsh(nw.arccos_kernel(X).numpy())
    assert c.lambda_0 == pytest.approx(ev[0]) and c.lambda_max == pytest.approx(ev[-1])
    assert c.kappa == pytest.approx(2 * c.lambda_m / c.lambda_0) and c.kappa > 1


def test_max_distance():
    net = nw.TwoLayerReLU(4, 3, seeds=[0, 1])
    W0 = net.W.detach().clone()
    assert torch.equal(nw.max_distance(net, W0), torch.zeros(2, dtype=torch.float64))
    with torch.no_grad():
        net.W[0, 2] += torch.tensor([3.0, 4.0, 0.0], dtype=torch.float64)
        net.W[1, 1] -= torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
        net.W[1, 3] += torch.tensor([0.0, 2.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(nw.max_distance(net, W0), torch.tensor([5.0, 2.0],
                                                                      dtype=torch.float64))


def _reference(method, net, X, y, eta, beta, steps):
    """Liu et al.'s eq. (4) / (5) from W(-1) = W(0) on the flat weights (autograd gradient),
    through optimizers.liu_step; heavy ball is also optimizers.heavy_ball's x_k."""
    grad = torch.func.grad(net.flat_loss(X, y))
    w = net.W.detach().reshape(-1).clone()
    w_prev = g_prev = None
    pts = [w]
    for _ in range(steps):
        g = grad(w)
        w, w_prev, g_prev = optimizers.liu_step(method, w, w_prev, g, g_prev, eta=eta,
                                                beta=beta), w, g
        pts.append(w)
    return torch.stack(pts)


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_training_equals_the_update_rules(method):
    """train_two_layer iterates eq. (4) / eq. (5) of Liu et al. from W(-1) = W(0) and records
    at W(k) (tests/test_conventions.py checks eq. (5) against a hand-written recursion)."""
    X = unit_rows(10, 4, 6)
    y = torch.sign(torch.randn(10, dtype=torch.float64, generator=torch.Generator()
                               .manual_seed(0)))
    net = nw.TwoLayerReLU(40, 4, seeds=2)
    lam_m = nw.ntk_constants(nw.arccos_kernel(X)).lambda_m
    eta, beta, steps = 1 / (10 * lam_m), 0.9, 60
    pts = _reference(method, net, X, y, eta, beta, steps)
    W0 = net.W.detach().clone()
    rec = nw.train_two_layer(net, X, y, method=method, eta=eta, beta=beta, steps=steps)
    if method == "heavy_ball":
        hb = optimizers.heavy_ball(torch.func.grad(net.flat_loss(X, y)), W0.reshape(-1),
                                   eta=eta, beta=beta, steps=steps)
        torch.testing.assert_close(hb.x, pts, rtol=0, atol=1e-12)
    assert rec.losses.shape == rec.distances.shape == (steps + 1,) and not rec.diverged
    torch.testing.assert_close(net.W.detach().reshape(-1), pts[-1], rtol=0, atol=1e-12)
    loss = net.flat_loss(X, y)
    np.testing.assert_allclose(rec.losses, [loss(p).item() for p in pts], rtol=1e-12)
    dist = [torch.linalg.vector_norm(p.reshape(40, 4) - W0, dim=-1).max().item() for p in pts]
    np.testing.assert_allclose(rec.distances, dist, rtol=1e-12, atol=1e-15)
    assert rec.losses[-1] < 0.5 * rec.losses[0]
    if method == "nesterov":      # eq. (5) differs from eq. (4): the gradient correction
        hb = _reference("heavy_ball", nw.TwoLayerReLU(40, 4, seeds=2), X, y, eta, beta, steps)
        assert (hb[-1] - pts[-1]).abs().max() > 1e-6


def test_stack_trains_as_independent_runs():
    X = unit_rows(8, 3, 7)
    y = torch.linspace(-1, 1, 8, dtype=torch.float64)
    stack = nw.TwoLayerReLU(25, 3, seeds=[0, 5])
    rec = nw.train_two_layer(stack, X, y, method="nesterov", eta=0.05, beta=0.9, steps=30)
    assert rec.losses.shape == (31, 2)
    for i, s in enumerate([0, 5]):
        one = nw.TwoLayerReLU(25, 3, seeds=s)
        r1 = nw.train_two_layer(one, X, y, method="nesterov", eta=0.05, beta=0.9, steps=30)
        np.testing.assert_allclose(rec.losses[:, i], r1.losses, rtol=1e-12)
        np.testing.assert_allclose(rec.distances[:, i], r1.distances, rtol=1e-12, atol=1e-15)
        torch.testing.assert_close(stack.W[i], one.W, rtol=0, atol=1e-12)


def test_divergence_is_reported():
    X = unit_rows(6, 3, 8)
    y = torch.ones(6, dtype=torch.float64)
    net = nw.TwoLayerReLU(20, 3, seeds=0)
    with pytest.warns(DivergenceWarning):
        rec = nw.train_two_layer(net, X, y, method="heavy_ball", eta=50.0, beta=0.9, steps=200)
    assert rec.diverged and len(rec.losses) < 201 and np.all(np.isfinite(rec.losses))
    # the record stops where the one rule fired, though the loop checks once a block
    assert len(rec.losses) == rec.diverged_at == len(rec.distances) == len(rec.grad_norms)
    assert np.all(rec.grad_norms < optimizers.DIVERGENCE_FACTOR * rec.grad_norms[0])


@pytest.mark.parametrize("call, word", [
    (lambda: nw.TwoLayerReLU(0, 3), "m"),
    (lambda: nw.TwoLayerReLU(5, 2.5), "d"),
    (lambda: nw.TwoLayerReLU(5, 3, seeds=[]), "seeds"),
    (lambda: nw.TwoLayerReLU(5, 3, seeds=True), "seeds"),
    (lambda: nw.TwoLayerReLU(5, 3, seeds=[1, "2"]), "seeds"),
    (lambda: nw.TwoLayerReLU(5, 3)(torch.ones(4, 2)), "X"),
    (lambda: nw.TwoLayerReLU(5, 3, seeds=[0, 1]).flat_loss(torch.ones(2, 3), torch.ones(2)),
     "flat_loss"),
    (lambda: nw.ntk_gram(nw.TwoLayerReLU(5, 3), torch.ones(2, 3), method="exact"), "method"),
    (lambda: nw.ntk_gram(nw.TwoLayerReLU(5, 3, seeds=[0, 1]), torch.ones(2, 3),
                         method="autograd"), "method"),
    (lambda: nw.ntk_gram(nw.TwoLayerReLU(5, 3), torch.ones(3)), "X"),
    (lambda: nw.arccos_kernel(torch.ones(2, 3)), "X"),
    (lambda: nw.arccos_kernel(torch.tensor([[np.nan, 1.0]])), "X"),
    (lambda: nw.ntk_constants(torch.ones(2, 3)), "H"),
    (lambda: nw.ntk_constants(torch.tensor([[1.0, 2.0], [0.0, 1.0]])), "H"),
    (lambda: nw.ntk_constants(torch.tensor([[1.0, 1.0], [1.0, 1.0]])), "H"),
    (lambda: nw.train_two_layer("net", torch.ones(2, 3), torch.ones(2), method="nesterov",
                                eta=0.1, beta=0.9, steps=3), "model"),
    (lambda: nw.train_two_layer(nw.TwoLayerReLU(5, 3), torch.ones(2, 3), torch.ones(3),
                                method="nesterov", eta=0.1, beta=0.9, steps=3), "y"),
    (lambda: nw.train_two_layer(nw.TwoLayerReLU(5, 3), torch.ones(2, 3), torch.ones(2),
                                method="nesterov", eta=0.1, beta=0.9, steps=0), "steps"),
    (lambda: nw.train_two_layer(nw.TwoLayerReLU(5, 3), torch.ones(2, 3), torch.ones(2),
                                method="adam", eta=0.1, beta=0.9, steps=3), "method"),
    (lambda: nw.train_two_layer(nw.TwoLayerReLU(5, 3), torch.ones(2, 3), torch.ones(2),
                                method="nesterov", eta=-0.1, beta=0.9, steps=3), "eta"),
    (lambda: nw.train_two_layer(nw.TwoLayerReLU(5, 3), torch.ones(2, 3), torch.ones(2),
                                method="nesterov", eta=0.1, beta=1.0, steps=3), "beta"),
    (lambda: nw.train_two_layer(nw.TwoLayerReLU(5, 3), torch.ones(2, 4), torch.ones(2),
                                method="nesterov", eta=0.1, beta=0.9, steps=3), "X"),
])
def test_bad_inputs_name_the_parameter(call, word):
    with pytest.raises(ValueError, match=rf"\b{word}\b"):
        call()


# ---- the fast loop changes no number -------------------------------------------------------

def _direct_loop(model, X, y, method, eta, beta, steps, kernel_every=None):
    """train_two_layer as written before it preallocated its arrays (issue 25): the gradient
    by the direct expression of eq. (16), the update by optimizers.liu_step, the distance and
    the kernel through the public functions; returns the final W and the per-step values."""
    W0 = model.W.detach().clone()
    H0 = nw.ntk_gram(model, X) if kernel_every else None
    out = {"losses": [], "grad_norms": [], "distances": [], "kernel_drift": [],
           "kernel_min_eig": []}
    W_prev = G_prev = None
    a, c = model.a, model.output_scale
    with torch.no_grad():
        for k in range(steps + 1):
            W = model.W.detach()
            R = torch.relu(W @ X.T)
            r = (a.unsqueeze(-2) @ R).squeeze(-2) * c - y
            G = (torch.sign(R) @ (r.unsqueeze(-1) * X)) * (a.unsqueeze(-1) * c)
            out["losses"].append(0.5 * (r ** 2).sum(-1))
            out["grad_norms"].append(torch.linalg.vector_norm(G, dim=(-2, -1)))
            out["distances"].append(nw.max_distance(model, W0))
            if kernel_every and (k % kernel_every == 0 or k == steps):
                drift, low = nw.kernel_drift(model, X, H0)
                out["kernel_drift"].append(drift)
                out["kernel_min_eig"].append(low)
            elif kernel_every:
                out["kernel_drift"].append(torch.full_like(r[..., 0], float("nan")))
                out["kernel_min_eig"].append(torch.full_like(r[..., 0], float("nan")))
            if k == steps:
                break
            W_next = optimizers.liu_step(method, W, W_prev, G, G_prev, eta=eta, beta=beta)
            W_prev, G_prev = W.clone(), G
            model.W.copy_(W_next)
    return model.W.detach().clone(), {k: torch.stack(v).numpy() for k, v in out.items() if v}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seeds", [3, [0, 4]])
@pytest.mark.parametrize("kind", ["ntk", "mean field"])
@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_fast_loop_gives_the_direct_expressions_numbers_exactly(method, kind, seeds, dtype):
    """train_two_layer writes the activations, the gradient and the update into arrays it
    allocates once; every iterate and every recorded number is bit for bit the one of the
    direct expressions (so no chapter's output moves), for both scalings, single networks
    and stacks, float64 and float32, with the kernel series."""
    from momentum.networks import mean_field

    cls = nw.TwoLayerReLU if kind == "ntk" else mean_field.MeanFieldTwoLayer
    X = unit_rows(12, 5, 3).to(dtype)
    y = torch.sign(torch.randn(12, generator=torch.Generator().manual_seed(1))).to(dtype)
    eta = 0.05 if kind == "ntk" else mean_field.mean_field_step(0.05, 60)
    beta = 0.0 if method == "gd" else 0.9
    W_ref, ref = _direct_loop(cls(60, 5, seeds=seeds, dtype=dtype), X, y, method, eta, beta,
                              40, kernel_every=7)
    net = cls(60, 5, seeds=seeds, dtype=dtype)
    rec = nw.train_two_layer(net, X, y, method=method, eta=eta, beta=beta, steps=40,
                             kernel_every=7)
    assert torch.equal(net.W.detach(), W_ref)
    got = {"losses": rec.losses, "grad_norms": rec.grad_norms, **rec.series}
    assert set(got) == set(ref)
    for name, values in ref.items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)
    assert np.all(rec.losses[-1] < rec.losses[0])


def test_in_place_update_is_liu_step_bit_for_bit():
    from momentum.networks.two_layer import _liu_step_

    gen = torch.Generator().manual_seed(0)
    w, w_prev, g, g_prev = (torch.randn(2, 30, 4, generator=gen, dtype=torch.float64)
                            for _ in range(4))
    for method, beta in [("gd", 0.0), ("heavy_ball", 0.9), ("nesterov", 0.9)]:
        for gp in (None, g_prev):
            want = optimizers.liu_step(method, w, w_prev, g, gp, eta=0.37, beta=beta)
            into = w_prev.clone()
            _liu_step_(method, w, into, g, gp, eta=0.37, beta=beta,
                       scratch=torch.empty_like(w))
            assert torch.equal(into, want), (method, gp is None)


def test_training_refuses_activations_over_the_size_limit(monkeypatch):
    from momentum import _validate

    net = nw.TwoLayerReLU(50, 3, seeds=[0, 1])
    X, y = unit_rows(40, 3, 0), torch.ones(40, dtype=torch.float64)
    monkeypatch.setattr(_validate, "MAX_BYTES", 8 * 2 * 50 * 40 - 1)   # one number short
    W0 = net.W.detach().clone()
    with pytest.raises(ValueError, match=r"\bX\b.*activations"):
        nw.train_two_layer(net, X, y, method="gd", eta=0.1, beta=0.0, steps=3)
    assert torch.equal(net.W.detach(), W0)
    monkeypatch.setattr(_validate, "MAX_BYTES", 8 * 2 * 50 * 40)
    nw.train_two_layer(net, X, y, method="gd", eta=0.1, beta=0.0, steps=3)

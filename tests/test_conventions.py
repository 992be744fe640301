"""Nesterov's two starts (DESIGN, "Conventions decided"): Liu et al.'s eq. (5) from
W(-1) = W(0) for Chapter 4 and Chapter 6's two-layer runs, the book's form (y_0 = x_0, loss at
x_k) elsewhere; where each runner records its loss; the kernels of both scalings."""

import math

import numpy as np
import pytest
import torch

from momentum import adaptive, optimizers, problems, stochastic, theory
from momentum import networks as nw
from momentum.networks import mean_field

ETA, BETA = 0.1, 0.9


def g(w):
    return w ** 3 + w


def _scalar_eq5(steps):
    """Liu et al. (2023), eq. (5), written out by hand from W(-1) = W(0) = 1."""
    ws = [1.0, 1.0]                       # W(-1), W(0)
    for _ in range(steps):
        w, w_prev = ws[-1], ws[-2]
        ws.append(w + BETA * (w - w_prev) - ETA * g(w) - BETA * ETA * (g(w) - g(w_prev)))
    return ws[1:]


def test_liu_step_is_eq5_on_the_issue_example():
    ref = _scalar_eq5(3)
    np.testing.assert_allclose(ref[1:], [0.80, 0.551, 0.308], atol=5e-4)
    w, w_prev, g_prev, got = 1.0, None, None, []
    for _ in range(3):
        w_next = optimizers.liu_step("nesterov", w, w_prev, g(w), g_prev, eta=ETA, beta=BETA)
        w_prev, g_prev, w = w, g(w), w_next
        got.append(w)
    np.testing.assert_allclose(got, ref[1:], rtol=0, atol=1e-15)
    # the first step is eta * grad for every method
    for method in optimizers.METHODS:
        beta = 0.0 if method == "gd" else BETA
        assert optimizers.liu_step(method, 1.0, None, g(1.0), None, eta=ETA,
                                   beta=beta) == pytest.approx(0.8, abs=1e-15)
    with pytest.raises(ValueError, match="method"):
        optimizers.liu_step("adam", 1.0, None, 2.0, None, eta=ETA, beta=BETA)


def test_the_other_starts_are_not_eq5():
    """The book's x_k (0.80, 0.534, 0.263) and PyTorch's y_k (0.62, 0.295, 0.019) differ from
    eq. (5) on a non-linear gradient, as the issue computed."""
    book = optimizers.nesterov(lambda x: x ** 3 + x, np.array([1.0]), eta=ETA, beta=BETA,
                               steps=3)
    np.testing.assert_allclose(book.x[1:, 0], [0.80, 0.534, 0.263], atol=5e-4)
    np.testing.assert_allclose(book.y[1:, 0], [0.62, 0.295, 0.019], atol=5e-4)


def test_on_a_quadratic_the_book_x_k_are_eq5():
    q = problems.random_quadratic(30.0, 5, seed=2)
    x0 = np.random.default_rng(1).standard_normal(5)
    t = theory.tuning("nesterov", q.mu, q.L)
    book = optimizers.nesterov(q.grad, x0, eta=t.eta, beta=t.beta, steps=40)
    w, w_prev, g_prev = x0, None, None
    for k in range(40):
        np.testing.assert_allclose(book.x[k], w, rtol=0, atol=1e-12)
        w, w_prev, g_prev = (optimizers.liu_step("nesterov", w, w_prev, q.grad(w), g_prev,
                                                 eta=t.eta, beta=t.beta), w, q.grad(w))


def unit_rows(n, d, seed):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    return X / torch.linalg.vector_norm(X, dim=1, keepdim=True)


def _autograd_eq5(method, net, X, y, eta, beta, steps):
    """An independent loop of Liu et al.'s eqs. (4)-(5) from W(-1) = W(0) on one network's
    flattened weights, with the gradient from autograd: the iterates W(0..K)."""
    grad = torch.func.grad(net.flat_loss(X, y))
    w = w_prev = net.W.detach().reshape(-1).clone()
    g_prev = grad(w)
    out = [w]
    for _ in range(steps):
        gw = grad(w)
        nxt = w + beta * (w - w_prev) - eta * gw
        if method == "nesterov":
            nxt = nxt - beta * eta * (gw - g_prev)
        w_prev, g_prev, w = w, gw, nxt
        out.append(w)
    return torch.stack(out)


@pytest.mark.parametrize("cls", [nw.TwoLayerReLU, mean_field.MeanFieldTwoLayer])
@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_train_two_layer_iterates_eq5_from_rest(cls, method):
    """The runner (closed-form gradient) gives the autograd loop's iterates and records the
    loss, gradient norm and distance at W(k); its first step is eta * grad."""
    X = unit_rows(10, 4, 6)
    y = torch.sign(torch.randn(10, dtype=torch.float64,
                               generator=torch.Generator().manual_seed(0)))
    m, steps = 40, 50
    eta = 0.05 if cls is nw.TwoLayerReLU else mean_field.mean_field_step(0.05, m)
    beta = 0.0 if method == "gd" else 0.9
    ref = _autograd_eq5(method, cls(m, 4, seeds=2), X, y, eta, beta, steps)
    net = cls(m, 4, seeds=2)
    loss = net.flat_loss(X, y)
    g0 = torch.func.grad(loss)(ref[0])
    torch.testing.assert_close(ref[1], ref[0] - eta * g0, rtol=0, atol=1e-15)
    rec = nw.train_two_layer(net, X, y, method=method, eta=eta, beta=beta, steps=steps)
    torch.testing.assert_close(net.W.detach().reshape(-1), ref[-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(rec.losses, [loss(w).item() for w in ref], rtol=1e-11)
    np.testing.assert_allclose(
        rec.grad_norms, [torch.linalg.vector_norm(torch.func.grad(loss)(w)).item()
                         for w in ref], rtol=1e-10)
    W0 = ref[0].reshape(m, 4)
    dist = [torch.linalg.vector_norm(w.reshape(m, 4) - W0, dim=-1).max().item() for w in ref]
    np.testing.assert_allclose(rec.distances, dist, rtol=1e-10, atol=1e-14)


def test_train_two_layer_refuses_momentum_for_gd():
    X = unit_rows(4, 3, 1)
    with pytest.raises(ValueError, match="beta"):
        nw.train_two_layer(nw.TwoLayerReLU(5, 3), X, torch.ones(4, dtype=torch.float64),
                           method="gd", eta=0.1, beta=0.5, steps=3)
    with pytest.raises(ValueError, match="method"):
        nw.train_two_layer(nw.TwoLayerReLU(5, 3), X, torch.ones(4, dtype=torch.float64),
                           method="adam", eta=0.1, beta=0.5, steps=3)


# ---- adaptive.train: the loss at the convention's iterate ---------------------------------

def test_adaptive_nesterov_book_records_the_loss_at_x_k():
    q = problems.Quadratic([0.05, 0.2, 0.6, 1.0])          # minimiser 0
    A = torch.as_tensor(q.matrix)
    x0 = np.random.default_rng(3).standard_normal((2, 4))
    t = theory.tuning("nesterov", q.mu, q.L)
    w = torch.nn.Parameter(torch.as_tensor(x0.copy()))
    tr = adaptive.train([w], lambda: 0.5 * ((w @ A) * w).sum(-1), "nesterov", lr=t.eta,
                        beta=t.beta, steps=30)
    ref = optimizers.nesterov(q.grad, x0, eta=t.eta, beta=t.beta, steps=30, loss=q.loss)
    np.testing.assert_allclose(tr.losses, ref.losses, rtol=1e-10, atol=1e-300)


def test_adaptive_nesterov_liu_is_eq5_and_records_at_w_k():
    X = unit_rows(8, 3, 4)
    y = torch.linspace(-1, 1, 8, dtype=torch.float64)
    ref = _autograd_eq5("nesterov", nw.TwoLayerReLU(20, 3, seeds=1), X, y, 0.1, 0.9, 25)
    net = nw.TwoLayerReLU(20, 3, seeds=1)
    tr = adaptive.train([net.W], lambda: net.loss(X, y), "nesterov", lr=0.1, beta=0.9,
                        steps=25, convention="liu")
    loss = net.flat_loss(X, y)
    np.testing.assert_allclose(tr.losses, [loss(w).item() for w in ref], rtol=1e-10)
    torch.testing.assert_close(net.W.detach().reshape(-1), ref[-1], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="convention"):
        adaptive.train([net.W], lambda: net.loss(X, y), "nesterov", lr=0.1, beta=0.9,
                       steps=2, convention="pytorch")


def test_make_optimizer_refuses_momentum_for_gd():
    p = [torch.nn.Parameter(torch.zeros(3))]
    with pytest.raises(ValueError, match="beta"):
        adaptive.make_optimizer("gd", p, lr=0.1, beta=0.5)
    with pytest.raises(ValueError, match="beta"):
        adaptive.make_optimizer("nesterov", p, lr=0.1, beta=1.5)
    assert adaptive.make_optimizer("gd", p, lr=0.1).defaults["momentum"] == 0


# ---- stochastic.minibatch_run: the loss at the book's iterate -----------------------------

def test_minibatch_nesterov_records_the_loss_at_x_k():
    prob = stochastic.least_squares(12, 30, seed=2)
    eta, beta = 0.5 / prob.L, 0.8
    tr = stochastic.minibatch_run(prob, "nesterov", eta=eta, beta=beta, batch=prob.n,
                                  steps=25, trials=1)
    ref = optimizers.nesterov(lambda w: prob.grad(w), torch.zeros(prob.d, dtype=torch.float64),
                              eta=eta, beta=beta, steps=25, loss=lambda w: prob.loss(w))
    np.testing.assert_allclose(tr.losses[:, 0], ref.losses, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(tr.grad_norms[:, 0], ref.grad_norms, rtol=1e-9)


# ---- ntk_gram: the model's own Jacobian, for both scalings --------------------------------

def test_ntk_gram_closed_equals_autograd_for_the_mean_field_network():
    X = unit_rows(6, 4, 3)
    for cls in (nw.TwoLayerReLU, mean_field.MeanFieldTwoLayer):
        one = cls(50, 4, seeds=1)
        torch.testing.assert_close(nw.ntk_gram(one, X), nw.ntk_gram(one, X, method="autograd"),
                                   rtol=1e-12, atol=1e-14)
    mf = mean_field.MeanFieldTwoLayer(50, 4, seeds=[1, 2])
    ntk = nw.TwoLayerReLU(50, 4, seeds=[1, 2])
    torch.testing.assert_close(nw.ntk_gram(mf, X), nw.ntk_gram(ntk, X) / 50)
    # the named rescaling puts the mean-field kernel in Chapter 4's normalisation
    torch.testing.assert_close(mean_field.ntk_normalised_gram(mf, X), nw.ntk_gram(ntk, X))
    torch.testing.assert_close(mean_field.ntk_normalised_gram(ntk, X), nw.ntk_gram(ntk, X))
    assert math.isclose(mf.output_scale, 1 / 50) and math.isclose(ntk.output_scale,
                                                                   1 / math.sqrt(50))
    with pytest.raises(ValueError, match="model"):
        mean_field.ntk_normalised_gram("net", X)

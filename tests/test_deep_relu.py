"""The deep fully-connected ReLU network of Chapter 3 (Liao & Kyrillidis 2024, §5.2): shapes,
the initialisation's statistics, stacks of seeds against single networks, the partition and its
inverse, the measured constants against singular values computed directly, the training loop's
iterates against the book's own Nesterov iteration, rates on the frozen-features problem, and
bad input."""

import math
import warnings

import numpy as np
import pytest
import torch

from momentum import networks, optimizers, partition, records, theory
from momentum.optimizers import DivergenceWarning

D = torch.float64


def _data(n, d0, d_out=1, seed=0):
    """Unit-norm Gaussian inputs (n, d0) and Gaussian targets (n, d_out)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d0, generator=g, dtype=D)
    X = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    return X, torch.randn(n, d_out, generator=g, dtype=D)


def _features(weights, X):
    """F_{Lambda-1} computed by hand, independently of the library's forward pass."""
    F = X
    for W in weights[:-1]:
        F = torch.clamp(F @ W, min=0.0)
    return F


# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------


def test_shapes_single_and_stack():
    X, Y = _data(7, 5, 2)
    net = networks.DeepReLU([5, 9, 6, 2], seeds=1)
    assert net.depth == 3 and net.width == 6 and not net.batched
    assert [tuple(W.shape) for W in net.weights] == [(5, 9), (9, 6), (6, 2)]
    assert net(X).shape == (7, 2) and net.features(X).shape == (7, 6)
    assert net.loss(X, Y).shape == ()
    assert networks.partition_sizes(net) == (12, 5 * 9 + 9 * 6)
    x, u = networks.partition(net)
    assert x.shape == (12,) and u.shape == (99,)
    assert networks.feature_spectrum(net, X).shape == (6,)

    stack = networks.DeepReLU([5, 9, 6, 2], seeds=[1, 2, 3])
    assert stack.batched
    assert [tuple(W.shape) for W in stack.weights] == [(3, 5, 9), (3, 9, 6), (3, 6, 2)]
    assert stack(X).shape == (3, 7, 2) and stack.features(X).shape == (3, 7, 6)
    assert stack.loss(X, Y).shape == (3,)
    x, u = networks.partition(stack)
    assert x.shape == (3, 12) and u.shape == (3, 99)
    assert networks.feature_spectrum(stack, X).shape == (3, 6)
    # a vector of targets is accepted when d_Lambda = 1
    one = networks.DeepReLU([5, 4, 1])
    assert one.loss(X, Y[:, 0]).shape == ()


def test_forward_matches_the_formula():
    X, Y = _data(6, 4, 3)
    net = networks.DeepReLU([4, 8, 5, 3], seeds=2)
    W1, W2, W3 = (W.detach() for W in net.weights)
    F2 = torch.clamp(torch.clamp(X @ W1, min=0) @ W2, min=0)
    torch.testing.assert_close(net.features(X).detach(), F2, rtol=0, atol=0)
    torch.testing.assert_close(net(X).detach(), F2 @ W3, rtol=0, atol=0)
    assert float(net.loss(X, Y).detach()) == pytest.approx(0.5 * float(((F2 @ W3 - Y) ** 2).sum()),
                                                   rel=1e-14)


def test_initialisation_statistics():
    # Hidden layers: N(0, 1/d_{l-1}); the last layer: N(0, d_{Lambda-1}^{-3/2}). An empirical
    # variance of N iid Gaussians has relative standard deviation sqrt(2/N), its mean standard
    # deviation std/sqrt(N); the tolerances are 5 of those.
    widths = [300, 400, 200, 50]
    net = networks.DeepReLU(widths, seeds=7)
    expected = [1 / 300, 1 / 400, 200 ** -1.5]
    for W, var in zip(net.weights, expected):
        w = W.detach().reshape(-1)
        N = w.numel()
        assert float(w.var()) == pytest.approx(var, rel=5 * math.sqrt(2 / N))
        assert abs(float(w.mean())) < 5 * math.sqrt(var / N)


def test_stack_of_seeds_equals_single_networks():
    X, Y = _data(6, 4)
    seeds = [3, 11, 5]
    stack = networks.DeepReLU([4, 7, 9, 1], seeds=seeds)
    out, loss = stack(X).detach(), stack.loss(X, Y).detach()
    for i, s in enumerate(seeds):
        single = networks.DeepReLU([4, 7, 9, 1], seeds=s)
        for Ws, W in zip(stack.weights, single.weights):
            assert torch.equal(Ws[i], W)
        torch.testing.assert_close(out[i], single(X).detach(), rtol=1e-14, atol=1e-14)
        torch.testing.assert_close(loss[i], single.loss(X, Y).detach(), rtol=1e-14, atol=0)
    # different seeds give different networks
    assert not torch.equal(stack.weights[0][0], stack.weights[0][1])


def test_dtype_follows_the_argument():
    net = networks.DeepReLU([3, 4, 1], dtype=torch.float32)
    assert all(W.dtype == torch.float32 for W in net.weights)
    assert net(torch.ones(2, 3)).dtype == torch.float32


# ---------------------------------------------------------------------------------------------
# The partition
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seeds", [0, [0, 1]])
def test_partition_round_trip(seeds):
    X, _ = _data(5, 3, 2)
    net = networks.DeepReLU([3, 4, 6, 2], seeds=seeds)
    x, u = networks.partition(net)
    # x is the last layer, u the earlier layers in order, each flattened row-major
    b = (2,) if net.batched else ()
    torch.testing.assert_close(x, net.weights[-1].detach().reshape(*b, -1), rtol=0, atol=0)
    torch.testing.assert_close(u[..., :12], net.weights[0].detach().reshape(*b, -1),
                               rtol=0, atol=0)
    # copies, not views
    x[..., 0] += 1.0
    assert not torch.equal(networks.partition(net)[0], x)
    x2, u2 = torch.cos(x), torch.sin(u)
    assert networks.set_partition(net, x2, u2) is net
    x3, u3 = networks.partition(net)
    assert torch.equal(x3, x2) and torch.equal(u3, u2)
    # the network computes with the new weights
    W1 = u2[..., :12].reshape(*b, 3, 4)
    W2 = u2[..., 12:].reshape(*b, 4, 6)
    W3 = x2.reshape(*b, 6, 2)
    expected = torch.clamp(torch.clamp(X @ W1, min=0) @ W2, min=0) @ W3
    torch.testing.assert_close(net(X).detach(), expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("width, row_space", [(12, True), (12, False), (5, True)])
def test_partition_functions_loss_and_gradient(width, row_space):
    X, Y = _data(8, 4, 2)
    net = networks.DeepReLU([4, 6, width, 2], seeds=4)
    pf = networks.partition_functions(net, X, Y, row_space=row_space)
    assert float(pf.loss(pf.x0, pf.u0)) == pytest.approx(float(net.loss(X, Y).detach()),
                                                         rel=1e-13)
    torch.testing.assert_close(pf.output(pf.x0, pf.u0), net(X).detach().reshape(-1),
                               rtol=1e-13, atol=1e-13)
    if row_space and width > 8:
        Q = pf.basis
        assert Q.shape == (width, 8) and pf.x0.shape == (16,) and not pf.x0.any()
        torch.testing.assert_close(Q.T @ Q, torch.eye(8, dtype=D), rtol=0, atol=1e-12)
        # the gradient in the full last layer, F^T (F W - Y), lies in the row space of F
        W = net.weights[-1]
        g_full = torch.autograd.grad(net.loss(X, Y), W)[0]
        outside = g_full - Q @ (Q.T @ g_full)
        assert float(outside.norm()) < 1e-12 * float(g_full.norm())
        # moving along Q z changes the last layer by Q z
        z = torch.randn(16, dtype=D, generator=torch.Generator().manual_seed(1))
        W_new = W.detach() + Q @ z.reshape(8, 2)
        expected = 0.5 * ((net.features(X).detach() @ W_new - Y) ** 2).sum()
        assert float(pf.loss(z, pf.u0)) == pytest.approx(float(expected), rel=1e-12)
    else:
        assert pf.basis is None
        assert pf.x0.shape == (width * 2,)


def test_x_hessian_spectrum_is_the_feature_spectrum():
    # f is least squares in W_Lambda: Hess_xx f = F^T F (x) I_{d_Lambda}. On the row space its
    # eigenvalues are sigma_i(F)^2, so estimate_constants must return mu = alpha_0^2 and
    # L1 = sigma_max(F)^2; on the full last layer (width > n) the smallest eigenvalue is 0.
    X, Y = _data(6, 3, 2)
    net = networks.DeepReLU([3, 10, 15, 2], seeds=5)
    F = _features([W.detach() for W in net.weights], X)
    s = torch.linalg.svdvals(F)
    pf = networks.partition_functions(net, X, Y)
    est = partition.estimate_constants(pf.loss, pf.x0, pf.u0, model=pf.output, samples=0)
    assert est.mu == pytest.approx(float(s[-1]) ** 2, rel=1e-9)
    assert est.L1 == pytest.approx(float(s[0]) ** 2, rel=1e-9)
    assert est.L2 == 1.0
    H = torch.func.hessian(lambda x: pf.loss(x, pf.u0))(pf.x0)
    ev = torch.linalg.eigvalsh(H)
    torch.testing.assert_close(ev, torch.sort((s ** 2).repeat(2)).values, rtol=1e-9, atol=1e-12)
    full = networks.partition_functions(net, X, Y, row_space=False)
    est_full = partition.estimate_constants(full.loss, full.x0, full.u0, samples=0)
    assert abs(est_full.mu) < 1e-10 * est_full.L1
    assert est_full.L1 == pytest.approx(float(s[0]) ** 2, rel=1e-9)
    # a narrow network (width <= n): x = vec(W_Lambda) itself, strongly convex
    narrow = networks.DeepReLU([3, 10, 4, 2], seeds=5)
    s_n = torch.linalg.svdvals(_features([W.detach() for W in narrow.weights], X))
    pn = networks.partition_functions(narrow, X, Y)
    est_n = partition.estimate_constants(pn.loss, pn.x0, pn.u0, samples=0)
    assert (est_n.mu, est_n.L1) == pytest.approx((float(s_n[-1]) ** 2, float(s_n[0]) ** 2),
                                                 rel=1e-9)


def test_deep_relu_constants_against_svdvals():
    X, _ = _data(9, 4)
    seeds = [0, 1, 2]
    stack = networks.DeepReLU([4, 16, 30, 1], seeds=seeds)
    c = networks.deep_relu_constants(stack, X)
    assert (c.n, c.width, c.null_dim) == (9, 30, 21)
    for i, s_ in enumerate(seeds):
        single = networks.DeepReLU([4, 16, 30, 1], seeds=s_)
        s = torch.linalg.svdvals(_features([W.detach() for W in single.weights], X)).numpy()
        one = networks.deep_relu_constants(single, X)
        alpha, L1 = s[-1], s[0] ** 2
        assert one.alpha_0 == pytest.approx(alpha, rel=1e-12)
        assert one.sigma_max == pytest.approx(s[0], rel=1e-12)
        assert one.L1 == pytest.approx(L1, rel=1e-12)
        assert one.mu == pytest.approx(alpha ** 2 / 2, rel=1e-12)
        assert one.kappa == pytest.approx(2 * L1 / alpha ** 2, rel=1e-12)
        assert one.kappa_x == pytest.approx(L1 / alpha ** 2, rel=1e-12)
        assert c.alpha_0[i] == pytest.approx(alpha, rel=1e-12)
        assert c.kappa[i] == pytest.approx(one.kappa, rel=1e-12)
        np.testing.assert_allclose(networks.feature_spectrum(single, X).numpy(), s, rtol=1e-12)
    # a narrow network has no null space, and alpha_0 is then sigma_{d_{Lambda-1}}
    narrow = networks.DeepReLU([4, 16, 5, 1], seeds=0)
    cn = networks.deep_relu_constants(narrow, X)
    s = torch.linalg.svdvals(_features([W.detach() for W in narrow.weights], X))
    assert cn.null_dim == 0 and cn.alpha_0 == pytest.approx(float(s[4]), rel=1e-12)


def test_rank_deficient_features_are_refused():
    X, _ = _data(5, 3)
    X = torch.cat([X, X[:1]])              # two equal inputs: F has two equal rows
    net = networks.DeepReLU([3, 10, 20, 1], seeds=0)
    with pytest.raises(ValueError, match="rank-deficient"):
        networks.deep_relu_constants(net, X)


def test_width_requirement():
    assert networks.width_requirement(10, 3) == pytest.approx(10 ** 5.5, rel=1e-12)
    assert networks.width_requirement(10, 5) == pytest.approx(10 ** 4.5 * 25, rel=1e-12)
    assert networks.width_requirement(100, 1) == pytest.approx(100 ** 5.5, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def _flat_problem(net, X, Y):
    """The loss and its gradient as functions of the flat w = (x, u) of the full partition."""
    pf = networks.partition_functions(net, X, Y, row_space=False)
    dx = pf.x0.numel()

    def loss(w):
        return pf.loss(w[..., :dx], w[..., dx:])

    grad = torch.func.grad(loss)
    return loss, grad, torch.cat([pf.x0, pf.u0]), dx


@pytest.mark.parametrize("method, beta", [("nesterov", 0.7), ("gd", 0.0),
                                          ("heavy_ball", 0.5)])
def test_recorded_iterates_are_the_books(method, beta):
    # torch.optim.SGD(nesterov=True) iterates the extrapolated y_k; the record must be about
    # the book's x_k, i.e. agree with momentum.optimizers.nesterov on the same loss.
    X, Y = _data(6, 3)
    widths = [3, 8, 12, 1]
    net = networks.DeepReLU(widths, seeds=3)
    loss, grad, w0, dx = _flat_problem(networks.DeepReLU(widths, seeds=3), X, Y)
    eta = 0.3 / networks.deep_relu_constants(net, X).L1
    steps = 25
    rec = networks.train_deep_relu(net, X, Y, method=method, eta=eta, beta=beta, steps=steps,
                                   track_features=("dx", "du"))
    fn = {"gd": optimizers.gd, "heavy_ball": optimizers.heavy_ball,
          "nesterov": optimizers.nesterov}[method]
    kw = {} if method == "gd" else {"beta": beta}
    traj = fn(grad, w0, eta=eta, steps=steps, loss=loss, **kw)
    assert not rec.diverged and rec.losses.shape == (steps + 1,)
    # the same iteration in two codes; the network's own sensitivity amplifies round-off
    np.testing.assert_allclose(rec.losses, traj.losses, rtol=1e-9)
    xs = traj.x.detach()
    np.testing.assert_allclose(rec.dx, torch.linalg.vector_norm(xs[1:, :dx] - xs[:-1, :dx],
                                                                dim=-1).numpy(), rtol=1e-8)
    np.testing.assert_allclose(rec.du, torch.linalg.vector_norm(xs[1:, dx:] - xs[:-1, dx:],
                                                                dim=-1).numpy(), rtol=1e-8)
    # what PyTorch leaves in the parameters is the extrapolated point y_K for Nesterov
    end = traj.y[-1] if method == "nesterov" else traj.x[-1]
    x_end, u_end = networks.partition(net)
    torch.testing.assert_close(torch.cat([x_end, u_end]), end.detach(), rtol=1e-9, atol=1e-12)
    assert rec.method == method and rec.eta == eta and rec.beta == beta


def test_record_of_features():
    X, Y = _data(6, 3)
    net = networks.DeepReLU([3, 8, 12, 1], seeds=1)
    c0 = networks.deep_relu_constants(net, X)
    F0 = net.features(X).detach()
    rec = networks.train_deep_relu(net, X, Y, method="gd", eta=0.5 / c0.L1, steps=10,
                                   track_features=True)
    assert rec.alphas.shape == rec.drift.shape == (11,)
    assert rec.dx.shape == rec.du.shape == rec.dx_null.shape == (10,)
    assert rec.alphas[0] == pytest.approx(c0.alpha_0, rel=1e-12) and rec.drift[0] == 0.0
    assert rec.alphas[-1] == pytest.approx(networks.deep_relu_constants(net, X).alpha_0,
                                           rel=1e-12)
    drift = torch.linalg.matrix_norm(net.features(X).detach() - F0, ord=2)
    assert rec.drift[-1] == pytest.approx(float(drift), rel=1e-10)
    # a GD step in the last layer is -eta F(u_k)^T r_k: nothing in the null space of F(u_k)
    assert np.all(rec.dx_null <= 1e-10 * rec.dx)
    # Nesterov's step carries momentum from earlier feature matrices: a little of it does
    nes = networks.train_deep_relu(networks.DeepReLU([3, 8, 12, 1], seeds=1), X, Y,
                                   method="nesterov", eta=0.5 / c0.L1, beta=0.8, steps=10,
                                   track_features=True)
    assert np.all(nes.dx_null < nes.dx) and np.any(nes.dx_null > 1e-10 * nes.dx)
    # narrow network: no null space at all
    narrow = networks.train_deep_relu(networks.DeepReLU([3, 8, 4, 1]), X, Y, method="gd",
                                      eta=0.01, steps=3, track_features=True)
    assert np.all(narrow.dx_null == 0)
    off = networks.train_deep_relu(networks.DeepReLU([3, 8, 12, 1]), X, Y, method="gd",
                                   eta=0.01, steps=3, track_features=False)
    assert np.all(np.isnan(off.alphas)) and np.all(np.isnan(off.dx_null))
    assert np.all(np.isnan(off.dx)) and np.all(np.isnan(off.du)) and np.all(np.isnan(off.drift))
    # the default records the loss and the gradient norm only, the same numbers
    default = networks.train_deep_relu(networks.DeepReLU([3, 8, 12, 1]), X, Y, method="gd",
                                       eta=0.01, steps=3)
    np.testing.assert_array_equal(default.losses, off.losses)
    np.testing.assert_array_equal(default.grad_norms, off.grad_norms)
    assert all(np.all(np.isnan(v)) for v in default.series.values())
    assert np.all(np.isfinite(off.losses))


def test_stack_trains_like_single_networks():
    X, Y = _data(6, 3)
    widths, seeds = [3, 8, 12, 1], [4, 9]
    stack = networks.DeepReLU(widths, seeds=seeds)
    rec = networks.train_deep_relu(stack, X, Y, method="nesterov", eta=0.05, beta=0.6, steps=15,
                                   track_features=True)
    assert rec.losses.shape == (16, 2) and rec.dx.shape == (15, 2)
    for i, s in enumerate(seeds):
        one = networks.train_deep_relu(networks.DeepReLU(widths, seeds=s), X, Y,
                                       method="nesterov", eta=0.05, beta=0.6, steps=15,
                                       track_features=True)
        np.testing.assert_allclose(rec.losses[:, i], one.losses, rtol=1e-10)
        np.testing.assert_allclose(rec.du[:, i], one.du, rtol=1e-8)
        np.testing.assert_allclose(rec.alphas[:, i], one.alphas, rtol=1e-8)


@pytest.fixture(scope="module")
def frozen():
    """A two-layer network whose first layer is frozen: training is then exactly least squares
    in the last layer with the fixed features F = relu(X W_1), condition number kappa_x."""
    X, Y = _data(10, 8, seed=2)
    net = networks.DeepReLU([8, 40, 1], seeds=2)
    c = networks.deep_relu_constants(net, X)
    return X, Y, c


def _frozen_run(X, Y, method, eta, beta, steps, track=False):
    net = networks.DeepReLU([8, 40, 1], seeds=2)
    net.weights[0].requires_grad_(False)
    W1 = net.weights[0].detach().clone()
    rec = networks.train_deep_relu(net, X, Y, method=method, eta=eta, beta=beta, steps=steps,
                                   track_features=track or ("du",))
    assert torch.equal(net.weights[0], W1) and np.all(rec.du == 0)
    assert not track or np.all(rec.drift == 0)
    return rec


@pytest.mark.slow
def test_gd_rate_on_frozen_features(frozen):
    X, Y, c = frozen
    assert 5 < c.kappa_x < 200
    rec = _frozen_run(X, Y, "gd", 1 / c.L1, 0.0, 300)
    measured, predicted = rec.rate(of="residual"), 1 - 1 / c.kappa_x
    assert 1 - measured == pytest.approx(1 - predicted, rel=0.05)
    # and the classical Nesterov tuning is faster, at about 1 - 1/sqrt(kappa_x)
    beta = (math.sqrt(c.kappa_x) - 1) / (math.sqrt(c.kappa_x) + 1)
    nes = _frozen_run(X, Y, "nesterov", 1 / c.L1, beta, 300)
    assert 1 - nes.rate(of="residual") == pytest.approx(1 / math.sqrt(c.kappa_x), rel=0.1)
    assert nes.rate(of="residual") < measured
    # Theorem 7's beta (with kappa = 2 L1 / alpha_0^2): the spectral radius of its 2x2
    # iteration over the eigenvalues sigma_i(F)^2. Its roots are complex at mu, so the residual
    # oscillates; the average rate over a window of the loss (which contracts like rho^2) is
    # the robust measurement.
    t7 = _frozen_run(X, Y, "nesterov", 1 / c.L1, theory.theorem7_beta(c.kappa), 300)
    s = networks.feature_spectrum(networks.DeepReLU([8, 40, 1], seeds=2), X).numpy()
    rho = theory.rate_on_spectrum("nesterov", s ** 2, 1 / c.L1, theory.theorem7_beta(c.kappa))
    measured_t7 = math.sqrt(t7.rate(of="loss", window=(1e-2, 1e-18)))
    assert 1 - measured_t7 == pytest.approx(1 - rho, rel=0.1)
    assert nes.rate(of="residual") < measured_t7 < measured


def test_rate_of_a_stack_is_an_array(frozen):
    X, Y, c = frozen
    stack = networks.DeepReLU([8, 40, 1], seeds=[2, 3])
    stack.weights[0].requires_grad_(False)
    cs = networks.deep_relu_constants(stack, X)
    eta = 1 / cs.L1.max()                   # one step size for the stack
    rec = networks.train_deep_relu(stack, X, Y, method="gd", eta=eta, steps=300,
                                   track_features=False)
    r = rec.rate(of="residual")
    assert r.shape == (2,)
    # each network at its own slowest mode, 1 - eta * alpha_0^2 (the condition numbers
    # eta^-1 / alpha_0^2 are 140 and 230 here, so 300 steps are not yet fully asymptotic)
    np.testing.assert_allclose(1 - r, eta * cs.alpha_0 ** 2, rtol=0.2)
    assert np.argsort(r).tolist() == np.argsort(-cs.alpha_0).tolist()


def test_divergence_is_flagged(frozen):
    # On the frozen-features least-squares problem, GD with eta = 3 / L1 multiplies the top
    # component of the residual (and of the gradient) by |1 - 3| = 2 per step: past 10^6 times
    # its start within about 20 steps of that component taking over.
    X, Y, c = frozen
    with pytest.warns(DivergenceWarning, match="diverged"):
        rec = _frozen_run(X, Y, "gd", 3 / c.L1, 0.0, 200, track=True)
    assert rec.diverged
    assert 10 < len(rec.losses) < 60 and np.all(np.isfinite(rec.losses))
    assert rec.diverged_at == len(rec.losses)
    assert len(rec.dx) == len(rec.losses) - 1 == len(rec.alphas) - 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = _frozen_run(X, Y, "gd", 1 / c.L1, 0.0, 50)
    assert not ok.diverged


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, name", [
    ({"widths": [3, 1]}, "widths"),
    ({"widths": (3, 0, 1)}, r"widths\[1\]"),
    ({"widths": [3, 2.5, 1]}, r"widths\[1\]"),
    ({"widths": "abc"}, "widths"),
    ({"widths": [3, 4, 1], "seeds": []}, "seeds"),
    ({"widths": [3, 4, 1], "seeds": True}, "seeds"),
    ({"widths": [3, 4, 1], "seeds": [1, "a"]}, "seeds"),
])
def test_bad_network_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        networks.DeepReLU(**kwargs)


def test_bad_data_and_partition_arguments():
    X, Y = _data(5, 3)
    net = networks.DeepReLU([3, 4, 6, 1])
    with pytest.raises(ValueError, match="X"):
        net(torch.ones(5, 4, dtype=D))
    with pytest.raises(ValueError, match="X"):
        net.loss(X * float("nan"), Y)
    with pytest.raises(ValueError, match="Y"):
        net.loss(X, Y[:4])
    with pytest.raises(ValueError, match="Y"):
        net.loss(X, Y * float("nan"))
    with pytest.raises(ValueError, match="model"):
        networks.partition(torch.nn.Linear(3, 1))
    with pytest.raises(ValueError, match="model"):
        networks.deep_relu_constants("net", X)
    x, u = networks.partition(net)
    with pytest.raises(ValueError, match="x"):
        networks.set_partition(net, x[:-1], u)
    with pytest.raises(ValueError, match="u"):
        networks.set_partition(net, x, u.numpy())
    with pytest.raises(ValueError, match="u"):
        networks.set_partition(net, x, u * float("inf"))
    with pytest.raises(ValueError, match="stack"):
        networks.partition_functions(networks.DeepReLU([3, 4, 1], seeds=[0, 1]), X, Y)
    with pytest.raises(ValueError, match="n"):
        networks.width_requirement(0, 3)
    with pytest.raises(ValueError, match="d0"):
        networks.width_requirement(10, 2.5)


@pytest.mark.parametrize("kwargs, name", [
    ({"method": "adam", "eta": 0.1}, "method"),
    ({"method": "gd", "eta": 0.0}, "eta"),
    ({"method": "gd", "eta": float("nan")}, "eta"),
    ({"method": "gd", "eta": 0.1, "beta": 0.5}, "beta"),
    ({"method": "nesterov", "eta": 0.1, "beta": 1.0}, "beta"),
    ({"method": "nesterov", "eta": 0.1, "beta": 0.5, "steps": 0}, "steps"),
])
def test_bad_training_arguments(kwargs, name):
    X, Y = _data(5, 3)
    kwargs.setdefault("steps", 3)
    with pytest.raises(ValueError, match=name):
        networks.train_deep_relu(networks.DeepReLU([3, 4, 1]), X, Y, **kwargs)


def test_bad_rate_arguments(frozen):
    X, Y, c = frozen
    rec = _frozen_run(X, Y, "gd", 1 / c.L1, 0.0, 40)
    with pytest.raises(ValueError, match="tail"):
        rec.rate(tail=1.5)


def test_only_the_feature_series_asked_for_are_computed_and_they_equal_the_full_svd():
    X, Y = _data(6, 3)
    full = networks.train_deep_relu(networks.DeepReLU([3, 8, 12, 1], seeds=[1, 2]), X, Y,
                                    method="nesterov", eta=0.05, beta=0.8, steps=8,
                                    track_features=True)
    only = networks.train_deep_relu(networks.DeepReLU([3, 8, 12, 1], seeds=[1, 2]), X, Y,
                                    method="nesterov", eta=0.05, beta=0.8, steps=8,
                                    track_features=("alphas",))
    np.testing.assert_array_equal(only.losses, full.losses)
    np.testing.assert_allclose(only.alphas, full.alphas, rtol=1e-12)
    assert np.all(np.isnan(only.drift)) and np.all(np.isnan(only.dx_null))
    # the QR route to the spectra gives the full SVD's numbers, step by step
    net = networks.DeepReLU([3, 8, 12, 1], seeds=[1, 2])
    F0 = net.features(X).detach()
    rec = networks.train_deep_relu(net, X, Y, method="gd", eta=0.05, steps=1,
                                   track_features=True)
    F1 = net.features(X).detach()
    np.testing.assert_allclose(rec.alphas[-1], torch.linalg.svdvals(F1)[..., -1].numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(rec.drift[-1], torch.linalg.matrix_norm(F1 - F0, ord=2).numpy(),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="track_features"):
        networks.train_deep_relu(net, X, Y, method="gd", eta=0.05, steps=1,
                                 track_features=("alpha",))


def test_drift_of_huge_finite_features_is_the_spectral_norm():
    """A run whose features have grown huge but are still finite (the step before the
    divergence rule fires): the drift ||F - F0||_2 is computed without the Gram matrix
    overflowing (eigvalsh of an inf matrix raised LinAlgError and stopped Chapter 3)."""
    from momentum.networks.deep_relu import _spectrum

    g = torch.Generator().manual_seed(0)
    F0 = torch.randn(3, 6, 20, generator=g, dtype=torch.float64)
    F = F0.clone()
    F[1] = 1e200 * torch.randn(6, 20, generator=g, dtype=torch.float64)
    _, drift, _ = _spectrum(F, F0, ("drift",), vectors=False)
    expected = torch.linalg.matrix_norm(F - F0, ord=2)
    assert torch.isfinite(drift).all()
    np.testing.assert_allclose(drift.numpy(), expected.numpy(), rtol=1e-12)


def _reference_train(net, X, Y, *, method, eta, beta, steps):
    """A plain reference loop for train_deep_relu (issue 25's speed-up must not change
    results): torch.optim.SGD's step, the book's iterates x_k = p_k + beta eta b_{k-1} for
    Nesterov, and every recorded series by the direct formula (a full SVD of the features,
    the spectral norm of the drift, the null-space part of the last-layer step)."""
    params = list(net.weights)
    opt = optimizers.torch_optimizer(method, params, eta=eta, beta=beta)
    F0 = _features([p.detach() for p in params], X)
    out = {k: [] for k in ("losses", "grad_norms", "alphas", "drift", "dx", "du", "dx_null")}
    prev = None
    for k in range(steps + 1):
        opt.zero_grad()
        (0.5 * ((_deep_forward_ref(params, X) - Y) ** 2).sum((-2, -1))).sum().backward()
        shift = beta * eta if method == "nesterov" else 0.0
        xs = [p.detach() + shift * opt.state[p]["momentum_buffer"]
              if p in opt.state and shift else p.detach().clone() for p in params]
        F = _features(xs, X)
        out["losses"].append(0.5 * ((F @ xs[-1] - Y) ** 2).sum((-2, -1)))
        out["grad_norms"].append(torch.sqrt(sum((p.grad ** 2).sum((-2, -1)) for p in params)))
        _, S, Vh = torch.linalg.svd(F, full_matrices=False)
        out["alphas"].append(S[..., -1])
        out["drift"].append(torch.linalg.matrix_norm(F - F0, ord=2))
        if prev is not None:
            dW = xs[-1] - prev[0][-1]
            out["dx"].append(torch.linalg.vector_norm(dW, dim=(-2, -1)))
            out["du"].append(torch.sqrt(sum(((a - b) ** 2).sum((-2, -1))
                                            for a, b in zip(xs[:-1], prev[0][:-1]))))
            P = prev[1].transpose(-1, -2) @ prev[1]
            out["dx_null"].append(torch.linalg.vector_norm(dW - P @ dW, dim=(-2, -1)))
        prev = (xs, Vh)
        if k < steps:
            opt.step()
    return {k: torch.stack(v).numpy() for k, v in out.items()}, [p.detach() for p in params]


def _deep_forward_ref(weights, X):
    F = X
    for W in weights[:-1]:
        F = torch.clamp(F @ W, min=0.0)
    return F @ weights[-1]


@pytest.mark.parametrize("method, beta", [("gd", 0.0), ("heavy_ball", 0.9),
                                          ("nesterov", 0.9)])
def test_the_training_loop_equals_a_plain_reference_loop(method, beta):
    """Iterates and every recorded series of train_deep_relu (a stack of two, width above n so
    the null space is there, and the features keep full rank, where the null space is
    well defined) equal the plain reference loop's to 1e-12 (relative; absolute 1e-12 times
    the scale of the step dx for dx_null, which is round-off for GD)."""
    X, Y = _data(6, 4)
    widths, seeds = [4, 32, 32, 1], [2, 7]
    c = networks.deep_relu_constants(networks.DeepReLU(widths, seeds=seeds), X)
    eta = 0.5 / float(np.max(c.L1))
    net = networks.DeepReLU(widths, seeds=seeds)
    rec = networks.train_deep_relu(net, X, Y, method=method, eta=eta, beta=beta, steps=30,
                                   track_features=True)
    ref, W_ref = _reference_train(networks.DeepReLU(widths, seeds=seeds), X, Y,
                                  method=method, eta=eta, beta=beta, steps=30)
    for W, R in zip(net.weights, W_ref):
        torch.testing.assert_close(W.detach(), R, rtol=1e-12, atol=1e-14)
    for name, want in ref.items():
        got = getattr(rec, name)
        assert got.shape == want.shape, name
        scale = float(np.abs(ref["dx" if name == "dx_null" else name]).max())
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale, err_msg=name)


def _direct_deep_loop(model, X, Y, *, method, eta, beta, steps):
    """train_deep_relu as written before it kept its arrays (issue 25): the book's iterates
    by optimizers.book_iterates (new arrays every step), every difference a new array, every
    series computed every step; returns the final weights and the per-step values, cut
    where the divergence rule fires."""
    from momentum.networks.deep_relu import _deep_forward, _spectrum

    params = list(model.weights)
    opt = optimizers.torch_optimizer(method, params, eta=eta, beta=beta)
    F0 = model.features(X).detach()
    shifted = method == "nesterov" and beta > 0
    out = {k: [] for k in ("losses", "grad_norms", "alphas", "drift", "dx", "du", "dx_null")}
    prev = None
    for k in range(steps + 1):
        ws = optimizers.book_iterates(opt, params)
        opt.zero_grad()
        F_p = _deep_forward(params, X, penultimate=True)
        o = F_p @ params[-1]
        (0.5 * ((o - Y) ** 2).sum((-2, -1))).sum().backward()
        with torch.no_grad():
            F = _deep_forward(ws, X, penultimate=True) if shifted else F_p.detach()
            out["losses"].append(0.5 * (((F @ ws[-1]) if shifted else o.detach()) - Y)
                                 .pow(2).sum((-2, -1)))
        alpha, drift, Vh = _spectrum(F, F0, ("alphas", "drift", "dx_null"),
                                     vectors=model.width > X.shape[0])
        out["alphas"].append(alpha)
        out["drift"].append(drift)
        if prev is not None:
            dW = ws[-1] - prev[0][-1]
            out["dx"].append(torch.linalg.vector_norm(dW, dim=(-2, -1)))
            out["du"].append(torch.sqrt(sum(torch.linalg.vector_norm(a - b, dim=(-2, -1)) ** 2
                                            for a, b in zip(ws[:-1], prev[0][:-1]))))
            inside = prev[1].transpose(-1, -2) @ (prev[1] @ dW)
            out["dx_null"].append(torch.linalg.vector_norm(dW - inside, dim=(-2, -1)))
        out["grad_norms"].append(torch.sqrt(sum(torch.linalg.vector_norm(p.grad, dim=(-2, -1))
                                                ** 2 for p in params if p.grad is not None)))
        if k == steps:
            break
        prev = (ws, Vh)
        opt.step()
    rec = {k: torch.stack(v).numpy() for k, v in out.items()}
    hit = records.first_divergence(rec["grad_norms"], rec["losses"])
    if hit is not None:
        rec = {k: v[:hit - 1] if k in ("dx", "du", "dx_null") else v[:hit]
               for k, v in rec.items()}
    return rec, hit


@pytest.mark.parametrize("method, beta", [("gd", 0.0), ("heavy_ball", 0.8),
                                          ("nesterov", 0.9)])
@pytest.mark.parametrize("frozen_hidden", [False, True])
@pytest.mark.parametrize("c", [0.5, 12.0])
def test_fast_loop_gives_the_direct_loops_numbers_exactly(method, beta, frozen_hidden, c):
    """The loop keeps its iterates and differences in arrays allocated once and computes a
    series only on request; every number it records is bit for bit the direct loop's, for
    every tracking choice (the untracked series NaN), with frozen hidden layers, and in runs
    that diverge (c = 12: the record is cut at the same step)."""
    X, Y = _data(6, 4)
    widths, seeds = [4, 24, 32, 1], [2, 7]
    L1 = float(networks.feature_spectrum(networks.DeepReLU(widths, seeds=seeds), X)
               .max()) ** 2

    def net():
        n = networks.DeepReLU(widths, seeds=seeds)
        for W in n.weights[:-1]:
            W.requires_grad_(not frozen_hidden)
        return n

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        ref, hit = _direct_deep_loop(net(), X, Y, method=method, eta=c / L1, beta=beta,
                                     steps=80)
        for track in (True, False, ("dx", "du"), ("alphas", "drift"), ("dx_null",)):
            rec = networks.train_deep_relu(net(), X, Y, method=method, eta=c / L1, beta=beta,
                                           steps=80, track_features=track)
            asked = networks.deep_relu.SERIES if track is True else (track or ())
            assert rec.diverged_at == hit
            np.testing.assert_array_equal(rec.losses, ref["losses"])
            np.testing.assert_array_equal(rec.grad_norms, ref["grad_norms"])
            for name in networks.deep_relu.SERIES:
                got = rec.series[name]
                assert got.shape == ref[name].shape, (name, track)
                if name in asked:
                    np.testing.assert_array_equal(got, ref[name], err_msg=f"{name} {track}")
                else:
                    assert np.all(np.isnan(got)), (name, track)
    assert (hit is not None) == (c > 1)

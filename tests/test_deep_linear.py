"""Deep linear networks and deep linear ResNets (Chapter 5): shapes, the initialisation's
statistics, stacks of seeds against single networks, the closed-form kernel and gradient against
autograd, the formulas of the theory block, a small case where GD with the prescribed step
converges at least as fast as an explicit bound, the exercise's checker, and bad input."""

import math
import warnings

import numpy as np
import pytest
import torch

from momentum import check, theory
from momentum.networks import (
    DeepLinear,
    DeepLinearResNet,
    end_to_end_singular_values,
    linear_ntk,
    linear_ntk_constants,
    regression_problem,
    train_deep_linear,
)

D = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    """The matrices are small: one thread is fastest, and many threads on a loaded machine are
    far slower (oversubscription)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _by_hand(weights, X, scale):
    F = X
    for W in weights:
        F = W @ F
    return scale * F


# ---------------------------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["gaussian", "orthogonal"])
def test_shapes_and_forward_by_hand(init):
    net = DeepLinear([5, 7, 6, 3], init=init, seeds=1)
    assert [tuple(w.shape) for w in net.weights] == [(7, 5), (6, 7), (3, 6)]
    X = torch.randn(5, 4, dtype=D)
    out = net(X)
    assert out.shape == (3, 4)
    assert math.isclose(net.scale, 1 / math.sqrt(7 * 6 * 3))
    torch.testing.assert_close(out, _by_hand(list(net.weights), X, net.scale))
    torch.testing.assert_close(net.end_to_end() @ X, out.detach())
    assert end_to_end_singular_values(net).shape == (3,)


def test_gaussian_entries_have_unit_variance():
    net = DeepLinear([200, 300, 200], seeds=0)
    w = torch.cat([p.detach().reshape(-1) for p in net.weights])
    assert abs(w.mean().item()) < 0.01 and abs(w.var().item() - 1) < 0.01


def test_orthogonal_init_is_a_scaled_isometry():
    net = DeepLinear([4, 16, 16, 2], init="orthogonal", seeds=3)
    W1, W2, W3 = (p.detach() for p in net.weights)
    torch.testing.assert_close(W1.T @ W1, 16 * torch.eye(4, dtype=D))
    torch.testing.assert_close(W2 @ W2.T, 16 * torch.eye(16, dtype=D))
    torch.testing.assert_close(W3 @ W3.T, 16 * torch.eye(2, dtype=D))


@pytest.mark.parametrize("init", ["gaussian", "orthogonal"])
def test_a_stack_equals_its_single_networks(init):
    seeds = [4, 9, 2]
    stack = DeepLinear([3, 5, 2], init=init, seeds=seeds)
    X = torch.randn(3, 6, dtype=D)
    out = stack(X)
    assert out.shape == (3, 2, 6)
    for i, s in enumerate(seeds):
        single = DeepLinear([3, 5, 2], init=init, seeds=s)
        torch.testing.assert_close(out[i], single(X))
    res = DeepLinearResNet(3, 6, 2, 4, seeds=seeds)
    for i, s in enumerate(seeds):
        torch.testing.assert_close(res(X)[i], DeepLinearResNet(3, 6, 2, 4, seeds=s)(X))


def test_resnet_starts_at_BA_and_its_fixed_maps_are_not_trained():
    res = DeepLinearResNet(4, 50, 2, 7, seeds=0)
    X = torch.randn(4, 5, dtype=D)
    torch.testing.assert_close(res(X), res.B @ res.A @ X)
    assert [n for n, _ in res.named_parameters()] == [f"weights.{i}" for i in range(7)]
    assert all(torch.all(w == 0) for w in res.weights)
    big = DeepLinearResNet(3, 4000, 2, 1, seeds=0)
    torch.testing.assert_close(big.A.T @ big.A, torch.eye(3, dtype=D), atol=0.1, rtol=0)
    torch.testing.assert_close(big.B @ big.B.T, torch.eye(2, dtype=D), atol=0.1, rtol=0)


def test_regression_problem_has_the_prescribed_condition_number():
    X, Y = regression_problem(6, 9, 2, kappa=400.0, seed=3, target_norm=2.5)
    s = torch.linalg.svdvals(X)
    assert X.shape == (9, 6) and Y.shape == (2, 6)
    assert math.isclose(s[0].item(), 1.0) and math.isclose((s[0] / s[-1]).item() ** 2, 400.0)
    assert math.isclose(torch.linalg.matrix_norm(Y).item(), 2.5)


# ---------------------------------------------------------------------------------------------
# The kernel and the gradient, against autograd
# ---------------------------------------------------------------------------------------------


def _jacobian_gram(model, X):
    params = list(model.weights)

    def f(*ws):
        return model.apply_weights(list(ws), X).reshape(-1)

    J = torch.func.jacrev(f, argnums=tuple(range(len(params))))(*[p.detach() for p in params])
    J = torch.cat([j.reshape(j.shape[0], -1) for j in J], dim=1)
    return J @ J.T


@pytest.mark.parametrize("make", [
    lambda: DeepLinear([3, 5, 4, 2], seeds=0),
    lambda: DeepLinear([3, 5, 2], init="orthogonal", seeds=1),
])
def test_linear_ntk_is_J_J_transpose(make):
    model, X = make(), torch.randn(3, 4, dtype=D)
    torch.testing.assert_close(linear_ntk(model, X), _jacobian_gram(model, X))


def test_resnet_ntk_is_J_J_transpose_away_from_zero():
    res = DeepLinearResNet(3, 5, 2, 3, seeds=0)
    with torch.no_grad():
        for w in res.weights:
            w.normal_(0, 0.2, generator=torch.Generator().manual_seed(1))
    X = torch.randn(3, 4, dtype=D)
    torch.testing.assert_close(linear_ntk(res, X), _jacobian_gram(res, X))


def test_orthogonal_kernel_at_init_is_exactly_the_formula():
    L, dy = 5, 2
    X, _ = regression_problem(4, 6, dy, kappa=50.0, seed=0)
    net = DeepLinear([6] + [12] * (L - 1) + [dy], init="orthogonal", seeds=0)
    expected = (L / dy) * torch.kron(torch.eye(dy, dtype=D), X.T @ X)
    torch.testing.assert_close(linear_ntk(net, X), expected)
    c = linear_ntk_constants(net, X)
    mu, Lh = theory.deep_linear_curvature(1.0, 50.0 ** -0.5, L, dy)
    assert math.isclose(c.lambda_min, mu, rel_tol=1e-9)
    assert math.isclose(c.lambda_max, Lh, rel_tol=1e-9)
    assert math.isclose(c.kappa, 50.0, rel_tol=1e-9)


def test_resnet_kernel_at_init_is_L_times_a_depth_free_matrix():
    X, _ = regression_problem(4, 5, 2, kappa=10.0, seed=0)
    H = [linear_ntk(DeepLinearResNet(5, 8, 2, L, seeds=3), X) for L in (1, 4, 9)]
    torch.testing.assert_close(H[1], 4 * H[0])
    torch.testing.assert_close(H[2], 9 * H[0])


def test_wide_gaussian_kernel_is_close_to_the_formula():
    L, dy = 3, 1
    X, _ = regression_problem(3, 3, dy, kappa=4.0, seed=0)
    c = linear_ntk_constants(DeepLinear([3, 1500, 1500, dy], seeds=0), X)
    mu, Lh = theory.deep_linear_curvature(1.0, 0.5, L, dy)
    assert abs(c.lambda_max / Lh - 1) < 0.15 and abs(c.lambda_min / mu - 1) < 0.15


def test_stacked_constants_are_arrays():
    X, _ = regression_problem(3, 4, 1, kappa=10.0)
    c = linear_ntk_constants(DeepLinear([4, 6, 1], seeds=[0, 1]), X)
    assert c.kappa.shape == (2,) and np.all(c.kappa >= 1)


def test_training_gradient_matches_autograd():
    X, Y = regression_problem(4, 5, 2, kappa=10.0, seed=1)
    for model in (DeepLinear([5, 6, 6, 2], seeds=0), DeepLinearResNet(5, 6, 2, 3, seeds=0)):
        if isinstance(model, DeepLinearResNet):
            with torch.no_grad():
                for w in model.weights:
                    w.normal_(0, 0.1, generator=torch.Generator().manual_seed(2))
        loss = model.loss(X, Y)
        grads = torch.autograd.grad(loss, list(model.weights))
        U = model(X).detach() - Y
        for g, (S, P) in zip(grads, model.factors(X)):
            torch.testing.assert_close(g, S.T @ U @ P.T)


# ---------------------------------------------------------------------------------------------
# Training and the theory block
# ---------------------------------------------------------------------------------------------


def test_gd_with_the_prescribed_step_beats_an_explicit_bound():
    """Orthogonal init, hidden width >> depth: the loss after k steps of GD with
    eta = d_y / (L sigma_max^2) is below 2 (1 - 1/(2 kappa))^(2k) times the first (the
    linearised rate 1 - 1/kappa on the residual, with room for the kernel's drift)."""
    L, dy, kappa = 3, 2, 20.0
    X, Y = regression_problem(4, 6, dy, kappa=kappa, seed=0, target_norm=0.5)
    net = DeepLinear([6, 64, 64, dy], init="orthogonal", seeds=0)
    t = theory.deep_linear_tuning("gd", 1.0, kappa ** -0.5, L, dy)
    assert math.isclose(t.eta, dy / L) and math.isclose(t.rate, 1 - 1 / kappa)
    traj = train_deep_linear(net, X, Y, method="gd", eta=t.eta, steps=300)
    k = np.arange(301)
    bound = 2 * (1 - 1 / (2 * kappa)) ** (2 * k) * traj.losses[0]
    assert np.all(traj.losses <= bound)
    assert traj.losses[-1] < 1e-6 * traj.losses[0]
    torch.testing.assert_close(net.loss(X, Y), torch.as_tensor(traj.losses[-1], dtype=D))


def test_nesterov_accelerates_on_a_wide_network():
    L, dy, kappa = 3, 1, 100.0
    X, Y = regression_problem(4, 4, dy, kappa=kappa, seed=0)
    iters = {}
    for m in ("gd", "nesterov"):
        t = theory.deep_linear_tuning(m, 1.0, kappa ** -0.5, L, dy)
        net = DeepLinear([4, 64, 64, dy], init="orthogonal", seeds=0)
        iters[m] = train_deep_linear(net, X, Y, method=m, eta=t.eta, beta=t.beta,
                                     steps=2000).iterations_to(1e-6)
    assert iters["nesterov"] * 3 < iters["gd"] < math.inf


def test_per_network_data_and_tunings_in_one_stack():
    kappas = [10.0, 100.0]
    Xs, Ys = zip(*(regression_problem(3, 3, 1, kappa=k, seed=0) for k in kappas))
    X, Y = torch.stack(Xs), torch.stack(Ys)
    tun = [theory.deep_linear_tuning("nesterov", 1.0, k ** -0.5, 2, 1) for k in kappas]
    eta = np.array([[t.eta] for t in tun])
    beta = np.array([[t.beta] for t in tun])
    stack = DeepLinear([3, 32, 1], init="orthogonal", seeds=[0, 0])
    traj = train_deep_linear(stack, X, Y, method="nesterov", eta=eta, beta=beta, steps=200)
    for i in range(2):
        one = DeepLinear([3, 32, 1], init="orthogonal", seeds=0)
        alone = train_deep_linear(one, Xs[i], Ys[i], method="nesterov", eta=tun[i].eta,
                                  beta=tun[i].beta, steps=200)
        np.testing.assert_allclose(traj.losses[:, i], alone.losses, rtol=1e-9, atol=1e-14)


def test_a_diverging_network_is_frozen_not_the_stack():
    X, Y = regression_problem(3, 3, 1, kappa=10.0, seed=0)
    stack = DeepLinear([3, 8, 1], seeds=[0, 1])
    eta = np.array([[0.5], [50.0]])
    traj = train_deep_linear(stack, X, Y, method="gd", eta=eta, steps=200)
    assert traj.meta["diverged"].tolist() == [False, True]
    assert traj.iterations_to(1e-3)[1] == math.inf


def test_a_frozen_network_whose_loss_overflows_does_not_end_the_stacks_record():
    # depth 60: once frozen, the blown-up network coasts to a loss beyond float range; the
    # other network's record must run to the end, as if it had been trained alone
    X, Y = regression_problem(3, 3, 1, kappa=10.0, seed=0)
    widths = [3] + [8] * 59 + [1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traj = train_deep_linear(DeepLinear(widths, seeds=[0, 1]), X, Y, method="nesterov",
                                 eta=np.array([[1e-3], [1e8]]), beta=0.5, steps=200)
    alone = train_deep_linear(DeepLinear(widths, seeds=0), X, Y, method="nesterov",
                              eta=1e-3, beta=0.5, steps=200)
    assert traj.meta["diverged"].tolist() == [False, True]
    assert traj.losses.shape == (201, 2)
    np.testing.assert_allclose(traj.losses[:, 0], alone.losses, rtol=1e-9, atol=1e-14)
    assert traj.losses[-1, 1] == np.finfo(float).max     # the overflow, recorded as such
    assert traj.iterations_to(1e-3)[1] == math.inf


def test_theory_formulas():
    mu, L = theory.deep_linear_curvature(2.0, 0.5, 4, 2)
    assert (mu, L) == (0.5, 8.0)
    assert theory.resnet_curvature(2.0, 0.5, 4) == (1.0, 16.0)
    t = theory.deep_linear_tuning("nesterov", 1.0, 0.1, 3, 1)
    assert math.isclose(t.eta, 1 / 3) and math.isclose(t.beta, 9 / 11)
    assert math.isclose(t.rate, 0.9)
    assert math.isclose(theory.deep_linear_tuning("gd", 1.0, 0.1, 3, 1, resnet=True).eta, 1 / 3)
    b = 0.8
    lim = theory.nesterov_stability_limit(b)
    for el, stable in ((lim * 0.999, True), (lim * 1.001, False)):
        z = np.roots([1, -(1 + b) * (1 - el), b * (1 - el)])
        assert (np.abs(z).max() < 1) == stable


# ---------------------------------------------------------------------------------------------
# The exercise's checker
# ---------------------------------------------------------------------------------------------


def _good(weights, X, Y, scale):
    Wt = [np.asarray(w) for w in weights]
    U = scale * np.linalg.multi_dot([*Wt[::-1], X]) - Y if len(Wt) > 1 else scale * Wt[0] @ X - Y
    out = []
    for ell in range(len(Wt)):
        S = scale * np.eye(Y.shape[0])
        for W in Wt[:ell:-1]:
            S = S @ W
        P = X
        for W in Wt[:ell]:
            P = W @ P
        out.append(S.T @ U @ P.T)
    return out


def test_checker_passes_a_correct_gradient_and_explains_wrong_ones():
    assert check.deep_linear_gradients(_good, verbose=False)
    no_scale = check.deep_linear_gradients(
        lambda w, X, Y, a: [g / a for g in _good(w, X, Y, a)], verbose=False)
    assert not no_scale and "scale" in no_scale.message
    wrong_order = check.deep_linear_gradients(
        lambda w, X, Y, a: _good(w, X, Y, a)[::-1], verbose=False)
    assert not wrong_order


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, param", [
    (lambda: DeepLinear([3]), "widths"),
    (lambda: DeepLinear([3, 0, 1]), "widths[1]"),
    (lambda: DeepLinear([3, 2, 1], init="xavier"), "init"),
    (lambda: DeepLinear([3, 2, 1], seeds="a"), "seeds"),
    (lambda: DeepLinear([3, 2, 1])(torch.zeros(4, 2)), "X"),
    (lambda: DeepLinear([3, 2, 1])(torch.full((3, 2), float("nan"))), "X"),
    (lambda: DeepLinear([3, 2, 1]).loss(torch.zeros(3, 2), torch.zeros(2, 2)), "Y"),
    (lambda: DeepLinearResNet(3, 0, 1, 2), "width"),
    (lambda: DeepLinearResNet(3, 4, 1, -1), "depth"),
    (lambda: linear_ntk("net", torch.zeros(3, 2)), "model"),
    (lambda: linear_ntk_constants(DeepLinear([3, 2, 1]), torch.zeros(2, 2)), "X"),
    (lambda: end_to_end_singular_values(None), "model"),
    (lambda: regression_problem(5, 3, 1, kappa=10.0), "d_in"),
    (lambda: regression_problem(3, 3, 1, kappa=0.5), "kappa"),
    (lambda: regression_problem(3, 3, 1, kappa=2.0, target_norm=0.0), "target_norm"),
    (lambda: train_deep_linear(DeepLinear([3, 2, 1]), torch.zeros(3, 2), torch.zeros(1, 2),
                               method="adam", eta=0.1, steps=3), "method"),
    (lambda: train_deep_linear(DeepLinear([3, 2, 1]), torch.zeros(3, 2), torch.zeros(1, 2),
                               method="gd", eta=-0.1, steps=3), "eta"),
    (lambda: train_deep_linear(DeepLinear([3, 2, 1]), torch.zeros(3, 2), torch.zeros(1, 2),
                               method="nesterov", eta=0.1, beta=1.0, steps=3), "beta"),
    (lambda: train_deep_linear(DeepLinear([3, 2, 1]), torch.zeros(3, 2), torch.zeros(1, 2),
                               method="gd", eta=0.1, steps=0), "steps"),
    (lambda: theory.deep_linear_curvature(1.0, 2.0, 3, 1), "sigma_min"),
    (lambda: theory.deep_linear_curvature(-1.0, 0.5, 3, 1), "sigma_max"),
    (lambda: theory.deep_linear_curvature(1.0, 0.5, 0, 1), "depth"),
    (lambda: theory.deep_linear_curvature(1.0, 0.5, 3, 0), "d_out"),
    (lambda: theory.resnet_curvature(1.0, 0.0, 3), "sigma_min"),
    (lambda: theory.deep_linear_tuning("adam", 1.0, 0.5, 3, 1), "method"),
    (lambda: theory.nesterov_stability_limit(1.5), "beta"),
    (lambda: check.deep_linear_gradients(42), "fn"),
])
def test_bad_input_raises_value_error_naming_the_parameter(call, param):
    with pytest.raises(ValueError) as info:
        call()
    assert param in str(info.value)

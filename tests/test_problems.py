"""Quadratics with known constants and the Lessard-Recht-Packard function."""

import numpy as np
import pytest
import torch

from momentum import optimizers, problems, theory


def test_quadratic_constants_and_gradient():
    q = problems.Quadratic([4.0, 1.0, 2.0], minimiser=[1.0, -1.0, 0.5])
    assert (q.mu, q.L, q.kappa) == (1.0, 4.0, 4.0)
    x = np.array([0.3, 0.2, -0.7])
    xt = torch.tensor(x, requires_grad=True)
    q.loss(xt).backward()  # autograd agrees with the closed-form gradient
    np.testing.assert_allclose(q.grad(x), xt.grad.numpy(), rtol=1e-12)
    assert q.loss(q.minimiser) == 0.0
    assert q.loss(np.stack([x, x])).shape == (2,)


def test_quadratic_from_matrix():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    A = M @ M.T + np.eye(5)
    q = problems.Quadratic(matrix=A)
    np.testing.assert_allclose(q.matrix, A, atol=1e-12)
    ev = np.linalg.eigvalsh(A)
    assert q.mu == pytest.approx(ev[0]) and q.L == pytest.approx(ev[-1])


def test_random_quadratic_has_the_prescribed_kappa_and_is_reproducible():
    q = problems.random_quadratic(250.0, 30, seed=7)
    ev = np.linalg.eigvalsh(q.matrix)
    assert ev[-1] / ev[0] == pytest.approx(250.0, rel=1e-10)
    np.testing.assert_allclose(q.basis.T @ q.basis, np.eye(30), atol=1e-12)
    again = problems.random_quadratic(250.0, 30, seed=7)
    np.testing.assert_array_equal(q.matrix, again.matrix)
    assert not np.allclose(q.matrix, problems.random_quadratic(250.0, 30, seed=8).matrix)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: problems.random_quadratic(0.5, 10), "kappa"),
        (lambda: problems.random_quadratic(float("nan"), 10), "kappa"),
        (lambda: problems.random_quadratic(10, 0), "dim"),
        (lambda: problems.Quadratic([1.0, -1.0]), "eigenvalues"),
        (lambda: problems.Quadratic([1.0, np.nan]), "eigenvalues"),
        (lambda: problems.Quadratic(matrix=np.ones((2, 3))), "matrix"),
        (lambda: problems.Quadratic(matrix=[[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (lambda: problems.Quadratic([1.0, 2.0], minimiser=[1.0]), "minimiser"),
        (lambda: problems.Quadratic([1.0, 2.0], basis=np.ones((2, 2))), "basis"),
        (lambda: problems.Quadratic(), "eigenvalues or matrix"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_quadratic_rejects_wrong_dimension():
    with pytest.raises(ValueError, match="last axis"):
        problems.Quadratic([1.0, 2.0]).grad(np.ones(3))


def test_lessard_function_is_smooth_and_strongly_convex():
    f = problems.lessard_counterexample()
    x = np.linspace(-3, 5, 4001)[:, None]
    g = f.grad(x)[:, 0]
    # continuous gradient, and f' has slopes in [mu, L] = [1, 25] everywhere
    slopes = np.diff(g) / np.diff(x[:, 0])
    assert slopes.min() >= 1 - 1e-9 and slopes.max() <= 25 + 1e-9
    assert np.max(np.abs(np.diff(g))) < 25 * (x[1, 0] - x[0, 0]) + 1e-9
    # gradient is the derivative of the loss (central differences) and the minimum is at 0
    h = 1e-6
    fd = (f.loss(x + h) - f.loss(x - h)) / (2 * h)
    np.testing.assert_allclose(fd, g, atol=1e-4)
    assert f.loss(np.zeros((1, 1)))[0] == 0.0 and f.kappa == 25.0
    t = torch.tensor([[0.5], [1.5], [2.5]], dtype=torch.float64)
    np.testing.assert_allclose(f.grad(t).numpy(), f.grad(t.numpy()))


def test_heavy_ball_cycles_on_lessard_while_nesterov_converges():
    f = problems.lessard_counterexample()
    hb = theory.heavy_ball_tuning(f.mu, f.L)
    assert (hb.eta, hb.beta) == pytest.approx((1 / 9, 4 / 9))
    traj = optimizers.heavy_ball(f.grad, np.array([3.3]), eta=hb.eta, beta=hb.beta, steps=600,
                                 loss=f.loss)
    tail = traj.x[-30:, 0]
    np.testing.assert_allclose(tail[3:], tail[:-3], atol=1e-9)  # period 3
    np.testing.assert_allclose(np.sort(tail[-3:]), [-1.80, 0.65, 2.12], atol=0.01)
    assert traj.losses[-1] > 1.0  # not converging
    nag = theory.nesterov_tuning(f.mu, f.L)
    tn = optimizers.nesterov(f.grad, np.array([3.3]), eta=nag.eta, beta=nag.beta, steps=200,
                             loss=f.loss)
    assert tn.losses[-1] < 1e-20


def test_quadratic_batch_equals_separate_problems():
    qs = [problems.random_quadratic(k, 6, seed=i) for i, k in enumerate([3.0, 30.0, 300.0])]
    batch = problems.QuadraticBatch(qs)
    x = np.random.default_rng(0).standard_normal((3, 6))
    for b, q in enumerate(qs):
        np.testing.assert_allclose(batch.grad(x)[b], q.grad(x[b]), rtol=1e-13)
        assert batch.loss(x)[b] == pytest.approx(q.loss(x[b]), rel=1e-13)
    np.testing.assert_allclose(batch.kappa[:, 0], [3.0, 30.0, 300.0], rtol=1e-10)
    eta = 1.0 / batch.L
    traj = optimizers.gd(batch.grad, x, eta=eta, steps=20)
    one = optimizers.gd(qs[2].grad, x[2], eta=float(eta[2, 0]), steps=20)
    np.testing.assert_allclose(traj.x[:, 2], one.x, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(batch.grad(torch.tensor(x)).numpy(), batch.grad(x))
    with pytest.raises(ValueError, match="dimension"):
        problems.QuadraticBatch([qs[0], problems.Quadratic([1.0, 2.0])])
    with pytest.raises(ValueError, match="shape"):
        batch.grad(np.ones((2, 6)))
    with pytest.raises(ValueError, match="empty"):
        problems.QuadraticBatch([])

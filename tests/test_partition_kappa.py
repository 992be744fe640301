"""The kappa sweep on the additive model (partition.kappa_batch,
partition.iterations_to_tolerance): the batch holds the instances random_additive_model
builds, the batched counts equal single runs, and the counts grow like kappa (gradient
descent) and sqrt(kappa) (Nesterov, Theorem 7's beta) at a small sigma_max(A2)."""

import numpy as np
import pytest
import torch

from momentum import optimizers, partition, plotting, theory

N, D2 = 8, 6


def _starts(t, seed=0):
    g = np.random.default_rng(seed)
    return torch.as_tensor(g.standard_normal((t, N + D2)) / np.sqrt(N))


def test_kappa_batch_holds_the_instances():
    kappas = [4.0, 30.0]
    b = partition.kappa_batch(N, D2, kappas, sigma_max_A2=[0.1, 2.0], seed=5)
    assert b.A1.shape == (2, 1, N, N) and b.A2.shape == (2, 1, 1, N, D2)
    for j, k in enumerate(kappas):
        for i, s in enumerate([0.1, 2.0]):
            m = partition.random_additive_model(N, D2, kappa=k, sigma_max_A2=s, seed=5)
            torch.testing.assert_close(b.A1[j, 0], m.A1)
            torch.testing.assert_close(b.A2[i, 0, 0], m.A2)
            torch.testing.assert_close(b.y, m.y)
    one = partition.kappa_batch(N, D2, kappas, sigma_max_A2=0.3)
    assert one.A2.shape == (N, D2)


@pytest.mark.parametrize("method", ["gd", "nesterov"])
def test_batched_counts_equal_single_runs(method):
    kappas, starts = [5.0, 50.0], _starts(3)
    b = partition.kappa_batch(N, D2, kappas, sigma_max_A2=[0.01, 1.0])
    it = partition.iterations_to_tolerance(method, b, starts, steps=600, tol=1e-6)
    assert it.shape == (2, 2, 3) and np.all(np.isfinite(it))
    for i, s in enumerate([0.01, 1.0]):
        for j, k in enumerate(kappas):
            m = partition.random_additive_model(N, D2, kappa=k, sigma_max_A2=s)
            c = m.constants
            t = (theory.theorem7_tuning if method == "nesterov" else
                 theory.theorem6_tuning)(c.mu, c.L1)
            tr = optimizers.run(method, m.grad_w, starts, eta=t.eta, beta=t.beta, steps=600,
                                loss=m.loss_w, keep_iterates=False)
            np.testing.assert_array_equal(it[i, j], tr.iterations_to(1e-6))


def test_counts_scale_like_kappa_and_sqrt_kappa():
    # the rates of Theorems 6 and 7: GD ~ kappa, Nesterov ~ sqrt(kappa), inside the
    # theorem's regime (sigma_max(A2) below the additive threshold at every kappa)
    n = 20
    kappas = np.logspace(1, 3, 4)
    assert all(theory.additive_threshold(n / k, n) > 1e-3 for k in kappas)
    b = partition.kappa_batch(n, n, kappas, sigma_max_A2=1e-3, seed=1)
    starts = torch.as_tensor(np.random.default_rng(1).standard_normal((2, 2 * n)) / n ** 0.5)
    for method, slope, steps in [("gd", 1.0, 5000), ("nesterov", 0.5, 400)]:
        it = partition.iterations_to_tolerance(method, b, starts, steps=steps, tol=1e-6)
        for row in it.T:
            p = plotting.power_law_fit(kappas, row).exponent
            assert abs(p - slope) < 0.06, f"{method}: slope {p:.3f}, expected {slope}"


def test_diverging_rows_are_inf_not_fatal():
    # a huge knob makes the step c/L1 unstable on the wild block: those rows never arrive
    b = partition.kappa_batch(N, D2, [10.0], sigma_max_A2=[1e-3, 300.0])
    it = partition.iterations_to_tolerance("nesterov", b, _starts(2), steps=300)
    assert np.all(np.isfinite(it[0])) and np.all(np.isinf(it[1]))


def test_bad_input():
    b = partition.kappa_batch(N, D2, [10.0], sigma_max_A2=0.1)
    s = _starts(2)
    with pytest.raises(ValueError, match="method"):
        partition.iterations_to_tolerance("heavy_ball", b, s, steps=10)
    with pytest.raises(ValueError, match="tol"):
        partition.iterations_to_tolerance("gd", b, s, steps=10, tol=2.0)
    with pytest.raises(ValueError, match="steps"):
        partition.iterations_to_tolerance("gd", b, s, steps=0)
    with pytest.raises(ValueError, match="starts"):
        partition.iterations_to_tolerance("gd", b, s[:, :5], steps=10)
    with pytest.raises(ValueError, match="c"):
        partition.iterations_to_tolerance("gd", b, s, steps=10, c=1.5)
    with pytest.raises(ValueError, match="model"):
        partition.iterations_to_tolerance("gd", "not a model", s, steps=10)
    flat = partition.random_additive_model(N, D2, kappa=10.0, sigma_max_A2=0.1)
    stacked = partition.AdditiveModel(flat.A1.expand(2, N, N), flat.A2, flat.y)
    with pytest.raises(ValueError, match="batch axes"):
        partition.iterations_to_tolerance("gd", stacked, s, steps=10)
    with pytest.raises(ValueError, match="kappas"):
        partition.kappa_batch(N, D2, [0.5, 10.0], sigma_max_A2=0.1)
    with pytest.raises(ValueError, match="kappas"):
        partition.kappa_batch(N, D2, [[10.0]], sigma_max_A2=0.1)
    with pytest.raises(ValueError, match="sigma_max_A2"):
        partition.kappa_batch(N, D2, [10.0], sigma_max_A2=-1.0)


def test_output_gram_eigenvalues_match_the_jacobian():
    # J J^T from the autograd Jacobian of h at each point, against the closed form
    m = partition.random_additive_model(N, D2, kappa=9.0, sigma_max_A2=3.0, seed=2)
    w = _starts(3, seed=2)
    ev = partition.output_gram_eigenvalues(m, w)
    assert ev.shape == (3, N)
    for i in range(3):
        J = torch.func.jacrev(lambda v: m.output(*m.split(v)))(w[i])
        torch.testing.assert_close(ev[i], torch.linalg.eigvalsh(J @ J.T))
    # the smallest is at least mu (square A1), the largest at least L1
    c = m.constants
    assert torch.all(ev[:, 0] >= c.mu * (1 - 1e-10)) and torch.all(ev[:, -1] >= c.L1 * (1 - 1e-10))
    # batched over a kappa_batch: each instance as a single model
    b = partition.kappa_batch(N, D2, [4.0, 40.0], sigma_max_A2=[0.5, 2.0])
    evb = partition.output_gram_eigenvalues(b, w)
    assert evb.shape == (2, 2, 3, N)
    single = partition.random_additive_model(N, D2, kappa=40.0, sigma_max_A2=2.0)
    torch.testing.assert_close(evb[1, 1], partition.output_gram_eigenvalues(single, w))
    with pytest.raises(ValueError, match="w must"):
        partition.output_gram_eigenvalues(m, w[:, :3])
    with pytest.raises(ValueError, match="model"):
        partition.output_gram_eigenvalues(None, w)

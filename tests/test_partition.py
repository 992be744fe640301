"""The partition model: the additive model against autograd and closed forms, the constants
measured by estimate_constants against the closed forms, batched trials against single runs,
Lemmas 8 and 9 on sampled points, and Theorem 7's conditions."""

import warnings

import numpy as np
import pytest
import torch

from momentum import optimizers, partition, theory

D = torch.float64


@pytest.fixture(scope="module")
def model():
    return partition.random_additive_model(12, 9, kappa=16, sigma_max_A2=0.7, seed=3)


def _point(m, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(m.d1, dtype=D, generator=g), torch.randn(m.d2, dtype=D, generator=g))


def test_generator_prescribes_kappa_and_sigma_max(model):
    s1, s2 = model.singular_values()
    assert model.n == model.d1 == 12 and model.d2 == 9
    assert (s1[0] / s1[-1]) ** 2 == pytest.approx(16, rel=1e-10)
    assert s2[0] == pytest.approx(0.7, rel=1e-10)
    c = model.constants
    assert c.kappa == pytest.approx(16, rel=1e-10)
    assert (c.mu, c.L1, c.L2) == pytest.approx((s1[-1] ** 2, s1[0] ** 2, 1.0))
    assert (c.G1, c.G2) == pytest.approx((0.7, 0.7 * s1[0]))
    # same seed, other knob: A1 and y unchanged, A2 only rescaled
    other = partition.random_additive_model(12, 9, kappa=16, sigma_max_A2=0.07, seed=3)
    assert torch.equal(other.A1, model.A1) and torch.equal(other.y, model.y)
    torch.testing.assert_close(other.A2 * 10, model.A2)


def test_loss_and_grad_match_autograd(model):
    x, u = _point(model)
    x.requires_grad_(True)
    u.requires_grad_(True)
    f = 0.5 * ((model.A1 @ x + torch.relu(model.A2 @ u) - model.y) ** 2).sum()
    gx, gu = torch.autograd.grad(f, (x, u))
    assert model.loss(x, u).item() == pytest.approx(f.item(), rel=1e-12)
    ours = model.grad(x.detach(), u.detach())
    torch.testing.assert_close(ours[0], gx)
    torch.testing.assert_close(ours[1], gu)
    w = model.join(x.detach(), u.detach())
    torch.testing.assert_close(model.grad_w(w), torch.cat([gx, gu]))


def test_custom_activation_uses_forward_mode_derivative(model):
    def softplus(z):
        return torch.nn.functional.softplus(z)

    m = partition.AdditiveModel(model.A1, model.A2, model.y, sigma=softplus, lipschitz=1.0)
    x, u = _point(m, 1)
    xr, ur = x.clone().requires_grad_(True), u.clone().requires_grad_(True)
    gx, gu = torch.autograd.grad(m.loss(xr, ur), (xr, ur))
    torch.testing.assert_close(m.grad(x, u)[1], gu)


def test_batched_loss_and_grad_match_rows(model):
    g = torch.Generator().manual_seed(5)
    w = torch.randn(4, 3, model.dim, dtype=D, generator=g)
    A2 = torch.stack([model.A2 * s for s in (0.1, 1.0, 3.0, 10.0)])[:, None]
    mb = partition.AdditiveModel(model.A1, A2, model.y)
    assert mb.batched and mb.loss_w(w).shape == (4, 3)
    grads = mb.grad_w(w)
    for i, s in enumerate((0.1, 1.0, 3.0, 10.0)):
        mi = partition.AdditiveModel(model.A1, model.A2 * s, model.y)
        for j in range(3):
            torch.testing.assert_close(grads[i, j], mi.grad_w(w[i, j]))
            assert mb.loss_w(w)[i, j].item() == pytest.approx(mi.loss_w(w[i, j]).item())


def test_batched_trials_equal_single_runs(model):
    c = model.constants
    t = theory.theorem7_tuning(c.mu, c.L1)
    w0 = torch.randn(5, model.dim, dtype=D, generator=torch.Generator().manual_seed(0))
    batch = optimizers.nesterov(model.grad_w, w0, eta=t.eta, beta=t.beta, steps=60,
                                loss=model.loss_w)
    for i in range(5):
        one = optimizers.nesterov(model.grad_w, w0[i], eta=t.eta, beta=t.beta, steps=60,
                                  loss=model.loss_w)
        # round-off of a GEMM against a GEMV: exact to 1e-10, or 1e-14 of the first loss
        np.testing.assert_allclose(batch.losses[:, i], one.losses, rtol=1e-10,
                                   atol=1e-14 * one.losses[0])
        torch.testing.assert_close(batch.x[:, i], one.x, rtol=1e-10, atol=1e-12)


def test_a6_minimiser_reaches_zero_for_any_u(model):
    g = torch.Generator().manual_seed(2)
    u = torch.randn(6, model.d2, dtype=D, generator=g) * 3
    xs = model.minimiser_x(u)
    assert model.loss(xs, u).max().item() < 1e-20
    # and it is the minimiser: the x-gradient vanishes there
    assert torch.linalg.vector_norm(model.grad(xs, u)[0], dim=-1).max().item() < 1e-9


def test_estimate_constants_matches_closed_forms_when_tight():
    # A2 = s A1 / ||A1|| and a point where every ReLU unit is active (A2 u > 0 in the whole
    # ball): then ||D A2|| = s and ||A1' D A2|| = s ||A1||, the closed forms exactly.
    base = partition.random_additive_model(10, 10, kappa=9, sigma_max_A2=1.0, seed=1)
    s1 = torch.linalg.matrix_norm(base.A1, 2)
    m = partition.AdditiveModel(base.A1, 0.3 * base.A1 / s1, base.y)
    u = torch.linalg.solve(m.A2, torch.full((10,), 5.0, dtype=D))
    x = torch.zeros(10, dtype=D)
    est = partition.estimate_constants(m.loss, x, u, model=m.output, radius=1e-3, samples=4)
    exact = m.constants
    for name in ("mu", "L1", "L2", "G1", "G2"):
        assert getattr(est, name) == pytest.approx(getattr(exact, name), rel=1e-8), name
    assert est.kappa == pytest.approx(9, rel=1e-8)


def test_estimate_constants_bracketed_by_local_and_closed_forms(model):
    # generic instance: the estimate lies between the exact local value at the point
    # (||D A2|| and ||A1' D A2|| with D the active units there) and the closed-form bound
    x, u = _point(model, 4)
    est = partition.estimate_constants(model.loss, x, u, model=model.output, radius=0.5,
                                       samples=6, seed=1)
    D_ = torch.diag(((model.A2 @ u) > 0).to(D))
    local_G1 = torch.linalg.matrix_norm(D_ @ model.A2, 2).item()
    local_G2 = torch.linalg.matrix_norm(model.A1.T @ D_ @ model.A2, 2).item()
    c = model.constants
    assert local_G1 * (1 - 1e-9) <= est.G1 <= c.G1 * (1 + 1e-9)
    assert local_G2 * (1 - 1e-9) <= est.G2 <= c.G2 * (1 + 1e-9)
    assert (est.mu, est.L1) == pytest.approx((c.mu, c.L1), rel=1e-8)
    # without a model, L2 and G1 are unknown, G2 still measured
    bare = partition.estimate_constants(model.loss, x, u, radius=0.5, samples=2)
    assert bare.L2 is None and bare.G1 is None and bare.G2 > 0


def test_estimate_constants_large_path_agrees_with_dense(model):
    # Lanczos / power iteration (forced by dense_limit=1) against the dense computation
    x, u = _point(model, 6)
    dense = partition.estimate_constants(model.loss, x, u, model=model.output, samples=2)
    sparse = partition.estimate_constants(model.loss, x, u, model=model.output, samples=2,
                                          dense_limit=1)
    for name in ("mu", "L1", "G1", "G2"):
        assert getattr(sparse, name) == pytest.approx(getattr(dense, name), rel=1e-6), name


def test_estimate_constants_measures_outer_smoothness(model):
    x, u = _point(model, 7)

    def outer(h):  # g(h) = 3/2 ||h - y||^2 has L2 = 3
        return 1.5 * ((h - model.y) ** 2).sum()

    est = partition.estimate_constants(lambda a, b: outer(model.output(a, b)), x, u,
                                       model=model.output, outer=outer, samples=1)
    assert est.L2 == pytest.approx(3.0, rel=1e-10)
    assert est.mu == pytest.approx(3 * model.constants.mu, rel=1e-8)


def test_estimate_constants_rejects_bad_input(model):
    x, u = _point(model)
    with pytest.raises(ValueError, match="radius"):
        partition.estimate_constants(model.loss, x, u, radius=0.0)
    with pytest.raises(ValueError, match="x"):
        partition.estimate_constants(model.loss, x[None], u)
    with pytest.raises(ValueError, match="samples"):
        partition.estimate_constants(model.loss, x, u, samples=-1)
    with pytest.raises(ValueError, match="loss"):
        partition.estimate_constants(lambda a, b: model.output(a, b), x, u)


def test_lemma8_and_lemma9_hold_on_sampled_points(model):
    c = model.constants
    g = torch.Generator().manual_seed(9)
    u1, u2 = (torch.randn(200, model.d2, dtype=D, generator=g) for _ in range(2))
    move = torch.linalg.vector_norm(model.minimiser_x(u1) - model.minimiser_x(u2), dim=-1)
    ratio8 = (move / torch.linalg.vector_norm(u1 - u2, dim=-1)).max().item()
    assert 0 < ratio8 <= c.G2 / c.mu
    x = torch.randn(200, model.d1, dtype=D, generator=g)
    gx, gu = model.grad(x, u1)
    ratio9 = ((gu ** 2).sum(-1) / (gx ** 2).sum(-1)).max().item()
    assert 0 < ratio9 <= c.G1 ** 2 * c.L2 / c.mu


def test_block_deltas_and_guard(model):
    c = model.constants
    w0 = torch.randn(3, model.dim, dtype=D, generator=torch.Generator().manual_seed(0))
    tr = optimizers.gd(model.grad_w, w0, eta=1 / c.L1, steps=5)
    dx, du = partition.block_deltas(tr, model.d1)
    assert dx.shape == du.shape == (5, 3)
    expected = torch.linalg.vector_norm(tr.x[1, :, :model.d1] - tr.x[0, :, :model.d1], dim=-1)
    np.testing.assert_allclose(dx[0], expected.numpy())
    # a batch with one row that must diverge (step far beyond 2/L) finishes; that row is flagged
    A1 = torch.stack([model.A1, 10 * model.A1])[:, None]
    mb = partition.AdditiveModel(A1, model.A2, model.y)
    guard = partition.DivergenceGuard(mb.grad_w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = optimizers.gd(guard, w0.expand(2, 3, -1).clone(), eta=1 / c.L1, steps=80,
                            loss=mb.loss_w, keep_iterates=False)
    assert not run.diverged and run.steps == 80
    assert guard.diverged[0].sum() == 0 and guard.diverged[1].all()
    assert np.isinf(run.iterations_to(1e-6)[1]).all()
    assert np.isfinite(run.iterations_to(1e-6)[0]).all()


def test_check_theorem7_flips_at_the_additive_threshold(model):
    c = model.constants
    s_star = partition.additive_threshold(c.mu, c.L1)
    beta = theory.theorem7_beta(c.kappa)
    for factor, expected in ((0.99, True), (1.01, False)):
        m = partition.AdditiveModel(model.A1, model.A2 * (factor * s_star / c.G1), model.y)
        report = partition.check_theorem7(m.constants, beta)
        assert report.holds is expected
    text = str(report)
    assert "G1^2 G2^2" in text and "NO" in text
    # a beta that is not the theorem's fails its row; unknown constants give None
    assert partition.check_theorem7(c, 0.5).rows[0][3] is False
    bare = partition.PartitionConstants(c.mu, c.L1, None, None, c.G2)
    assert partition.check_theorem7(bare, beta).holds is None


def test_check_theorem7_rejects_bad_input(model):
    c = model.constants
    with pytest.raises(ValueError, match="beta"):
        partition.check_theorem7(c, 1.0)
    with pytest.raises(ValueError, match="c must"):
        partition.check_theorem7(c, 0.5, c=1.5)
    with pytest.raises(ValueError, match="constants"):
        partition.check_theorem7({"mu": 1}, 0.5)


def test_model_rejects_bad_input(model):
    with pytest.raises(ValueError, match="n"):
        partition.AdditiveModel(model.A1, model.A2[:-1], model.y)
    with pytest.raises(ValueError, match="sigma"):
        partition.AdditiveModel(model.A1, model.A2, model.y, sigma="swish")
    with pytest.raises(ValueError, match="lipschitz"):
        partition.AdditiveModel(model.A1, model.A2, model.y, sigma=torch.sin)
    with pytest.raises(ValueError, match="A1"):
        partition.AdditiveModel(model.A1 * float("nan"), model.A2, model.y)
    with pytest.raises(ValueError, match="kappa"):
        partition.random_additive_model(5, 5, kappa=0.5, sigma_max_A2=1.0)
    with pytest.raises(ValueError, match="sigma_max_A2"):
        partition.random_additive_model(5, 5, kappa=4, sigma_max_A2=0.0)
    with pytest.raises(ValueError, match="x"):
        model.loss(torch.zeros(model.d1 + 1, dtype=D), torch.zeros(model.d2, dtype=D))
    wide = partition.AdditiveModel(torch.ones(3, 5, dtype=D), model.A2[:3], model.y[:3])
    with pytest.raises(ValueError, match="full column rank"):
        _ = wide.constants

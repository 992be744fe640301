"""The one record (Trajectory), the rate fit and the block recorder of momentum.records."""

import math
import warnings

import numpy as np
import pytest
import torch

from momentum import optimizers, problems, records, theory
from momentum.records import DivergenceWarning, ModuleRecorder, Trajectory, fit_rate


def test_fit_rate_tail_and_window_recover_known_rates():
    k = np.arange(400)
    e = np.stack([0.9 ** k, (k + 1) * 0.8 ** k], axis=1)
    np.testing.assert_allclose(fit_rate(e), [0.9, 0.8], rtol=1e-6)
    np.testing.assert_allclose(fit_rate(e[:, 0] ** 2, window=(1e-2, 1e-15)), 0.81, rtol=1e-6)
    assert math.isnan(fit_rate(np.ones(50), window=(1e-2, 1e-20)))
    assert math.isnan(fit_rate(np.empty(0)))
    with pytest.raises(ValueError, match="stop"):
        fit_rate(e, window=(1e-5, 1e-2))
    with pytest.raises(ValueError, match="window"):
        fit_rate(e, window=1e-2)
    with pytest.raises(ValueError, match="tail"):
        fit_rate(e, tail=0.0)


def test_trajectory_series_read_as_attributes_and_rates():
    t = Trajectory("gd", 0.1, 0.0, None, None, np.array([1.0, 0.25, 0.0625]),
                   np.array([1.0, 0.5, 0.25]), series={"dx": np.array([0.1, 0.05])})
    assert t.dx is t.series["dx"] and t.steps == 2
    with pytest.raises(AttributeError, match="series"):
        t.du  # noqa: B018
    with pytest.raises(ValueError, match="of"):
        t.rate(of="speed")
    k = np.arange(60)
    t2 = Trajectory("gd", 0.1, 0.0, None, None, 0.5 * 0.81 ** k, 0.9 ** k,
                    series={"dist": 0.7 ** k})
    assert t2.rate(of="residual") == pytest.approx(0.9, rel=1e-9)
    assert t2.rate(of="dist") == pytest.approx(0.7, rel=1e-9)
    assert t2.rate(of="loss", window=(1e-1, 1e-12)) == pytest.approx(0.81, rel=1e-9)
    assert t2.iterations_to(1e-2) == int(np.ceil(np.log(1e-2) / np.log(0.81)))


def test_first_divergence_rule():
    g = np.array([1.0, 5.0, 2e6, 1.0])
    assert records.first_divergence(g) == 2
    assert records.first_divergence(g[:2]) is None
    assert records.first_divergence(np.array([1.0, np.nan])) == 1
    assert records.first_divergence(np.array([np.inf, 1.0])) == 0
    assert records.first_divergence(None, np.array([1.0, 1e30, np.inf])) == 2
    assert records.first_divergence(np.array([3.0]), first_grad_norm=1e-7) == 0
    batch = np.array([[1.0, 1.0], [2.0, 3e6]])
    assert records.first_divergence(batch) == 1


def test_module_recorder_copies_in_blocks_and_cuts_at_divergence():
    rec = ModuleRecorder("gd", 0.1, 0.0, steps=9, diffs=("dx",), block=4)
    values = [1.0, 2.0, 3.0, 4.0, 5.0, float("nan"), 7.0, 8.0, 9.0]
    stopped_at = None
    with pytest.warns(DivergenceWarning, match="at step 5"):
        for k, v in enumerate(values):
            extra = {"dx": torch.tensor(0.5 * k)} if k else {}
            if rec.record(losses=torch.tensor(v), grad_norms=torch.tensor(v), **extra):
                stopped_at = k
                break
    assert stopped_at == 7                   # found at the end of the second block
    t = rec.trajectory()
    assert t.diverged and t.diverged_at == 5
    np.testing.assert_array_equal(t.losses, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(t.dx, [0.5, 1.0, 1.5, 2.0])
    ok = ModuleRecorder("gd", 0.1, 0.0, steps=2)
    for k in range(3):
        ok.record(losses=torch.tensor(1.0 / (k + 1)), grad_norms=torch.tensor(1.0))
    t = ok.trajectory()
    assert not t.diverged and t.losses.shape == (3,) and t.x is None


def test_divergence_guard_freezes_only_the_diverging_rows():
    grad = records.DivergenceGuard(lambda w: w * torch.tensor([[1.0], [10.0]]))
    w = torch.ones(2, 3, dtype=torch.float64)
    g0 = grad(w)
    assert not grad.diverged.any() and torch.equal(g0[0], w[0])
    grad(w * 2e6)
    assert grad.diverged.tolist() == [True, True]
    with pytest.raises(ValueError, match="grad"):
        records.DivergenceGuard(3)


def test_gd_accepts_beta_zero_only_and_run_dispatches():
    q = problems.Quadratic([1.0, 4.0])
    a = optimizers.gd(q.grad, np.ones(2), eta=0.2, beta=0.0, steps=5)
    b = optimizers.run("gd", q.grad, np.ones(2), eta=0.2, steps=5)
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(ValueError, match="beta"):
        optimizers.gd(q.grad, np.ones(2), eta=0.2, beta=0.5, steps=5)
    with pytest.raises(ValueError, match="method"):
        optimizers.run("adam", q.grad, np.ones(2), eta=0.2, steps=5)
    assert optimizers.method_by_name("nesterov") is optimizers.nesterov
    for m in optimizers.METHODS:   # one signature for the three
        t = theory.tuning(m, q.mu, q.L)
        tr = optimizers.run(m, q.grad, np.ones(2), eta=t.eta, beta=t.beta, steps=50)
        assert tr.method == m and not tr.diverged


@pytest.mark.parametrize("method", optimizers.METHODS)
def test_book_iterates_invert_the_change_of_variables(method):
    q = problems.random_quadratic(20.0, 5, seed=2)
    t = theory.tuning(method, q.mu, q.L)
    x0 = np.random.default_rng(0).standard_normal(5)
    ours = optimizers.run(method, q.grad, x0, eta=t.eta, beta=t.beta, steps=40)
    w = torch.tensor(x0, requires_grad=True)
    opt = optimizers.torch_optimizer(method, [w], eta=t.eta, beta=t.beta)
    A = torch.as_tensor(q.matrix)
    xstar = torch.as_tensor(q.minimiser)
    for k in range(41):
        (x_book,) = optimizers.book_iterates(opt)
        np.testing.assert_allclose(x_book.numpy(), ours.x[k], atol=1e-10)
        opt.zero_grad()
        (0.5 * (w - xstar) @ A @ (w - xstar)).backward()
        opt.step()
    with pytest.raises(ValueError, match="opt"):
        optimizers.book_iterates("sgd")


def test_warnings_do_not_leak_from_a_converging_run():
    q = problems.Quadratic([1.0, 10.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.nesterov(q.grad, np.ones(2), eta=0.1, beta=0.5, steps=100, loss=q.loss)

"""The three update rules, their Trajectory, and the torch.optim equivalence."""

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from momentum import optimizers, problems, theory
from momentum.optimizers import DivergenceWarning, gd, heavy_ball, nesterov, torch_optimizer


def run(method, q, x0, steps, **kw):
    t = theory.tuning(method, q.mu, q.L)
    params = {"eta": t.eta, "steps": steps, "loss": q.loss, **kw}
    if method != "gd":
        params["beta"] = t.beta
    return getattr(optimizers, method)(q.grad, x0, **params), t


@pytest.mark.parametrize("kappa", [30.0, 100.0, 1000.0])
@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_fitted_rate_matches_theory(method, kappa):
    q = problems.random_quadratic(kappa, 40, seed=1)
    x0 = np.random.default_rng(0).standard_normal(40)
    steps = {"gd": int(30 * kappa), "heavy_ball": 3000, "nesterov": 3000}[method]
    traj, t = run(method, q, x0, steps, keep_iterates=False)
    # a few dozen iterations reach round-off at small kappa, so the fit is good to a few 1e-3
    tol = 5e-3 if kappa < 100 else 2e-3
    assert traj.rate() == pytest.approx(t.rate, abs=tol)


def test_heavy_ball_rate_to_1e3():
    # heavy ball's fitted rate within 1e-3 of (sqrt k - 1)/(sqrt k + 1), once there are enough
    # iterations above the round-off floor to fit (kappa >= 100: hundreds of them)
    for kappa in [100.0, 400.0, 1000.0]:
        q = problems.random_quadratic(kappa, 30, seed=3)
        traj, _ = run("heavy_ball", q, np.ones(30), 4000, keep_iterates=False)
        assert abs(traj.rate() - theory.rate_heavy_ball(kappa)) < 1e-3


def test_iterations_scale_like_kappa_and_sqrt_kappa():
    eps = 1e-8
    kappas = np.array([10.0, 30.0, 100.0, 300.0, 1000.0])
    its = {"gd": [], "nesterov": []}
    for kappa in kappas:
        q = problems.random_quadratic(kappa, 20, seed=0)
        x0 = np.random.default_rng(1).standard_normal(20)
        for m in its:
            traj, _ = run(m, q, x0, int(12 * kappa) + 200, keep_iterates=False)
            its[m].append(traj.iterations_to(eps))
    its = {m: np.array(v, dtype=float) for m, v in its.items()}
    assert np.all(np.isfinite(its["gd"])) and np.all(np.isfinite(its["nesterov"]))
    # Nesterov stays below C sqrt(kappa) log(1/eps), with C = 1: the loss gap contracts like
    # (1 - 1/sqrt(kappa))^(2k), so about sqrt(kappa) log(1/eps) / 2 steps suffice
    assert np.all(its["nesterov"] <= np.sqrt(kappas) * math.log(1 / eps))
    slope_gd = np.polyfit(np.log(kappas), np.log(its["gd"]), 1)[0]
    slope_nag = np.polyfit(np.log(kappas), np.log(its["nesterov"]), 1)[0]
    assert slope_gd == pytest.approx(1.0, abs=0.1)
    assert slope_nag == pytest.approx(0.5, abs=0.1)
    assert np.all(its["gd"] > its["nesterov"])


def least_squares(seed=0, n=30, d=12):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, d, generator=g, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64)
    L = torch.linalg.eigvalsh(A.T @ A).max().item()
    mu = torch.linalg.eigvalsh(A.T @ A).min().item()
    return A, b, mu, L


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_torch_optimizer_reproduces_our_iterates(method):
    A, b, mu, L = least_squares()
    t = theory.tuning(method, mu, L)
    beta = t.beta if method != "gd" else 0.0

    def grad(w):
        return (w @ A.T - b) @ A

    w0 = torch.randn(A.shape[1], generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    kw = {"beta": beta} if method != "gd" else {}
    ours = getattr(optimizers, method)(grad, w0, eta=t.eta, steps=200, **kw)
    expected = ours.y if method == "nesterov" else ours.x  # PyTorch's parameter is y_k for NAG

    w = torch.nn.Parameter(w0.clone())
    opt = torch_optimizer(method, [w], eta=t.eta, beta=beta)
    got = [w.detach().clone()]
    for _ in range(200):
        opt.zero_grad()
        loss = 0.5 * ((A @ w - b) ** 2).sum()
        loss.backward()
        opt.step()
        got.append(w.detach().clone())
    got = torch.stack(got)
    rel = (got - expected).norm(dim=1) / expected.norm(dim=1)
    assert rel.max().item() < 1e-10
    if method == "nesterov":  # and the book's x_k is recovered as p_k - eta grad f(p_k)
        x_rec = got[:-1] - t.eta * torch.stack([grad(p) for p in got[:-1]])
        assert (x_rec - ours.x[1:]).norm() / ours.x[1:].norm() < 1e-10


def test_torch_optimizer_types_and_errors():
    w = [torch.nn.Parameter(torch.zeros(3))]
    assert torch_optimizer("gd", w, eta=0.1).defaults["momentum"] == 0
    assert torch_optimizer("nesterov", w, eta=0.1, beta=0.9).defaults["nesterov"] is True
    assert torch_optimizer("heavy_ball", w, eta=0.1, beta=0.9).defaults["nesterov"] is False
    with pytest.raises(ValueError, match="name"):
        torch_optimizer("adam", w, eta=0.1)
    with pytest.raises(ValueError, match="eta"):
        torch_optimizer("gd", w, eta=0.0)
    with pytest.raises(ValueError, match="beta"):
        torch_optimizer("nesterov", w, eta=0.1, beta=1.0)
    with pytest.raises(ValueError, match="beta"):
        torch_optimizer("gd", w, eta=0.1, beta=0.5)


def test_numpy_and_torch_give_the_same_run():
    q = problems.random_quadratic(50, 10, seed=2)
    x0 = np.linspace(-1, 1, 10)
    a, _ = run("nesterov", q, x0, 100)
    b, _ = run("nesterov", q, torch.tensor(x0), 100)
    assert isinstance(b.x, torch.Tensor) and isinstance(a.x, np.ndarray)
    np.testing.assert_allclose(b.x.numpy(), a.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.losses, a.losses, rtol=1e-12, atol=1e-300)


def test_batched_run_equals_separate_runs_with_broadcast_hyperparameters():
    q = problems.random_quadratic(100, 8, seed=4)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 8))
    eta = np.array([[1.0], [0.5], [0.8]])
    beta = np.array([[0.9], [0.5], [0.0]])
    batch = heavy_ball(q.grad, x0, eta=eta, beta=beta, steps=50, loss=q.loss)
    assert batch.x.shape == (51, 3, 8) and batch.losses.shape == (51, 3)
    for i in range(3):
        one = heavy_ball(q.grad, x0[i], eta=float(eta[i, 0]), beta=float(beta[i, 0]), steps=50,
                         loss=q.loss)
        np.testing.assert_allclose(batch.x[:, i], one.x, rtol=1e-13, atol=1e-15)
        assert batch.rate()[i] == pytest.approx(one.rate())


def test_nesterov_records_both_sequences():
    q = problems.Quadratic([1.0, 4.0])
    traj = nesterov(q.grad, np.array([1.0, 1.0]), eta=0.25, beta=0.5, steps=5)
    x, y = traj.x, traj.y
    np.testing.assert_allclose(y[0], x[0])
    for k in range(5):
        np.testing.assert_allclose(x[k + 1], y[k] - 0.25 * q.grad(y[k]))
        np.testing.assert_allclose(y[k + 1], x[k + 1] + 0.5 * (x[k + 1] - x[k]))
    assert heavy_ball(q.grad, np.ones(2), eta=0.1, beta=0.5, steps=3).y is None


def test_divergence_is_flagged_not_nan():
    q = problems.Quadratic([1.0, 10.0])
    with pytest.warns(DivergenceWarning, match="diverged"):
        traj = gd(q.grad, np.ones(2), eta=0.5, steps=500, loss=q.loss)  # eta > 2/L
    assert traj.diverged and traj.diverged_at is not None
    assert traj.steps < 500
    assert np.all(np.isfinite(traj.losses)) and np.all(np.isfinite(traj.grad_norms))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = gd(q.grad, np.ones(2), eta=0.1, steps=50)
    assert not ok.diverged


def test_iterations_to_and_rate_edge_cases():
    q = problems.Quadratic([1.0, 2.0])
    traj = gd(q.grad, np.ones(2), eta=0.1, steps=10, loss=q.loss)
    assert traj.iterations_to(1e-12) == math.inf
    assert traj.iterations_to(0.99) == 1
    with pytest.raises(ValueError, match="iterations"):
        traj.rate()  # too few points above the floor to fit
    with pytest.raises(ValueError, match="x_star"):
        traj.rate(of="distance")
    with pytest.raises(ValueError, match="of"):
        traj.rate(of="speed")
    with pytest.raises(ValueError, match="eps"):
        traj.iterations_to(-1.0)
    no_loss = gd(q.grad, np.ones(2), eta=0.1, steps=10)
    with pytest.raises(ValueError, match="loss"):
        no_loss.iterations_to(0.5)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"eta": 0.0}, "eta"),
        ({"eta": -1.0}, "eta"),
        ({"eta": float("nan")}, "eta"),
        ({"beta": 1.0}, "beta"),
        ({"beta": -0.1}, "beta"),
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"x0": np.array([np.nan, 1.0])}, "x0"),
        ({"x0": np.array([])}, "x0"),
        ({"eta": np.ones((3, 1))}, "eta"),
        ({"grad": "not callable"}, "grad"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, name):
    q = problems.Quadratic([1.0, 2.0])
    args = {"grad": q.grad, "x0": np.ones(2), "eta": 0.1, "beta": 0.5, "steps": 10, **kwargs}
    grad, x0 = args.pop("grad"), args.pop("x0")
    with pytest.raises(ValueError, match=name):
        heavy_ball(grad, x0, **args)


def test_grad_with_wrong_shape_is_reported():
    with pytest.raises(ValueError, match="grad returned shape"):
        gd(lambda x: x[:1], np.ones(3), eta=0.1, steps=3)


#: Run in a fresh interpreter (the heap of the test process is shaped by the tests before):
#: a stacked run of 200 steps that keeps no iterates; prints its resident-memory growth in MB.
_LONG_RUN = """
import sys, torch
from momentum import optimizers
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
method, n = sys.argv[1], 40_000
x0 = torch.ones(20, n, dtype=torch.float64)          # 20 trials, 6.1 MB per iterate
c = torch.linspace(0.5, 1.0, n, dtype=torch.float64)
kw = dict(eta=0.1, beta=0.0 if method == "gd" else 0.5,
          loss=lambda w: 0.5 * (c * w * w).sum(-1), keep_iterates=False)
optimizers.run(method, lambda w: c * w, x0, steps=5, **kw)      # warm the allocator
before = rss_mb()
traj = optimizers.run(method, lambda w: c * w, x0, steps=200, **kw)
assert traj.losses.shape == traj.grad_norms.shape == (201, 20)
print(rss_mb() - before)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm")
@pytest.mark.parametrize("method", ["gd", "nesterov"])
def test_a_long_stacked_run_keeps_its_memory_bounded(method):
    """Issue 25 (Chapter 5 at MOMENTUM_FULL=1 ran out of memory): a run that keeps no
    iterates holds only its per-step losses and gradient norms, 2 x 20 floats a step here,
    so its memory must not grow with the steps. Before the fix each step's small record
    arrays pinned holes in the C heap, and the heap grew by about one iterate (6.1 MB) a step:
    +1.2 GB over these 200 steps (optimizers._Rows)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(p for p in [str(Path(optimizers.__file__).parents[1]),
                                                     os.environ.get("PYTHONPATH")] if p)}
    out = subprocess.run([sys.executable, "-c", _LONG_RUN, method], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    grown = float(out.stdout.split()[-1])
    assert grown < 100, f"the run's memory grew by {grown:.0f} MB over 200 steps"


def test_records_are_the_per_step_values():
    """The preallocated record (optimizers._Rows) holds exactly the values of each step, and
    a run that diverges keeps only the rows before it."""
    Q = problems.random_quadratic(10.0, 4, seed=1)
    x0 = np.ones((3, 4))
    traj = heavy_ball(Q.grad, x0, eta=0.5, beta=0.5, steps=30, loss=Q.loss)
    np.testing.assert_allclose(traj.losses, np.stack([Q.loss(x) for x in traj.x]))
    np.testing.assert_allclose(traj.grad_norms,
                               np.linalg.norm(np.stack([Q.grad(x) for x in traj.x]), axis=-1))
    with pytest.warns(DivergenceWarning):
        bad = gd(Q.grad, np.ones(4), eta=50.0, steps=500, loss=Q.loss)
    assert bad.diverged and len(bad.losses) == len(bad.grad_norms) == bad.diverged_at
    with pytest.raises(ValueError, match="loss returned shape"):
        gd(Q.grad, np.ones(4), eta=0.1, steps=3,
           loss=lambda x: np.zeros(2) if x[0] < 1 else 0.0)

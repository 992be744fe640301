"""Benchmark of one full-batch training step; writes benchmarks/training_report.txt.

    python benchmarks/bench_training.py [--quick] [--threads N] [--out PATH] [--before REV]
    (or: make bench)

One full-batch step (forward, backward, update) of the networks the chapters train, timed
against ``torch.matmul`` on the products the step cannot avoid, with the same shapes, dtype and
device, measured in the same run (samples taken back to back, so the ratio survives a loaded
machine better than either time):

1. the two-layer ReLU network of Chapter 4 (``networks.TwoLayerReLU``, f = (1/sqrt m) sum_r
   a_r relu(w_r'x)) on the digits (n = 360, d = 64), m in {1000, 4000, 8000}, one network and
   a stack of 5 seeds, float64 and float32; useful work 4 m d n flops per network (W X^T forward
   and the weight gradient G X);
2. the deep ReLU network of Chapter 3 (``networks.DeepReLU``) at the chapter's settings
   (n = 16 digits, d_0 = 64, hidden width 64, seeds stacked); useful work the forward product,
   the weight gradient of every layer and the input gradient of every layer above the first;
3. a profile of one step: where its time goes, by group of operations.

Each step is timed several ways: the library's loop (``train_two_layer`` / ``train_deep_relu``,
records included, per step, over K = 30 steps from the same start), the bare step
(``opt.zero_grad(); model.loss(X, y).sum().backward(); opt.step()``), for the two-layer network
the same step with the gradient written in closed form (:func:`closed_form_step`), and for the
deep network the bare step on checked tensors and the loop with the block steps and with
every per-step series. ``--before REV`` also times the loops of git revision REV in the same
rounds (:func:`load_revision`), for a before/after comparison under the same load.
Uses the GPU when ``torch.cuda.is_available()``. With one CPU thread (``--threads 1``) the
clock is the process's CPU time, so that other jobs on a shared machine drop out of the
samples; otherwise the wall clock. ``--quick`` is a tiny smoke run (seconds) that writes no
report unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import torch

from momentum import data, networks, optimizers
from momentum.networks.deep_relu import _deep_forward

REPORT = Path(__file__).with_name("training_report.txt")
ROOT = Path(__file__).resolve().parents[1]

FULL = {
    "two_layer_widths": (1000, 4000, 8000),
    "stack": 5,                       # seeds of the stacked two-layer runs
    "deep": ((2, 1024, 3), (3, 1024, 3), (4, 1024, 3), (3, 4096, 5)),   # depth, width, seeds
    "profile_width": 4000,
    "loop_steps": 30,                 # steps of one call of the library's loop (10 if slow)
    "budget": 0.6,                    # seconds of samples per timed case (at least 3 rounds)
    "target": 0.03,                   # seconds per sample (calls are repeated to reach it)
    "rounds": 3,                      # at least this many samples per case
}
QUICK = {
    "two_layer_widths": (200,),
    "stack": 2,
    "deep": ((2, 128, 2),),
    "profile_width": 200,
    "loop_steps": 2,
    "budget": 0.0,
    "target": 0.0,
    "rounds": 2,
}
DTYPES = (torch.float64, torch.float32)
CLOCK = [time.perf_counter]    # the clock of timed(); choose_clock sets it
MAX_REPS = 50                  # at most this many calls per sample (weights reset per sample)
METHOD, BETA_TWO_LAYER, ETA_DIVISOR = "nesterov", 0.97, 10   # Chapter 4: eta = 1/(10 lambda_m)
N_DEEP, HIDDEN = 16, 64                                       # Chapter 3: N, M
C_DEEP = 0.5   # eta = C_DEEP / L1; Chapter 3's c = 1 diverges at depth 4 within 10 steps


# ------------------------------------------------------------------------------------------
# Useful work
# ------------------------------------------------------------------------------------------

def two_layer_flops(m: int, d: int, n: int, nets: int = 1) -> int:
    """Flops a two-layer step cannot avoid: W X^T (2 m d n) and the weight gradient G X
    (2 m d n), per network."""
    return 4 * m * d * n * nets


def deep_flops(widths, n: int, nets: int = 1) -> int:
    """Flops a deep ReLU step cannot avoid: per layer l the forward product F_{l-1} W_l and the
    weight gradient F_{l-1}' G_l (2 n d_{l-1} d_l each), and for l >= 2 the input gradient
    G_l W_l' (2 n d_{l-1} d_l) that carries the gradient down; per network."""
    pairs = [widths[i] * widths[i + 1] for i in range(len(widths) - 1)]
    return (4 * n * sum(pairs) + 2 * n * sum(pairs[1:])) * nets


def layer_widths(d0: int, depth: int, width: int) -> list[int]:
    """Chapter 3's shapes: (d_0, 64, ..., 64, width, 1), depth weight matrices."""
    return [d0] + [HIDDEN] * (depth - 2) + [width, 1]


# ------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------

def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(cases: dict, *, device: str = "cpu", budget: float = 1.0, target: float = 0.03,
          min_rounds: int = 3) -> dict[str, list[float]]:
    """Seconds per call of each case, one list of samples per case.

    ``cases`` maps a name to ``(reset, call, per)``: ``reset()`` runs before every sample,
    outside the clock; ``call()`` is repeated until a sample lasts about ``target`` seconds;
    the sample is divided by the calls and by ``per`` (steps per call). The first call of each
    case is a warm-up that sets the repetitions; then the cases are sampled in turn, round
    after round, so that sample i of every case sees about the same load. The number of rounds
    keeps each case under about ``budget`` seconds (at least ``min_rounds``, at most 15).
    The clock is ``CLOCK[0]`` (see :func:`choose_clock`)."""
    reps, rounds = {}, None
    for name, (reset, call, _) in cases.items():
        reset()
        _sync(device)
        start = CLOCK[0]()
        call()
        _sync(device)
        dt = max(CLOCK[0]() - start, 1e-7)
        reps[name] = max(1, min(MAX_REPS, round(target / dt)))
        r = max(min_rounds, min(15, int(budget / (dt * reps[name]))))
        rounds = r if rounds is None else min(rounds, r)
    samples = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (reset, call, per) in cases.items():
            reset()
            _sync(device)
            start = CLOCK[0]()
            for _ in range(reps[name]):
                call()
            _sync(device)
            samples[name].append((CLOCK[0]() - start) / reps[name] / per)
    return samples


def choose_clock(device: str) -> str:
    """Process CPU time when the work runs on one CPU thread (then the time the process was
    descheduled by other jobs drops out of every sample), the wall clock otherwise (several
    threads, whose waits count, or a GPU). Sets ``CLOCK[0]``; returns its description."""
    if device == "cpu" and torch.get_num_threads() == 1:
        CLOCK[0] = time.process_time
        return ("process CPU time (one thread: time spent descheduled by other jobs drops "
                "out; memory-bandwidth contention stays)")
    CLOCK[0] = time.perf_counter
    return "wall clock (time.perf_counter" + (", after torch.cuda.synchronize)"
                                              if device == "cuda" else ")")


def load_revision(rev: str, module: str) -> types.ModuleType:
    """The library's module ``momentum.<module>`` (e.g. ``networks.two_layer``) as it was at
    git revision ``rev``, loaded beside the current library (its relative imports resolve
    to the current package; its model classes are replaced by the current ones, which it
    only checks with ``isinstance``), so that one run can time the loops before and after a
    change, sample by sample under the same load."""
    path = f"lib/momentum/{module.replace('.', '/')}.py"
    src = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    name = f"momentum._before_{module.replace('.', '_')}"
    mod = types.ModuleType(name)
    mod.__package__ = "momentum." + module.rsplit(".", 1)[0] if "." in module else "momentum"
    mod.__file__ = str(ROOT / path)
    sys.modules[name] = mod
    exec(compile(src, f"{rev}:{path}", "exec"), mod.__dict__)
    for cls in ("TwoLayerReLU", "DeepReLU"):
        if hasattr(mod, cls):
            setattr(mod, cls, getattr(networks, cls))
    return mod


def ratio(matmul: list[float], step: list[float]) -> float:
    """Fraction of the matmul throughput the step reaches: the median over rounds of
    matmul time / step time (the two samples of a round were taken back to back)."""
    return statistics.median(a / b for a, b in zip(matmul, step))


# ------------------------------------------------------------------------------------------
# The two-layer network (Chapter 4)
# ------------------------------------------------------------------------------------------

def closed_form_step(model: networks.TwoLayerReLU, X: torch.Tensor, y: torch.Tensor,
                     opt: torch.optim.Optimizer) -> torch.Tensor:
    r"""One step with the gradient in closed form (Liu et al. 2023, eq. (16)) instead of
    autograd. With :math:`P = W X^\top`, :math:`S = \mathbb 1\{P > 0\}` (autograd's relu'(0) = 0)
    and residuals :math:`r = f - y`,

    .. math::
        f = \frac{1}{\sqrt m}\, a^\top \mathrm{relu}(P), \qquad
        \nabla_W \ell = \frac{1}{\sqrt m}\,\mathrm{diag}(a)\, S\, \mathrm{diag}(r)\, X,

    since :math:`S \odot (a r^\top) = \mathrm{diag}(a) S \mathrm{diag}(r)`: the residuals scale
    the rows of X (n x d) and a the rows of the result (m x d), so no product over the
    (m x n) activations is formed. Passes over them: relu in place, the mask, the contraction
    with a. Sets ``W.grad`` and calls ``opt.step()``; returns the loss (before the step)."""
    W, a = model.W, model.a
    scale = 1 / math.sqrt(model.m)
    with torch.no_grad():
        R = torch.relu_(W @ X.T)                                    # (..., m, n)
        S = torch.sign(R)                                           # 1{P > 0}
        r = (a.unsqueeze(-2) @ R).squeeze(-2) * scale - y           # (..., n)
        W.grad = (S @ (r.unsqueeze(-1) * X)) * (a.unsqueeze(-1) * scale)
    opt.step()
    return 0.5 * (r ** 2).sum(-1)


def autograd_step(model, X, y, opt) -> None:
    """The step of the library's loops: zero_grad, loss, backward, SGD update."""
    opt.zero_grad()
    model.loss(X, y).sum().backward()
    opt.step()


def two_layer_problem(device: str, dtype: torch.dtype):
    """Chapter 4's data (all 360 digits), step size and momentum."""
    X, y = data.two_class("digits")
    lam_m = networks.ntk_constants(networks.arccos_kernel(X)).lambda_m
    return X.to(device, dtype), y.to(device, dtype), 1 / (ETA_DIVISOR * lam_m), BETA_TWO_LAYER


def bench_two_layer(m: int, nets: int, dtype: torch.dtype, device: str, cfg: dict,
                    before=None) -> dict:
    """Times (seconds, per step) of the matmuls, the bare step, the library's loop and the
    closed-form step of one two-layer network (nets = 1) or a stack of nets seeds; with
    ``before`` (a module from :func:`load_revision`), also the loop of that revision."""
    X, y, eta, beta = two_layer_problem(device, dtype)
    n, d = X.shape
    seeds = 0 if nets == 1 else list(range(nets))
    model = networks.TwoLayerReLU(m, d, seeds=seeds, dtype=dtype).to(device)
    W0 = model.W.detach().clone()
    box = {}

    def reset():
        with torch.no_grad():
            model.W.copy_(W0)
        model.W.grad = None
        box["opt"] = optimizers.torch_optimizer(METHOD, [model.W], eta=eta, beta=beta)

    reset()                                   # one step, to choose the loop's length
    _sync(device)
    start = CLOCK[0]()
    autograd_step(model, X, y, box["opt"])
    _sync(device)
    K = cfg["loop_steps"] if CLOCK[0]() - start < 0.05 else min(10, cfg["loop_steps"])
    rec = {}

    def loop(lib=networks):
        reset()                               # every call trains K steps from the start
        rec["r"] = lib.train_two_layer(model, X, y, method=METHOD, eta=eta, beta=beta,
                                       steps=K)

    Wm = W0.clone()
    G = torch.randn(*W0.shape[:-1], n, dtype=dtype, device=device)

    def matmul():
        torch.matmul(Wm, X.T)
        torch.matmul(G, X)

    cases = {
        "matmul": (lambda: None, matmul, 1),
        "step": (reset, lambda: autograd_step(model, X, y, box["opt"]), 1),
        "loop": (reset, loop, K),
        "closed": (reset, lambda: closed_form_step(model, X, y, box["opt"]), 1),
    }
    if before is not None:
        cases["before"] = (reset, lambda: loop(before), K)
    t = timed(cases, device=device, budget=cfg["budget"], target=cfg["target"],
              min_rounds=cfg["rounds"])
    return {"kind": "two-layer", "dtype": dtype, "m": m, "nets": nets, "n": n, "d": d,
            "flops": two_layer_flops(m, d, n, nets), "samples": t, "loop_steps": K,
            "act_mb": nets * m * n * X.element_size() / 1e6,
            "diverged": bool(rec["r"].diverged) or not bool(torch.isfinite(model.W).all())}


def closed_form_agreement(dtype: torch.dtype = torch.float64, m: int = 500, nets: int = 2,
                          steps: int = 20, device: str = "cpu") -> float:
    """Largest relative difference between the weights after ``steps`` Nesterov steps with
    the autograd step and with :func:`closed_form_step`, from the same start."""
    X, y, eta, beta = two_layer_problem(device, dtype)
    out = []
    for step in (autograd_step, closed_form_step):
        model = networks.TwoLayerReLU(m, X.shape[1], seeds=list(range(nets)),
                                      dtype=dtype).to(device)
        opt = optimizers.torch_optimizer(METHOD, [model.W], eta=eta, beta=beta)
        for _ in range(steps):
            step(model, X, y, opt)
        out.append(model.W.detach())
    return float((out[0] - out[1]).abs().max() / out[0].abs().max())


# ------------------------------------------------------------------------------------------
# The deep network (Chapter 3)
# ------------------------------------------------------------------------------------------

def bench_deep(depth: int, width: int, nets: int, dtype: torch.dtype, device: str,
               cfg: dict, before=None) -> dict:
    """Times of the matmuls, the bare step (and the same step on checked tensors, without
    ``model.loss``'s validation) and the library's loop (its default record, the loss and
    the gradient norm; with the block steps dx, du; with every series, as Chapter 3's grid
    runs it) of a stack of nets deep ReLU networks at Chapter 3's settings (Nesterov with
    the classical beta of kappa_x), with eta = C_DEEP / L1: Chapter 3's c = 1 makes depth 4
    diverge within 10 steps, which would cut the loop short, and the cost of a step does not
    depend on eta. With ``before`` (a module from :func:`load_revision`), also that
    revision's loop with every series and with its ``track_features=False``."""
    X, y = data.two_class("digits", n=N_DEEP, seed=0)
    widths = layer_widths(X.shape[1], depth, width)
    seeds = list(range(nets))
    c = networks.deep_relu_constants(networks.DeepReLU(widths, seeds=seeds), X)
    eta = C_DEEP / float(c.L1.max())
    kx = float(statistics.median(c.kappa_x.tolist()))
    beta = (math.sqrt(kx) - 1) / (math.sqrt(kx) + 1)
    X, y = X.to(device, dtype), y.to(device, dtype)
    model = networks.DeepReLU(widths, seeds=seeds, dtype=dtype).to(device)
    W0 = [W.detach().clone() for W in model.weights]
    box, recs = {}, []

    def reset():
        with torch.no_grad():
            for W, w in zip(model.weights, W0):
                W.copy_(w)
                W.grad = None
        box["opt"] = optimizers.torch_optimizer(METHOD, list(model.weights), eta=eta, beta=beta)

    K = cfg["loop_steps"]

    def loop(track, lib=networks):
        reset()                               # every call trains K steps from the start
        recs.append(lib.train_deep_relu(model, X, y, method=METHOD, eta=eta, beta=beta,
                                        steps=K, track_features=track))

    Xc, Yc = model._X(X), model.targets(y, X.shape[0])
    params = list(model.weights)

    def fast_step():                          # the loop's own step: checked tensors
        opt = box["opt"]
        opt.zero_grad()
        out = _deep_forward(params, Xc)
        (0.5 * ((out - Yc) ** 2).sum((-2, -1))).sum().backward()
        opt.step()

    # the products of a step, on the same shapes and layouts as autograd's
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=dtype).to(device)

    Ws = [w.clone() for w in W0]
    Fs = [X] + [rand(nets, X.shape[0], w) for w in widths[1:-1]]     # inputs of each layer
    Gs = [rand(nets, X.shape[0], w) for w in widths[1:]]              # output gradients

    def matmul():
        for ell, (F, W, G) in enumerate(zip(Fs, Ws, Gs)):
            torch.matmul(F, W)
            torch.matmul(F.transpose(-1, -2), G)
            if ell > 0:
                torch.matmul(G, W.transpose(-1, -2))

    cases = {
        "matmul": (lambda: None, matmul, 1),
        "step": (reset, lambda: autograd_step(model, X, y, box["opt"]), 1),
        "fast": (reset, fast_step, 1),
        "loop": (reset, lambda: loop(False), K),
        "loop_blocks": (reset, lambda: loop(("dx", "du")), K),
        "loop_all": (reset, lambda: loop(True), K),
    }
    if before is not None:
        cases["before_all"] = (reset, lambda: loop(True, before), K)
        cases["before_blocks"] = (reset, lambda: loop(False, before), K)
    t = timed(cases, device=device, budget=cfg["budget"], target=cfg["target"],
              min_rounds=cfg["rounds"])
    return {"kind": "deep", "dtype": dtype, "depth": depth, "width": width, "nets": nets,
            "widths": widths, "n": X.shape[0], "flops": deep_flops(widths, X.shape[0], nets),
            "samples": t, "diverged": any(r.diverged for r in recs)
            or not all(bool(torch.isfinite(W).all()) for W in model.weights)}


# ------------------------------------------------------------------------------------------
# Profile
# ------------------------------------------------------------------------------------------

GROUPS = (
    ("matmul (the useful products; also a @ relu)",
     {"aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm", "aten::mv", "aten::addmv",
      "aten::dot"}),
    ("relu and its mask / derivative",
     {"aten::clamp_min", "aten::clamp_min_", "aten::relu", "aten::relu_",
      "aten::threshold_backward", "aten::sign", "aten::gt", "aten::where"}),
    ("elementwise products (a_r *, 1/sqrt m)", {"aten::mul", "aten::div"}),
    ("loss and sums", {"aten::sum", "aten::sub", "aten::pow", "aten::add", "aten::rsub",
                       "aten::neg"}),
    ("SGD update and gradient bookkeeping",
     {"aten::add_", "aten::mul_", "aten::zero_", "aten::fill_", "aten::copy_", "aten::clone",
      "aten::lerp_", "aten::addcmul_"}),
)
OTHER_OPS = "other tensor ops (views, allocation, copies)"
OUTSIDE = "outside tensor ops (Python, autograd engine)"


def profile_groups(step, *, device: str = "cpu", steps: int = 5) -> dict[str, float]:
    """Fraction of a step's self time in each group of operations (torch.profiler; on a GPU
    the device time of each operation, on a CPU its self CPU time)."""
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    step()
    _sync(device)
    with profile(activities=acts) as prof:
        for _ in range(steps):
            step()
        _sync(device)
    out = {name: 0.0 for name, _ in GROUPS} | {OTHER_OPS: 0.0, OUTSIDE: 0.0}
    for ev in prof.key_averages():
        if device == "cuda":
            t = getattr(ev, "self_device_time_total", None)
            t = getattr(ev, "self_cuda_time_total", 0.0) if t is None else t
        else:
            t = ev.self_cpu_time_total
        group = next((g for g, names in GROUPS if ev.key in names), None)
        if group is None:
            group = OTHER_OPS if ev.key.startswith("aten::") else OUTSIDE
        out[group] += t
    total = sum(out.values()) or 1.0
    return {k: v / total for k, v in out.items()}


def one_pass_cost(m: int, nets: int, dtype: torch.dtype, device: str, cfg: dict) -> float:
    """Time of one elementwise pass over the (nets, m, n) activations (torch.relu, read one
    array and write one) as a fraction of the two matmuls' time, same run."""
    X, _, _, _ = two_layer_problem(device, dtype)
    W = torch.randn(nets, m, X.shape[1], dtype=dtype, device=device)
    P = W @ X.T
    t = timed({"matmul": (lambda: None, lambda: (torch.matmul(W, X.T), torch.matmul(P, X)), 1),
               "pass": (lambda: None, lambda: torch.relu(P), 1)},
              device=device, budget=cfg["budget"], target=cfg["target"],
              min_rounds=cfg["rounds"])
    return 1 / ratio(t["matmul"], t["pass"])


# ------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------

def _dt(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _med(row, name) -> float:
    return statistics.median(row["samples"][name])


def _gflops(row, name) -> float:
    return row["flops"] / _med(row, name) / 1e9


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def report(quick: bool = False, device: str | None = None, before: str | None = None) -> list[str]:
    """Run every measurement and return the report's lines. ``before``: a git revision whose
    loops are timed too, in the same rounds (:func:`load_revision`)."""
    cfg = QUICK if quick else FULL
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    clock = choose_clock(device)
    cpus = os.cpu_count()
    load0 = _load()
    start = time.perf_counter()
    name = torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu"
    old_two = load_revision(before, "networks.two_layer") if before else None
    old_deep = load_revision(before, "networks.deep_relu") if before else None
    two = [bench_two_layer(m, nets, dtype, device, cfg, before=old_two) for dtype in DTYPES
           for m in cfg["two_layer_widths"] for nets in (1, cfg["stack"])]
    deep = [bench_deep(depth, width, nets, dtype, device, cfg, before=old_deep)
            for dtype in DTYPES for depth, width, nets in cfg["deep"]]
    agree = closed_form_agreement(device=device, m=50 if quick else 500,
                                  steps=3 if quick else 20)
    pm = cfg["profile_width"]
    X, y, eta, beta = two_layer_problem(device, torch.float64)
    prof_cols = {}
    for nets in (1, cfg["stack"]):
        for label, fn in (("autograd", autograd_step), ("closed", closed_form_step)):
            model = networks.TwoLayerReLU(pm, X.shape[1], seeds=0 if nets == 1 else
                                          list(range(nets))).to(device)
            opt = optimizers.torch_optimizer(METHOD, [model.W], eta=eta, beta=beta)
            prof_cols[f"{label}, {nets} net{'s' * (nets > 1)}"] = profile_groups(
                lambda fn=fn, model=model, opt=opt: fn(model, X, y, opt), device=device)
    depth, width, nets = cfg["deep"][0]
    Xd, yd = data.two_class("digits", n=N_DEEP, seed=0)
    dmodel = networks.DeepReLU(layer_widths(Xd.shape[1], depth, width),
                               seeds=list(range(nets))).to(device)
    dopt = optimizers.torch_optimizer(METHOD, list(dmodel.weights), eta=1e-3, beta=0.9)
    Xd, yd = Xd.to(device), yd.to(device)
    prof_cols[f"deep, depth {depth}"] = profile_groups(
        lambda: autograd_step(dmodel, Xd, yd, dopt), device=device, steps=20)
    passes = {nets: one_pass_cost(pm, nets, torch.float64, device, cfg)
              for nets in (1, cfg["stack"])}
    elapsed = time.perf_counter() - start
    load1 = _load()

    span = _spans(two, deep, cfg)
    K = cfg["loop_steps"]
    lines = [
        "Benchmark of one full-batch training step (python benchmarks/bench_training.py"
        + (" --quick" if quick else "") + (f" --before {before}" if before else "") + ")",
        f"machine: {platform.machine()}, {cpus} CPUs, L3 {_l3()}, Python "
        f"{platform.python_version()}, torch {torch.__version__}",
        f"device: {device} ({name}), torch threads {torch.get_num_threads()}; 1-minute load "
        f"average {load0} at the start, {load1} at the end; run took {elapsed:.0f} s",
    ]
    if _loaded(load0, load1, cpus):
        lines += [
            "MEASURED ON A LOADED MACHINE (other jobs were running, sharing the caches and "
            "memory bandwidth): absolute",
            "times and GFLOP/s are noisy; read the ratios, whose two samples are taken back to "
            "back. Re-run on a quiet",
            "machine (make bench) for absolute numbers.",
        ]
    lines += [
        "",
        "Headline, against issue 25's goals (median over the rows, range in brackets; each "
        "ratio's two samples back to back):",
        f"  two-layer, m = {span['goal_m']}, float64 (single and stacked): loop / matmul "
        f"throughput {span['goal_matmul_m']} (goal >= 0.75)",
        f"  two-layer, m = {span['goal_m']}, float64 (single and stacked): loop time / bare "
        f"closed-form step time {span['goal_closed_m']} (goal <= 1.10)",
        f"  two-layer, m >= 2000, both dtypes: loop / matmul {span['goal_matmul']}; loop / "
        f"closed-form step {span['goal_closed']}",
        f"  deep ReLU, Chapter 3's settings, the loop's default record (loss, gradient norm): "
        f"loop time / bare step time {span['goal_deep']} (goal <= 1.5)",
        f"    the same loop / the bare step on checked tensors (no model.loss validation): "
        f"{span['deep_fast']}",
        f"    the loop with every series (Chapter 3's grid, two runs of six per setting) / "
        f"bare step: {span['deep_all']}",
    ]
    if before:
        lines += [
            f"  Before/after in this run (revision {before}, same rounds): two-layer loop "
            f"{span['before_two']} x faster;",
            f"    deep loop with every series {span['before_deep_all']} x faster, with the "
            f"block steps and no spectra {span['before_deep_blocks']} x faster",
            "    (median over the rows of before time / after time per step).",
        ]
    lines += [
        "",
        "The fraction of torch.matmul's throughput a step reaches on the products it cannot "
        "avoid",
        "  two-layer network, m >= 2000:",
        f"    the library's loop (train_two_layer)      {span['loop']}",
        f"    the autograd step (forward, backward, SGD) {span['step']}",
        f"    the closed-form step (closed_form_step)   {span['closed']}",
        "  deep network at Chapter 3's settings:",
        f"    the library's loop (train_deep_relu)      {span['deep_loop']}",
        f"    its bare step                             {span['deep_step']}",
        "",
        f"Clock: {clock}.",
        "Timing: each case is repeated to ~30 ms samples (at most 50 calls), the cases sampled "
        "in turn over 3-15",
        "rounds, median per case; ratio = median over rounds of (matmul time / step time), the "
        "two taken back to back.",
        "  step   = opt.zero_grad(); model.loss(X, y).sum().backward(); opt.step()  (the "
        "issue's bare step; model.loss",
        "           validates X and y at every call, which the loops do once per run)",
        "  loop   = the library's loop per step: networks.train_two_layer / train_deep_relu "
        f"with steps=K (K = {K},",
        "           10 when a step takes over 50 ms), from the same start every call: the "
        "step, its per-step records",
        "           and divergence check, its set-up and its (K+1)-th point (the loss and "
        "gradient at x_K, 1/K of a step)",
        "  closed = one step with the gradient in closed form and torch.optim.SGD "
        "(closed_form_step; allocates its arrays)",
        "  matmul = torch.matmul on the products of a step, same shapes, layouts, dtype and "
        "device",
        "",
        "1. Two-layer ReLU network (Chapter 4): f = (1/sqrt m) sum_r a_r relu(w_r'x), digits "
        f"n = {two[0]['n']}, d = {two[0]['d']},",
        f"   Nesterov, eta = 1/({ETA_DIVISOR} lambda_m), beta = {BETA_TWO_LAYER}; useful work "
        "4 m d n flops per network (W X^T and",
        "   the weight gradient G X); 'acts MB' is the size of the (nets, m, n) activations"
        + (f"; 'before' the loop of {before}." if before else "."),
        f"   {'dtype':<8} {'m':>5} {'nets':>4} {'GFLOP':>6} {'acts MB':>7} | ratio: "
        f"{'loop':>5} {'step':>5} {'closed':>6}" + (f" {'before':>6}" if before else "")
        + f" | loop/closed | GFLOP/s: {'matmul':>6} {'loop':>6} {'step':>6} {'closed':>6}",
    ]
    for r in two:
        s = r["samples"]
        lines.append(
            f"   {_dt(r['dtype']):<8} {r['m']:>5} {r['nets']:>4} {r['flops'] / 1e9:>6.2f} "
            f"{r['act_mb']:>7.1f} |        {ratio(s['matmul'], s['loop']):>5.2f} "
            f"{ratio(s['matmul'], s['step']):>5.2f} {ratio(s['matmul'], s['closed']):>6.2f}"
            + (f" {ratio(s['matmul'], s['before']):>6.2f}" if before else "")
            + f" | {ratio(s['loop'], s['closed']):>11.2f} | "
            f"{'':>8} {_gflops(r, 'matmul'):>6.1f} {_gflops(r, 'loop'):>6.1f} "
            f"{_gflops(r, 'step'):>6.1f} {_gflops(r, 'closed'):>6.1f}"
            + ("  (diverged)" if r["diverged"] else ""))
    lines += [
        f"   closed_form_step against the autograd step, {3 if quick else 20} Nesterov steps "
        f"of 2 stacked networks from the same",
        f"   start (float64): the weights agree to {agree:.1e} (relative).",
        "",
        f"2. Deep ReLU network (Chapter 3): widths (64, 64, ..., width, 1), digits n = {N_DEEP},"
        " seeds stacked, Nesterov,",
        "   classical beta of kappa_x, eta = c/L1 with c = "
        f"{C_DEEP:g} (the chapter's c = 1 diverges at depth 4 within 10 steps, cutting",
        "   the loop short; a step costs the same whatever eta). Useful work per network "
        "4 n sum_l d_(l-1) d_l",
        "   + 2 n sum_(l>=2) d_(l-1) d_l (forward, weight gradients, input gradients above the "
        "first layer). loop = the",
        "   default call (record: loss and gradient norm), blocks = track_features=('dx', "
        "'du'), all = every series",
        "   (track_features=True, as Chapter 3's grid runs its GD and classical Nesterov), "
        "fast = the bare step on checked",
        "   tensors" + (f"; before = {before}'s loop with every series" if before else "")
        + ". loop/step ratios: loop time per step / bare step time.",
        f"   {'dtype':<8} {'depth':>5} {'width':>5} {'nets':>4} {'MFLOP':>6} | vs matmul: "
        f"{'loop':>5} {'all':>5} {'step':>5} | loop/step: {'loop':>5} {'blocks':>6} "
        f"{'all':>5}" + (f" {'before':>6}" if before else "") + f" {'loop/fast':>9} | "
        f"us: {'step':>6} {'fast':>6} {'loop':>6} {'all':>6}",
    ]
    for r in deep:
        s = r["samples"]
        lines.append(
            f"   {_dt(r['dtype']):<8} {r['depth']:>5} {r['width']:>5} {r['nets']:>4} "
            f"{r['flops'] / 1e6:>6.1f} |            {ratio(s['matmul'], s['loop']):>5.2f} "
            f"{ratio(s['matmul'], s['loop_all']):>5.2f} {ratio(s['matmul'], s['step']):>5.2f} |"
            f"            {ratio(s['loop'], s['step']):>5.2f} "
            f"{ratio(s['loop_blocks'], s['step']):>6.2f} {ratio(s['loop_all'], s['step']):>5.2f}"
            + (f" {ratio(s['before_all'], s['step']):>6.2f}" if before else "")
            + f" {ratio(s['loop'], s['fast']):>9.2f} |     "
            f"{_med(r, 'step') * 1e6:>6.0f} {_med(r, 'fast') * 1e6:>6.0f} "
            f"{_med(r, 'loop') * 1e6:>6.0f} {_med(r, 'loop_all') * 1e6:>6.0f}"
            + ("  (diverged)" if r["diverged"] else ""))
    cols = list(prof_cols)
    lines += [
        "",
        f"3. Where a step's time goes: torch.profiler, self time by operation, float64; "
        f"two-layer m = {pm} (5 steps),",
        f"   deep depth {depth}, width {width}, {nets} nets (20 steps). Share of the step:",
        f"   {'':<45}" + "".join(f"{c:>17}" for c in cols),
    ]
    for g in [g for g, _ in GROUPS] + [OTHER_OPS, OUTSIDE]:
        lines.append(f"   {g:<45}" + "".join(f"{prof_cols[c][g]:>17.0%}" for c in cols))
    lines += [
        "   One elementwise pass over the activations (torch.relu: read one array, write one) "
        f"costs {passes[1]:.2f} x the two",
        f"   matmuls' time for one network ({two[0]['n'] * pm * 8 / 1e6:.1f} MB), "
        f"{passes[cfg['stack']]:.2f} x for {cfg['stack']} stacked "
        f"({cfg['stack'] * two[0]['n'] * pm * 8 / 1e6:.1f} MB); m = {pm}, float64, same run.",
    ]
    lines += reading(two, deep, prof_cols, passes, cfg)
    return lines


def _spans(two, deep, cfg) -> dict[str, str]:
    def span(rows, name):
        v = sorted(ratio(r["samples"]["matmul"], r["samples"][name]) for r in rows)
        return f"median {statistics.median(v):.2f}, range {v[0]:.2f}-{v[-1]:.2f}" if v else \
            "n/a"

    def goal(values, want=None, at_most=True):
        v = sorted(values)
        if not v:
            return "n/a"
        med = statistics.median(v)
        out = f"{med:.2f} [{v[0]:.2f}-{v[-1]:.2f}]"
        if want is None:
            return out
        met = med <= want if at_most else med >= want
        off = sum(x > want if at_most else x < want for x in v)
        return out + (", met" if met else ", NOT met") + f" by the median; {off} of {len(v)} " \
            f"rows {'over' if at_most else 'under'} {want:g}"

    def pair(rows, a, b):
        return [ratio(r["samples"][a], r["samples"][b]) for r in rows]

    wide = [r for r in two if r["m"] >= 2000] or two
    goal_m = 4000 if any(r["m"] == 4000 for r in two) else max(r["m"] for r in two)
    at_m = [r for r in two if r["m"] == goal_m and r["dtype"] == torch.float64]
    out = {"goal_m": goal_m,
           "goal_matmul_m": goal(pair(at_m, "matmul", "loop"), 0.75, False),
           "goal_closed_m": goal(pair(at_m, "loop", "closed"), 1.10, True),
           "goal_matmul": goal(pair(wide, "matmul", "loop")),
           "goal_closed": goal(pair(wide, "loop", "closed")),
           "goal_deep": goal(pair(deep, "loop", "step"), 1.5, True),
           "deep_fast": goal(pair(deep, "loop", "fast")),
           "deep_all": goal(pair(deep, "loop_all", "step")),
           "loop": span(wide, "loop"), "step": span(wide, "step"),
           "closed": span(wide, "closed"), "deep_loop": span(deep, "loop"),
           "deep_step": span(deep, "step")}
    if "before" in two[0]["samples"]:
        out["before_two"] = goal(pair(two, "before", "loop"))
        out["before_deep_all"] = goal(pair(deep, "before_all", "loop_all"))
        out["before_deep_blocks"] = goal(pair(deep, "before_blocks", "loop_blocks"))
    return out


def _l3() -> str:
    try:
        return Path("/sys/devices/system/cpu/cpu0/cache/index3/size").read_text().strip()
    except OSError:
        return "n/a"


def _loaded(load0: str, load1: str, cpus) -> bool:
    try:
        return max(float(load0), float(load1)) > 0.5 * (cpus or 1)
    except ValueError:
        return False


def reading(two, deep, prof_cols, passes, cfg) -> list[str]:
    """The report's reading, with this run's numbers."""
    auto = prof_cols[next(c for c in prof_cols if c.startswith("autograd, 1"))]
    auto_b = prof_cols[next(c for c in prof_cols if c.startswith("autograd, ") and
                            not c.startswith("autograd, 1 "))]
    closed = prof_cols[next(c for c in prof_cols if c.startswith("closed, 1"))]
    elem = [g for g, _ in GROUPS][1:4]
    deep_prof = prof_cols[next(c for c in prof_cols if c.startswith("deep"))]

    def med(rows, a, b):
        v = [ratio(r["samples"][a], r["samples"][b]) for r in rows]
        return statistics.median(v) if v else float("nan")

    wide = [r for r in two if r["m"] >= 2000] or two
    single = [r for r in wide if r["nets"] == 1]
    stacked = [r for r in wide if r["nets"] > 1]
    gain = statistics.median(_med(r, "step") / _med(r, "closed") for r in two)
    elementwise = sum(auto[g] for g in elem) >= auto[OUTSIDE]
    K = cfg["loop_steps"]
    out = [
        "",
        "Reading.",
        "- Two-layer network. What limits a step is "
        + ("memory traffic over the (m, n) activations, not Python:"
           if elementwise else "per-operation overhead (Python, dispatch), more than the "
           "activations:"),
        "  the useful products do only 4d = 256 flops per activation entry (d = 64), and "
        "besides them the autograd",
        "  step reads or writes that array about nine times (relu, a_r * relu, the sum over "
        "r; backward the gradient",
        f"  times a_r and threshold_backward). The profile puts {sum(auto[g] for g in elem):.0%}"
        f" of the autograd step in these elementwise",
        f"  operations for one network and {sum(auto_b[g] for g in elem):.0%} for a stack, "
        f"{max(auto[OUTSIDE], auto_b[OUTSIDE]):.0%} or less outside tensor operations; one "
        f"pass over the activations costs",
        f"  {passes[1]:.2f} x the matmuls for one network and {passes[cfg['stack']]:.2f} x for "
        f"a stack of {cfg['stack']} (table 3).",
        "  The closed-form gradient (Liu et al. 2023, eq. (16)),",
        "      R = relu_(W @ X.T); r = (a @ R) / sqrt(m) - y; W.grad = a[:, None] * "
        "(sign_(R) @ (r[:, None] * X)) / sqrt(m),",
        "  uses S o (a r') = diag(a) S diag(r), so no (m, n) product is formed and the "
        "activations are read or written",
        f"  five times, not nine ({sum(closed[g] for g in elem):.0%} of its profile in "
        f"elementwise operations); closed_form_step is {gain:.1f}x as fast as the autograd",
        "  step (median over the rows) and gives its iterates to round-off (table 1).",
        "- networks.train_two_layer takes that step, and since issue 25 it allocates nothing "
        "of the network's size per",
        "  step: the activations live in one array allocated once per run (matmul into it, "
        "relu_ and sign_ in place),",
        "  the gradient in one array, and the update of Liu et al.'s eqs. (4)-(5) is written "
        "into the array of W(k-1),",
        "  then the two are swapped; the loss recorded at W(k) (the paper's iterate, where "
        "the gradient is taken) comes",
        "  from the residuals r the gradient needs anyway; the per-step records stay on the "
        "device and are copied and",
        "  checked for divergence once a block of 64 steps. Every iterate and record is bit "
        "for bit the former loop's",
        "  (tests/test_two_layer.py). The former loop allocated three (m, n) arrays and about "
        "ten of W's shape a step:",
        "  torch.profiler on it (m = 4000, float64, one network, measured once when the change "
        "was made, not in this run)",
        "  put 21% of its time in sign and 13% in relu, each writing a freshly allocated (m, "
        "n) array. Now, m >= 2000:",
        f"  loop/matmul median {med(single, 'matmul', 'loop'):.2f} for one network, "
        f"{med(stacked, 'matmul', 'loop'):.2f} for a stack; loop/closed-form step "
        f"{med(single, 'loop', 'closed'):.2f} and {med(stacked, 'loop', 'closed'):.2f}",
        f"  (the loop includes its set-up and its (K+1)-th gradient, 1/K = {1 / K:.0%} of a "
        "step; closed_form_step allocates its",
        "  arrays every step, which is how the loop can be faster than it).",
        "- Deep network at Chapter 3's settings (n = 16, products of a few MFLOP), "
        "networks.train_deep_relu: since issue 25",
        "  its default record is the loss at the book's x_k and the gradient norm; the block "
        "steps dx, du and the feature",
        "  series (alphas, drift, dx_null) are computed on request (track_features), as "
        "Chapter 3's grid asks for them for",
        "  the runs it reads (its GD and classical-Nesterov runs with all layers: two of six "
        "runs per setting; the others,",
        "  Chapter 3's exercise run and Chapter 7's runs read only the loss). The book's "
        "iterates and the block steps'",
        "  differences are written into arrays allocated once per run. Bit for bit the same "
        "numbers as before",
        "  (tests/test_deep_relu.py).",
        f"  Default loop / bare step: median {med(deep, 'loop', 'step'):.2f}; against the bare "
        f"step on checked tensors (the loop's own step, without",
        f"  model.loss's validation, which costs {med(deep, 'step', 'fast') - 1:.0%} of a bare "
        f"step here): {med(deep, 'loop', 'fast'):.2f}. For Nesterov the record needs one "
        "more forward",
        "  pass, at x_k (PyTorch's parameters are y_k; the loss at x_k cannot be had from the "
        "pass at y_k), about a third",
        "  of a step's products, and forming x_k = p_k + beta eta b_{k-1} costs two passes "
        "over the weights; for GD and",
        "  heavy ball the step's own forward pass gives the record.",
        f"  With every series: median {med(deep, 'loop_all', 'step'):.2f} bare steps; the "
        "spectra (a QR decomposition of the features,",
        "  svdvals of its small factor, the drift's Gram matrix and eigvalsh, the null-space "
        "projection) stay at every",
        "  step because the chapter reads the largest drift over the steps and the null-space "
        "share summed over them.",
        f"  In the bare step the products take {deep_prof[GROUPS[0][0]]:.0%} of the profile "
        f"and {deep_prof[OUTSIDE]:.0%} is outside tensor operations; the rest are",
        "  small elementwise, view and allocation operations.",
    ]
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: "
                        "torch's default, all cores)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"where to write the report (default {REPORT.name}; --quick writes "
                             "nothing unless --out is given)")
    parser.add_argument("--before", default=None, help="a git revision whose loops are timed "
                        "too, in the same rounds (before/after a change)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    lines = report(quick=args.quick, **({"before": args.before} if args.before else {}))
    text = "\n".join(lines) + "\n"
    out = args.out or (None if args.quick else REPORT)
    if out is not None:
        out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()

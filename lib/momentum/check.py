r"""Automatic feedback for the code exercises: checkers that test a reader's function.

Each checker calls the reader's function on random instances (a fixed seed, so the feedback is
the same every time), compares the result with the library's reference, prints either a one-line
pass or the first failing case (which input, what was expected, what came back, and a hint when
the mistake is a common one), and returns a :class:`CheckResult`.

The functions a reader writes, in the book's notation (step :math:`\eta`, momentum :math:`\beta`):

* ``gd_step(x, g, eta) -> x_next``, gradient descent,
  :math:`x_{k+1} = x_k - \eta g_k` with :math:`g_k = \nabla f(x_k)`.
* ``heavy_ball_step(x, x_prev, g, eta, beta) -> x_next``, Polyak's heavy ball (Polyak 1964),
  :math:`x_{k+1} = x_k - \eta g_k + \beta (x_k - x_{k-1})` with ``x`` :math:`= x_k`,
  ``x_prev`` :math:`= x_{k-1}`, ``g`` :math:`= \nabla f(x_k)`.
* ``nesterov_step(x, x_prev, grad, eta, beta) -> x_next``, Nesterov's method in the form of
  Liao & Kyrillidis (2024), eq. (2), written in the iterates alone:
  :math:`y_k = x_k + \beta (x_k - x_{k-1})`, :math:`x_{k+1} = y_k - \eta \nabla f(y_k)`.
  Here ``grad`` is a *callable* (``grad(z)`` returns :math:`\nabla f(z)`), because where the
  gradient is evaluated is the point of the method.

The cases cover the whole valid range (:func:`_instance`): dimensions 1 to 50, batches of rows
(inputs of shape ``(B, d)``), momentum up to 0.999 and steps up to the method's stability limit.
Every expected value is computed before the reader's function first runs, from private copies
of the inputs (the function gets copies of its own), and the comparison is bound at import: a
function that changes its inputs, patches this module, its references or NumPy cannot change
what it is judged against. A case that runs longer than ``timeout`` seconds (:data:`TIMEOUT`,
5) is stopped and reported; the deadline is a ``SIGALRM`` timer, which works in the main thread
on Linux and macOS (where a Jupyter cell runs, Colab included); elsewhere (Windows, another
thread) there is no deadline and a function that never returns hangs the checker until the
kernel is interrupted. A return that is not an array (a list, a float, None), a complex or a
non-finite one fails with a sentence that says so; an answer right only to float32 precision
fails with the advice to compute in float64.

The references are the library's own: ``gd_step`` against one step of
:func:`momentum.optimizers.gd`, ``heavy_ball_step`` against one step of the
``torch.optim.SGD`` that :func:`momentum.optimizers.torch_optimizer` returns (its momentum
buffer set to :math:`(x_{k-1} - x_k)/\eta`, the velocity that produced :math:`x_k`), and
``nesterov_step`` against one step of :func:`momentum.optimizers.nesterov` started at
:math:`y_k`. The tests check each reference against those runs, and each checker against correct
and typical wrong implementations.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from . import _validate, optimizers

__all__ = ["CheckResult", "gd_step", "heavy_ball_step", "nesterov_step"]

#: Tolerances of the comparison (the reference is exact up to round-off).
RTOL, ATOL = 1e-9, 1e-12


@dataclass(frozen=True)
class CheckResult:
    """What a checker found. ``passed`` is True when every case matched; ``message`` is what
    was printed; ``case`` is the 1-based index of the first failing case (None if all pass)."""

    name: str
    passed: bool
    cases: int
    message: str
    case: int | None = None

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Show nothing in a notebook: the checker has already printed its message."""


# --------------------------------------------------------------------------------------------
# References (one step of the library's methods)
# --------------------------------------------------------------------------------------------


def reference_gd_step(x, g, eta):
    r""":math:`x_{k+1} = x_k - \eta g_k`: one step of :func:`momentum.optimizers.gd` from
    ``x`` with the constant gradient ``g``."""
    return optimizers.gd(lambda z: np.broadcast_to(g, z.shape), x, eta=eta, steps=1).x[-1]


def reference_heavy_ball_step(x, x_prev, g, eta, beta):
    r""":math:`x_{k+1} = x_k - \eta g_k + \beta (x_k - x_{k-1})`, computed by the
    ``torch.optim.SGD(momentum=beta)`` of :func:`momentum.optimizers.torch_optimizer`.

    PyTorch steps :math:`p \leftarrow p - \eta b` with :math:`b = \beta b_{\text{old}} + g`;
    with :math:`b_{\text{old}} = (x_{k-1} - x_k)/\eta` this is the heavy-ball step (see
    :func:`momentum.optimizers.torch_optimizer` for the change of variables)."""
    p = torch.nn.Parameter(torch.as_tensor(np.array(x, dtype=float)))
    opt = optimizers.torch_optimizer("heavy_ball", [p], eta=eta, beta=beta)
    velocity = (np.asarray(x_prev, dtype=float) - np.asarray(x, dtype=float)) / eta
    opt.state[p]["momentum_buffer"] = torch.as_tensor(velocity)
    p.grad = torch.as_tensor(np.array(g, dtype=float))
    opt.step()
    return p.detach().numpy().copy()


def reference_nesterov_step(x, x_prev, grad, eta, beta):
    r""":math:`y_k = x_k + \beta (x_k - x_{k-1})`, :math:`x_{k+1} = y_k - \eta \nabla f(y_k)`:
    one step of :func:`momentum.optimizers.nesterov` started at :math:`y_0 = y_k`
    (Liao & Kyrillidis 2024, eq. (2))."""
    x, x_prev = np.asarray(x, dtype=float), np.asarray(x_prev, dtype=float)
    y = x + beta * (x - x_prev)
    return optimizers.nesterov(grad, y, eta=eta, beta=beta, steps=1).x[-1]


# --------------------------------------------------------------------------------------------
# Random instances and the comparison loop
# --------------------------------------------------------------------------------------------

#: Seconds one case may run before it is stopped and reported (see :func:`_deadline`).
TIMEOUT = 5.0
#: Tolerances at float32 precision: an answer close only at these was computed in float32.
RTOL32, ATOL32 = 1e-5, 1e-6

# What the comparison uses after the reader's function has run, bound now: a function that
# patches NumPy or this module cannot change how its answer is judged.
_ABS, _ALL, _ASARRAY, _ISFINITE, _SHAPE = np.abs, np.all, np.asarray, np.isfinite, np.shape


def _quadratic(rng, d):
    """A random SPD matrix A with largest eigenvalue L = 1 and a centre c: f(z) = (z - c)' A
    (z - c) / 2, a gradient that depends on where it is evaluated (so evaluating it at the
    wrong point shows); L = 1 makes eta's stability limit a number of order 1."""
    M = rng.standard_normal((d, d))
    A = M @ M.T / d + np.eye(d)
    A /= np.linalg.eigvalsh(A)[-1]
    return A, rng.standard_normal(d)


def _gradient(A, c):
    A, c = A.copy(), c.copy()          # each closure owns its own copy
    return lambda z: (np.asarray(z, dtype=float) - c) @ A


def _floor3(v: float) -> float:
    """v rounded down to 3 decimals (at least 0.001), so a shown value is the value used."""
    return max(float(np.floor(v * 1000) / 1000), 0.001)


def _instance(rng, method, small=False):
    r"""One random case over the whole valid range: dimension 1 to 50 (half of the cases 6 or
    more), one case in four a batch of 2 to 4 rows (inputs of shape ``(B, d)``), momentum up
    to 0.999 (one case in three at 0.9, 0.95, 0.99 or 0.999), and a step up to the method's
    stability limit on the quadratic (L = 1): :math:`2` for GD, :math:`2(1 + \beta)` for
    heavy ball, :math:`2(1 + \beta)/(1 + 2\beta)` for Nesterov."""
    d = int(rng.integers(1, 6)) if small or rng.uniform() < 0.5 else int(rng.integers(6, 51))
    shape = (int(rng.integers(2, 5)), d) if not small and rng.uniform() < 0.25 else (d,)
    if rng.uniform() < 1 / 3:
        beta = float(rng.choice([0.9, 0.95, 0.99, 0.999]))
    else:
        beta = _floor3(rng.uniform(0.01, 0.999))
    limit = {"gd": 2.0, "heavy_ball": 2 * (1 + beta),
             "nesterov": 2 * (1 + beta) / (1 + 2 * beta)}[method]
    eta = _floor3(limit * rng.uniform(0.01, 0.999))
    A, c = _quadratic(rng, d)
    x = rng.standard_normal(shape)
    return dict(x=x, x_prev=x + 0.5 * rng.standard_normal(shape), g=_gradient(A, c)(x),
                eta=eta, beta=beta, A=A, c=c)


def _fmt(v, precision: int = 4) -> str:
    if callable(v):
        return "<gradient function of a random quadratic>"
    if isinstance(v, float):
        return f"{v:.{precision + 13}g}" if precision > 4 else f"{v:g}"
    return np.array2string(np.asarray(v, dtype=float), precision=precision, separator=", ",
                           threshold=12, edgeitems=3)


def _close(a, b, rtol=RTOL, atol=ATOL, *, _shape=_SHAPE, _all=_ALL, _abs=_ABS) -> bool:
    """a and b of one shape, equal up to the tolerances (computed with the ufuncs bound at
    import, as default arguments: replacing this module's names changes nothing here)."""
    if _shape(a) != _shape(b):
        return False
    return bool(_all(_abs(a - b) <= atol + rtol * _abs(b)))


class _Timeout(Exception):
    pass


@contextmanager
def _deadline(seconds: float):
    """Stop the block after ``seconds`` (raising :class:`_Timeout` in it) where a signal-based
    timer works: the main thread on Linux or macOS (a Jupyter cell, Colab included, runs
    there). Elsewhere (Windows, or a checker called from another thread) the block runs with
    no deadline: a function that never returns then hangs the checker, and only interrupting
    the kernel stops it."""
    usable = (hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def handler(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, handler)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)   # a timer already running
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer > 0:          # give an outer timer (e.g. a test runner's) what it had left
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def _judge(got, expected, close=_close, *, _asarray=_ASARRAY, _all=_ALL,
           _isfinite=_ISFINITE):
    """None when ``got`` is the expected answer, else what is wrong with it (a sentence)."""
    if got is None:
        return "your function returned None: did you forget `return`?"
    if isinstance(got, torch.Tensor):
        if got.is_complex():
            return "your function returned complex numbers; the step is real."
        got = got.detach().cpu().numpy()
    if not isinstance(got, np.ndarray):
        return (f"your function returned a {type(got).__name__}, not an array: return a NumPy "
                f"array (or a torch tensor) of shape {expected.shape}, like x.")
    if got.dtype.kind == "c":
        return "your function returned complex numbers; the step is real."
    if got.dtype.kind not in "fiu":
        return f"your function returned an array of {got.dtype}, not of numbers."
    if got.shape != expected.shape:
        return (f"expected: {_fmt(expected)}\ngot:      {_fmt(got)}\n"
                f"shape: expected {expected.shape}, got {got.shape}")
    low = got.dtype.kind == "f" and got.dtype.itemsize < 8
    got = _asarray(got, dtype=float)
    if not bool(_all(_isfinite(got))):
        return f"your function returned NaN or inf:\ngot: {_fmt(got)}"
    if close(got, expected):
        return None
    precision = 4 if _fmt(got) != _fmt(expected) else 17
    msg = f"expected: {_fmt(expected, precision)}\ngot:      {_fmt(got, precision)}"
    return msg, low


def _run(name, fn, args, reference, mistakes, trials, seed, verbose, timeout=TIMEOUT):
    if not callable(fn):
        raise ValueError(f"fn must be a function, got {type(fn).__name__}")
    _validate.positive_int("trials", trials)
    _validate.positive("timeout", timeout)
    method = name.removesuffix("_step")
    close, judge, deadline, fmt = _close, _judge, _deadline, _fmt   # bound before fn runs
    # Every case and its expected answer, computed before the reader's function first runs,
    # from private copies of the inputs (the reader's function gets other copies).
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(trials):
        inst = _instance(rng, method, small=i < 5)
        ref_inputs = {a: (_gradient(inst["A"], inst["c"]) if a == "grad" else inst[a])
                      for a in args}
        expected = np.array(reference(**ref_inputs), dtype=float)
        wrong = []
        for _hint, mistake in mistakes:
            try:
                wrong.append(np.array(mistake(**ref_inputs), dtype=float))
            except Exception:  # noqa: BLE001 - a hint that cannot be evaluated is no hint
                wrong.append(None)
        shown = "\n".join(f"  {a} = {fmt(v)}" for a, v in ref_inputs.items())
        cases.append((inst, expected, wrong, shown))
    message, failed = f"{name}: all {trials} random cases pass.", None
    for case, (inst, expected, wrong, shown) in enumerate(cases, start=1):
        copies = {a: (_gradient(inst["A"], inst["c"]) if a == "grad" else
                      (inst[a].copy() if isinstance(inst[a], np.ndarray) else inst[a]))
                  for a in args}
        before = {a: v.copy() for a, v in copies.items() if isinstance(v, np.ndarray)}
        head = f"{name}: case {case} of {trials} fails.\ninputs:\n{shown}\n"
        try:
            with deadline(timeout):
                got = fn(*copies.values())
        except _Timeout:
            failed = head + (f"your function did not return within {timeout:g} seconds (an "
                             "endless loop?); it was stopped.")
            break
        except Exception as err:  # the reader's code: report any error it raises
            failed = head + f"your function raised {type(err).__name__}: {err}"
            break
        changed = [a for a, v in before.items() if not np.array_equal(v, copies[a])]
        if changed:
            failed = head + (f"your function changed its input {', '.join(changed)} in place "
                             "(e.g. `x -= ...`); return a new array instead.")
            break
        verdict = judge(got, expected, close)
        if verdict is None:
            continue
        if isinstance(verdict, str):
            failed = head + verdict
            break
        text, low = verdict
        failed = head + text
        got = _validate.as_numpy(got)
        if low and close(_ASARRAY(got, dtype=float), expected, RTOL32, ATOL32):
            failed += (f"\nyour answer is right to {got.dtype} precision only: compute in "
                       "float64 (NumPy's default; for torch, dtype=torch.float64) to match "
                       "to 1e-9.")
            break
        for (hint, _), w in zip(mistakes, wrong, strict=True):
            if w is not None and close(_ASARRAY(got, dtype=float), w):
                failed += f"\nhint: {hint}"
                break
        break
    if failed is not None:
        message = failed
    if verbose:
        print(message)
    return CheckResult(name, failed is None, trials, message,
                       None if failed is None else case)


def _private(v):
    """A private copy of an input: arrays copied, lists and dicts of them copied item by item."""
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, (list, tuple)):
        return type(v)(_private(x) for x in v)
    if isinstance(v, dict):
        return {k: _private(x) for k, x in v.items()}
    return v


def _arrays(v):
    """The arrays in an input (an array, or a list of them), for the in-place check."""
    if isinstance(v, np.ndarray):
        return [v]
    if isinstance(v, (list, tuple)):
        return [a for x in v for a in _arrays(x)]
    return []


def _run_parts(name, fn, make, mistakes, trials, seed, verbose, timeout, what, stacked):
    """The loop of :func:`_run` for a checker whose answer has several arrays (the layer
    gradients, the pair of MaSS): ``make(rng, i)`` draws case ``i`` and returns ``(inputs,
    expected, labels, about, shown)`` (the inputs in call order, the expected arrays, their
    names, a one-line summary or None, the shown inputs or None). Every expected value and
    every mistake's answer is computed before ``fn`` first runs, from private copies; ``fn``
    gets copies of its own, under the deadline; each array is judged by :func:`_judge`.
    ``what(n)`` says what should be returned; with ``stacked`` an array (or tensor) whose first
    axis has one entry per part is accepted too."""
    if not callable(fn):
        raise ValueError(f"fn must be a function, got {type(fn).__name__}")
    _validate.positive_int("trials", trials)
    _validate.positive("timeout", timeout)
    close, judge, deadline, private = _close, _judge, _deadline, _private   # bound before fn
    equal, as_numpy, asarray, tensor = np.array_equal, _validate.as_numpy, _ASARRAY, torch.Tensor
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(trials):
        inputs, expected, labels, about, shown = make(rng, i)
        expected = [np.array(e, dtype=float) for e in expected]
        wrong = []
        for hint, mistake in mistakes:
            try:
                w = [np.array(x, dtype=float)
                     for x in mistake(private(expected), private(inputs))]
            except Exception:  # noqa: BLE001 - a hint that cannot be evaluated is no hint
                w = None
            wrong.append((hint, w))
        head = f"{name}: case {i + 1} of {trials} fails"
        head += f" ({about}).\n" if about else ".\n"
        if shown:
            head += f"inputs:\n{shown}\n"
        cases.append((private(inputs), expected, labels, wrong, head))
    message, failed, case = f"{name}: all {trials} random cases pass.", None, None
    for k, (inputs, expected, labels, wrong, head) in enumerate(cases, start=1):
        case, copies = k, private(inputs)
        before = {a: [x.copy() for x in _arrays(v)] for a, v in copies.items()}
        try:
            with deadline(timeout):
                got = fn(*copies.values())
        except _Timeout:
            failed = head + (f"your function did not return within {timeout:g} seconds (an "
                             "endless loop?); it was stopped.")
            break
        except Exception as err:  # the reader's code: report any error it raises
            failed = head + f"your function raised {type(err).__name__}: {err}"
            break
        changed = [a for a, v in before.items()
                   if len(v) != len(_arrays(copies[a]))
                   or not all(equal(x, y) for x, y in zip(v, _arrays(copies[a])))]
        if changed:
            failed = head + (f"your function changed its input {', '.join(changed)} in place "
                             "(e.g. `W -= ...`); return new arrays instead.")
            break
        n = len(expected)
        if got is None:
            failed = head + (f"your function returned None: did you forget `return`? Return "
                             f"{what(n)}.")
            break
        if stacked and isinstance(got, (np.ndarray, tensor)) and got.ndim >= 1:
            got = list(got)
        if not isinstance(got, (list, tuple)):
            kind = type(got).__name__
            failed = head + (f"your function returned {'an' if kind[0] in 'aeiou' else 'a'} "
                             f"{kind}: return {what(n)}.")
            break
        if len(got) != n:
            failed = head + f"expected {what(n)}, got {len(got)}."
            break
        for label, g, e in zip(labels, got, expected):
            verdict = judge(g, e, close)
            if verdict is None:
                continue
            if isinstance(verdict, str):
                failed = head + f"{label}: {verdict}"
                break
            text, low = verdict
            failed = head + f"{label}:\n{text}"
            g = as_numpy(g)
            if low and close(asarray(g, dtype=float), e, RTOL32, ATOL32):
                failed += (f"\nyour answer is right to {g.dtype} precision only: compute in "
                           "float64 (NumPy's default; for torch, dtype=torch.float64) to match "
                           "to 1e-9.")
                break
            try:
                mine = [asarray(as_numpy(x), dtype=float) for x in got]
            except Exception:  # noqa: BLE001 - parts that are no arrays match no mistake
                break
            for hint, w in wrong:
                if w is not None and all(close(x, y) for x, y in zip(mine, w, strict=True)):
                    failed += f"\nhint: {hint}"
                    break
            break
        if failed is not None:
            break
    if failed is not None:
        message = failed
    if verbose:
        print(message)
    return CheckResult(name, failed is None, trials, message,
                       None if failed is None else case)


# --------------------------------------------------------------------------------------------
# The checkers
# --------------------------------------------------------------------------------------------


def gd_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True,
            timeout: float = TIMEOUT):
    r"""Check ``fn(x, g, eta)`` against :math:`x_{k+1} = x_k - \eta g_k` on ``trials`` random
    cases. Prints a pass or the first failing case; returns a :class:`CheckResult`."""
    mistakes = [
        ("the gradient term has the wrong sign: descent moves against the gradient.",
         lambda x, g, eta: x + eta * g),
        ("the step size is missing: multiply the gradient by eta.", lambda x, g, eta: x - g),
    ]
    return _run("gd_step", fn, ("x", "g", "eta"), reference_gd_step, mistakes, trials, seed,
                verbose, timeout)


def heavy_ball_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True,
                    timeout: float = TIMEOUT):
    r"""Check ``fn(x, x_prev, g, eta, beta)`` against the heavy-ball step
    :math:`x_{k+1} = x_k - \eta g_k + \beta (x_k - x_{k-1})` (Polyak 1964) on ``trials`` random
    cases. Prints a pass or the first failing case; returns a :class:`CheckResult`."""
    mistakes = [
        ("the gradient term has the wrong sign: it should be - eta * g.",
         lambda x, x_prev, g, eta, beta: x + eta * g + beta * (x - x_prev)),
        ("the momentum term uses the wrong difference: it is beta * (x - x_prev), the last "
         "step taken.", lambda x, x_prev, g, eta, beta: x - eta * g + beta * (x_prev - x)),
        ("the momentum term should multiply the last step (x - x_prev), not x itself.",
         lambda x, x_prev, g, eta, beta: x - eta * g + beta * x),
        ("the momentum term is missing.", lambda x, x_prev, g, eta, beta: x - eta * g),
        ("the step size multiplies the momentum term too: only the gradient is scaled by eta.",
         lambda x, x_prev, g, eta, beta: x - eta * (g - beta * (x - x_prev))),
    ]
    return _run("heavy_ball_step", fn, ("x", "x_prev", "g", "eta", "beta"),
                reference_heavy_ball_step, mistakes, trials, seed, verbose, timeout)


def nesterov_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True,
                  timeout: float = TIMEOUT):
    r"""Check ``fn(x, x_prev, grad, eta, beta)`` against Nesterov's step
    :math:`y_k = x_k + \beta (x_k - x_{k-1})`, :math:`x_{k+1} = y_k - \eta \nabla f(y_k)`
    (Liao & Kyrillidis 2024, eq. (2)), where ``grad`` is a callable returning
    :math:`\nabla f`. Prints a pass or the first failing case; returns a :class:`CheckResult`."""

    def at_x(x, x_prev, grad, eta, beta):
        return x + beta * (x - x_prev) - eta * grad(x)

    mistakes = [
        ("the gradient is evaluated at x; Nesterov evaluates it at the extrapolated point "
         "y = x + beta * (x - x_prev). (That is the heavy-ball step.)", at_x),
        ("the gradient term has the wrong sign: it should be - eta * grad(y).",
         lambda x, x_prev, grad, eta, beta: (y := x + beta * (x - x_prev)) + eta * grad(y)),
        ("the extrapolation uses the wrong difference: y = x + beta * (x - x_prev).",
         lambda x, x_prev, grad, eta, beta: (y := x + beta * (x_prev - x)) - eta * grad(y)),
        ("the step starts from x instead of y: x_next = y - eta * grad(y).",
         lambda x, x_prev, grad, eta, beta: x - eta * grad(x + beta * (x - x_prev))),
    ]
    return _run("nesterov_step", fn, ("x", "x_prev", "grad", "eta", "beta"),
                reference_nesterov_step, mistakes, trials, seed, verbose, timeout)


# --------------------------------------------------------------------------------------------
# Chapter 5: the layer gradients of a deep linear network
# --------------------------------------------------------------------------------------------


def reference_deep_linear_gradients(weights, X, Y, scale):
    r"""The gradients :math:`\nabla_{W_\ell}\ell` of :math:`\ell = \tfrac12\|a W_L\cdots W_1 X -
    Y\|_F^2` with respect to each :math:`W_\ell`, by PyTorch's autograd (a list of arrays)."""
    ws = [torch.tensor(np.asarray(w, dtype=float), requires_grad=True) for w in weights]
    F = torch.as_tensor(np.asarray(X, dtype=float))
    for W in ws:
        F = W @ F
    loss = 0.5 * ((scale * F - torch.as_tensor(np.asarray(Y, dtype=float))) ** 2).sum()
    return [g.numpy() for g in torch.autograd.grad(loss, ws)]


def _instance_deep_linear(rng, small=False):
    """One random deep linear case over the whole range: depth 1 to 6, widths 1 to 20 (the
    first cases 1 to 5), n = 1 to 20 samples, scale a in (0, 3]; each W_l is Gaussian with
    variance 1/d_{l-1}, so the products and the gradients stay of order 1 at any depth."""
    depth = int(rng.integers(1, 7))
    top = 6 if small or rng.uniform() < 0.5 else 21
    widths = [int(v) for v in rng.integers(1, top, size=depth + 1)]
    n = int(rng.integers(1, top))
    weights = [rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])
               for i in range(depth)]
    X = rng.standard_normal((widths[0], n))
    Y = rng.standard_normal((widths[-1], n))
    scale = _floor3(rng.uniform(0.02, 3.0))
    return dict(weights=weights, X=X, Y=Y, scale=scale), dict(depth=depth, widths=widths, n=n)


def deep_linear_gradients(fn: Callable, *, trials: int = 20, seed: int = 0,
                          verbose: bool = True, timeout: float = TIMEOUT) -> CheckResult:
    r"""Check ``fn(weights, X, Y, scale)`` (Exercise 5.2) against the layer gradients of the
    deep linear network's loss :math:`\ell = \tfrac12\|a W_L \cdots W_1 X - Y\|_F^2`,

    .. math::
        \nabla_{W_\ell}\ell = a\,(W_L \cdots W_{\ell+1})^\top\, U\, (W_{\ell-1} \cdots W_1 X)^\top,
        \qquad U = a W_L \cdots W_1 X - Y,

    where ``weights`` is the list :math:`[W_1, \dots, W_L]` of NumPy arrays
    (:math:`W_\ell` of shape ``(d_l, d_{l-1})``), ``X`` has shape ``(d_x, n)``, ``Y``
    ``(d_y, n)`` and ``scale`` is :math:`a`. ``fn`` returns the list of gradients in the same
    order. The reference is autograd (:func:`reference_deep_linear_gradients`); depths 1 to 6,
    widths 1 to 20 and scales in (0, 3] are drawn at random (:func:`_instance_deep_linear`).
    The cases are judged as those of :func:`gd_step` are: expected values computed first, from
    private copies; a deadline of ``timeout`` seconds per case; a clear failure for a return
    that is not a list of real finite arrays; the float64 advice for a float32 answer. Prints a
    pass or the first failing case; returns a :class:`CheckResult`."""
    mistakes = [
        ("off by the factor scale: U already contains one factor a, and the derivative of "
         "a W_L ... W_1 brings a second.", lambda e, inp: [g / inp["scale"] for g in e]),
        ("one factor of scale too many.", lambda e, inp: [g * inp["scale"] for g in e]),
        ("the gradients are in reverse order: return [grad W_1, ..., grad W_L].",
         lambda e, inp: e[::-1]),
    ]

    def make(rng, i):
        inputs, info = _instance_deep_linear(rng, small=i < 5)
        expected = reference_deep_linear_gradients(**_private(inputs))
        about = (f"depth {info['depth']}, widths {info['widths']}, n = {info['n']}, "
                 f"scale = {inputs['scale']:g}")
        labels = [f"layer {k + 1} (the gradient for W_{k + 1})" for k in range(info["depth"])]
        return inputs, expected, labels, about, None

    return _run_parts("deep_linear_gradients", fn, make, mistakes, trials, seed, verbose,
                      timeout, what=lambda n: f"a list of {n} gradients (one per layer)",
                      stacked=False)


# --------------------------------------------------------------------------------------------
# Chapter 6: the MaSS step (added for "Beyond the theorems")
# --------------------------------------------------------------------------------------------


def reference_mass_step(w, u, g, eta1, eta2, gamma):
    r"""One step of MaSS (Liu & Belkin 2020), as in :mod:`momentum.stochastic`:
    :math:`w_{k+1} = u_k - \eta_1 g`, :math:`u_{k+1} = (1+\gamma) w_{k+1} - \gamma w_k +
    \eta_2 g`, with :math:`g = \tilde g(u_k)` the mini-batch gradient at :math:`u_k`; returns
    the pair ``(w_next, u_next)``."""
    w_next = u - eta1 * g
    return w_next, (1 + gamma) * w_next - gamma * w + eta2 * g


def _instance_mass(rng, small=False):
    r"""One random MaSS case over the parameter range of :func:`momentum.stochastic.minibatch_run`
    (``eta`` > 0, ``beta`` :math:`= \gamma \in [0, 1)`, ``eta2`` any real): dimension 1 to 50
    (the first cases 1 to 5, then half 6 or more), one case in four a batch of 2 to 4 runs
    (inputs of shape ``(B, d)``, as the runner's ``(trials, d)``), :math:`\eta_1` up to 2,
    :math:`\gamma` up to 0.999 (one case in three at 0, 0.9, 0.99 or 0.999), :math:`\eta_2` in
    :math:`[-1, 1]` (one case in five :math:`\gamma\eta_1`, where MaSS is SGD)."""
    d = int(rng.integers(1, 6)) if small or rng.uniform() < 0.5 else int(rng.integers(6, 51))
    shape = (int(rng.integers(2, 5)), d) if not small and rng.uniform() < 0.25 else (d,)
    if rng.uniform() < 1 / 3:
        gamma = float(rng.choice([0.0, 0.9, 0.99, 0.999]))
    else:
        gamma = float(np.floor(rng.uniform(0.0, 0.999) * 1000) / 1000)
    eta1 = _floor3(rng.uniform(0.0, 2.0))
    eta2 = (float(np.round(gamma * eta1, 6)) if rng.uniform() < 0.2
            else float(np.round(rng.uniform(-1.0, 1.0), 3)))
    return dict(w=rng.standard_normal(shape), u=rng.standard_normal(shape),
                g=rng.standard_normal(shape), eta1=eta1, eta2=eta2, gamma=gamma)


def mass_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True,
              timeout: float = TIMEOUT):
    r"""Check ``fn(w, u, g, eta1, eta2, gamma) -> (w_next, u_next)`` against
    :func:`reference_mass_step` on ``trials`` random cases over the whole parameter range
    (:func:`_instance_mass`; the reference is tested against
    :func:`momentum.stochastic.minibatch_run`). The cases are judged as those of
    :func:`gd_step` are (expected values first, from private copies; a deadline of ``timeout``
    seconds per case; a clear failure for a return that is not a pair of real finite arrays;
    the float64 advice for a float32 answer). Prints a pass or the first failing case, with a
    hint for the common mistakes; returns a :class:`CheckResult`."""
    ref = reference_mass_step
    mistakes = [
        ("the compensation term is missing: that is Nesterov's method (eta2 = 0).",
         lambda e, i: ref(i["w"], i["u"], i["g"], i["eta1"], 0.0, i["gamma"])),
        ("the compensation term has the wrong sign: u_next adds + eta2 * g.",
         lambda e, i: ref(i["w"], i["u"], i["g"], i["eta1"], -i["eta2"], i["gamma"])),
        ("the extrapolation uses u instead of w: u_next = (1 + gamma) w_next - gamma w + ...",
         lambda e, i: ref(i["u"], i["u"], i["g"], i["eta1"], i["eta2"], i["gamma"])),
        ("the gradient step starts from w; it starts from u (where g was taken).",
         lambda e, i: ref(i["w"], i["w"], i["g"], i["eta1"], i["eta2"], i["gamma"])),
    ]

    def make(rng, i):
        inputs = _instance_mass(rng, small=i < 5)
        expected = list(ref(**_private(inputs)))
        shown = "\n".join(f"  {a} = {_fmt(v)}" for a, v in inputs.items())
        return inputs, expected, ["w_next", "u_next"], None, shown

    return _run_parts("mass_step", fn, make, mistakes, trials, seed, verbose, timeout,
                      what=lambda n: "the pair (w_next, u_next) of arrays of the inputs' shape",
                      stacked=True)


__all__ += ["mass_step"]

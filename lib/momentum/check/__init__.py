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
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from .. import _validate

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


# The checkers (imported last: they use the machinery above).
from .deep_linear import deep_linear_gradients, reference_deep_linear_gradients  # noqa: E402, F401
from .mass import mass_step, reference_mass_step  # noqa: E402, F401
from .steps import (  # noqa: E402, F401
    gd_step,
    heavy_ball_step,
    nesterov_step,
    reference_gd_step,
    reference_heavy_ball_step,
    reference_nesterov_step,
)

__all__ += ["deep_linear_gradients", "mass_step"]

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

The cases cover the whole valid range of each formula (:func:`_instance`): dimensions 1 to
200, batches of up to 8 rows (inputs of shape ``(B, d)``), momentum up to 0.9999 and steps from
small to three times the method's stability limit; every run of 20 cases or more holds one case
at each edge (:data:`EDGES`). The reader's function runs in a forked child process
(:mod:`momentum.check._isolate`) on copies of the inputs: every expected value is computed
only after the fork, in this process, so the function cannot read or overwrite it; whatever it
patches (this module, NumPy, torch) is patched in the child alone; a case that runs longer than
``timeout`` seconds (:data:`TIMEOUT`, 5) is ended with ``SIGKILL``, which no handler, timer
or blocking ``__str__`` can delay; ``SystemExit`` and ``os._exit`` end only the child and are
reported. What comes back is plain data (arrays rebuilt by NumPy, never unpickled objects). A
return that is not an array (a list, a float, None), a complex or a non-finite one fails with a
sentence that says so; an answer right only to float32 precision fails with the advice to
compute in float64. Where ``fork`` does not exist (Windows) the function runs in this process,
with no deadline and no isolation.

These checkers give feedback; grading happens in the assignments' autograder (``make
assignments``), whose hidden tests call them with other seeds and more cases.

The references are the library's own: ``gd_step`` against one step of
:func:`momentum.optimizers.gd`, ``heavy_ball_step`` against one step of the
``torch.optim.SGD`` that :func:`momentum.optimizers.torch_optimizer` returns (its momentum
buffer set to :math:`(x_{k-1} - x_k)/\eta`, the velocity that produced :math:`x_k`), and
``nesterov_step`` against one step of :func:`momentum.optimizers.nesterov` started at
:math:`y_k`. The tests check each reference against those runs, and each checker against correct
and typical wrong implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from . import _isolate

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

#: Seconds one case may run before it is stopped and reported (see :mod:`._isolate`).
TIMEOUT = 5.0
#: Most random cases one check draws (each is drawn before any runs; a reader's function runs
#: on every one, up to :data:`TIMEOUT` each): more is refused, not attempted.
MAX_TRIALS = 10_000
#: Tolerances at float32 precision: an answer close only at these was computed in float32.
RTOL32, ATOL32 = 1e-5, 1e-6

# What the comparison uses after the reader's function has run, bound now: a function that
# patches NumPy or this module cannot change how its answer is judged.
_ABS, _ALL, _ASARRAY, _ISFINITE, _SHAPE = np.abs, np.all, np.asarray, np.isfinite, np.shape



def _result(name, failed, trials, message, case, verbose) -> CheckResult:
    """A check's result: passed when nothing ``failed`` (else ``failed`` is the message and
    ``case`` the failing inputs); printed when ``verbose``."""
    message = message if failed is None else failed
    if verbose:
        print(message)
    return CheckResult(name, failed is None, trials, message,
                       None if failed is None else case)

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


#: The edges of the valid range every checker of a step samples (see :func:`_instance`).
EDGES = ("a step 1.05 to 3 times the stability limit", "momentum 0.9999",
         "dimension 51 to 200", "a batch of 5 to 8 rows")


def _instance(rng, method, i=0):
    r"""Case ``i`` (0-based) of a step checker, over the whole valid range of the step's
    formula (which holds for any :math:`\eta > 0`, :math:`\beta \in [0, 1)` and shape):
    cases 0-4 are small (dimension 1 to 5, one row); cases 5-8 are the edges, one each: a step
    1.05 to 3 times the stability limit on the quadratic, momentum 0.9999, dimension 51 to 200,
    and a batch of 5 to 8 rows; the rest draw dimension 1 to 50 (half of them 6 or more), one in
    four a batch of 2 to 8 rows, momentum up to 0.999 (one in three at 0.9, 0.95, 0.99 or
    0.999) and a step up to the stability limit (L = 1): :math:`2` for GD, :math:`2(1 + \beta)`
    for heavy ball, :math:`2(1 + \beta)/(1 + 2\beta)` for Nesterov."""
    small, edge = i < 5, i - 5
    d = int(rng.integers(1, 6)) if small or rng.uniform() < 0.5 else int(rng.integers(6, 51))
    shape = (int(rng.integers(2, 9)), d) if not small and rng.uniform() < 0.25 else (d,)
    if rng.uniform() < 1 / 3:
        beta = float(rng.choice([0.9, 0.95, 0.99, 0.999]))
    else:
        beta = _floor3(rng.uniform(0.01, 0.999))
    if edge == 1:
        beta = 0.9999
    limit = {"gd": 2.0, "heavy_ball": 2 * (1 + beta),
             "nesterov": 2 * (1 + beta) / (1 + 2 * beta)}[method]
    eta = _floor3(limit * rng.uniform(0.01, 0.999))
    if edge == 0:
        eta = _floor3(limit * rng.uniform(1.05, 3.0))
    if edge == 2:
        shape = (int(rng.integers(51, 201)),)
    if edge == 3:
        shape = (int(rng.integers(5, 9)), shape[-1])
    d = shape[-1]
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


def _judge(got, expected, close=_close, *, _asarray=_ASARRAY, _all=_ALL,
           _isfinite=_ISFINITE):
    """None when ``got`` (what the child sent back: None, an array, or a
    :class:`~._isolate.Returned`) is the expected answer, else what is wrong with it."""
    if got is None:
        return "your function returned None: did you forget `return`?"
    if not isinstance(got, np.ndarray):
        kind = got.name if isinstance(got, _isolate.Returned) else type(got).__name__
        return (f"your function returned {'an' if kind[0] in 'aeiou' else 'a'} {kind}, not an "
                f"array: return a NumPy array (or a torch tensor) of shape {expected.shape}, "
                "like x.")
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


def _failure(outcome, timeout, what="arrays"):
    """The sentence for an outcome that is no return (None when the function returned)."""
    if outcome[0] == "timeout":
        return (f"your function did not return within {timeout:g} seconds (an endless loop?); "
                "it was stopped.")
    if outcome[0] == "ended":
        return ("your function ended the process it ran in (os._exit, a crash, or a signal) "
                "before it returned.")
    if outcome[0] == "large":
        return (f"your function returned {outcome[1]:,} bytes, more than an answer may take "
                f"({_isolate.MAX_MESSAGE:,}): return arrays of the inputs' shape.")
    if outcome[0] == "raised":
        return f"your function raised {outcome[1]}: {outcome[2]}"
    if outcome[2]:
        return (f"your function changed its input {', '.join(outcome[2])} in place (e.g. "
                f"`x -= ...`); return new {what} instead.")
    return None


_FLOAT64 = ("\nyour answer is right to {} precision only: compute in float64 (NumPy's "
            "default; for torch, dtype=torch.float64) to match to 1e-9.")


def _validated(fn, trials, timeout):
    if not callable(fn):
        raise ValueError(f"fn must be a function, got {type(fn).__name__}")
    _validate.positive_int("trials", trials)
    if trials > MAX_TRIALS:
        raise ValueError(f"trials must be at most {MAX_TRIALS} (every case is drawn first and "
                         f"runs your function, up to {TIMEOUT:g} s each), got {trials!r}")
    _validate.positive("timeout", timeout)


def _run(name, fn, args, reference, mistakes, trials, seed, verbose, timeout=TIMEOUT):
    """The loop of the step checkers: ``trials`` cases of :func:`_instance`, ``fn`` run on
    copies of their inputs in a forked child (:func:`._isolate.calls`), each expected value
    computed only after the fork, from private copies, and judged by :func:`_judge`."""
    _validated(fn, trials, timeout)
    method = name.removesuffix("_step")
    close, judge, fmt, asarray = _close, _judge, _fmt, _ASARRAY   # bound before fn runs
    rng = np.random.default_rng(seed)
    insts = [_instance(rng, method, i) for i in range(trials)]

    def inputs(inst):
        return {a: (_gradient(inst["A"], inst["c"]) if a == "grad" else
                    (inst[a].copy() if isinstance(inst[a], np.ndarray) else inst[a]))
                for a in args}

    outcomes = _isolate.calls(fn, [tuple(inputs(inst).values()) for inst in insts], args,
                              timeout)
    message, failed, case = f"{name}: all {trials} random cases pass.", None, None
    try:
        for case, inst in enumerate(insts, start=1):
            outcome = next(outcomes)
            # computed now, after the fork: the child's memory never held it
            ref_inputs = inputs(inst)
            expected = np.array(reference(**ref_inputs), dtype=float)
            shown = "\n".join(f"  {a} = {fmt(v)}" for a, v in ref_inputs.items())
            head = f"{name}: case {case} of {trials} fails.\ninputs:\n{shown}\n"
            text = _failure(outcome, timeout)
            if text is not None:
                failed = head + text
                break
            verdict = judge(outcome[1], expected, close)
            if verdict is None:
                continue
            if isinstance(verdict, str):
                failed = head + verdict
                break
            text, low = verdict
            failed = head + text
            got = asarray(outcome[1], dtype=float)
            if low and close(got, expected, RTOL32, ATOL32):
                failed += _FLOAT64.format(outcome[1].dtype)
                break
            for hint, mistake in mistakes:
                try:
                    w = np.array(mistake(**inputs(inst)), dtype=float)
                except Exception:  # noqa: BLE001 - a hint that cannot be evaluated is no hint
                    continue
                if close(got, w):
                    failed += f"\nhint: {hint}"
                    break
            break
    finally:
        outcomes.close()
    return _result(name, failed, trials, message, case, verbose)


def _private(v):
    """A private copy of an input: arrays copied, lists and dicts of them copied item by item."""
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, (list, tuple)):
        return type(v)(_private(x) for x in v)
    if isinstance(v, dict):
        return {k: _private(x) for k, x in v.items()}
    return v


def _run_parts(name, fn, draw, expect, mistakes, trials, seed, verbose, timeout, what,
               stacked):
    """The loop of :func:`_run` for a checker whose answer has several arrays (the layer
    gradients, the pair of MaSS): ``draw(rng, i)`` draws the inputs of case ``i`` (a dict, in
    call order); ``expect(inputs)`` returns ``(expected, labels, about, shown)`` (the expected
    arrays, their names, a one-line summary or None, the shown inputs or None), and is called
    only after ``fn``'s child has been forked. ``fn`` runs in the child on copies
    (:func:`._isolate.calls`); each array is judged by :func:`_judge`. ``what(n)`` says what
    should be returned; with ``stacked`` an array (or tensor) whose first axis has one entry
    per part is accepted too."""
    _validated(fn, trials, timeout)
    close, judge, private, asarray = _close, _judge, _private, _ASARRAY   # bound before fn
    rng = np.random.default_rng(seed)
    drawn = [draw(rng, i) for i in range(trials)]
    names = tuple(drawn[0]) if drawn else ()
    outcomes = _isolate.calls(fn, [tuple(private(d).values()) for d in drawn], names, timeout)
    message, failed, case = f"{name}: all {trials} random cases pass.", None, None
    try:
        for case, inputs in enumerate(drawn, start=1):
            outcome = next(outcomes)
            expected, labels, about, shown = expect(private(inputs))
            expected = [np.array(e, dtype=float) for e in expected]
            head = f"{name}: case {case} of {trials} fails"
            head += f" ({about}).\n" if about else ".\n"
            if shown:
                head += f"inputs:\n{shown}\n"
            text = _failure(outcome, timeout)
            if text is not None:
                failed = head + text.replace("`x -= ...`", "`W -= ...`")
                break
            got, n = outcome[1], len(expected)
            if got is None:
                failed = head + (f"your function returned None: did you forget `return`? "
                                 f"Return {what(n)}.")
                break
            if stacked and isinstance(got, np.ndarray) and got.ndim >= 1:
                got = list(got)
            if not isinstance(got, (list, tuple)):
                kind = (got.name if isinstance(got, _isolate.Returned)
                        else "array" if isinstance(got, np.ndarray) else type(got).__name__)
                failed = head + (f"your function returned "
                                 f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}: return "
                                 f"{what(n)}.")
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
                if low and close(asarray(g, dtype=float), e, RTOL32, ATOL32):
                    failed += _FLOAT64.format(g.dtype)
                    break
                if not all(isinstance(x, np.ndarray) and x.dtype.kind in "fiu" for x in got):
                    break
                mine = [asarray(x, dtype=float) for x in got]
                for hint, mistake in mistakes:
                    try:
                        w = [np.array(x, dtype=float)
                             for x in mistake(private(expected), private(inputs))]
                    except Exception:  # noqa: BLE001 - a hint that cannot be evaluated
                        continue
                    if len(w) == len(mine) and all(close(x, y) for x, y in zip(mine, w)):
                        failed += f"\nhint: {hint}"
                        break
                break
            if failed is not None:
                break
    finally:
        outcomes.close()
    return _result(name, failed, trials, message, case, verbose)


# The checkers (imported last: they use the machinery above). The references stay in their
# modules (momentum.check.steps, .deep_linear, .mass): they are not part of this namespace.
from .deep_linear import deep_linear_gradients  # noqa: E402
from .function import function  # noqa: E402
from .mass import mass_step  # noqa: E402
from .steps import gd_step, heavy_ball_step, nesterov_step  # noqa: E402

__all__ += ["deep_linear_gradients", "function", "mass_step"]

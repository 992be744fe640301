r"""A checker for any function of arrays and numbers, used by the assignments' tests
(``make assignments``) for the questions no chapter checker covers (re-exported by
:mod:`momentum.check`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import TIMEOUT, CheckResult, _fmt, _isolate, _private, _run_parts


def _parts(value):
    """A reference's or an answer's value as a list of arrays (a tuple or list of parts, or
    one part)."""
    if isinstance(value, (list, tuple)):
        return [np.asarray(v, dtype=float) for v in value]
    return [np.asarray(value, dtype=float)]


def function(fn: Callable, reference: Callable, cases: Sequence[dict], *, name: str = "",
             hints: Sequence[tuple[str, Callable]] = (), verbose: bool = True,
             timeout: float = TIMEOUT) -> CheckResult:
    """Check ``fn(**case)`` against ``reference(**case)`` for each dict of inputs in ``cases``
    (arrays and numbers; the order of the keys is the order of the arguments). The answer may
    be a number, an array, or a tuple or list of them, as the reference's is; numbers and
    arrays are compared to ``RTOL = 1e-9``, ``ATOL = 1e-12``. ``fn`` runs as in every checker
    (a forked child, on copies, under a deadline of ``timeout`` seconds per case; the reference
    is evaluated only after the fork). ``hints`` pairs a sentence with a wrong function of the
    same inputs: when the answer matches it, the sentence is shown. Prints a pass or the first
    failing case; returns a :class:`CheckResult`."""
    if not callable(reference):
        raise ValueError(f"reference must be a function, got {type(reference).__name__}")
    cases = [dict(c) for c in cases]
    if not cases or not all(isinstance(c, dict) for c in cases):
        raise ValueError("cases must be a non-empty list of dicts of inputs")
    label = name or getattr(fn, "__name__", "function")

    def draw(rng, i):
        return cases[i]

    def expect(inputs):
        parts = _parts(reference(**_private(inputs)))
        labels = [f"part {k + 1} of the answer" for k in range(len(parts))] \
            if len(parts) > 1 else ["the answer"]
        shown = "\n".join(f"  {a} = {v!r}" if isinstance(v, (str, bool, int)) else
                          f"  {a} = {_fmt(v)}" for a, v in inputs.items())
        return parts, labels, None, shown

    def wrap(*args):
        out = fn(*args)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    mistakes = [(h, lambda e, inp, w=w: _parts(w(**inp))) for h, w in hints]
    # one part: a number or an array comes back wrapped in a list, judged as an array
    return _run_parts(label, _Numbers(wrap), draw, expect, mistakes, len(cases), 0, verbose,
                      timeout, what=lambda n: "one value" if n == 1 else f"{n} values",
                      stacked=False)


class _Numbers:
    """``fn``'s answer with every number turned into a 0-d array, in the child (so a float
    is judged as a value, not as a wrong type)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return [np.asarray(v, dtype=float) if isinstance(v, (int, float, np.number))
                and not isinstance(v, bool) else v for v in self.fn(*args)]


__all__ = ["function", "_isolate"]

"""A quick fuzz of invalid and extreme inputs over every public callable (issue 25).

Not a pytest module (run it by hand: ``PYTHONPATH=lib python tests/fuzz_inputs.py``). Every
row of the invalid-input table (``tests/test_invalid_inputs.py``, which covers every callable
of every module's ``__all__``) is a call with one parameter left open; here each such call
gets every value of :data:`EXTREMES` in that parameter, whatever the row's own strategy, under
a time limit, and the outcome is sorted:

* ``clean``: a ValueError naming the parameter;
* ``unclear``: a ValueError not naming it, or any other exception, raised inside the library
  (an exception the row's own lambda raises while building its argument, e.g. ``np.ones(v)``
  for ``v = "x"``, is counted as ``harness`` and not listed);
* ``hang``: no answer within :data:`LIMIT` seconds (the alarm fires after C code returns);
* ``nan``: a result holding NaN or an infinity, returned silently;
* ``accepted``: a finite result (often right: 1e300 is a valid step size; read the list).

Prints a summary and every outcome other than ``clean`` and ``accepted``.
"""

from __future__ import annotations

import math
import signal
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

LIMIT = 20
EXTREMES = {
    "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-1": -1, "0": 0, "0.0": 0.0,
    "1e308": 1e308, "5e-324": 5e-324, "2**64": 2**64, "-2**63": -2**63, "10**12": 10**12,
    "complex": 1 + 1j, "text": "x", "None": None, "True": True, "[]": [],
    "array2": np.array([0.5, 0.7]), "nan-array": np.array([math.nan, 1.0]),
    "object": object(), "empty-tensor": torch.empty(0),
}


class _Hang(Exception):
    pass


LIB = str(Path(__file__).resolve().parents[1] / "lib" / "momentum")


def _in_library(exc: BaseException) -> bool:
    """Whether the exception passed through the library (a frame under lib/momentum)."""
    import traceback
    return any(f.filename.startswith(LIB) for f in traceback.extract_tb(exc.__traceback__))


def _alarm(*_):
    raise _Hang


def _has_nonfinite(out) -> bool:
    items = out if isinstance(out, (tuple, list)) else (out,)
    for item in items:
        if isinstance(item, (float, np.floating)) and not math.isfinite(item):
            return True
        if isinstance(item, np.ndarray) and item.dtype.kind == "f" and item.size \
                and not np.isfinite(item).all():
            return True
        if isinstance(item, torch.Tensor) and item.is_floating_point() and item.numel() \
                and not bool(torch.isfinite(item).all()):
            return True
    return False


def main() -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import test_invalid_inputs as table

    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)
    outcomes, notes = Counter(), []
    seen = set()
    for case_id, param, _, call in table.CASES:
        key = case_id.split("-")[0] + "-" + param
        if key in seen:                   # one call per (callable, parameter)
            continue
        seen.add(key)
        for label, value in EXTREMES.items():
            signal.alarm(LIMIT)
            t0 = time.perf_counter()
            try:
                out = call(value)
                kind = "nan" if _has_nonfinite(out) else "accepted"
            except _Hang:
                kind = "hang"
            except ValueError as e:
                kind = "clean" if param in str(e) else "unclear" if _in_library(e) else "harness"
                if kind == "unclear":
                    notes.append(f"unclear  {key} = {label}: ValueError {str(e)[:100]}")
            except Exception as e:
                kind = "unclear" if _in_library(e) else "harness"
                if kind == "unclear":
                    notes.append(f"unclear  {key} = {label}: {type(e).__name__} {str(e)[:100]}")
            finally:
                signal.alarm(0)
                plt.close("all")
            if kind in ("hang", "nan"):
                notes.append(f"{kind:<8} {key} = {label} ({time.perf_counter() - t0:.0f} s)")
            outcomes[kind] += 1
    print(f"{sum(outcomes.values())} calls over {len(seen)} (callable, parameter) pairs: "
          + ", ".join(f"{n} {k}" for k, n in outcomes.most_common()))
    print("\n".join(sorted(notes)))


if __name__ == "__main__":
    main()

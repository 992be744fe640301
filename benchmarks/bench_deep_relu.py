"""Time Chapter 3's deep ReLU training loop against its bare step (issue 25: "within 1.5x").

For each setting of ``benchmarks/bench_training.py``'s deep network (digits, n = 16, widths
(64, 64, ..., width, 1), seeds stacked, Nesterov with the classical beta of kappa_x), one run
times, back to back in rounds (``bench_training.timed``, process CPU time on one thread):

* ``step``: the bare step, ``opt.zero_grad(); loss.backward(); opt.step()``;
* ``loop``: ``networks.train_deep_relu`` per step as Chapter 3 runs it (all three feature
  series: the singular values of the penultimate features every step);
* ``loop, no spectra``: the same with ``track_features=False`` (the record of losses,
  gradient norms and block steps only).

The ratio is the median over rounds of (loop time per step) / (step time), so below 1.5
meets the goal. Writes ``deep_relu_report.txt`` next to this file (``--quick``: a smoke run
that writes nothing unless ``--out`` is given).

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_deep_relu.py [--quick] [--out FILE]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPORT = HERE / "deep_relu_report.txt"
_spec = importlib.util.spec_from_file_location("bench_training", HERE / "bench_training.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SETTINGS = ((2, 1024, 3), (3, 1024, 3), (4, 1024, 3))     # depth, width, seeds
QUICK_SETTINGS = ((2, 128, 2),)
CONFIG = {"loop_steps": 10, "budget": 1.5, "target": 0.03, "rounds": 5}
QUICK_CONFIG = {"loop_steps": 2, "budget": 0.0, "target": 0.0, "rounds": 2}


def per_step_ratio(loop: list[float], step: list[float]) -> float:
    """Median over rounds of loop time per step / bare step time (taken back to back)."""
    return statistics.median(a / b for a, b in zip(loop, step))


def report(quick: bool = False) -> list[str]:
    torch.set_num_threads(1)
    clock = bench.choose_clock("cpu")
    cfg = QUICK_CONFIG if quick else CONFIG
    lines = ["Chapter 3's deep ReLU loop against its bare step (benchmarks/bench_deep_relu.py)",
             f"Clock: {clock}; torch {torch.__version__}, {os.cpu_count()} CPUs, "
             f"load {bench._load()}.",
             "ratio = median over rounds of (loop time per step) / (bare step time); goal <= 1.5.",
             "",
             "dtype    depth width nets | us: step   loop  no-spectra | ratio: loop  no-spectra"]
    rows = []
    for depth, width, nets in (QUICK_SETTINGS if quick else SETTINGS):
        for dtype in (torch.float64,):
            row = bench.bench_deep(depth, width, nets, dtype, "cpu", cfg)
            s = row["samples"]
            step = statistics.median(s["step"])
            lines.append(
                f"{bench._dt(dtype):<8} {depth:>5} {width:>5} {nets:>4} | "
                f"{step * 1e6:>8.0f} {statistics.median(s['loop']) * 1e6:>6.0f} "
                f"{statistics.median(s['loop_nosvd']) * 1e6:>11.0f} | "
                f"{per_step_ratio(s['loop'], s['step']):>11.2f} "
                f"{per_step_ratio(s['loop_nosvd'], s['step']):>11.2f}")
            rows.append(row)
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    text = "\n".join(report(quick=args.quick)) + "\n"
    out = args.out or (None if args.quick else REPORT)
    if out is not None:
        out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()

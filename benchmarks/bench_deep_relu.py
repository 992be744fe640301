"""Time Chapter 3's deep ReLU training loop against its bare step (issue 25: "within 1.5x").

For each setting of ``benchmarks/bench_training.py``'s deep network (digits, n = 16, widths
(64, 64, ..., width, 1), seeds stacked, Nesterov with the classical beta of kappa_x), one run
times, back to back in rounds (``bench_training.timed``, process CPU time on one thread):

* ``step``: the bare step, ``opt.zero_grad(); model.loss(X, y).sum().backward(); opt.step()``
  (``model.loss`` validates X and y at every call), and ``fast``, the same step on checked
  tensors (the step the loop runs);
* ``loop``: ``networks.train_deep_relu`` per step with its default record (the loss at the
  book's x_k and the gradient norm: what Chapter 3's exercise run, Chapter 7 and the grid's
  other runs read);
* ``blocks``: the same with ``track_features=("dx", "du")``; ``all``: with every series
  (``track_features=True``, the spectra of the penultimate features every step), as Chapter
  3's grid runs its GD and classical-Nesterov runs;
* with ``--before REV``: revision REV's loop with every series and with its
  ``track_features=False``, in the same rounds (``bench_training.load_revision``).

The ratio is the median over rounds of (loop time per step) / (step time), so below 1.5
meets the goal. Writes ``deep_relu_report.txt`` next to this file (``--quick``: a smoke run
that writes nothing unless ``--out`` is given).

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_deep_relu.py [--quick] [--out FILE]
[--before REV] [--repeats N]``
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
CONFIG = {"loop_steps": 30, "budget": 1.5, "target": 0.03, "rounds": 5}
QUICK_CONFIG = {"loop_steps": 2, "budget": 0.0, "target": 0.0, "rounds": 2}


def per_step_ratio(loop: list[float], step: list[float]) -> float:
    """Median over rounds of loop time per step / bare step time (taken back to back)."""
    return statistics.median(a / b for a, b in zip(loop, step))


#: The ratios of a row: (column, loop case, reference case).
RATIOS = (("loop/step", "loop", "step"), ("blocks/step", "loop_blocks", "step"),
          ("all/step", "loop_all", "step"), ("loop/fast", "loop", "fast"),
          ("before all/after all", "before_all", "loop_all"),
          ("before blocks/after blocks", "before_blocks", "loop_blocks"))


def report(quick: bool = False, before: str | None = None, repeats: int = 1) -> list[str]:
    """The report's lines: ``repeats`` runs over all settings in turn (each run's cases
    sampled round by round), each run's table, and with several the median over the runs."""
    torch.set_num_threads(1)
    clock = bench.choose_clock("cpu")
    cfg = QUICK_CONFIG if quick else CONFIG
    old = bench.load_revision(before, "networks.deep_relu") if before else None
    load0 = bench._load()
    runs, loads = [], []
    for _ in range(repeats):
        runs.append([bench.bench_deep(depth, width, nets, torch.float64, "cpu", cfg,
                                      before=old)
                     for depth, width, nets in (QUICK_SETTINGS if quick else SETTINGS)])
        loads.append(bench._load())
    load1 = loads[-1]
    rows = [r for run in runs for r in run]
    lines = ["Chapter 3's deep ReLU loop against its bare step (benchmarks/bench_deep_relu.py"
             + (f" --before {before}" if before else "") + ")",
             f"Clock: {clock}; torch {torch.__version__}, {os.cpu_count()} CPUs, 1-minute load "
             f"average {load0} at the start, {load1} at the end"
             + (f" (after each run: {', '.join(loads)})" if repeats > 1 else "") + ".",
             "ratio = median over rounds of (loop time per step) / (bare step time), the two "
             "taken back to back; goal <= 1.5.",
             f"Each loop call trains K = {cfg['loop_steps']} steps from the same start "
             "(set-up and the (K+1)-th point included).",
             "step = opt.zero_grad(); model.loss(X, y).sum().backward(); opt.step() (model.loss "
             "validates X, y every call);",
             "fast = the same step on checked tensors (the loop's own step); loop = the default "
             "call (loss and gradient norm);",
             "blocks = track_features=('dx', 'du'); all = track_features=True (every series, "
             "as Chapter 3's grid runs its GD",
             "and classical-Nesterov runs)" + (f"; before = revision {before}'s loop with every "
                                               "series (its default) and with" if before
                                               else "."),
             ] + (["track_features=False (the block steps, no spectra), timed in the same "
                   "rounds."] if before else []) + [
             "",
             f"{'dtype':<8} {'depth':>5} {'width':>5} {'nets':>4} | us: {'step':>6} "
             f"{'fast':>6} {'loop':>6} {'blocks':>6} {'all':>6} | loop/step: {'loop':>5} "
             f"{'blocks':>6} {'all':>5} | loop/fast: {'loop':>5}"
             + (f" | before/after: {'all':>5} {'blocks':>6}" if before else "")]
    for i, row in enumerate(rows):
        if repeats > 1 and i % len(runs[0]) == 0:
            lines.append(f"run {i // len(runs[0]) + 1} of {repeats}:")
        s = row["samples"]
        us = {name: statistics.median(v) * 1e6 for name, v in s.items()}.__getitem__
        lines.append(
            f"{bench._dt(row['dtype']):<8} {row['depth']:>5} {row['width']:>5} {row['nets']:>4} "
            f"|     {us('step'):>6.0f} {us('fast'):>6.0f} {us('loop'):>6.0f} "
            f"{us('loop_blocks'):>6.0f} {us('loop_all'):>6.0f} |            "
            f"{per_step_ratio(s['loop'], s['step']):>5.2f} "
            f"{per_step_ratio(s['loop_blocks'], s['step']):>6.2f} "
            f"{per_step_ratio(s['loop_all'], s['step']):>5.2f} |            "
            f"{per_step_ratio(s['loop'], s['fast']):>5.2f}"
            + (f" |               {per_step_ratio(s['before_all'], s['loop_all']):>5.2f} "
               f"{per_step_ratio(s['before_blocks'], s['loop_blocks']):>6.2f}" if before
               else ""))
    if repeats > 1:
        lines += ["", f"Median over the {repeats} runs of each ratio:"]
        for j, first in enumerate(runs[0]):
            cells = []
            for label, a, b in RATIOS:
                if a in first["samples"]:
                    v = [per_step_ratio(run[j]["samples"][a], run[j]["samples"][b])
                         for run in runs]
                    cells.append(f"{label} {statistics.median(v):.2f} "
                                 f"[{min(v):.2f}-{max(v):.2f}]")
            lines.append(f"depth {first['depth']}, width {first['width']}, {first['nets']} nets: "
                         + "; ".join(cells))
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--before", default=None, help="a git revision whose loop is timed "
                        "too, in the same rounds")
    parser.add_argument("--repeats", type=int, default=1, help="runs over all settings in "
                        "turn; with several, the report adds the median over them")
    args = parser.parse_args(argv)
    text = "\n".join(report(quick=args.quick, before=args.before,
                            repeats=args.repeats)) + "\n"
    out = args.out or (None if args.quick else REPORT)
    if out is not None:
        out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()

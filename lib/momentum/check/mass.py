r"""Chapter 6's checker: the MaSS step (re-exported by :mod:`momentum.check`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import TIMEOUT, _floor3, _fmt, _run_parts

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


def _instance_mass(rng, i=0):
    r"""One random MaSS case over the parameter range of :func:`momentum.stochastic.minibatch_run`
    (``eta`` > 0, ``beta`` :math:`= \gamma \in [0, 1)`, ``eta2`` any real): dimension 1 to 50
    (the first cases 1 to 5, then half 6 or more), one case in four a batch of 2 to 4 runs
    (inputs of shape ``(B, d)``, as the runner's ``(trials, d)``), :math:`\eta_1` up to 2,
    :math:`\gamma` up to 0.999 (one case in three at 0, 0.9, 0.99 or 0.999), :math:`\eta_2` in
    :math:`[-1, 1]` (one case in five :math:`\gamma\eta_1`, where MaSS is SGD). Cases 5-8
    are the edges, one each: :math:`\eta_1` of 2 to 10, :math:`\gamma = 0.9999`, dimension 51
    to 200, and a batch of 5 to 8 rows."""
    small, edge = i < 5, i - 5
    d = int(rng.integers(1, 6)) if small or rng.uniform() < 0.5 else int(rng.integers(6, 51))
    shape = (int(rng.integers(2, 9)), d) if not small and rng.uniform() < 0.25 else (d,)
    if edge == 2:
        shape = (int(rng.integers(51, 201)),)
    if edge == 3:
        shape = (int(rng.integers(5, 9)), shape[-1])
    if rng.uniform() < 1 / 3:
        gamma = float(rng.choice([0.0, 0.9, 0.99, 0.999]))
    else:
        gamma = float(np.floor(rng.uniform(0.0, 0.999) * 1000) / 1000)
    if edge == 1:
        gamma = 0.9999
    eta1 = _floor3(rng.uniform(0.0, 2.0)) if edge != 0 else _floor3(rng.uniform(2.0, 10.0))
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

    def draw(rng, i):
        return _instance_mass(rng, i)

    def expect(inputs):
        shown = "\n".join(f"  {a} = {_fmt(v)}" for a, v in inputs.items())
        return list(ref(**inputs)), ["w_next", "u_next"], None, shown

    return _run_parts("mass_step", fn, draw, expect, mistakes, trials, seed, verbose, timeout,
                      what=lambda n: "the pair (w_next, u_next) of arrays of the inputs' shape",
                      stacked=True)



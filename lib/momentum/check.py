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

The references are the library's own: ``gd_step`` against one step of
:func:`momentum.optimizers.gd`, ``heavy_ball_step`` against one step of the
``torch.optim.SGD`` that :func:`momentum.optimizers.torch_optimizer` returns (its momentum
buffer set to :math:`(x_{k-1} - x_k)/\eta`, the velocity that produced :math:`x_k`), and
``nesterov_step`` against one step of :func:`momentum.optimizers.nesterov` started at
:math:`y_k`. The tests check each reference against those runs, and each checker against correct
and typical wrong implementations.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _random_quadratic_grad(rng, d):
    """grad of f(z) = (z - c)' A (z - c) / 2 with a random SPD A: a gradient that depends on
    where it is evaluated (so evaluating it at the wrong point shows)."""
    M = rng.standard_normal((d, d))
    A = M @ M.T / d + np.eye(d)
    c = rng.standard_normal(d)
    return lambda z: (np.asarray(z, dtype=float) - c) @ A


def _instance(rng):
    d = int(rng.integers(1, 6))
    return dict(
        x=rng.standard_normal(d),
        x_prev=rng.standard_normal(d),
        g=rng.standard_normal(d),
        eta=float(np.round(rng.uniform(0.05, 1.0), 3)),
        beta=float(np.round(rng.uniform(0.1, 0.9), 3)),
        grad=_random_quadratic_grad(rng, d),
    )


def _fmt(v) -> str:
    if callable(v):
        return "<gradient function of a random quadratic>"
    if isinstance(v, float):
        return f"{v:g}"
    return np.array2string(np.asarray(v, dtype=float), precision=4, separator=", ")


def _close(a, b) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def _run(name, fn, args, reference, mistakes, trials, seed, verbose) -> CheckResult:
    if not callable(fn):
        raise ValueError(f"fn must be a function, got {type(fn).__name__}")
    _validate.positive_int("trials", trials)
    rng = np.random.default_rng(seed)
    message, failed = f"{name}: all {trials} random cases pass.", None
    for case in range(1, trials + 1):
        inst = _instance(rng)
        inputs = {a: inst[a] for a in args}
        expected = np.asarray(reference(**inputs), dtype=float)
        copies = {a: (v.copy() if isinstance(v, np.ndarray) else v) for a, v in inputs.items()}
        shown = "\n".join(f"  {a} = {_fmt(v)}" for a, v in inputs.items())
        head = f"{name}: case {case} of {trials} fails.\ninputs:\n{shown}\n"
        try:
            got = fn(*copies.values())
        except Exception as err:  # the reader's code: report any error it raises
            failed = head + f"your function raised {type(err).__name__}: {err}"
            break
        changed = [a for a, v in copies.items()
                   if isinstance(v, np.ndarray) and not np.array_equal(v, inputs[a])]
        if changed:
            failed = head + (f"your function changed its input {', '.join(changed)} in place "
                             "(e.g. `x -= ...`); return a new array instead.")
            break
        if got is None:
            failed = head + "your function returned None: did you forget `return`?"
            break
        got = np.asarray(_validate.as_numpy(got), dtype=float)
        if not _close(got, expected):
            failed = head + f"expected: {_fmt(expected)}\ngot:      {_fmt(got)}"
            if got.shape != expected.shape:
                failed += f"\nshape: expected {expected.shape}, got {got.shape}"
            for hint, wrong in mistakes:
                if _close(got, np.asarray(wrong(**inputs), dtype=float)):
                    failed += f"\nhint: {hint}"
                    break
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


def gd_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True):
    r"""Check ``fn(x, g, eta)`` against :math:`x_{k+1} = x_k - \eta g_k` on ``trials`` random
    cases. Prints a pass or the first failing case; returns a :class:`CheckResult`."""
    mistakes = [
        ("the gradient term has the wrong sign: descent moves against the gradient.",
         lambda x, g, eta: x + eta * g),
        ("the step size is missing: multiply the gradient by eta.", lambda x, g, eta: x - g),
    ]
    return _run("gd_step", fn, ("x", "g", "eta"), reference_gd_step, mistakes, trials, seed,
                verbose)


def heavy_ball_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True):
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
                reference_heavy_ball_step, mistakes, trials, seed, verbose)


def nesterov_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True):
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
                reference_nesterov_step, mistakes, trials, seed, verbose)


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


def deep_linear_gradients(fn: Callable, *, trials: int = 20, seed: int = 0,
                          verbose: bool = True) -> CheckResult:
    r"""Check ``fn(weights, X, Y, scale)`` (Exercise 5.2) against the layer gradients of the
    deep linear network's loss :math:`\ell = \tfrac12\|a W_L \cdots W_1 X - Y\|_F^2`,

    .. math::
        \nabla_{W_\ell}\ell = a\,(W_L \cdots W_{\ell+1})^\top\, U\, (W_{\ell-1} \cdots W_1 X)^\top,
        \qquad U = a W_L \cdots W_1 X - Y,

    where ``weights`` is the list :math:`[W_1, \dots, W_L]` of NumPy arrays
    (:math:`W_\ell` of shape ``(d_l, d_{l-1})``), ``X`` has shape ``(d_x, n)``, ``Y``
    ``(d_y, n)`` and ``scale`` is :math:`a`. ``fn`` returns the list of gradients in the same
    order. The reference is autograd (:func:`reference_deep_linear_gradients`); depths 1 to 4
    and widths 1 to 5 are drawn at random. Prints a pass or the first failing case; returns a
    :class:`CheckResult`."""
    if not callable(fn):
        raise ValueError(f"fn must be a function, got {type(fn).__name__}")
    _validate.positive_int("trials", trials)
    rng = np.random.default_rng(seed)
    name = "deep_linear_gradients"
    message, failed, case = f"{name}: all {trials} random cases pass.", None, None
    for case in range(1, trials + 1):
        depth = int(rng.integers(1, 5))
        widths = [int(v) for v in rng.integers(1, 6, size=depth + 1)]
        n = int(rng.integers(1, 5))
        weights = [rng.standard_normal((widths[i + 1], widths[i])) for i in range(depth)]
        X = rng.standard_normal((widths[0], n))
        Y = rng.standard_normal((widths[-1], n))
        scale = float(np.round(rng.uniform(0.2, 1.5), 3))
        expected = reference_deep_linear_gradients(weights, X, Y, scale)
        head = (f"{name}: case {case} of {trials} fails (depth {depth}, widths {widths}, "
                f"n = {n}, scale = {scale:g}).\n")
        copies = [w.copy() for w in weights]
        try:
            got = fn(copies, X.copy(), Y.copy(), scale)
        except Exception as err:  # the reader's code: report any error it raises
            failed = head + f"your function raised {type(err).__name__}: {err}"
            break
        if any(not np.array_equal(a, b) for a, b in zip(copies, weights)):
            failed = head + "your function changed the weights in place; return new arrays."
            break
        if got is None or len(got) != depth:
            failed = head + (f"expected a list of {depth} gradients (one per layer), got "
                             f"{'None' if got is None else len(got)}")
            break
        got = [np.asarray(_validate.as_numpy(g), dtype=float) for g in got]
        bad = [i for i, (g, e) in enumerate(zip(got, expected)) if not _close(g, e)]
        if bad:
            i = bad[0]
            failed = head + (f"layer {i + 1}: expected\n{_fmt(expected[i])}\ngot\n"
                             f"{_fmt(got[i])}")
            if got[i].shape != expected[i].shape:
                failed += (f"\nshape: expected {expected[i].shape} (the shape of W_{i + 1}), "
                           f"got {got[i].shape}")
            elif _close(got[i] * scale, expected[i]):
                failed += ("\nhint: off by the factor scale: U already contains one factor a, "
                           "and the derivative of a W_L ... W_1 brings a second.")
            elif _close(got[i], expected[i] * scale):
                failed += "\nhint: one factor of scale too many."
            break
    if failed is not None:
        message = failed
    else:
        case = None
    if verbose:
        print(message)
    return CheckResult(name, failed is None, trials, message, case)

# Chapter 6: the MaSS step (added for "Beyond the theorems")
# --------------------------------------------------------------------------------------------


def reference_mass_step(w, u, g, eta1, eta2, gamma):
    r"""One step of MaSS (Liu & Belkin 2020), as in :mod:`momentum.stochastic`:
    :math:`w_{k+1} = u_k - \eta_1 g`, :math:`u_{k+1} = (1+\gamma) w_{k+1} - \gamma w_k +
    \eta_2 g`, with :math:`g = \tilde g(u_k)` the mini-batch gradient at :math:`u_k`; returns
    the pair ``(w_next, u_next)``."""
    w_next = u - eta1 * g
    return w_next, (1 + gamma) * w_next - gamma * w + eta2 * g


def mass_step(fn: Callable, *, trials: int = 20, seed: int = 0, verbose: bool = True):
    r"""Check ``fn(w, u, g, eta1, eta2, gamma) -> (w_next, u_next)`` against
    :func:`reference_mass_step` on ``trials`` random cases (the reference is tested against
    :func:`momentum.stochastic.minibatch_run`). Prints a pass or the first failing case, with a
    hint for the common mistakes; returns a :class:`CheckResult`."""
    if not callable(fn):
        raise ValueError(f"fn must be a function, got {type(fn).__name__}")
    _validate.positive_int("trials", trials)
    mistakes = [
        ("the compensation term is missing: that is Nesterov's method (eta2 = 0).",
         lambda w, u, g, eta1, eta2, gamma: reference_mass_step(w, u, g, eta1, 0.0, gamma)),
        ("the compensation term has the wrong sign: u_next adds + eta2 * g.",
         lambda w, u, g, eta1, eta2, gamma: reference_mass_step(w, u, g, eta1, -eta2, gamma)),
        ("the extrapolation uses u instead of w: u_next = (1 + gamma) w_next - gamma w + ...",
         lambda w, u, g, eta1, eta2, gamma: reference_mass_step(u, u, g, eta1, eta2, gamma)),
        ("the gradient step starts from w; it starts from u (where g was taken).",
         lambda w, u, g, eta1, eta2, gamma: (w - eta1 * g,
                                             (1 + gamma) * (w - eta1 * g) - gamma * w
                                             + eta2 * g)),
    ]
    rng = np.random.default_rng(seed)
    message, failed, case = f"mass_step: all {trials} random cases pass.", None, None
    for case in range(1, trials + 1):
        d = int(rng.integers(1, 6))
        inputs = dict(w=rng.standard_normal(d), u=rng.standard_normal(d),
                      g=rng.standard_normal(d),
                      eta1=float(np.round(rng.uniform(0.05, 1.0), 3)),
                      eta2=float(np.round(rng.uniform(0.01, 0.5), 3)),
                      gamma=float(np.round(rng.uniform(0.1, 0.95), 3)))
        expected = np.asarray(reference_mass_step(**inputs), dtype=float)
        copies = {a: (v.copy() if isinstance(v, np.ndarray) else v) for a, v in inputs.items()}
        shown = "\n".join(f"  {a} = {_fmt(v)}" for a, v in inputs.items())
        head = f"mass_step: case {case} of {trials} fails.\ninputs:\n{shown}\n"
        try:
            got = fn(*copies.values())
        except Exception as err:  # the reader's code: report any error it raises
            failed = head + f"your function raised {type(err).__name__}: {err}"
            break
        if got is None:
            failed = head + "your function returned None: return the pair (w_next, u_next)."
            break
        try:
            got = np.asarray([np.asarray(_validate.as_numpy(v), dtype=float) for v in got])
        except (TypeError, ValueError):
            failed = head + "return the pair (w_next, u_next) of arrays of the inputs' shape."
            break
        if not _close(got, expected):
            failed = head + f"expected: {_fmt(expected)}\ngot:      {_fmt(got)}"
            for hint, wrong in mistakes:
                if _close(got, np.asarray(wrong(**inputs), dtype=float)):
                    failed += f"\nhint: {hint}"
                    break
            break
    if failed is not None:
        message = failed
    if verbose:
        print(message)
    return CheckResult("mass_step", failed is None, trials, message,
                       None if failed is None else case)


__all__ += ["mass_step"]

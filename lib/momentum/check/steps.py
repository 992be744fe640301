r"""Chapter 1's checkers: one step of gradient descent, heavy ball and Nesterov, against the
references below (re-exported by :mod:`momentum.check`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .. import optimizers
from . import TIMEOUT, _run

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





r"""The three first-order methods of the book, on a flat parameter vector.

Notation (fixed across the book): step size :math:`\eta`, momentum :math:`\beta`, iterate
:math:`x_k`, Nesterov's extrapolated point :math:`y_k`.

* Gradient descent (Cauchy 1847):
  :math:`x_{k+1} = x_k - \eta \nabla f(x_k)`.
* Heavy ball (Polyak 1964):
  :math:`x_{k+1} = x_k - \eta \nabla f(x_k) + \beta (x_k - x_{k-1})`, with :math:`x_{-1} = x_0`.
* Nesterov's accelerated gradient (Nesterov 1983; the form of Liao & Kyrillidis 2024, eq. (2)):
  :math:`x_{k+1} = y_k - \eta \nabla f(y_k)`,
  :math:`y_{k+1} = x_{k+1} + \beta (x_{k+1} - x_k)`, with :math:`y_0 = x_0`.

Each function takes ``grad`` (a callable returning :math:`\nabla f(x)` with the shape of ``x``)
and a start ``x0`` that is a NumPy array or a torch tensor of shape ``(..., d)``. Leading axes are
independent trials run together as one tensor computation (``grad`` must act row-wise); ``eta``
and ``beta`` may then be arrays that broadcast against ``x0`` (e.g. shape ``(B, 1)``), which
sweeps hyperparameters in one run. Each returns a :class:`~momentum.records.Trajectory` (the one
record of every run, with its one divergence rule; :mod:`momentum.records`). The three share
one signature ``(grad, x0, *, eta, beta, steps, loss=None)`` (gradient descent's ``beta`` must
be 0); :data:`METHODS` lists them and :func:`run` calls one by name.

The body of each function is the iteration itself; validating the inputs, recording each step
and stopping a run that diverges happen in a helper out of sight (:class:`_Run`): ``run.grad(z)``
evaluates and records the gradient, ``for _ in run`` counts the steps and ends early on
divergence.

:func:`torch_optimizer` returns the ``torch.optim.SGD`` that *is* each method for training an
``nn.Module``; :func:`book_iterates` undoes its change of variables (PyTorch's Nesterov iterates
the extrapolated points); both are documented once, in the section "PyTorch" below.

**Two starts of one recursion** (the map, documented once). Eliminating :math:`x_k`, the book's
Nesterov is a recursion in the extrapolated points alone,

.. math::
    y_{k+1} = y_k + \beta (y_k - y_{k-1}) - \eta \nabla f(y_k)
    - \beta\eta\,\big(\nabla f(y_k) - \nabla f(y_{k-1})\big),

which is Liu, Tao, Li, Zhan, Wang & Pan (2023), eq. (5), with :math:`W(k) = y_k`. The two
conventions of the book start it differently:

* ``"book"`` (Liao & Kyrillidis 2024, eq. (2); Chapters 1-3, 5, 7 and Chapter 6's quadratic,
  least-squares and additive runs): :math:`y_0 = x_0`, so the first step is
  :math:`y_1 - y_0 = -(1 + \beta)\eta\nabla f(y_0)` (also PyTorch's
  ``SGD(nesterov=True)``, whose parameters are the :math:`y_k`); the loss is recorded at
  :math:`x_k` (:func:`nesterov`, :func:`book_iterates`).
* ``"liu"`` (Liu et al. 2023, eqs. (4)-(5) from :math:`W(-1) = W(0)`; Chapter 4 and Chapter 6's
  two-layer runs): the first step is :math:`W(1) - W(0) = -\eta\nabla\ell(W(0))`, which is the
  book's recursion started from :math:`y_0 = W(0)`, :math:`x_0 = W(0) - \eta\nabla\ell(W(0))`
  (then :math:`x_1 = x_0` and :math:`y_1 = x_1`); the loss is recorded at :math:`W(k)`, where
  the gradient is taken (:func:`liu_step`). On a quadratic the book's :math:`x_k` equal these
  :math:`W(k)` (the gradient is linear, so both recursions and their first steps agree); on
  other losses they differ from the second step on.

For heavy ball the two conventions coincide (:math:`x_{-1} = x_0`, loss at :math:`x_k`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import _validate
from .records import (
    DIVERGENCE_FACTOR,
    DivergenceWarning,
    Trajectory,
    first_divergence,
    warn_diverged,
)

__all__ = [
    "DivergenceWarning",
    "Trajectory",
    "gd",
    "heavy_ball",
    "nesterov",
    "run",
    "method_by_name",
    "torch_optimizer",
    "book_iterates",
    "liu_step",
    "CONVENTIONS",
    "METHODS",
    "DIVERGENCE_FACTOR",
]


# --------------------------------------------------------------------------------------------
# The three update rules
# --------------------------------------------------------------------------------------------


def gd(grad: Callable, x0, *, eta, beta=0.0, steps: int, loss: Callable | None = None,
       keep_iterates: bool = True) -> Trajectory:
    r"""Gradient descent (Cauchy 1847),

    .. math:: x_{k+1} = x_k - \eta \nabla f(x_k).

    ``beta`` is accepted so the three methods share one signature; it must be 0. Returns a
    :class:`Trajectory` of ``steps + 1`` points :math:`x_0, \dots, x_K`.
    """
    run = _Run("gd", grad, x0, eta, beta, steps, loss, keep_iterates)
    eta = run.eta
    x = run.x0
    for _ in run:
        g = run.grad(x)                       # the gradient at x_k (recorded with x_k)
        x = x - eta * g
    return run.trajectory(x)


def heavy_ball(grad: Callable, x0, *, eta, beta, steps: int, loss: Callable | None = None,
               keep_iterates: bool = True) -> Trajectory:
    r"""Polyak's heavy ball (Polyak 1964),

    .. math:: x_{k+1} = x_k - \eta \nabla f(x_k) + \beta (x_k - x_{k-1}), \qquad x_{-1} = x_0

    (no momentum on the first step, which is also what ``torch.optim.SGD(momentum=beta)``
    does).
    """
    run = _Run("heavy_ball", grad, x0, eta, beta, steps, loss, keep_iterates)
    eta, beta = run.eta, run.beta
    x = x_prev = run.x0
    for _ in run:
        g = run.grad(x)
        x, x_prev = x - eta * g + beta * (x - x_prev), x
    return run.trajectory(x)


def nesterov(grad: Callable, x0, *, eta, beta, steps: int, loss: Callable | None = None,
             keep_iterates: bool = True) -> Trajectory:
    r"""Nesterov's accelerated gradient with constant momentum (Nesterov 2018, §2.2;
    Liao & Kyrillidis 2024, eq. (2)),

    .. math::
        x_{k+1} = y_k - \eta \nabla f(y_k), \qquad
        y_{k+1} = x_{k+1} + \beta (x_{k+1} - x_k), \qquad y_0 = x_0 .

    The gradient is taken at the extrapolated point :math:`y_k`; the Trajectory keeps
    both sequences (``x`` and ``y``), the loss at :math:`x_k` and
    :math:`\|\nabla f(y_k)\|`.
    """
    run = _Run("nesterov", grad, x0, eta, beta, steps, loss, keep_iterates)
    eta, beta = run.eta, run.beta
    x = y = run.x0
    for _ in run:
        g = run.grad(y, x=x)            # the gradient at y_k (recorded with x_k, y_k)
        x_next = y - eta * g
        x, y = x_next, x_next + beta * (x_next - x)
    return run.trajectory(x, y=y)


#: The methods of the book, by name: the one place that lists them.
METHODS = ("gd", "heavy_ball", "nesterov")
_RULES = {"gd": gd, "heavy_ball": heavy_ball, "nesterov": nesterov}


def run(method: str, grad: Callable, x0, *, eta, beta=0.0, steps: int,
        loss: Callable | None = None, keep_iterates: bool = True) -> Trajectory:
    """Run the method named ``method`` (one of :data:`METHODS`): ``run("gd", ...)`` is
    ``gd(...)``, with the same arguments for all three (``beta`` 0 for ``"gd"``)."""
    return method_by_name(method)(grad, x0, eta=eta, beta=beta, steps=steps, loss=loss,
                                  keep_iterates=keep_iterates)


def method_by_name(method: str) -> Callable:
    """The update rule named ``method``; ValueError naming ``method`` when there is none."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return _RULES[method]


#: The two starts of Nesterov's recursion the book uses (module docstring, "Two starts").
CONVENTIONS = ("book", "liu")


def liu_step(method: str, w, w_prev, g, g_prev, *, eta, beta):
    r"""One step of Liu et al. (2023), eqs. (4)-(5), the convention ``"liu"`` (module
    docstring): given :math:`W(k)` = ``w``, :math:`W(k-1)` = ``w_prev``,
    :math:`\nabla\ell(W(k))` = ``g`` and :math:`\nabla\ell(W(k-1))` = ``g_prev``, returns

    .. math::
        W(k+1) = W(k) + \beta\,(W(k) - W(k-1)) - \eta\,\nabla\ell(W(k))
        \;\big[-\, \beta\eta\,(\nabla\ell(W(k)) - \nabla\ell(W(k-1)))\big],

    the bracket (the gradient correction) for ``"nesterov"`` only, ``beta`` 0 for ``"gd"``.
    ``w_prev`` and ``g_prev`` None mean the start :math:`W(-1) = W(0)` (so the correction
    vanishes and the first step is :math:`-\eta\nabla\ell(W(0))` for every method). Works on
    NumPy arrays, torch tensors and floats alike; the runners call it after validating."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if w_prev is None:
        w_prev = w
    step = w + beta * (w - w_prev) - eta * g
    if method == "nesterov" and g_prev is not None:
        step = step - beta * eta * (g - g_prev)
    return step


# --------------------------------------------------------------------------------------------
# PyTorch: the change of variables and its inverse
# --------------------------------------------------------------------------------------------


def torch_optimizer(name: str, params, *, eta: float, beta: float = 0.0) -> torch.optim.SGD:
    r"""The ``torch.optim.SGD`` that is the method ``name`` (no dampening, no weight decay).

    * ``"gd"``: ``SGD(lr=eta)``; ``beta`` must be 0.
    * ``"heavy_ball"``: ``SGD(lr=eta, momentum=beta)``. PyTorch keeps a buffer
      :math:`b_k = \beta b_{k-1} + g_k` (:math:`b_0 = g_0`) and steps
      :math:`p_{k+1} = p_k - \eta b_k`; since :math:`-\eta b_{k-1} = p_k - p_{k-1}`, this is
      :math:`p_{k+1} = p_k - \eta g_k + \beta(p_k - p_{k-1})`: heavy ball with :math:`x_{-1}=x_0`.
    * ``"nesterov"``: ``SGD(lr=eta, momentum=beta, nesterov=True)``, which steps
      :math:`p_{k+1} = p_k - \eta (g_k + \beta b_k)`. Its parameters are the book's
      **extrapolated** points, :math:`p_k = y_k`: substituting
      :math:`x_{k+1} = y_k - \eta \nabla f(y_k)` into
      :math:`y_{k+1} = x_{k+1} + \beta(x_{k+1} - x_k)` gives
      :math:`y_{k+1} = y_k - \eta \nabla f(y_k) + \beta\,(x_{k+1} - x_k)`, and
      :math:`x_{k+1} - x_k = -\eta b_k` by induction (with :math:`b_k = \beta b_{k-1} +
      \nabla f(y_k)`), so :math:`y_{k+1} = y_k - \eta(\nabla f(y_k) + \beta b_k)`.

    **The inverse** (:func:`book_iterates`): from :math:`y_k = x_k + \beta(x_k - x_{k-1})`
    and :math:`x_k - x_{k-1} = -\eta b_{k-1}`, the book's iterate is
    :math:`x_k = p_k + \beta\eta\, b_{k-1}` (:math:`b_{-1} = 0`, so :math:`x_0 = p_0`); for GD
    and heavy ball :math:`x_k = p_k`.

    Sutskever, Martens, Dahl & Hinton (2013) give the same change of variables.
    ``tests/test_optimizers.py`` checks both directions against :func:`nesterov` to 1e-10.
    """
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(f"name must be one of {METHODS}, got {name!r}")
    eta, beta = _validate.scalar("eta", eta), _validate.scalar("beta", beta)
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    if name == "gd" and beta != 0:
        raise ValueError(f"beta must be 0 for gradient descent, got {beta!r}")
    if name == "nesterov" and beta > 0:
        return torch.optim.SGD(params, lr=eta, momentum=beta, nesterov=True)
    return torch.optim.SGD(params, lr=eta, momentum=beta)


def book_iterates(opt: torch.optim.SGD, params=None) -> list[torch.Tensor]:
    r"""The book's iterates :math:`x_k` of the parameters of an optimizer made by
    :func:`torch_optimizer` (detached copies): :math:`x_k = p_k + \beta\eta\, b_{k-1}` for
    PyTorch's Nesterov, :math:`x_k = p_k` otherwise (the inverse in
    :func:`torch_optimizer`'s docstring). ``params`` defaults to all of the optimizer's."""
    if not isinstance(opt, torch.optim.SGD):
        raise ValueError(f"opt must be a torch.optim.SGD (from torch_optimizer), got "
                         f"{type(opt).__name__}")
    out = []
    for group in opt.param_groups:
        shift = group["momentum"] * group["lr"] if group.get("nesterov") else 0.0
        for p in group["params"]:
            if params is not None and not any(p is q for q in params):
                continue
            buf = opt.state[p].get("momentum_buffer") if p in opt.state else None
            out.append(p.detach().clone() if (buf is None or shift == 0)
                       else p.detach() + shift * buf)
    return out


# --------------------------------------------------------------------------------------------
# Out of sight: validating, recording and stopping a run
# --------------------------------------------------------------------------------------------


class _Rows:
    """The per-step values of one series (a loss or a gradient norm per trial), written into
    one array of ``capacity`` rows allocated at the first step.

    Why not a list of per-step arrays: each step's small array (its data often a torch
    tensor's storage, shared by ``.numpy()``) stays alive for the whole run, and the C
    allocator places these small long-lived blocks in the holes that the step's large
    temporaries (the iterate-sized tensors) leave behind; a hole so pinned can no longer take
    the next large temporary, so the heap grows by about one of them every few steps
    (Chapter 5's sweep at ``MOMENTUM_FULL=1``: 20 stacked networks, 10.8 MB iterates, grew
    by about 3.5 MB a step, to 6-13 GB; ``tests/test_optimizers.py`` measures it). One
    array per series, filled in place, leaves no small block alive per step."""

    def __init__(self, name: str, capacity: int):
        self.name, self.capacity, self.buf, self.n = name, capacity, None, 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k):
        return self.buf[:self.n][k]

    def append(self, value) -> None:
        value = np.asarray(value)
        if value.dtype.kind != "f":
            value = value.astype(float)
        if self.buf is None:          # the first value's float type, as np.stack kept it
            self.buf = np.empty((self.capacity, *value.shape), dtype=value.dtype)
        elif value.shape != self.buf.shape[1:]:
            raise ValueError(f"{self.name} returned shape {value.shape} at step {self.n}, "
                             f"{self.buf.shape[1:]} at step 0")
        self.buf[self.n] = value
        self.n += 1

    def array(self) -> np.ndarray:
        """The rows written (a copy when the run stopped early, so the rest is freed)."""
        return self.buf if self.n == self.capacity else self.buf[:self.n].copy()


class _Run:
    """Validates the inputs of a run, records each step, stops it when it diverges
    (:func:`momentum.records.first_divergence`), and builds its :class:`Trajectory`."""

    def __init__(self, method, grad, x0, eta, beta, steps, loss, keep_iterates):
        if not callable(grad):
            raise ValueError(f"grad must be callable, got {type(grad).__name__}")
        if loss is not None and not callable(loss):
            raise ValueError(f"loss must be callable or None, got {type(loss).__name__}")
        _validate.positive_int("steps", steps)
        is_torch = isinstance(x0, torch.Tensor)
        x0 = _validate.real("x0", x0)
        if x0.ndim < 1:
            raise ValueError(f"x0 must have at least one axis (the parameter vector), got {x0!r}")
        n = x0.numel() if is_torch else x0.size
        if keep_iterates:     # the iterates (and Nesterov's y_k) of every step are kept
            _validate.size("steps", (steps + 1) * n * (2 if method == "nesterov" else 1),
                           itemsize=x0.element_size() if is_torch else 8,
                           what=f"keeping the iterates of {steps} steps of {n} numbers "
                                "(keep_iterates=False keeps none)")
        # every run keeps its gradient norms (and losses) per step, one small array each: even
        # without iterates, steps bounds the record (steps=10**12 is refused, not run until
        # memory runs out)
        trials = n // max(int(x0.shape[-1]), 1)
        _validate.records(steps, 2 * trials, overhead=2 * 112)
        _validate.positive("eta", eta)
        _validate.momentum("beta", beta)
        if method == "gd" and np.any(_validate.as_numpy(beta) != 0):
            raise ValueError(f"beta must be 0 for gradient descent, got {beta!r}")
        for name, value in (("eta", eta), ("beta", beta)):
            shape = np.shape(_validate.as_numpy(value))
            try:
                ok = np.broadcast_shapes(shape, tuple(x0.shape)) == tuple(x0.shape)
            except ValueError:
                ok = False
            # a batch (x0 of shape (..., B, d)) needs eta constant along the coordinates (its
            # last axis of size 1, e.g. shape (B, 1)): an eta of shape (B,) would broadcast
            # along the coordinates, not the trials
            ok = ok and (len(shape) == 0 or x0.ndim == 1 or shape[-1] == 1)
            if not ok:
                raise ValueError(
                    f"{name} of shape {shape} does not broadcast against x0 of shape "
                    f"{tuple(x0.shape)}; for a batch of B trials use shape (B, 1)")
        as_x = (lambda v: torch.as_tensor(v, dtype=x0.dtype, device=x0.device)) if is_torch \
            else (lambda v: np.asarray(v, dtype=float))
        self.method, self._grad, self.loss, self.steps = method, grad, loss, steps
        self.eta = eta if np.ndim(_validate.as_numpy(eta)) == 0 else as_x(eta)
        self.beta = beta if np.ndim(_validate.as_numpy(beta)) == 0 else as_x(beta)
        self.x0, self.is_torch, self.keep = x0, is_torch, keep_iterates
        self.xs, self.ys = [], []
        self.losses, self.gnorms = _Rows("loss", steps + 1), _Rows("grad", steps + 1)
        self.diverged_at = None

    def __iter__(self):
        for k in range(self.steps):
            if self.diverged_at is not None:
                return
            yield k

    def _norm(self, g):
        if self.is_torch:
            return torch.linalg.vector_norm(g.detach(), dim=-1).cpu().numpy()
        return np.linalg.norm(g, axis=-1)

    def grad(self, z, x=None):
        """The gradient at z; records the point (x_k = ``x``, y_k = z when ``x`` is given,
        else x_k = z) unless the divergence rule fires there."""
        g = self._grad(z)
        if isinstance(g, torch.Tensor):
            bad = g.is_complex() or g.dtype == torch.bool
        else:
            bad = not isinstance(g, np.ndarray) or g.dtype.kind not in "fiu"
        if bad:
            kind = getattr(g, "dtype", type(g).__name__)
            raise ValueError(f"grad must return a real array or tensor (float), got {kind} "
                             f"{g!r:.60}")
        if tuple(g.shape) != tuple(z.shape):
            raise ValueError(
                f"grad returned shape {tuple(g.shape)} for an input of shape {tuple(z.shape)}")
        if self.diverged_at is None:
            self._record(z if x is None else x, None if x is None else z, g)
        if self.diverged_at is not None:    # the loop ends; keep its last update finite
            return g * 0 if self.is_torch else np.zeros_like(g)
        return g

    def _record(self, x, y, g):
        k = len(self.gnorms)
        gn = self._norm(g)
        first_gn = self.gnorms[0] if self.gnorms else None
        hit = first_divergence(gn[None], first_grad_norm=first_gn)
        loss_k = None
        if hit is None and self.loss is not None:
            loss_k = _validate.as_numpy(self.loss(x)).astype(float)
            hit = first_divergence(losses=loss_k[None])
        if hit is not None:
            self.diverged_at = k
            warn_diverged(self.method, k, self.eta, self.beta, stacklevel=5)
            return
        self.gnorms.append(gn)
        if loss_k is not None:
            self.losses.append(loss_k)
        if self.keep:
            self.xs.append(x)
            if y is not None:
                self.ys.append(y)

    def trajectory(self, x, y=None) -> Trajectory:
        """Record the last point (x_K, y_K) and return the Trajectory of the run."""
        if self.diverged_at is None:
            self.grad(x if y is None else y, x=None if y is None else x)
        stack = torch.stack if self.is_torch else np.stack
        keep = self.keep and len(self.xs) > 0
        shape = tuple(self.x0.shape[:-1])
        return Trajectory(
            method=self.method,
            eta=self.eta,
            beta=self.beta,
            x=stack(self.xs) if keep else None,
            y=stack(self.ys) if keep and self.ys else None,
            losses=self.losses.array() if len(self.losses) else
            (np.empty((0, *shape)) if self.loss is not None else None),
            grad_norms=self.gnorms.array() if len(self.gnorms) else np.empty((0, *shape)),
            diverged=self.diverged_at is not None,
            diverged_at=self.diverged_at,
        )


r"""High-resolution ODEs of heavy ball and Nesterov (Shi, Du, Jordan & Su 2021), in weight space
and in the residual space of a two-layer ReLU network (Liu, Tao, Li, Zhan, Wang & Pan 2023).

With step size :math:`s`, strong-convexity parameter :math:`\mu` and the momentum
:math:`\beta = (1-\sqrt{\mu s})/(1+\sqrt{\mu s})` (:func:`momentum.theory.high_resolution_beta`),
the iterates :math:`x_k` of heavy ball and of Nesterov (NAG-SC) stay close, for small
:math:`s`, to :math:`X(t_k)`, :math:`t_k = k\sqrt s`, where (Shi et al. 2021, §1.1; Liu et al.
2023, eqs. (12) and (14) with :math:`\alpha = \mu`)

.. math::
    \text{HB:}\quad & \ddot X + 2\sqrt\mu\,\dot X + (1+\sqrt{\mu s})\,\nabla\ell(X) = 0, \\
    \text{NAG:}\quad & \ddot X + 2\sqrt\mu\,\dot X + \sqrt s\,\nabla^2\ell(X)\,\dot X
        + (1+\sqrt{\mu s})\,\nabla\ell(X) = 0 .

The term :math:`\sqrt s\,\nabla^2\ell\,\dot X` is the continuous trace of Nesterov's gradient
correction. For the two-layer ReLU network, multiplying by :math:`\partial f/\partial w_r` and
summing over neurons turns them into ODEs for the residual :math:`\Delta = f - y`
(Liu et al. 2023, eqs. (25)-(27), :math:`\mu = \lambda_0/2`):

.. math::
    \ddot\Delta + \sqrt{2\lambda_0}\,\dot\Delta\;[+\,\sqrt s\,H\dot\Delta]
        + \Big(1 + \sqrt{\tfrac{\lambda_0 s}{2}}\Big) H \Delta = 0 ,

which is linear when the NTK Gram matrix :math:`H` is held fixed (the infinite-width limit),
and then splits into one damped oscillator per eigenvalue :math:`\lambda` of :math:`H`
(:func:`modal_solution`). Every solver returns an :class:`ODESolution`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp

from . import _validate, optimizers

__all__ = [
    "ODESolution",
    "coefficients",
    "residual_ode",
    "residual_ode_exact",
    "modal_solution",
    "modal_decay_rate",
    "weight_ode",
    "shi_initial_velocity",
    "iterate_initial_velocity",
    "iterate_gap",
]

#: The momentum methods of :data:`momentum.optimizers.METHODS`, the ones with a high-resolution ODE.
METHODS = tuple(m for m in optimizers.METHODS if m != "gd")


@dataclass
class ODESolution:
    r"""A solved ODE: times ``t`` (shape ``(T,)``), positions ``z`` (``(T, p)``: the residual
    :math:`\Delta(t)` or the flat weights :math:`W(t)`), velocities ``v`` (``(T, p)``, or
    ``None`` for the closed form), and ``success`` (the solver's flag)."""

    method: str
    t: np.ndarray
    z: np.ndarray
    v: np.ndarray | None
    success: bool = True


def coefficients(method: str, *, s: float, mu: float) -> tuple[float, float, float]:
    r"""The three coefficients :math:`(b, c, g)` of
    :math:`\ddot X + b\,\dot X + c\,\nabla^2\ell\,\dot X + g\,\nabla\ell = 0`:
    :math:`b = 2\sqrt\mu`, :math:`g = 1 + \sqrt{\mu s}`, and :math:`c = \sqrt s` for Nesterov,
    :math:`0` for heavy ball (Shi et al. 2021, §1.1)."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    s, mu = _validate.scalar("s", s), _validate.scalar("mu", mu)
    _validate.positive("s", s)
    _validate.positive("mu", mu)
    c = math.sqrt(s) if method == "nesterov" else 0.0
    return _validate.result("s and mu", (2.0 * math.sqrt(mu), c, 1.0 + math.sqrt(mu * s)))


def _times(t) -> np.ndarray:
    t = _validate.real("t", t)
    _validate.size("t", t.size, what=f"{t.size} output times")
    if t.ndim != 1 or t[0] < 0 or np.any(np.diff(t) <= 0):
        raise ValueError("t must be a 1-D increasing array of times >= 0")
    return t


def _matrix(H) -> np.ndarray:
    """H, a Gram matrix: symmetric positive semi-definite (an indefinite H makes the residual
    ODE grow exponentially, which is no residual dynamics of a network)."""
    return _validate.symmetric_psd("H", H)


#: The smallest absolute tolerance the solvers take. SciPy's step-size control divides the
#: state by ``atol + rtol |y|``; for a component that starts at zero (the velocity) a smaller
#: ``atol`` overflows that quotient and ``solve_ivp`` fails on its first step (the fuzz of
#: issue 25 found ``atol = 5e-324``, and ``1e-200`` fails too). Below about 1e-100 an absolute
#: tolerance asks for nothing a float64 solution can deliver anyway.
ATOL_FLOOR = 1e-100

#: The most explicit-solver work a numerical ODE solve may ask for: the horizon times the
#: stiffness (the largest rate |r| of the linear system, :func:`_stiffness`). An explicit
#: Runge-Kutta method needs about that many steps (its stability interval is a few units of
#: h |r|), so 1e6 bounds a solve at roughly a minute; beyond it (e.g. ``mu = 1e12``, a damping
#: of 2e6 per unit of time) the call is refused instead of running for hours.
MAX_STIFF_HORIZON = 1e6


def _tolerances(rtol, atol) -> tuple[float, float]:
    rtol, atol = _validate.tolerance("rtol", rtol), _validate.tolerance("atol", atol)
    if atol < ATOL_FLOOR:
        raise ValueError(f"atol must be >= {ATOL_FLOOR:g} (ode.ATOL_FLOOR: below it SciPy's "
                         f"step-size control overflows on a zero component), got {atol!r}")
    return rtol, atol


def _stiffness(b: float, c: float, g: float, lam_max: float) -> float:
    r"""An upper bound on the largest rate :math:`|r|` of
    :math:`\ddot\delta + (b + c\lambda)\dot\delta + g\lambda\delta = 0` over the modes
    :math:`0 \le \lambda \le \lambda_{\max}`: the roots
    :math:`r = -\gamma/2 \pm \sqrt{\gamma^2/4 - g\lambda}`, :math:`\gamma = b + c\lambda`, have
    :math:`|r| \le \gamma + \sqrt{g\lambda}`."""
    return b + c * lam_max + math.sqrt(g * lam_max)


def _check_work(name: str, t: np.ndarray, rate: float, *,
                hint: str = "residual_ode_exact (closed form, any stiffness) or ") -> None:
    """Refuse a solve whose horizon times stiffness exceeds :data:`MAX_STIFF_HORIZON`."""
    work = (t[-1] - t[0]) * rate
    if not work <= MAX_STIFF_HORIZON:
        raise ValueError(
            f"{name} too large: the ODE is stiff (largest rate about {rate:.3g} per unit time) "
            f"over a horizon of {t[-1] - t[0]:.3g}, so the explicit solver would need about "
            f"{work:.3g} steps (limit ode.MAX_STIFF_HORIZON = {MAX_STIFF_HORIZON:g}); use "
            f"{hint}a shorter horizon t")


def _finite_state(name: str, t: float, state, derivative) -> None:
    """Stop the solver on a non-finite state or derivative (else its step control can loop)."""
    if not (np.all(np.isfinite(state)) and np.all(np.isfinite(derivative))):
        raise ValueError(f"{name} gives a non-finite state or derivative at t = {t:.6g}; the "
                         "ODE cannot be solved past it (check the inputs for NaN or overflow)")


def _solved(name: str, sol) -> None:
    """A solve that stopped before the first output time returns no array to wrap: say so."""
    if not isinstance(sol.y, np.ndarray) or sol.y.ndim != 2:
        raise ValueError(f"{name}: solve_ivp failed before the first output time "
                         f"({sol.message}); check the tolerances rtol and atol and the inputs")


def _vector(name: str, value, n: int) -> np.ndarray:
    v = np.asarray(_validate.as_numpy(_validate.real(name, value)), dtype=float)
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {v.shape}")
    return v


def residual_ode(H, delta0, t, *, s: float, mu: float, method: str, v0=None,
                 rtol: float = 1e-9, atol: float = 1e-12) -> ODESolution:
    r"""Solve the residual ODE with a fixed Gram matrix :math:`H` numerically
    (``scipy.integrate.solve_ivp``, DOP853) as a first-order system in
    :math:`(\Delta, \dot\Delta)`:

    .. math::
        \ddot\Delta + 2\sqrt\mu\,\dot\Delta + c\,H\dot\Delta + (1 + \sqrt{\mu s})\,H\Delta = 0,
        \qquad c = \sqrt s \text{ (NAG) or } 0 \text{ (HB)},

    Liu et al. (2023), eqs. (26)-(27) with :math:`\mu = \lambda_0/2`. ``delta0`` is
    :math:`\Delta(0)`, ``v0`` is :math:`\dot\Delta(0)` (default 0, as in the paper's Lemmas 4
    and 6), ``t`` the increasing output times.
    """
    rtol, atol = _tolerances(rtol, atol)
    H = _matrix(H)
    n = H.shape[0]
    d0 = _vector("delta0", delta0, n)
    v0 = np.zeros(n) if v0 is None else _vector("v0", v0, n)
    t = _times(t)
    _validate.size("t", 2 * n * len(t), what=f"the solution ({len(t)} times x {2 * n} states)")
    b, c, g = coefficients(method, s=s, mu=mu)
    _check_work("mu, s, H or t", t, _stiffness(b, c, g, float(np.linalg.eigvalsh(H)[-1])))

    def rhs(time, state):
        d, v = state[:n], state[n:]
        out = np.concatenate([v, -b * v - c * (H @ v) - g * (H @ d)])
        _finite_state("H", time, state, out)
        return out

    sol = solve_ivp(rhs, (t[0], t[-1]), np.concatenate([d0, v0]), t_eval=t, method="DOP853",
                    rtol=rtol, atol=atol)
    _solved("residual_ode", sol)
    return ODESolution(method, sol.t, sol.y[:n].T, sol.y[n:].T, bool(sol.success))


def _roots(lam, *, s, mu, method):
    b, c, g = coefficients(method, s=s, mu=mu)
    lam = np.asarray(lam, dtype=float)
    gamma = b + c * lam                       # damping of the mode
    omega2 = g * lam                          # stiffness of the mode
    q = np.sqrt((gamma * gamma / 4.0 - omega2).astype(complex))
    return gamma, q


def modal_solution(lam, t, *, s: float, mu: float, method: str, delta0=1.0, v0=0.0):
    r"""The exact solution of one eigenmode :math:`\delta` of the residual ODE with fixed
    :math:`H` (eigenvalue :math:`\lambda`):

    .. math::
        \ddot\delta + \gamma\,\dot\delta + \omega^2 \delta = 0, \qquad
        \gamma = 2\sqrt\mu + c\lambda, \quad \omega^2 = (1+\sqrt{\mu s})\,\lambda,

    .. math::
        \delta(t) = e^{-\gamma t/2}\Big[\delta_0 \cosh(qt)
        + \big(\dot\delta_0 + \tfrac{\gamma}{2}\delta_0\big)\frac{\sinh(qt)}{q}\Big],
        \qquad q = \sqrt{\gamma^2/4 - \omega^2} \in \mathbb C,

    which is :math:`\cos`/:math:`\sin` for an underdamped mode (:math:`q` imaginary) and
    :math:`\delta_0 + (\dot\delta_0 + \gamma\delta_0/2)\,t` times :math:`e^{-\gamma t/2}` for a
    critically damped one (:math:`q = 0`). ``lam``, ``delta0`` and ``v0`` broadcast against
    each other; the result has shape ``lam.shape + t.shape``.
    """
    _validate.finite("lam", lam)
    if np.any(_validate.as_numpy(lam) < 0):
        raise ValueError(f"lam (an eigenvalue of the Gram matrix H) must be >= 0, got {lam!r}")
    _validate.finite("delta0", delta0)
    _validate.finite("v0", v0)
    t = _times(t)
    gamma, q = _roots(lam, s=s, mu=mu, method=method)
    d0 = np.asarray(delta0, dtype=float)
    v0 = np.asarray(v0, dtype=float)
    gamma, q, d0, v0 = (a[..., None] for a in np.broadcast_arrays(gamma, q, d0, v0))
    r1, r2 = -gamma / 2 + q, -gamma / 2 - q   # e^{-gt/2} cosh(qt) = (e^{r1 t} + e^{r2 t}) / 2
    e1, e2 = np.exp(r1 * t), np.exp(r2 * t)
    qt = q * t
    small = np.abs(qt) < 1e-4
    q_safe = np.where(q == 0, 1.0, q)
    sinh_over_q = np.where(small, t * np.exp(-gamma * t / 2) * (1 + qt * qt / 6),
                           (e1 - e2) / (2 * q_safe))
    out = d0 * (e1 + e2) / 2 + (v0 + gamma * d0 / 2) * sinh_over_q
    return _validate.result("lam, t, s and mu", np.real(out))


def modal_decay_rate(lam, *, s: float, mu: float, method: str):
    r"""The rate at which eigenmode :math:`\lambda` of the residual decays,
    :math:`|\delta(t)| \sim e^{-r t}`: :math:`r = \gamma/2 - \operatorname{Re} q` with
    :math:`\gamma` and :math:`q` of :func:`modal_solution`. For an underdamped mode
    :math:`r = \gamma/2`: :math:`\sqrt\mu` for heavy ball whatever :math:`\lambda`, but
    :math:`\sqrt\mu + \sqrt s\,\lambda/2` for Nesterov, whose gradient correction damps the
    high-frequency modes harder."""
    _validate.finite("lam", lam)
    if np.any(_validate.as_numpy(lam) < 0):
        raise ValueError(f"lam (an eigenvalue of the Gram matrix H) must be >= 0, got {lam!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        gamma, q = _roots(lam, s=s, mu=mu, method=method)
        out = gamma / 2 - np.real(q)
    _validate.result("lam, s and mu", out)
    return out if np.ndim(out) else float(out)


def residual_ode_exact(H, delta0, t, *, s: float, mu: float, method: str,
                       v0=None) -> ODESolution:
    r"""The residual ODE with fixed :math:`H = Q\,\mathrm{diag}(\lambda)\,Q^\top` solved in
    closed form: each coordinate of :math:`Q^\top\Delta` is an independent mode
    (:func:`modal_solution`) and :math:`\Delta(t) = Q\,\delta(t)`."""
    H = _matrix(H)
    n = H.shape[0]
    d0 = _vector("delta0", delta0, n)
    v0 = np.zeros(n) if v0 is None else _vector("v0", v0, n)
    lam, Q = np.linalg.eigh(H)
    modes = modal_solution(lam, t, s=s, mu=mu, method=method, delta0=Q.T @ d0, v0=Q.T @ v0)
    return ODESolution(method, _times(t), (Q @ modes).T, None, True)


def shi_initial_velocity(grad0, *, s: float, mu: float):
    r"""The initial velocity Shi et al. (2021, §1.1) attach to both high-resolution ODEs,
    :math:`\dot X(0) = -2\sqrt s\,\nabla\ell(x_0)/(1 + \sqrt{\mu s})`, matched to their
    discrete methods, whose first step is :math:`x_1 = x_0 - 2s\nabla\ell(x_0)/(1+\sqrt{\mu s})`.
    For the iterates of this book (:math:`x_{-1} = x_0`, so :math:`x_1 = x_0 - s\nabla\ell(x_0)`)
    use :func:`iterate_initial_velocity`."""
    s, mu = _validate.scalar("s", s), _validate.scalar("mu", mu)
    _validate.positive("s", s)
    _validate.positive("mu", mu)
    _validate.finite("grad0", grad0)
    return -2.0 * math.sqrt(s) * grad0 / (1.0 + math.sqrt(mu * s))


def iterate_initial_velocity(grad0, *, s: float):
    r"""The initial velocity under which both high-resolution ODEs track, to :math:`O(s)`, the
    iterates of the book's heavy ball and Nesterov started as in Liu et al. (2023), eqs.
    (4)-(5), with :math:`x_{-1} = x_0`, whose first step is :math:`x_1 = x_0 - s\nabla\ell(x_0)`:

    .. math::
        \dot X(0) = -\tfrac12 \sqrt s\,\nabla\ell(x_0).

    Reason: :math:`(x_1 - x_0)/\sqrt s = -\sqrt s\,\nabla\ell(x_0)` is a central difference,
    :math:`\dot X(\sqrt s/2) + O(s) = \dot X(0) + \tfrac{\sqrt s}{2}\ddot X(0) + O(s)`, and
    :math:`\ddot X(0) = -\nabla\ell(x_0) + O(\sqrt s)` by either ODE. With
    :math:`\dot X(0) = 0` (Liu et al.'s Lemmas 4 and 6) or :func:`shi_initial_velocity` (made
    for a different first step) the gap between iterates and ODE shrinks only like
    :math:`\sqrt s` (``tests/test_ode.py`` measures both)."""
    s = _validate.scalar("s", s)
    _validate.positive("s", s)
    _validate.finite("grad0", grad0)
    return -0.5 * math.sqrt(s) * grad0


def weight_ode(loss: Callable, w0, t, *, s: float, mu: float, method: str, v0=None,
               rtol: float = 1e-7, atol: float = 1e-9) -> ODESolution:
    r"""Solve the weight-space high-resolution ODE of heavy ball or Nesterov,

    .. math::
        \ddot W + 2\sqrt\mu\,\dot W + c\,\nabla^2\ell(W)\,\dot W
        + (1 + \sqrt{\mu s})\,\nabla\ell(W) = 0,

    Liu et al. (2023), eqs. (12) and (14) with :math:`\alpha = \mu`, for ``loss`` a function of
    a flat float64 tensor of shape ``(p,)`` returning a scalar. The gradient comes from
    ``torch.func.grad`` and Nesterov's Hessian-vector product :math:`\nabla^2\ell(W)\dot W`
    from ``torch.func.jvp`` of that gradient (for a ReLU network autograd gives the
    almost-everywhere Hessian, Liu et al. eq. (22)). Integrated with ``solve_ivp`` (RK45).
    """
    if not callable(loss):
        raise ValueError(f"loss must be callable, got {type(loss).__name__}")
    rtol, atol = _tolerances(rtol, atol)
    w0 = torch.as_tensor(_validate.real("w0", w0), dtype=torch.float64).detach().reshape(-1)
    p = w0.numel()
    v0 = torch.zeros(p, dtype=torch.float64) if v0 is None else \
        torch.as_tensor(_validate.real("v0", v0), dtype=torch.float64).reshape(-1)
    if v0.numel() != p:
        raise ValueError(f"v0 must have {p} entries like w0, got {v0.numel()}")
    t = _times(t)
    _validate.size("t", 2 * p * len(t), what=f"the solution ({len(t)} times x {2 * p} states)")
    b, c, g = coefficients(method, s=s, mu=mu)
    _check_work("mu or t", t, b, hint="")    # the damping alone; curvature adds to it
    grad = torch.func.grad(loss)

    def rhs(_, state):
        w = torch.from_numpy(state[:p])
        v = torch.from_numpy(state[p:])
        if c:
            gw, hv = torch.func.jvp(grad, (w,), (v,))
            acc = -b * v - c * hv - g * gw
        else:
            acc = -b * v - g * grad(w)
        out = np.concatenate([state[p:], acc.detach().numpy()])
        _finite_state("loss", _, state, out)
        return out

    state0 = np.concatenate([w0.numpy(), v0.numpy()])
    sol = solve_ivp(rhs, (t[0], t[-1]), state0, t_eval=t, method="RK45", rtol=rtol, atol=atol)
    _solved("weight_ode", sol)
    return ODESolution(method, sol.t, sol.y[:p].T, sol.y[p:].T, bool(sol.success))


@dataclass
class IterateGap:
    """What :func:`iterate_gap` measures: the largest relative gap ``gap``, the times ``t``,
    the iterates ``iterates`` (shape ``(K + 1, n)``) and the ODE solution ``exact`` at them."""

    gap: float
    t: np.ndarray
    iterates: np.ndarray
    exact: np.ndarray


def iterate_gap(H, delta0, *, s: float, mu: float, method: str, horizon: float,
                v0: str = "matched") -> IterateGap:
    r"""How far the iterates of heavy ball or Nesterov on the frozen-kernel quadratic
    :math:`\hat\ell(\Delta) = \tfrac12 \Delta^\top H \Delta` stay from the residual ODE
    (Liu et al. 2023, eqs. (25)-(27) with :math:`H` fixed; Shi et al. 2021, §1.1):

    .. math::
        \text{gap} = \max_{0 \le k \le K} \frac{\|\Delta_k - \Delta(t_k)\|}{\|\Delta_0\|},
        \qquad t_k = k\sqrt s,\quad K = \mathrm{round}(T/\sqrt s),

    with :math:`\eta = s`, :math:`\beta = (1-\sqrt{\mu s})/(1+\sqrt{\mu s})`
    (:func:`momentum.theory.high_resolution_beta`), ``horizon`` :math:`T`, the iterates from
    :func:`momentum.optimizers.run` and :math:`\Delta(t)` from :func:`residual_ode_exact`,
    started with :math:`\dot\Delta(0) = -\tfrac12\sqrt s\,H\Delta_0`
    (``v0="matched"``, :func:`iterate_initial_velocity`) or at rest (``v0="zero"``, as the
    theorems of Liu et al. do)."""
    from . import theory

    H = _matrix(H)
    d0 = _vector("delta0", delta0, H.shape[0])
    horizon = _validate.scalar("horizon", horizon)
    _validate.positive("horizon", horizon)
    if not isinstance(v0, str) or v0 not in ("matched", "zero"):
        raise ValueError(f"v0 must be 'matched' or 'zero', got {v0!r}")
    coefficients(method, s=s, mu=mu)                     # validates method, s, mu
    if not np.any(d0):
        raise ValueError("delta0 must not be zero (the gap is relative to its norm)")
    steps = horizon / math.sqrt(s)
    if not steps < 1e9:
        raise ValueError(f"horizon too large for s: {steps:.3g} steps of sqrt(s) to reach it")
    steps = max(int(round(steps)), 1)
    run = optimizers.run(method, lambda r: H @ r, d0, eta=s,
                         beta=theory.high_resolution_beta(mu, s), steps=steps)
    t = np.arange(steps + 1) * math.sqrt(s)
    vel = iterate_initial_velocity(H @ d0, s=s) if v0 == "matched" else np.zeros_like(d0)
    exact = residual_ode_exact(H, d0, t, s=s, mu=mu, method=method, v0=vel).z
    iterates = np.asarray(run.x)
    gap = float(np.linalg.norm(iterates - exact, axis=1).max() / np.linalg.norm(d0))
    return IterateGap(gap, t, iterates, exact)

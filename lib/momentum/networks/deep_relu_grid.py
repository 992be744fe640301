r"""Chapter 3's training grids: deep ReLU networks trained at several depths and widths with
gradient descent and Nesterov's method, the measured rates, and the quietness of the wild block.

The setting (Liao & Kyrillidis 2024, §5.2; the book's Chapter 3): a stack of seeds of
:class:`~momentum.networks.DeepReLU` with widths :math:`(d_0, M, \dots, M, d_{\Lambda-1}, 1)`,
step :math:`\eta = c / L_1` with :math:`L_1 = \max_{\text{seeds}} \sigma_{\max}(F_{\Lambda-1})^2`
at initialisation, and three momenta: gradient descent (:math:`\beta = 0`), Nesterov with the
classical :math:`\beta = (\sqrt{\kappa_x} - 1)/(\sqrt{\kappa_x} + 1)` and with Theorem 7's
:math:`\beta = (4\sqrt\kappa - \sqrt c)/(4\sqrt\kappa + 7\sqrt c)` (:math:`\kappa_x`,
:math:`\kappa` the medians over seeds). Each run is trained twice: all layers, and with the
hidden layers frozen (the last-layer least-squares problem, the "frozen-features" reference).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from .. import _validate, theory
from ..records import DivergenceWarning, Trajectory
from .deep_relu import DeepReLU, deep_relu_constants, feature_spectrum, train_deep_relu

__all__ = ["RUNS", "NAMES", "layer_widths", "rescale_init", "tuned_betas", "train_grid",
           "measured_rate", "rate_table", "quietness", "scale_sweep", "early_curvature"]

#: The three runs of a grid: (optimizer method, name of the tuning).
RUNS = (("gd", "gd"), ("nesterov", "classical"), ("nesterov", "theorem 7"))
#: How the tunings are named in tables and legends.
NAMES = {"gd": "GD", "classical": "Nesterov, classical β", "theorem 7": "Nesterov, theorem's β"}


def layer_widths(d0: int, depth: int, width: int, hidden: int = 64) -> list[int]:
    r""":math:`(d_0, M, \dots, M, d_{\Lambda-1}, 1)`: :math:`\Lambda` = ``depth`` >= 2 weight
    matrices, intermediate width :math:`M` = ``hidden``, penultimate width ``width``."""
    for name, v in [("d0", d0), ("width", width), ("hidden", hidden)]:
        _validate.positive_int(name, v)
    if not isinstance(depth, int) or depth < 2:
        raise ValueError(f"depth must be an integer >= 2, got {depth!r}")
    return [d0] + [hidden] * (depth - 2) + [width, 1]


def rescale_init(model: DeepReLU, *, last_scale=None, gain: float = 1.0) -> DeepReLU:
    r"""Change the initialisation scales of a freshly drawn ``model``, in place:

    .. math::
        W_\ell \leftarrow g\,W_\ell\ (\ell < \Lambda),\qquad
        (W_\Lambda)_{ij} \sim \mathcal N\big(0,\ s^2 / d_{\Lambda-1}\big),

    i.e. the hidden layers' standard deviation becomes :math:`g/\sqrt{d_{\ell-1}}` (``gain``
    :math:`g`; :math:`g = \sqrt2` is He's ReLU gain) and the last layer's :math:`s` times the
    fan-in value (``last_scale`` :math:`s`: 1 is the standard :math:`N(0, 1/d)`,
    :math:`d_{\Lambda-1}^{-1/4}` the book's :math:`N(0, d^{-3/2})`; ``None`` keeps the book's).
    The same Gaussian draw is rescaled, so networks differing only in scale share their
    directions. For a stack, ``last_scale`` may be a sequence, one per network. The features
    are positively homogeneous, :math:`F_{\Lambda-1} \mapsto g^{\Lambda-1} F_{\Lambda-1}`, so
    :math:`\alpha_0` and :math:`\sigma_{\max}` scale by :math:`g^{\Lambda-1}`, :math:`L_1` by
    :math:`g^{2(\Lambda-1)}`, :math:`\kappa` not at all, and :math:`s` changes none of them.
    """
    if not isinstance(model, DeepReLU):
        raise ValueError(f"model must be a DeepReLU, got {type(model).__name__}")
    _validate.positive("gain", gain)
    W_last = model.weights[-1]
    with torch.no_grad():
        for W in model.weights[:-1]:
            W.mul_(gain)
        if last_scale is not None:
            s = torch.as_tensor(np.asarray(last_scale, dtype=float), dtype=W_last.dtype,
                                device=W_last.device)
            if s.ndim > 1 or (s.ndim == 1 and (not model.batched or len(s) != len(W_last))):
                raise ValueError("last_scale must be a number, or one per network of a stack, "
                                 f"got shape {tuple(s.shape)}")
            _validate.positive("last_scale", s.cpu().numpy())
            factor = s * model.width ** 0.25         # book's std d^(-3/4) -> s d^(-1/2)
            W_last.mul_(factor.reshape(-1, 1, 1) if s.ndim == 1 else factor)
    return model


def tuned_betas(kappa_x: float, kappa: float, c: float = 1.0) -> dict:
    r"""The three momenta of a grid: ``{"gd": 0, "classical": (sqrt(kx) - 1)/(sqrt(kx) + 1),
    "theorem 7": theory.theorem7_beta(kappa, c)}`` (Nesterov 2018, §2.2; Liao & Kyrillidis
    2024, Theorem 7)."""
    _validate.kappa("kappa_x", kappa_x)
    r = math.sqrt(kappa_x)
    return {"gd": 0.0, "classical": (r - 1) / (r + 1), "theorem 7": theory.theorem7_beta(kappa, c)}


def _train(shape, X, y, method, eta, beta, *, seeds, steps, frozen, device, scales=None,
           gain=1.0, track=True) -> Trajectory:
    net = rescale_init(DeepReLU(shape, seeds=seeds), last_scale=scales, gain=gain).to(device)
    for W in net.weights[:-1]:
        W.requires_grad_(not frozen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return train_deep_relu(net, X, y, method=method, eta=eta, beta=beta, steps=steps,
                               track_features=track if not frozen else False)


def train_grid(X, y, depths: Sequence[int], widths: Sequence[int], *, seeds: Sequence[int],
               steps: int, c: float = 1.0, hidden: int = 64, device="cpu",
               track: Sequence[str] = ("gd", "classical")) -> dict:
    r"""Train every (depth, width) with the three :data:`RUNS`, all layers and frozen, one
    stack of ``seeds`` per run, at :math:`\eta = c/L_1` (see the module docstring).

    Returns ``{(depth, width): {"const", "eta", "kappa_x", "runs"}}`` with ``const`` the
    :class:`~momentum.networks.DeepReLUConstants` at initialisation and
    ``runs[name] = {"rec", "frozen", "asymptotic"}``: the two :class:`Trajectory`\ s and the
    frozen problem's asymptotic rate, the median over seeds of
    :math:`\max_i \rho(T(\sigma_i(F_{\Lambda-1})^2))` (``theory.rate_on_spectrum``).

    The per-step series of a run beyond its loss (the block steps ``dx``, ``du`` and the
    feature series ``alphas``, ``drift``, ``dx_null``: a few small decompositions every step)
    are computed for the all-layer runs named in ``track`` only, by default the two that
    Chapter 3 reads (:func:`quietness` of another run is then NaN); the frozen runs record
    their loss and gradient norm only."""
    if isinstance(track, str) or not all(t in NAMES for t in track):
        raise ValueError(f"track must be a sequence of names in {list(NAMES)}, got {track!r}")
    _validate.positive("c", c)
    _validate.positive_int("steps", steps)
    if not depths or not widths:
        raise ValueError("depths and widths must be non-empty")
    out = {}
    for depth in depths:
        for width in widths:
            shape = layer_widths(X.shape[1], depth, width, hidden)
            stack = DeepReLU(shape, seeds=seeds)
            const = deep_relu_constants(stack, X)
            spectra = feature_spectrum(stack, X).cpu().numpy()
            eta = c / float(np.max(const.L1))
            kx = float(np.median(const.kappa_x))
            betas = tuned_betas(kx, float(np.median(const.kappa)), c)
            runs = {}
            for method, name in RUNS:
                runs[name] = {key: _train(shape, X, y, method, eta, betas[name], seeds=seeds,
                                          steps=steps, frozen=frozen, device=device,
                                          track=name in track)
                              for key, frozen in [("rec", False), ("frozen", True)]}
                asym = [theory.rate_on_spectrum(method, s ** 2, eta, betas[name])
                        for s in spectra]
                runs[name]["asymptotic"] = float(np.median(asym))
            out[depth, width] = {"const": const, "eta": eta, "kappa_x": kx, "runs": runs}
    return out


def measured_rate(rec: Trajectory, *, per_seed: bool = False):
    r"""The rate of the residual norm :math:`\|F_\Lambda - Y\|_F = \sqrt{2f}` per step: the
    square root of the average loss rate :math:`(f_b/f_a)^{1/(b-a)}` over the window in which
    the loss falls from :math:`10^{-1}` to :math:`10^{-20}` of its start
    (``rec.rate(of="loss", window=(1e-1, 1e-20))``), median over seeds (or per seed).
    ``None`` if the run diverged; NaN where the loss never fell to :math:`10^{-1}` of its start.
    """
    if not isinstance(rec, Trajectory):
        raise ValueError(f"rec must be a Trajectory, got {type(rec).__name__}")
    if rec.diverged:
        return None
    r = np.sqrt(np.atleast_1d(rec.rate(of="loss", window=(1e-1, 1e-20))))
    return r if per_seed else float(np.median(r))


def _fmt(rate) -> str:
    if rate is None:
        return "diverged"
    return "no progress" if np.isnan(rate) else f"{rate:.3f}"


def rate_table(grid: dict):
    r"""A ``pandas.DataFrame`` of measured rates per (depth, width, :math:`\kappa_x`, method):
    the frozen problem's reference rate (:math:`1 - 1/\kappa_x` for GD,
    :math:`1 - 1/\sqrt{\kappa_x}` for the classical :math:`\beta`, the spectral radius for
    Theorem 7's), and :func:`measured_rate` of the frozen and the fully trained runs, printed
    to 3 decimals ("diverged", "no progress" where there is no rate)."""
    import pandas as pd

    if not isinstance(grid, dict) or not grid:
        raise ValueError("grid must be a non-empty dict returned by train_grid")
    rows = []
    for (depth, width), r in grid.items():
        kx, runs = r["kappa_x"], r["runs"]
        refs = {"gd": 1 - 1 / kx, "classical": 1 - 1 / math.sqrt(kx),
                "theorem 7": runs["theorem 7"]["asymptotic"]}
        for name, ref in refs.items():
            rows.append({"depth": depth, "width": width, "κ_x": f"{kx:.0f}",
                         "method": NAMES[name], "reference": f"{ref:.3f}",
                         "frozen": _fmt(measured_rate(runs[name]["frozen"])),
                         "all layers": _fmt(measured_rate(runs[name]["rec"]))})
    return pd.DataFrame(rows).set_index(["depth", "width", "κ_x", "method"])


def _quiet(rec: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """Per seed: the path-length ratio sum |du| / sum |dx| and max drift / alpha_0."""
    return rec.du.sum(0) / rec.dx.sum(0), rec.drift.max(0) / rec.alphas[0]


def quietness(grid: dict, name: str) -> dict:
    r"""Per (depth, width): ``(ratio, drift, diverged)``, the medians over seeds of the
    path-length ratio :math:`\sum_k \|\Delta u_k\| / \sum_k \|\Delta x_k\|` and of the largest
    relative feature drift :math:`\max_k \|F_{\Lambda-1}(u_k) - F_{\Lambda-1}(u_0)\|_2 /
    \alpha_0` of the run ``name``, over the steps recorded (a diverged stack stops at the step
    where the divergence rule fired, so its numbers measure the blow-up, not a quiet regime)."""
    if not isinstance(name, str) or name not in NAMES:
        raise ValueError(f"name must be one of {list(NAMES)}, got {name!r}")
    out = {}
    for key, r in grid.items():
        rec = r["runs"][name]["rec"]
        ratio, drift = _quiet(rec)
        out[key] = (float(np.median(ratio)), float(np.median(drift)), rec.diverged)
    return out


def scale_sweep(X, y, *, depth: int, widths: Sequence[int], scales: Sequence,
                gains: Sequence[float], seeds: Sequence[int], steps: int, c: float = 1.0,
                hidden: int = 64) -> list[dict]:
    r"""The initialisation scale (Chapter 3): for every width and hidden gain :math:`g`, one
    stack holding every last-layer scale :math:`s` times every seed (:func:`rescale_init`),
    trained with gradient descent and with Nesterov's classical :math:`\beta`, all layers, at
    :math:`\eta = c/L_1`. A scale ``"book"`` stands for :math:`d_{\Lambda-1}^{-1/4}`. Since
    :math:`s` leaves :math:`F_{\Lambda-1}` unchanged, one :math:`(\eta, \beta)` serves all the
    scales of a stack, and each network's run is the one it would have alone (if one network
    diverges the record of the whole stack stops, and every scale of it is marked diverged).

    Returns one dict per (width, gain, scale): ``alpha_0``, ``L1``, ``kappa`` (medians over
    seeds at initialisation), ``f0`` (median initial loss), and per method ``"gd"``,
    ``"nesterov"``: ``rate`` (:func:`measured_rate`, median over seeds), ``ratio`` and
    ``drift`` (as in :func:`quietness`), ``diverged``."""
    _validate.positive_int("steps", steps)
    if not scales or not gains or not widths:
        raise ValueError("widths, scales and gains must be non-empty")
    for g in gains:
        _validate.positive("gains", g)
    rows, S = [], len(seeds)
    for width in widths:
        shape = layer_widths(X.shape[1], depth, width, hidden)
        s_vals = [width ** -0.25 if s == "book" else float(s) for s in scales]
        _validate.positive("scales", np.array(s_vals))
        stack_scales = np.repeat(s_vals, S)
        for gain in gains:
            ref = rescale_init(DeepReLU(shape, seeds=list(seeds)), gain=gain)
            const = deep_relu_constants(ref, X)
            eta = c / float(np.max(const.L1))
            beta = tuned_betas(float(np.median(const.kappa_x)), float(np.median(const.kappa)),
                               c)["classical"]
            recs = {m: _train(shape, X, y, m, eta, b, seeds=list(seeds) * len(s_vals),
                              steps=steps, frozen=False, device="cpu",
                              scales=stack_scales, gain=gain,
                              track=("alphas", "drift", "dx", "du"))
                    for m, b in [("gd", 0.0), ("nesterov", beta)]}
            for i, (s, s_val) in enumerate(zip(scales, s_vals)):
                sl = slice(i * S, (i + 1) * S)
                row = {"width": width, "gain": gain, "scale": s, "s": s_val,
                       "alpha_0": float(np.median(const.alpha_0)),
                       "L1": float(np.median(const.L1)),
                       "kappa": float(np.median(const.kappa))}
                for m, rec in recs.items():
                    row["f0"] = float(np.median(rec.losses[0, sl]))
                    ratio, drift = _quiet(rec)
                    rate = None if rec.diverged else float(np.median(
                        measured_rate(rec, per_seed=True)[sl]))
                    row[m] = {"rate": rate, "ratio": float(np.median(ratio[sl])),
                              "drift": float(np.median(drift[sl])), "diverged": rec.diverged}
                rows.append(row)
    return rows


def early_curvature(X, y, shape: Sequence[int], *, eta: float, beta: float,
                    seeds: Sequence[int], steps: int) -> list[tuple]:
    r"""Rerun the first ``steps`` steps of Nesterov's method (gradient descent for
    ``beta = 0``) on :class:`DeepReLU` networks of widths ``shape``, one seed at a time, the
    iteration written out (Nesterov 2018, §2.2):

    .. math::
        y_k = w_k + \beta (w_k - w_{k-1}),\qquad w_{k+1} = y_k - \eta \nabla f(y_k),

    and track the curvature the iteration sees at the iterates :math:`w_k = (x_k, u_k)`:
    :math:`\eta\lambda_{\max}(K)` with :math:`K = J J^\top` the tangent kernel
    (:math:`J` the Jacobian of the outputs :math:`F_\Lambda` in all the weights; the nonzero
    eigenvalues of the Gauss-Newton matrix :math:`J^\top J`), and its last-layer part
    :math:`\eta\lambda_{\max}(F_{\Lambda-1} F_{\Lambda-1}^\top)`. On a quadratic of curvature
    :math:`\lambda` the iteration is stable while :math:`\eta\lambda < (2 + 2\beta)/(1 + 2\beta)`
    (2 for gradient descent). Requires :math:`d_\Lambda = 1`. Returns per seed
    ``(f_k / f_0, eta * lam_max(K), eta * lam_max(F F^T))`` as NumPy arrays; a run stops
    early when its loss is non-finite or over :math:`10^{12} f_0`."""
    _validate.positive("eta", eta)
    _validate.momentum("beta", beta)
    _validate.positive_int("steps", steps)
    if shape[-1] != 1:
        raise ValueError(f"shape must end with d_Lambda = 1, got {list(shape)!r}")
    Xt = torch.as_tensor(X, dtype=torch.float64)
    Yt = torch.as_tensor(y, dtype=torch.float64).reshape(-1)

    def outputs(*ws):                       # F_Lambda, the forward pass written out
        F = Xt
        for W in ws[:-1]:
            F = torch.relu(F @ W)
        return (F @ ws[-1]).reshape(-1)

    out = []
    for seed in seeds:
        x = [W.detach().clone() for W in DeepReLU(list(shape), seeds=int(seed)).weights]
        x_prev, rel, lam, lam_x, f0 = x, [], [], [], None
        for _ in range(steps + 1):
            f = 0.5 * float(((outputs(*x) - Yt) ** 2).sum())
            f0 = f if f0 is None else f0
            rel.append(f / f0)
            if not math.isfinite(f) or f > 1e12 * f0:
                break
            J = torch.func.jacrev(outputs, argnums=tuple(range(len(x))))(*x)
            J = [j.reshape(len(Xt), -1) for j in J]
            lam.append(eta * float(torch.linalg.eigvalsh(sum(j @ j.T for j in J))[-1]))
            lam_x.append(eta * float(torch.linalg.eigvalsh(J[-1] @ J[-1].T)[-1]))
            yk = [(a + beta * (a - b)).requires_grad_(True) for a, b in zip(x, x_prev)]
            g = torch.autograd.grad(0.5 * ((outputs(*yk) - Yt) ** 2).sum(), yk)
            x_prev, x = x, [(v - eta * gv).detach() for v, gv in zip(yk, g)]
        out.append((np.array(rel), np.array(lam), np.array(lam_x)))
    return out

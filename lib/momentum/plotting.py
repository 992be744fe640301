r"""One visual style for the whole book, and the figure types chapters share.

* :func:`use_style` sets Matplotlib's defaults (modest dpi, so committed notebooks stay small).
* :data:`COLORS`, :data:`LABELS`: one colour and one name per method, used everywhere.
* :func:`bands`: the geometric mean over trials with a band of one standard deviation of
  :math:`\log_{10}` of the values (symmetric on the log axis and never negative).
* :func:`slider`: a figure the reader scrubs in the static HTML, with no kernel: a Matplotlib
  animation rendered by ``to_jshtml``.
* :func:`power_law_fit`: the slope of a log-log plot, :math:`y \approx C x^p`, by least squares.
* :func:`kappa_race`: the essay's picture, :math:`(1-1/\kappa)^k` against
  :math:`(1-1/\sqrt\kappa)^k` with the iterations to reach a target marked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from cycler import cycler

from . import _validate, theory

__all__ = ["COLORS", "LABELS", "use_style", "bands", "slider", "kappa_race", "MAX_FRAMES",
           "PowerLaw", "power_law_fit", "times_ten", "COLUMN_WIDTH_IN", "MIN_TEXT_PT",
           "smallest_text_pt"]

COLORS = {
    "gd": "#2a9d8f",
    "heavy_ball": "#e76f51",
    "nesterov": "#6a4c93",
    "theory": "#444444",
    "x": "#264653",
    "u": "#e9c46a",
}
LABELS = {"gd": "GD", "heavy_ball": "heavy ball", "nesterov": "Nesterov"}

#: Most frames a :func:`slider` may embed (keeps a committed notebook small).
MAX_FRAMES = 40

STYLE = {
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.figsize": (6.4, 3.8),
    "figure.autolayout": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
    "animation.embed_limit": 8.0,  # MB
    "axes.prop_cycle": cycler(color=[COLORS["gd"], COLORS["heavy_ball"], COLORS["nesterov"],
                                         "#f4a261", "#264653", "#8ab17d"]),
}


#: Stored pixels per displayed pixel of every figure (crisp on high-resolution screens; the
#: browser check fails a figure below it).
PIXEL_RATIO = 2

#: Widest an output image is shown in the book's HTML at the 1280 px desktop width (CSS px,
#: measured in Chromium); a wider figure is shrunk to it, and its text with it.
COLUMN_PX = 672
#: The widest figure whose text keeps its size in the book: ``COLUMN_PX`` at the style's dpi,
#: less the inline backend's tight-box padding on both sides (8.4 - 2 x 0.1 = 8.2 in). Wide
#: figures use it (``figsize=(plotting.COLUMN_WIDTH_IN, h)``).
INLINE_PAD_IN = 0.1
COLUMN_WIDTH_IN = COLUMN_PX / STYLE["figure.dpi"] - 2 * INLINE_PAD_IN
#: Smallest text, in points, a figure may show at the column width: a figure's smallest font
#: times its shrink factor (column width over its width) is at least this (the browser check's
#: ``small-figure-text`` reads the first from the PNG, see :func:`smallest_text_pt`).
MIN_TEXT_PT = 9
#: The PNG text key under which inline figures store :func:`smallest_text_pt`.
PNG_TEXT_KEY = "momentum-smallest-text-pt"


def smallest_text_pt(fig) -> float | None:
    """The smallest font size, in points, of the visible, non-empty text of ``fig`` (titles,
    labels, tick labels, legends, annotations); None when it has no text. A figure shown
    ``s`` times its natural size shows this text at ``s`` times this size."""
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.text import Text

    if not isinstance(fig, (Figure, SubFigure)):
        raise ValueError(f"fig must be a Matplotlib figure, got {type(fig).__name__}")

    def shown(t):
        return (t.get_visible() and bool(t.get_text().strip())
                and (t.axes is None or t.axes.get_visible()))

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if shown(t)]
    return float(min(sizes)) if sizes else None


def use_style() -> None:
    """Apply the book's Matplotlib style (call once at the top of a chapter).

    In a notebook it also makes the inline backend store every figure at :data:`PIXEL_RATIO`
    times its displayed size (``"retina"`` PNGs, whose output metadata keeps the displayed
    width, which the book's HTML uses)."""
    import matplotlib as mpl  # lazily: importing momentum imports no Matplotlib

    mpl.rcParams.update(STYLE)
    _retina_inline()


def _retina_inline() -> bool:
    """Inline figures as 2x PNGs when running under IPython, each carrying its
    :func:`smallest_text_pt` as a PNG text entry (``PNG_TEXT_KEY``); True when it took."""
    try:
        from functools import partial

        from IPython import get_ipython
        from matplotlib.figure import Figure
        from matplotlib_inline.backend_inline import InlineBackend, set_matplotlib_formats
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    set_matplotlib_formats("retina")
    kwargs = dict(InlineBackend.instance().print_figure_kwargs)
    shell.display_formatter.formatters["image/png"].for_type(
        Figure, partial(_retina_png, **kwargs))
    return True


def _retina_png(fig, **kwargs):
    """IPython's retina PNG of ``fig`` (bytes at twice the size, shown at its own), with the
    figure's smallest text size stored in the PNG."""
    from IPython.core.pylabtools import retina_figure

    pt = smallest_text_pt(fig)
    metadata = dict(kwargs.pop("metadata", None) or {})
    if pt is not None:
        metadata[PNG_TEXT_KEY] = f"{pt:g}"
    return retina_figure(fig, base64=True, metadata=metadata, **kwargs)


def bands(ax, values, *, k=None, color=None, label=None, linestyle="-", alpha=0.25):
    r"""Plot, on a log y-axis, the geometric mean of ``values`` over trials,
    :math:`10^{m_k}` with :math:`m_k = \operatorname{mean}_i \log_{10} v_{ik}`, and the band
    :math:`10^{m_k \pm s_k}`, :math:`s_k = \operatorname{std}_i \log_{10} v_{ik}`.

    Not the arithmetic mean :math:`\pm` std of the values (what the essay reports): on a log axis
    losses spread over decades, the arithmetic mean is set by the largest trial and its lower
    edge :math:`\bar v - \sigma` is often negative, so it cannot be drawn. The statistic on
    :math:`\log_{10} v` is the one whose band the eye reads on a log axis: a factor
    :math:`10^{s_k}` up and down. ``values`` has shape ``(trials, steps)``; zeros and negatives
    are clipped to the smallest positive float so that they show at the floor rather than
    vanish."""
    v = _validate.array("values", values)
    if v.ndim != 2:
        raise ValueError(f"values must have shape (trials, steps), got {v.shape}")
    _validate.finite("values", v)
    logv = np.log10(np.clip(v, np.finfo(float).tiny, None))
    mean, std = logv.mean(0), logv.std(0)
    k = np.arange(v.shape[1]) if k is None else np.asarray(k)
    ax.plot(k, 10**mean, color=color, label=label, linestyle=linestyle)
    ax.fill_between(k, 10 ** (mean - std), 10 ** (mean + std), color=color, alpha=alpha, lw=0)
    ax.set_yscale("log")
    return ax


@dataclass(frozen=True)
class PowerLaw:
    r"""A fitted power law :math:`y = C x^p`, stored as the line
    :math:`\log y = \log C + p \log x` (``exponent`` :math:`p`, ``log_prefactor``
    :math:`\log C`). Calling it evaluates :math:`C x^p`; :meth:`solve` returns the :math:`x`
    at which the line reaches a given :math:`y`."""

    exponent: float
    log_prefactor: float

    def __call__(self, x):
        return np.exp(np.polyval([self.exponent, self.log_prefactor], np.log(x)))

    def solve(self, y: float) -> float:
        r""":math:`x = (y / C)^{1/p}`, where the fitted line takes the value ``y``."""
        _validate.positive("y", y)
        if abs(self.exponent) < 1e-12:
            raise ValueError("y is never reached: the fitted exponent is 0 (a flat line)")
        return float(np.exp((np.log(y) - self.log_prefactor) / self.exponent))


def power_law_fit(x, y) -> PowerLaw:
    r"""Least-squares fit of :math:`\log y_i = \log C + p \log x_i` (``numpy.polyfit`` of
    degree 1 on the logarithms): the slope :math:`p` that a log-log plot of ``y`` against
    ``x`` shows, as when iterations grow like :math:`\kappa^{1/2}` or a distance shrinks like
    :math:`m^{-1/2}`. ``x`` and ``y`` are positive, finite, of one length, at least 2 points."""
    xv = _validate.array("x", x)
    yv = _validate.array("y", y)
    if xv.ndim != 1 or xv.shape != yv.shape or xv.size < 2:
        raise ValueError(f"x and y must be 1-D of one length >= 2, got shapes {xv.shape} and "
                         f"{yv.shape}")
    _validate.positive("x", xv)
    _validate.positive("y", yv)
    p, c = np.polyfit(np.log(xv), np.log(yv), 1)
    return PowerLaw(float(p), float(c))


def slider(draw: Callable, values: Sequence, *, figsize=(6.4, 3.8), interval: int = 500):
    """A figure the reader scrubs in the built HTML (no kernel needed).

    ``draw(fig, value)`` draws one frame on an empty figure; one frame is made per entry of
    ``values`` (at most :data:`MAX_FRAMES`). Returns an ``IPython.display.HTML`` holding a
    Matplotlib ``to_jshtml`` animation with a slider and play buttons. The figure is closed so
    that the notebook does not show a stray static copy.
    """
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"values must be a sequence of frame values, got {values!r:.80}")
    values = list(values)
    if not 1 <= len(values) <= MAX_FRAMES:
        raise ValueError(f"values must have between 1 and {MAX_FRAMES} entries, got {len(values)}")
    import matplotlib.pyplot as plt  # lazily: importing momentum imports no pyplot

    fig = plt.figure(figsize=figsize)

    def frame(i):
        fig.clear()
        draw(fig, values[i])

    anim = FuncAnimation(fig, frame, frames=len(values), interval=interval)
    # frames stored at PIXEL_RATIO x the figure's dpi, shown at the figure's own size
    with plt.rc_context({"savefig.dpi": fig.dpi * PIXEL_RATIO}):
        html = anim.to_jshtml(default_mode="once")
    width = round(figsize[0] * fig.dpi)
    pt = smallest_text_pt(fig)
    html = html.replace("<img id=", f'<img style="width: {width}px; max-width: 100%" '
                        f'data-smallest-text-pt="{pt or 0:g}" id=', 1)
    plt.close(fig)
    return HTML(html)


def kappa_race(fig_or_ax, kappa: float, *, eps: float = 1e-2, k_max: int | None = None):
    r"""The essay's kappa picture: :math:`(1-1/\kappa)^k` (GD) and :math:`(1-1/\sqrt\kappa)^k`
    (Nesterov) on a log axis, the target :math:`\varepsilon` dashed, and a dot where each curve
    first reaches it (:func:`momentum.theory.iterations_for`). Draws on an axes, or on a new axes
    of a figure."""
    _validate.kappa("kappa", kappa)
    ax = fig_or_ax.add_subplot() if hasattr(fig_or_ax, "add_subplot") else fig_or_ax
    rates = {"gd": theory.rate_gd(kappa), "nesterov": theory.rate_nesterov(kappa)}
    if rates["nesterov"] >= 1:
        raise ValueError(f"kappa too large: 1 - 1/sqrt(kappa) rounds to 1, got {kappa!r}")
    hits = {m: theory.iterations_for(r, eps) for m, r in rates.items()} if kappa > 1 else \
        {"gd": 0, "nesterov": 0}
    k_max = k_max or max(2 * hits["gd"], 10)
    _validate.size("kappa", k_max + 1, what=f"a curve of {k_max + 1} iterations")
    k = np.arange(k_max + 1)
    formula = {"gd": r"$(1-1/\kappa)^k$", "nesterov": r"$(1-1/\sqrt{\kappa})^k$"}
    for m, r in rates.items():
        ax.plot(k, r**k, color=COLORS[m], label=f"{LABELS[m]}: {formula[m]}")
        ax.plot([hits[m]], [r ** hits[m]], "o", color=COLORS[m])
        ax.annotate(f"k = {hits[m]}", (hits[m], r ** hits[m]), textcoords="offset points",
                    xytext=(4, 6), color=COLORS[m], fontsize=9)
    ax.axhline(eps, ls="--", color=COLORS["theory"], lw=1, label=rf"target $\varepsilon={eps:g}$")
    ax.set_yscale("log")
    ax.set_ylim(eps / 100, 1.5)
    ax.set_xlim(0, k_max)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("error bound (relative)")
    ax.set_title(rf"$\kappa = {kappa:g}$: GD needs {hits['gd'] / max(hits['nesterov'], 1):.1f}"
                 r"$\times$ as many iterations")
    ax.legend(loc="upper right")
    return ax


def times_ten(v: float, digits: int = 1) -> str:
    r"""``v`` in scientific notation as mathtext/LaTeX, for a title or a label:
    :math:`v = m \times 10^{e}` with :math:`1 \le |m| < 10` rounded to ``digits`` decimals
    (0.29 gives ``"2.9 \times 10^{-1}"``; Python's ``f"{v:.{digits}e}"``, rewritten). Put it
    between ``$`` signs. Raises ValueError for a non-finite ``v`` or a negative ``digits``."""
    if not np.isfinite(v):
        raise ValueError(f"v must be finite, got {v!r}")
    if int(digits) != digits or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    mantissa, exponent = f"{float(v):.{int(digits)}e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


#: Chapter 3's three runs per setting: (colour, line style) for GD and the two Nesterov tunings.
DEEP_RELU_STYLES = {"gd": (COLORS["gd"], "-"), "classical": (COLORS["nesterov"], "-"),
                    "theorem 7": (COLORS["nesterov"], "--")}


def loss_panels(grid: dict, depths: Sequence[int], width: int, title: Callable, *,
                names: dict, ylim=None, figsize=(COLUMN_WIDTH_IN, 3.6)):
    r"""Chapter 3's loss figure: one panel per depth at penultimate width ``width``, the relative
    loss :math:`f(x_k, u_k)/f(x_0, u_0)` of the three runs of ``grid[depth, width]`` (a grid of
    :func:`momentum.networks.deep_relu_grid.train_grid`) as :func:`bands` (geometric mean over
    seeds, :math:`\pm1` std of :math:`\log_{10}`), and dotted the median over seeds of the
    frozen-features runs of GD and of Nesterov with the classical :math:`\beta`. ``names`` maps
    each run's name to its legend label; ``title(depth, kappa_x)`` gives each panel's title.
    Returns the figure (legend below the panels)."""
    import matplotlib.pyplot as plt  # lazily: importing momentum imports no pyplot

    missing = [(d, width) for d in depths if (d, width) not in grid]
    if not depths or missing:
        raise ValueError(f"grid has no runs at (depth, width) = {missing or 'any'}")
    fig, axes = plt.subplots(1, len(depths), figsize=figsize, layout="constrained",
                             sharey=True, squeeze=False)
    axes = axes[0]
    for ax, depth in zip(axes, depths):
        r = grid[depth, width]
        for name, (color, ls) in DEEP_RELU_STYLES.items():
            rec = r["runs"][name]["rec"]
            bands(ax, rec.losses.T / rec.losses[0][:, None], color=color, linestyle=ls,
                  label=names[name])
        for name in ["gd", "classical"]:
            rec = r["runs"][name]["frozen"]
            ax.plot(np.median(rec.losses / rec.losses[0], axis=1), ":", lw=1.2,
                    color=DEEP_RELU_STYLES[name][0], label=f"{names[name]}, frozen")
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_title(title(depth, r["kappa_x"]))
        ax.set_xlabel("iteration $k$")
    axes[0].set_ylabel(r"$f(x_k, u_k) / f(x_0, u_0)$")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
    return fig

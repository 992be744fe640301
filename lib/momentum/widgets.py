"""ipywidgets controls for the live notebooks (Binder, Colab, Jupyter).

Each live control here has a static twin in :mod:`momentum.plotting` (built with
:func:`momentum.plotting.slider`) that the reader scrubs in the HTML book without a kernel; the
two share one drawing function, so they always show the same picture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import _validate, plotting

__all__ = ["live_slider", "kappa_slider"]


def live_slider(draw: Callable, values: Sequence, *, description: str = "value",
                figsize=(6.4, 3.8)):
    """An ipywidgets slider over ``values`` that redraws ``draw(fig, value)`` on each move.

    The live counterpart of :func:`momentum.plotting.slider` (same ``draw`` signature).
    Returns the ``ipywidgets`` widget (displayed by Jupyter when it is a cell's last value).
    """
    if not callable(draw):
        raise ValueError(f"draw must be callable, got {type(draw).__name__}")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"values must be a sequence, got {values!r:.80}")
    values = list(values)
    if not values:
        raise ValueError("values must not be empty")
    if not isinstance(description, str):
        raise ValueError(f"description must be a string, got {description!r:.80}")
    import ipywidgets
    import matplotlib.pyplot as plt  # lazily: importing momentum imports no pyplot

    options = [(f"{v:g}" if isinstance(v, (int, float)) else str(v), v) for v in values]

    def show(value):
        fig = plt.figure(figsize=figsize)
        draw(fig, value)
        plt.show()

    control = ipywidgets.SelectionSlider(options=options, value=values[len(values) // 2],
                                         description=description, continuous_update=False)
    return ipywidgets.interactive(show, value=control)


def kappa_slider(kappas: Sequence[float] = (10, 30, 100, 300, 1000, 3000, 10000), *,
                 eps: float = 1e-2):
    """The live kappa slider of Chapter 1: :func:`momentum.plotting.kappa_race` per kappa."""
    if isinstance(kappas, (str, bytes)) or not hasattr(kappas, "__iter__"):
        raise ValueError(f"kappas must be a sequence of condition numbers, got {kappas!r:.80}")
    kappas = list(kappas)
    if not kappas:
        raise ValueError("kappas must not be empty")
    for k in kappas:
        _validate.kappa("kappas", k)
    _validate.probability("eps", eps)
    return live_slider(lambda fig, k: plotting.kappa_race(fig, k, eps=eps), kappas,
                       description="kappa")

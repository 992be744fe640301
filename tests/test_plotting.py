"""The book's figure helpers: style, bands, static sliders, live sliders."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from momentum import optimizers, plotting, problems, theory, widgets


def test_use_style_sets_the_book_defaults():
    plotting.use_style()
    assert plt.rcParams["figure.dpi"] == plotting.STYLE["figure.dpi"]


def test_bands_plots_geometric_mean_and_band():
    fig, ax = plt.subplots()
    v = np.array([[1.0, 1e-2, 1e-4], [1.0, 1e-4, 1e-8]])
    plotting.bands(ax, v, color="k", label="x")
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [1.0, 1e-3, 1e-6])
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="values"):
        plotting.bands(ax, np.ones(3))
    with pytest.raises(ValueError, match="values"):
        plotting.bands(ax, np.array([[1.0, np.nan]]))
    plt.close(fig)


def test_slider_makes_one_frame_per_value_and_closes_its_figure():
    before = plt.get_fignums()
    calls = []

    def draw(fig, value):
        calls.append(value)
        fig.add_subplot().plot([0, 1], [0, value])

    html = plotting.slider(draw, [1, 2, 3]).data
    assert plt.get_fignums() == before
    assert html.count("data:image/png;base64") == 3
    assert {1, 2, 3} <= set(calls)
    with pytest.raises(ValueError, match="values"):
        plotting.slider(draw, range(plotting.MAX_FRAMES + 1))


def test_kappa_race_marks_the_iterations_to_target():
    fig, ax = plt.subplots()
    plotting.kappa_race(ax, 100.0, eps=1e-2)
    dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    ks = sorted(int(d.get_xdata()[0]) for d in dots)
    expected = sorted([theory.iterations_for(theory.rate_gd(100.0), 1e-2),
                       theory.iterations_for(theory.rate_nesterov(100.0), 1e-2)])
    assert ks == expected
    # the marked iteration is the first where the curve is at or below the target
    for d in dots:
        assert d.get_ydata()[0] <= 1e-2
    plt.close(fig)
    with pytest.raises(ValueError, match="kappa"):
        plotting.kappa_race(plt.figure(), 0.5)
    plt.close("all")


def test_live_slider_builds_an_interactive_widget():
    w = widgets.kappa_slider((10, 100, 1000))
    assert type(w).__name__ == "interactive"
    slider = w.children[0]
    assert [label for label, _ in slider.options] == ["10", "100", "1000"]
    with pytest.raises(ValueError, match="values"):
        widgets.live_slider(lambda fig, v: None, [])
    plt.close("all")


def test_power_law_fit_recovers_exponent_and_prefactor():
    x = np.array([10.0, 30.0, 100.0, 300.0, 1000.0])
    fit = plotting.power_law_fit(x, 3.0 * x ** -0.5)
    assert fit.exponent == pytest.approx(-0.5, abs=1e-12)
    assert np.exp(fit.log_prefactor) == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_allclose(fit(x), 3.0 * x ** -0.5, rtol=1e-12)
    assert fit.solve(0.3) == pytest.approx(100.0, rel=1e-12)
    # on measured data: GD's iterations to 1e-8 on quadratics grow like kappa, Nesterov's like
    # sqrt(kappa) (the slopes Chapter 1 reads off its log-log figure)
    kappas = np.array([10.0, 100.0, 1000.0])
    its = {"gd": [], "nesterov": []}
    for kappa in kappas:
        q = problems.random_quadratic(kappa, 20, seed=0)
        gd_t = theory.gd_tuning(1 / kappa, 1.0)
        nag_t = theory.nesterov_tuning(1 / kappa, 1.0)
        gd_run = optimizers.gd(q.grad, np.ones(20), eta=gd_t.eta, steps=20000, loss=q.loss)
        nag_run = optimizers.nesterov(q.grad, np.ones(20), eta=nag_t.eta, beta=nag_t.beta,
                                      steps=20000, loss=q.loss)
        its["gd"].append(gd_run.iterations_to(1e-8))
        its["nesterov"].append(nag_run.iterations_to(1e-8))
    assert plotting.power_law_fit(kappas, its["gd"]).exponent == pytest.approx(1.0, abs=0.1)
    assert plotting.power_law_fit(kappas, its["nesterov"]).exponent == pytest.approx(0.5, abs=0.1)


def test_power_law_fit_rejects_bad_data():
    with pytest.raises(ValueError, match="y"):
        plotting.power_law_fit([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="x"):
        plotting.power_law_fit([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="x and y"):
        plotting.power_law_fit([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="exponent"):
        plotting.power_law_fit([1.0, 2.0], [5.0, 5.0]).solve(1.0)


def test_slider_frames_are_stored_at_twice_their_displayed_width():
    import base64
    import io
    import re

    from PIL import Image

    def draw(fig, value):
        fig.add_subplot().plot([0, 1], [0, value])

    html = plotting.slider(draw, [1, 2], figsize=(4.0, 3.0)).data
    shown = int(re.search(r'<img style="width: (\d+)px', html).group(1))
    frame = re.search(r'data:image/png;base64,([^"]+)', html).group(1)
    png = Image.open(io.BytesIO(base64.b64decode(frame.replace("\\\n", ""))))
    assert shown > 0
    assert png.size[0] >= plotting.PIXEL_RATIO * shown - 1


def test_use_style_makes_inline_figures_retina_in_a_notebook():
    from IPython.core.interactiveshell import InteractiveShell

    # no IPython shell: nothing to set (an earlier test in the same process, e.g. grading a
    # notebook in process, may have left one behind: remove it first)
    if InteractiveShell.initialized():
        InteractiveShell.clear_instance()
    assert plotting._retina_inline() is False
    shell = InteractiveShell.instance()
    try:
        plotting.use_style()
        fig, ax = plt.subplots(figsize=(4.0, 3.0))
        ax.plot([0, 1], [0, 1])
        data, metadata = shell.display_formatter.format(fig)
        plt.close(fig)
        width = metadata["image/png"]["width"]
        import base64
        import io

        from PIL import Image

        raw = data["image/png"]
        png = Image.open(io.BytesIO(raw if isinstance(raw, bytes) else base64.b64decode(raw)))
        assert png.size[0] >= plotting.PIXEL_RATIO * width - 1
    finally:
        InteractiveShell.clear_instance()


def test_smallest_text_pt_reads_the_smallest_visible_font():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_xlabel("x", fontsize=12)
    ax.legend(fontsize=9)
    assert plotting.smallest_text_pt(fig) == 9
    ax.annotate("tiny", (0.5, 0.5), fontsize=6)
    assert plotting.smallest_text_pt(fig) == 6
    hidden = ax.text(0, 0, "hidden", fontsize=4)
    hidden.set_visible(False)
    ax.text(0, 1, "   ", fontsize=3)                   # blank text is not shown
    assert plotting.smallest_text_pt(fig) == 6
    plt.close(fig)
    empty = plt.figure()
    assert plotting.smallest_text_pt(empty) is None
    plt.close(empty)


def test_inline_figures_store_their_smallest_text_size_in_the_png():
    import base64
    import io

    from IPython.core.interactiveshell import InteractiveShell
    from PIL import Image

    if InteractiveShell.initialized():
        InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        plotting.use_style()
        fig, ax = plt.subplots(figsize=(4.0, 3.0))
        ax.plot([0, 1], [0, 1])
        ax.set_title("t", fontsize=7.5)
        data, _ = shell.display_formatter.format(fig)
        plt.close(fig)
        png = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
        assert png.text[plotting.PNG_TEXT_KEY] == "7.5"
    finally:
        InteractiveShell.clear_instance()


def test_a_figure_of_the_column_width_is_stored_no_wider_than_the_column():
    """The inline backend's tight box adds its padding: a full-width constrained figure of
    COLUMN_WIDTH_IN still shows at most COLUMN_PX wide, so its text keeps its size."""
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib_inline.backend_inline import InlineBackend

    assert InlineBackend.instance().print_figure_kwargs["bbox_inches"] == "tight"
    assert plt.rcParams["savefig.pad_inches"] == plotting.INLINE_PAD_IN
    if InteractiveShell.initialized():
        InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        plotting.use_style()
        fig, axes = plt.subplots(1, 2, figsize=(plotting.COLUMN_WIDTH_IN, 3),
                                 layout="constrained")
        for ax in axes:
            ax.plot([0, 1e5], [0, 1], label="a label")
            ax.set_xlabel("x (unitless)")
            ax.legend()
        _, metadata = shell.display_formatter.format(fig)
        plt.close(fig)
        assert metadata["image/png"]["width"] <= plotting.COLUMN_PX
    finally:
        InteractiveShell.clear_instance()
    assert plotting.MIN_TEXT_PT == 9


def test_slider_records_its_smallest_text_size():
    import re

    def draw(fig, value):
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, value])
        ax.set_xlabel("x", fontsize=8)

    html = plotting.slider(draw, [1, 2], figsize=(4.0, 3.0)).data
    assert re.search(r'data-smallest-text-pt="8"', html)

"""momentum.display: what a chapter stores of a number is machine-independent."""

import numpy as np
import pandas as pd
import pytest
import torch

from momentum import display


def test_rounded_keeps_six_significant_digits():
    assert display.rounded(0.8932592653075452) == 0.893259
    assert display.rounded(0.8932592653075441) == 0.893259   # the other machine's value
    assert repr(display.rounded(94.48078406344831)) == "94.4808"
    assert display.rounded(np.float32(0.1)) == 0.1
    assert display.rounded(torch.tensor(2.0 / 3.0, dtype=torch.float64)) == 0.666667
    assert display.rounded(7) == 7 and isinstance(display.rounded(np.int64(7)), int)
    assert display.rounded(0.123456789, digits=2) == 0.12


@pytest.mark.parametrize("bad", [float("inf"), -np.inf, float("nan"), np.float32("nan"),
                                 torch.tensor(float("inf"))])
def test_rounded_and_glue_refuse_non_finite_values(bad):
    with pytest.raises(ValueError, match="finite"):
        display.rounded(bad)
    with pytest.raises(ValueError, match="finite"):
        display.glue("x", bad)


def test_floored_leaves_non_finite_values_for_the_table_to_name():
    assert np.isinf(display.floored(float("inf"))) and np.isnan(display.floored(float("nan")))


@pytest.mark.parametrize("bad, name", [(1 + 2j, "value"), (True, "value"), ("0.1", "value"),
                                       (np.ones(3), "value")])
def test_rounded_refuses_non_reals(bad, name):
    with pytest.raises(ValueError, match=name):
        display.rounded(bad)


def test_rounded_refuses_bad_digits():
    with pytest.raises(ValueError, match="digits"):
        display.rounded(0.5, digits=0)
    with pytest.raises(ValueError, match="digits"):
        display.sci(0.5, digits=-1)


def test_floor_shows_round_off_as_a_bound():
    assert display.below_floor(1.7e-15) and display.below_floor(-3e-17)
    assert not display.below_floor(0.0) and not display.below_floor(1e-12)
    assert display.floored(2.1e-15) == "< 1e-12"
    assert display.floored(0.0) == 0.0
    assert display.floored(1.23456789e-3) == 0.00123457
    assert display.sci(3e-17, 0) == "< 10⁻¹²"
    assert display.sci(0.00034, 0) == "3 × 10⁻⁴"
    assert display.sci(1.7e7) == "1.7 × 10⁷"


def test_floored_frame_rounds_floats_and_keeps_the_rest():
    frame = pd.DataFrame({"a": [1e-29, 0.5123456789], "b": ["x", "y"], "c": [1, 2]})
    out = display.floored_frame(frame)
    assert list(out["a"]) == ["< 1e-12", 0.512346]
    assert list(out["b"]) == ["x", "y"] and list(out["c"]) == [1, 2]


def test_glue_stores_the_rounded_value(monkeypatch):
    seen = {}
    monkeypatch.setattr(display, "_glue_output", lambda n, v, d: seen.update({n: (v, d)}))
    display.glue("x", np.float64(0.8932592653075452))
    display.glue("s", "text")
    display.glue("k", np.int64(50))
    assert seen == {"x": (0.893259, False), "s": ("text", False), "k": (50, False)}
    with pytest.raises(ValueError, match="round-off floor"):
        display.glue("tiny", 3e-17)
    with pytest.raises(ValueError, match="name"):
        display.glue("", 1.0)


@pytest.mark.parametrize("shown", [False, True])
@pytest.mark.parametrize("value", [0.893259, "text", 50,
                                   pd.DataFrame({"κ": [10.0, 100.0], "rate": [0.5, 0.9]})])
def test_glue_writes_what_myst_nb_glue_writes(monkeypatch, value, shown):
    """The output display.glue writes (without MyST-NB) equals MyST-NB's own glue output,
    so the book's build reads it; compared through IPython's display hook."""
    import IPython.display
    import myst_nb.ext.glue

    outputs = []

    def record(data, raw, metadata):
        assert raw
        outputs.append((data, metadata))

    monkeypatch.setattr(IPython.display, "display", record)
    monkeypatch.setattr(myst_nb.ext.glue, "ipy_display", record)
    myst_nb.ext.glue.glue("v", value, shown)
    display.glue("v", value, shown)
    assert len(outputs) == 2 and outputs[0] == outputs[1]
    assert outputs[1][1]["scrapbook"]["name"] == "v"


def test_chapter_glue_reads_what_a_chapter_glued(tmp_path):
    """From the repository's stored chapters (found from the library, not the working
    directory), and None where the chapters are not there (Colab)."""
    import json
    import pathlib

    assert isinstance(display.chapter_glue(1, "slope_gd"), float)
    with pytest.raises(KeyError, match="not glued"):
        display.chapter_glue(1, "no_such_key")
    assert display.chapter_glue(1, "slope_gd", folder=tmp_path) is None
    out = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "k"}},
           "data": {display.GLUE_PREFIX + "text/plain": ["0.5"]}}
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [out]}]}
    pathlib.Path(tmp_path / "03_x.ipynb").write_text(json.dumps(nb))
    assert display.chapter_glue(3, "k", folder=tmp_path) == 0.5
    for bad, name in [(0, "chapter"), ("1", "chapter"), (True, "chapter")]:
        with pytest.raises(ValueError, match=name):
            display.chapter_glue(bad, "k")
    with pytest.raises(ValueError, match="key"):
        display.chapter_glue(1, "")


def test_table_has_a_myst_form_for_the_book_and_an_html_form_for_jupyter():
    frame = pd.DataFrame({r"$\norm{\grad f}$": ["0.34", "< 1e-12"], "method": ["GD", "NAG"],
                          r"$\min_\vx f$": ["15.2", "diverged"]})
    t = display.table(frame, "Losses at $k = 300$.", "tab-ch9-x")
    assert t.myst.startswith(":::{table} Losses at $k = 300$.\n:name: tab-ch9-x\n")
    assert "| 0.34 | GD | 15.2 |" in t.myst and "| ---: | :--- | :--- |" in t.myst
    assert repr(t) == t.myst and t._repr_markdown_() == t.myst
    assert "<caption>Losses at $k = 300$.</caption>" in t.html
    assert r"\left\lVert \nabla f \right\rVert" in t.html and r"\min_\mathbf{x} f" in t.html
    assert "0x" not in repr(t)


def test_table_macros_cover_the_books_macros():
    """Every macro _config.yml gives MathJax is expanded in the HTML form (Jupyter and Colab do
    not know them)."""
    import re
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "_config.yml").read_text())
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    backslash = chr(92)
    for name in macros:
        text = "$" + backslash + name + ("{a}$" if name == "norm" else "_0$")
        out = text
        for macro, tex in display.MACROS:
            out = re.sub(macro, tex, out)
        assert not re.search(re.escape(backslash + name) + "(?![A-Za-z])", out), (name, out)


@pytest.mark.parametrize("kwargs, name", [
    ({"caption": ""}, "caption"), ({"caption": 3}, "caption"), ({"label": "has space"}, "label"),
    ({"label": ""}, "label"), ({"frame": [[1]]}, "frame"),
    ({"caption": "As in {numref}`fig-x`."}, "caption")])
def test_table_refuses_bad_input_by_name(kwargs, name):
    args = {"frame": pd.DataFrame({"a": ["1"]}), "caption": "C.", "label": "tab-x"} | kwargs
    with pytest.raises(ValueError, match=name):
        display.table(**args)


def test_table_escapes_a_pipe_so_rows_keep_their_cells():
    from markdown_it import MarkdownIt

    frame = pd.DataFrame({"|z|": ["|a| = 1", "2"], "b": ["3", "4"]})
    t = display.table(frame, "Moduli.", "tab-ch9-pipe")
    body = t.myst.split("\n\n", 1)[1].rsplit(":::", 1)[0]
    html = MarkdownIt("commonmark").enable("table").render(body)
    rows = html.split("<tr>")[1:]
    assert len(rows) == 3 and all(r.count("<td") + r.count("<th") == 2 for r in rows), html
    assert "|a| = 1" in html and "|z|" in html

"""The browser check (.ci/browser_check.py, `make browser`) sees what a reader sees in the math:
a tiny two-page site, written here (no book build), served with the book's own offline MathJax
(sphinx-mathjax-offline) and the page structure Sphinx writes, loaded in Debian's Chromium. The
broken page has an equation with a TeX error, one with a missing brace, one undefined macro, one
raw `$x$` in the prose and one display equation wider than the column; each must be reported,
and the clean page must pass. Skipped where /usr/bin/chromium is absent (.ci/run installs it
with apt-get)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
_spec = importlib.util.spec_from_file_location("browser_check", ROOT / ".ci/browser_check.py")
bc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bc)


def _mathjax_dir() -> Path | None:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return path if (path / "tex-chtml.js").is_file() else None


MATHJAX = _mathjax_dir()
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium "
                              "(`apt-get install chromium`; .ci/run installs it)"),
    pytest.mark.skipif(MATHJAX is None, reason="sphinx-mathjax-offline is not installed "
                                               "(pip install -r requirements.txt)"),
]

# What Sphinx writes into every page with math (mathjax3_config from _config.yml, one macro).
HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<script>window.MathJax = {{"tex": {{"macros": {{"vx": "\\\\mathbf{{x}}"}}}},
 "options": {{"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}}}</script>
<script defer="defer" src="_static/mathjax/tex-chtml.js"></script>
<style>body {{ margin: 0 }} main {{ width: 600px; margin: 0 auto; }}</style>
</head><body><main><article class="bd-article" role="main">
"""
TAIL = "</article></main></body></html>\n"

CLEAN = """<h1>Clean</h1>
<p>Inline <span class="math notranslate nohighlight">\\(\\vx_k \\to \\vx^\\star\\)</span> and
a price of 5 dollars.</p>
<div class="math notranslate nohighlight">\\[\\frac{1}{2} \\lVert \\vx \\rVert^2\\]</div>
<pre>code may hold $x$ and \\alpha freely</pre>
<div class="cell_output"><img src="fig2x.png" width="150" alt="a crisp figure"></div>
"""

WIDE_TEX = " + ".join(f"a_{{{i}}} x^{{{i}}}" for i in range(40))
BROKEN = f"""<h1>Broken</h1>
<p>An error: <span class="math notranslate nohighlight">\\(x^2^3\\)</span>.</p>
<p>A missing brace: <span class="math notranslate nohighlight">\\(\\frac{{1}}{{2\\)</span>.</p>
<p>An undefined macro: <span class="math notranslate nohighlight">\\(\\vq + 1\\)</span>.</p>
<p>Raw TeX in prose: the value $x$ is not typeset.</p>
<div class="math notranslate nohighlight">\\[{WIDE_TEX}\\]</div>
<div class="highlight"><pre style="overflow-x: auto">{"x = 1  # " + "long " * 40}</pre></div>
<div class="cell_output"><img src="fig1x.png" alt="a blurry figure"></div>
<div class="cell_output"><img src="figwide.png" width="150" alt="a wide figure"></div>
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    (site / "_static").mkdir()
    (site / "_static" / "mathjax").symlink_to(MATHJAX, target_is_directory=True)
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    def text_pt(pt):
        info = PngInfo()
        info.add_text(bc.PNG_TEXT_KEY, pt)
        return info

    # shown at 150 px: 2x, its 10 pt text at full size
    Image.new("RGB", (300, 100), "white").save(site / "fig2x.png", pnginfo=text_pt("10"))
    # shown at 150 px: 1x, no text size recorded
    Image.new("RGB", (150, 50), "white").save(site / "fig1x.png")
    # a 600 px figure (1200 stored) shrunk to 150 px: its 10 pt text shows at 2.5 pt
    Image.new("RGB", (1200, 100), "white").save(site / "figwide.png", pnginfo=text_pt("10"))
    (site / "index.html").write_text(HEAD.format(title="clean") + CLEAN + TAIL)
    (site / "broken.html").write_text(HEAD.format(title="broken") + BROKEN + TAIL)
    rows, _, _ = bc.check_pages(site, str(CHROMIUM))
    return {rel: problems for rel, *_, problems in rows}


def _messages(problems, category):
    return [msg for cat, msg in problems if cat == category]


def test_clean_page_passes(results):
    assert [p for p in results["index.html"] if bc.level(p[0]) == "FAIL"] == []


def test_tex_error_and_undefined_macro_are_reported(results):
    errors = _messages(results["broken.html"], "math-error")
    assert any("MathJax error: Double exponent" in m and "x^2^3" in m for m in errors), errors
    assert any("not typeset" in m and "\\frac{1}{2" in m for m in errors), errors
    assert any("undefined macro \\vq" in m for m in errors), errors


def test_raw_tex_in_prose_is_reported(results):
    raw = _messages(results["broken.html"], "raw-tex")
    assert any("$x$" in m for m in raw), raw
    assert not any("code may hold" in m for m in _messages(results["index.html"], "raw-tex"))


def test_wide_display_equation_is_reported_at_desktop_and_phone(results):
    wide = _messages(results["broken.html"], "wide-math")
    assert len(wide) == 1 and "at 1280 px" in wide[0] and "a_{0} x^{0} + a_{1}" in wide[0]
    assert len(wide[0].split(": ", 1)[1]) <= 80  # the TeX is quoted, cut at 80 characters
    phone = _messages(results["broken.html"], "phone-overflow")
    assert any("display equation" in m and "at 390 px" in m for m in phone), phone


def test_a_figure_stored_below_twice_its_displayed_width_is_reported(results):
    low = _messages(results["broken.html"], "low-res-figure")
    assert len(low) == 1 and "150 px wide, displayed at 150 px" in low[0], low
    assert _messages(results["index.html"], "low-res-figure") == []


def test_figure_text_below_9_pt_at_the_column_width_is_reported(results):
    small = _messages(results["broken.html"], "small-figure-text")
    assert any("smallest text 2.5 pt" in m and "figwide.png" in m for m in small), small
    assert any("does not record" in m and "fig1x.png" in m for m in small), small
    assert len(small) == 2, small
    assert _messages(results["index.html"], "small-figure-text") == []


def test_wide_code_is_noted_not_failed(results):
    notes = _messages(results["broken.html"], "wide-block")
    assert any(m.startswith("code block") and "x = 1 # long" in m for m in notes), notes
    assert bc.level("wide-block") == "NOTE"


def test_strict_categories_fail_unless_lenient(results):
    cats = {cat for cat, _ in results["broken.html"]}
    assert set(bc.STRICT) <= cats
    assert all(bc.level(cat) == "FAIL" for cat in bc.STRICT)
    assert all(bc.level(cat, bc.parse_lenient("all")) == "WARN" for cat in bc.STRICT)
    assert bc.level("phone-overflow") == "NOTE"
    assert bc.parse_lenient("raw-tex, wide-math") == ("raw-tex", "wide-math")
    with pytest.raises(SystemExit):
        bc.parse_lenient("page")


def test_text_size_constants_match_the_library():
    from momentum import plotting

    assert bc.MIN_TEXT_PT == plotting.MIN_TEXT_PT
    assert bc.PNG_TEXT_KEY == plotting.PNG_TEXT_KEY
    assert bc.MIN_FIGURE_RATIO == plotting.PIXEL_RATIO

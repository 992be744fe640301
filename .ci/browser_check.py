"""Load every page of the built book in a real browser (Debian's headless Chromium) and check it.

    python .ci/browser_check.py [_build/html] [--screenshots screenshots] [--chromium PATH]

The book is served on 127.0.0.1 by Python's http.server in a subprocess; Chromium is driven
over the Chrome DevTools protocol by Playwright's Python package, launched on the system's
Chromium (``executable_path``; Playwright's own browser download is never used). Requests to
other hosts (CDNs, launch buttons) are aborted at once: CI has no network. The book serves its
own MathJax (sphinx-mathjax-offline, in ``_static/mathjax``), so the math is typeset here as a
reader sees it, and every page waits for ``MathJax.startup.promise`` (typesetting done).

A page fails on:
  * a JavaScript exception or console error, except those caused by an external resource the
    closed network blocks (a script from a CDN that never arrived);
  * an internal request that fails or answers >= 400;
  * an image that does not load;
  * an internal link to a missing page, or to an anchor (#id) that the target page lacks;
  * a static slider (a Matplotlib ``to_jshtml`` animation) that does not change its frame when
    the slider is moved with the mouse;
and, in five categories that ``--lenient`` can turn into warnings (see below):
  * ``math-error``: a MathJax error (an ``merror`` node: a TeX syntax error, a missing brace), an
    undefined macro (MathJax's ``noundefined`` draws ``\\vw`` in red), math MathJax did not
    typeset, or MathJax not loading at all on a page that has math;
  * ``raw-tex``: TeX left in the prose, outside code, pre and math elements: a ``$...$`` pair or
    a ``\\command`` (a broken ``$`` pair, a list item that split an inline formula, a raw
    ``$O(1/k^2)$`` from a .bib title);
  * ``wide-math``: a display equation wider than its column at the desktop width (1280 px);
  * ``low-res-figure``: a figure (an image in a notebook output or a figure) stored with fewer
    than twice the pixels it is displayed at, at 1280 px (blurry on a high-resolution screen);
  * ``small-figure-text``: a figure whose smallest text (recorded in its PNG by
    ``momentum.plotting``), scaled by how much the page shrinks the figure, is below 9 pt at
    1280 px, or a figure that records no text size.
It reports, without failing: what overflows at a phone width (390 px: display equations, code
cells, tables), and code cells and tables wider than the column at 1280 px. Each line names the
page and the offending TeX or text (its first 80 characters).

    --lenient math-error,raw-tex,wide-math   report these categories as WARN, exit 0 for them
    (also the environment variable BROWSER_CHECK_LENIENT; ``make browser BROWSER_FLAGS=...``)

Without ``--lenient`` every category fails. It saves a full-page screenshot of each page (at
1280 px) into the screenshots folder and prints a table. Exit status 1 if any page fails.
"""

from __future__ import annotations

import argparse
import html.parser
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 5000); })));
  return imgs.map(i => ({src: (i.currentSrc || i.src || '').slice(0, 120),
                         ok: i.complete && i.naturalWidth > 0,
                         visible: i.getClientRects().length > 0,
                         figure: !!i.closest('.cell_output, .output, figure'),
                         natural: i.naturalWidth,
                         shown: Math.round(i.getBoundingClientRect().width),
                         url: (i.currentSrc || i.src || '').startsWith('data:') ? ''
                              : (i.currentSrc || i.src || ''),
                         pt: i.dataset.smallestTextPt || null}));
}"""

#: JavaScript errors that are known, understood and harmless, each with its reason. Keep this
#: list short and the patterns exact: anything else fails the check.
KNOWN_HARMLESS = {
    "Identifier 'THEBE_JS_URL' has already been declared":
        "sphinx-thebe 0.3.1 registers its configuration <script> with "
        "app.add_js_file(None, body=...) from an event handler, and with Sphinx 7.4 that inline "
        "script appears twice in every page, so the second `const` is rejected. Thebe (live code "
        "in the page) is not enabled in this book, so nothing depends on it.",
    "Got invalid theme mode: . Resetting to auto.":
        "pydata-sphinx-theme 0.17 reads the light/dark mode from localStorage, which is empty on "
        "a reader's first visit; it logs this console error and falls back to 'auto', which is "
        "the intended default.",
}

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

#: The categories that fail unless made lenient; anything else a page reports always fails.
STRICT = ("math-error", "raw-tex", "wide-math", "low-res-figure", "small-figure-text")
#: Reported, never failing.
NOTES = ("phone-overflow", "wide-block")

#: Wait for MathJax (when the page has math), then read every typeset formula: its TeX, whether
#: it is displayed, and its errors (merror nodes, undefined macros drawn in red by noundefined).
MATH_JS = r"""async () => {
  const hasMath = !!document.querySelector('.math, .tex2jax_process, .mathjax_process');
  const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise
                      && MathJax.startup.document;
  for (let t = 0; hasMath && !ready() && t < 200; t++) await new Promise(r => setTimeout(r, 100));
  const out = {hasMath, loaded: !!ready(), items: [], untypeset: []};
  if (out.loaded) {
    await MathJax.startup.promise;
    if (document.fonts) await document.fonts.ready;
    let i = 0;
    window.__bcTex = [];
    for (const item of MathJax.startup.document.math) {
      let mml = '';
      try { mml = MathJax.startup.toMML(item.root); } catch (e) { mml = ''; }
      const root = item.typesetRoot;
      const errors = [];
      const merr = root && root.querySelector ? root.querySelector('mjx-merror') : null;
      const m = mml.match(/<merror[^>]*data-mjx-error="([^"]*)"/);
      if (m || merr) {
        errors.push('MathJax error: ' + (m ? m[1] : (merr.getAttribute('data-mjx-error')
                                                     || merr.textContent)));
      }
      for (const u of mml.matchAll(/<mtext[^>]*mathcolor="red"[^>]*>(\\[^<]*)<\/mtext>/g)) {
        errors.push('undefined macro ' + u[1]);
      }
      if (root && root.setAttribute) root.setAttribute('data-bc-index', String(i));
      window.__bcTex.push(item.math);
      out.items.push({tex: item.math, display: !!item.display, errors});
      i++;
    }
  }
  for (const el of document.querySelectorAll('span.math, div.math')) {
    if (!el.querySelector('mjx-container')) out.untypeset.push(el.textContent.trim());
  }
  return out;
}"""

#: Text of the prose (outside code, pre and math), grouped by its block element, then TeX in it.
RAW_TEX_JS = r"""() => {
  const root = document.querySelector('article.bd-article, article[role=main], main')
               || document.body;
  const SKIP = 'code, pre, kbd, samp, script, style, textarea, noscript, template, '
             + 'mjx-container, .math, .MathJax, .highlight, .headerlink';
  const BLOCK = 'p, li, dt, dd, td, th, h1, h2, h3, h4, h5, h6, figcaption, caption, '
              + 'blockquote, div, section, article, main, body';
  const groups = new Map();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest(SKIP)) continue;
    const block = el.closest(BLOCK) || root;
    groups.set(block, (groups.get(block) || '') + node.data);
  }
  const found = [];
  for (const raw of groups.values()) {
    const text = raw.replace(/\s+/g, ' ');
    // one finding per block: from its first `$...$` pair or `\command` on
    const m = text.match(/\$[^$]+\$|\\[A-Za-z]+/);
    if (m) found.push(text.slice(m[0][0] === '$' ? m.index : Math.max(0, m.index - 20)));
  }
  return found;
}"""

#: What is wider than its column at the current viewport: display equations (with their TeX),
#: code cells and outputs (pre), tables. The column is the article's content box.
WIDTH_JS = r"""() => {
  const col = document.querySelector('article.bd-article, article[role=main], main')
              || document.body;
  const cs = getComputedStyle(col), cr = col.getBoundingClientRect();
  const left = cr.left + parseFloat(cs.paddingLeft), right = cr.right - parseFloat(cs.paddingRight);
  const colWidth = Math.round(right - left);
  const out = {column: colWidth, math: [], code: [], tables: []};
  for (const c of document.querySelectorAll('mjx-container[display="true"]')) {
    const inner = c.querySelector('mjx-math') || c;
    const box = c.getBoundingClientRect(), r = inner.getBoundingClientRect();
    const width = Math.round(Math.max(r.width, c.scrollWidth));
    const over = Math.max(width - Math.min(box.width, colWidth), r.right - right, left - r.left);
    if (over > 1) {
      const i = c.getAttribute('data-bc-index');
      const tex = i !== null && window.__bcTex ? window.__bcTex[+i] : c.textContent;
      out.math.push({tex, width, column: Math.round(Math.min(box.width, colWidth))});
    }
  }
  for (const p of document.querySelectorAll('pre')) {
    if (p.getClientRects().length === 0) continue;
    const r = p.getBoundingClientRect();
    if (p.scrollWidth - p.clientWidth > 1 || r.right - right > 1) {
      const kind = p.closest('.cell_output, .output') ? 'output' : 'code';
      out.code.push({kind, width: p.scrollWidth, column: Math.min(p.clientWidth, colWidth),
                     text: p.textContent.trim().split('\n')[0]});
    }
  }
  for (const t of document.querySelectorAll('table')) {
    if (t.getClientRects().length === 0) continue;
    const r = t.getBoundingClientRect();
    const box = Math.min(t.parentElement ? t.parentElement.clientWidth : colWidth, colWidth);
    if (r.right - right > 1 || r.width - box > 1) {
      const cap = t.querySelector('caption');
      const label = cap ? cap.textContent : t.textContent;
      out.tables.push({width: Math.round(r.width), column: box,
                       text: label.trim().replace(/\s+/g, ' ')});
    }
  }
  return out;
}"""


def short(text: str, n: int = 80) -> str:
    """The first ``n`` characters of ``text`` on one line (what a failure line quotes)."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 3] + "..."


def math_problems(page) -> tuple[list[tuple[str, str]], int]:
    """Wait for MathJax's typesetting, then ``(category, message)`` for each formula with an
    error or an undefined macro, and for math left untypeset; also the number of formulas."""
    info = page.evaluate(MATH_JS)
    problems = []
    if info["hasMath"] and not info["loaded"]:
        first = info["untypeset"][0] if info["untypeset"] else ""
        problems.append(("math-error", f"MathJax did not load; raw TeX: {short(first)}"))
        return problems, 0
    for item in info["items"]:
        for err in item["errors"]:
            problems.append(("math-error", f"{short(err, 60)} in: {short(item['tex'])}"))
    for tex in info["untypeset"]:
        problems.append(("math-error", f"math not typeset: {short(tex)}"))
    return problems, len(info["items"])


def raw_tex_problems(page) -> list[tuple[str, str]]:
    r"""``("raw-tex", message)`` for each ``$...$`` pair or ``\command`` in the prose."""
    return [("raw-tex", f"raw TeX in the text: {short(t)}") for t in page.evaluate(RAW_TEX_JS)]


def width_problems(page, viewport: dict) -> list[tuple[str, str]]:
    """What is wider than the column at ``viewport``: at the desktop width, display equations
    are ``wide-math`` and code cells and tables ``wide-block`` notes; at any narrower width
    everything is a ``phone-overflow`` note."""
    page.set_viewport_size(viewport)
    page.wait_for_timeout(100)
    info = page.evaluate(WIDTH_JS)
    desktop = viewport["width"] >= DESKTOP["width"]
    at = f"at {viewport['width']} px"
    out = []
    for m in info["math"]:
        out.append(("wide-math" if desktop else "phone-overflow",
                    f"display equation {m['width']} px wide in a {m['column']} px column {at}: "
                    f"{short(m['tex'])}"))
    for c in info["code"]:
        out.append(("wide-block" if desktop else "phone-overflow",
                    f"{c['kind']} block {c['width']} px wide in a {c['column']} px column "
                    f"{at}: {short(c['text'])}"))
    for t in info["tables"]:
        out.append(("wide-block" if desktop else "phone-overflow",
                    f"table {t['width']} px wide in a {t['column']} px column {at}: "
                    f"{short(t['text'])}"))
    return out


#: A figure's stored pixels per displayed pixel, at the least (crisp on a high-resolution screen).
MIN_FIGURE_RATIO = 2.0


def figure_resolution(images: list[dict]) -> list[tuple[str, str]]:
    """``low-res-figure`` for each loaded figure (an image in a notebook output or a figure)
    stored with fewer than MIN_FIGURE_RATIO pixels per pixel it is displayed at (measured at
    the desktop width the page loads at)."""
    return [("low-res-figure", f"figure {im['natural']} px wide, displayed at {im['shown']} px "
                               f"(needs {MIN_FIGURE_RATIO:g}x): {short(im['src'], 60)}")
            for im in images if im.get("figure") and im["ok"] and im["shown"] > 0
            and im["natural"] < MIN_FIGURE_RATIO * im["shown"] - 1]


#: Smallest text a figure may show at the desktop width, in points (momentum.plotting's
#: MIN_TEXT_PT), and the PNG text entry where the book's figures store their smallest font
#: (momentum.plotting's PNG_TEXT_KEY; a slider's image carries it as data-smallest-text-pt).
MIN_TEXT_PT = 9.0
PNG_TEXT_KEY = "momentum-smallest-text-pt"


def stored_text_pt(path: Path) -> float | None:
    """The smallest font size a figure's PNG records (``PNG_TEXT_KEY``), or None."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            value = getattr(im, "text", {}).get(PNG_TEXT_KEY)
    except (OSError, ValueError):
        return None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def figure_text_size(images: list[dict], site: Path, base: str) -> list[tuple[str, str]]:
    """``small-figure-text`` for each loaded figure whose smallest text, scaled by how much the
    page shrinks the figure (displayed width over the figure's own width, its stored width over
    MIN_FIGURE_RATIO), is below MIN_TEXT_PT at the desktop width, and for a figure that does not
    record its smallest text (not drawn with momentum.plotting's style)."""
    out = []
    for im in images:
        if not (im.get("figure") and im["ok"] and im["shown"] > 0):
            continue
        pt = float(im["pt"]) if im.get("pt") else None
        if pt is None and im.get("url", "").startswith(base + "/"):
            pt = stored_text_pt(site / unquote(urlsplit(im["url"]).path).lstrip("/"))
        if pt is None:
            out.append(("small-figure-text", "figure does not record its smallest text size "
                                             f"(draw it with momentum.plotting): "
                                             f"{short(im['src'], 60)}"))
            continue
        shown_pt = pt * im["shown"] / (im["natural"] / MIN_FIGURE_RATIO)
        if shown_pt < MIN_TEXT_PT - 0.05:
            out.append(("small-figure-text",
                        f"smallest text {shown_pt:.1f} pt at the column width ({pt:g} pt, "
                        f"figure {im['natural'] / MIN_FIGURE_RATIO:.0f} px shown at "
                        f"{im['shown']} px; needs {MIN_TEXT_PT:g} pt): {short(im['src'], 60)}"))
    return out


LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"""


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("id", "name") and v:
                self.ids.add(v)


def page_ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        parser = _Ids()
        parser.feed(path.read_text(errors="replace"))
        cache[path] = parser.ids
    return cache[path]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(site: Path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1", "--directory", str(site)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the local http.server did not start")


def block_outside(context, base: str, blocked: set) -> None:
    """Abort every request of ``context`` that is not to ``base`` (the local server) or a
    ``data:`` URL, recording the blocked hosts in ``blocked``: CI has no network."""

    def route(r):
        if r.request.url.startswith(base) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            blocked.add(urlsplit(r.request.url).netloc)
            r.abort()

    context.route("**/*", route)


def pages_of(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(site).parts))


def check_links(hrefs, base: str, site: Path, here: Path, dom_ids: set[str], cache) -> tuple:
    problems, checked = [], 0
    for href in sorted(set(hrefs)):
        if not href.startswith(base):
            continue  # external (or mailto:, javascript:): not reachable from CI
        checked += 1
        parts = urlsplit(href)
        path = unquote(parts.path)
        target = site / path.lstrip("/")
        if path.endswith("/") or target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"broken link {href}")
            continue
        frag = unquote(parts.fragment)
        if frag and target.suffix == ".html":
            ids = dom_ids if target.resolve() == here.resolve() else page_ids(target, cache)
            if frag not in ids:
                problems.append(f"missing anchor {href}")
    return problems, checked


def exercise_sliders(page) -> tuple[list[str], int]:
    """Move each to_jshtml slider with the mouse; the displayed frame must change."""
    problems, moved = [], 0
    sliders = page.locator('input[type="range"][id^="_anim_slider"]')
    for i in range(sliders.count()):
        slider = sliders.nth(i)
        uid = slider.get_attribute("id")[len("_anim_slider"):]
        img = page.locator(f"#_anim_img{uid}")
        n = int(slider.get_attribute("max") or 0) + 1
        if n < 2:
            continue
        slider.scroll_into_view_if_needed()
        seen = []
        for frac in (0.9, 0.1, 0.5):
            box = slider.bounding_box()
            if box is None:
                problems.append(f"slider {i + 1} is not visible")
                break
            page.mouse.click(box["x"] + frac * box["width"], box["y"] + box["height"] / 2)
            page.wait_for_timeout(150)
            seen.append((slider.input_value(), img.get_attribute("src")))
        values = [v for v, _ in seen]
        frames = [f for _, f in seen]
        if len(set(values)) < 2 or len(set(frames)) < len(set(values)):
            problems.append(f"slider {i + 1}: moving it to {values} showed "
                            f"{len(set(frames))} distinct frame(s)")
        else:
            moved += 1
    return problems, moved


def check_pages(site: Path, chromium: str, shots: Path | None = None,
                pages: list[Path] | None = None):
    """Load every page of ``site`` (or ``pages``) in Chromium and check it.

    Returns ``(rows, harmless, blocked)``: one row per page, ``(rel, images_loaded, images,
    links, sliders, formulas, problems)`` where ``problems`` lists ``(category, message)``;
    the category is ``"page"`` for the checks that always fail, one of :data:`STRICT` or one of
    :data:`NOTES`."""
    from playwright.sync_api import sync_playwright

    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(site)
    cache, rows = {}, []
    blocked, harmless = set(), set()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
            context = browser.new_context(viewport=DESKTOP)

            block_outside(context, base, blocked)
            for path in pages if pages is not None else pages_of(site):
                rel = path.relative_to(site).as_posix()
                page = context.new_page()
                problems = []

                def pageerror(e, p=problems):
                    if str(e) in KNOWN_HARMLESS or getattr(e, "message", None) in KNOWN_HARMLESS:
                        harmless.add(str(getattr(e, "message", e)))
                    else:
                        p.append(("page", f"JS error: {e}"))

                page.on("pageerror", pageerror)

                def console(msg, p=problems):
                    url = (msg.location or {}).get("url", "")
                    if msg.type != "error" or "net::ERR_FAILED" in msg.text:
                        return
                    if msg.text in KNOWN_HARMLESS:
                        harmless.add(msg.text)
                    elif not url or url.startswith(base):
                        p.append(("page", f"console error: {msg.text[:200]}"))

                page.on("console", console)
                page.on("requestfailed", lambda r, p=problems: p.append(
                    ("page", f"failed request {r.url}")) if r.url.startswith(base) else None)
                page.on("response", lambda r, p=problems: p.append(
                    ("page", f"HTTP {r.status} for {r.url}")) if r.url.startswith(base)
                    and r.status >= 400 else None)
                page.goto(f"{base}/{rel}", wait_until="load", timeout=60_000)
                try:
                    page.wait_for_load_state("networkidle", timeout=10_000)
                except Exception:
                    pass
                math, formulas = math_problems(page)
                problems += math
                problems += raw_tex_problems(page)
                here = site / unquote(urlsplit(page.url).path).lstrip("/")
                images = page.evaluate(IMAGES_JS)
                problems += [("page", f"image did not load: {im['src']}") for im in images
                             if not im["ok"] and im["src"].startswith((base, "data:"))]
                problems += figure_resolution(images)
                problems += figure_text_size(images, site, base)
                dom_ids = set(page.evaluate(
                    "() => Array.from(document.querySelectorAll('[id],[name]'))"
                    ".flatMap(e => [e.id, e.getAttribute('name')]).filter(x => x)"))
                link_problems, links = check_links(page.evaluate(LINKS_JS), base, site, here,
                                                   dom_ids, cache)
                problems += [("page", p) for p in link_problems]
                slider_problems, sliders = exercise_sliders(page)
                problems += [("page", p) for p in slider_problems]
                problems += width_problems(page, DESKTOP)
                if shots is not None:
                    page.evaluate("() => window.scrollTo(0, 0)")
                    shot = shots / (rel.replace("/", "__")[:-5] + ".png")
                    page.screenshot(path=str(shot), full_page=True)
                problems += width_problems(page, PHONE)
                page.close()
                loaded = sum(im["ok"] for im in images)
                rows.append((rel, loaded, len(images), links, sliders, formulas, problems))
            browser.close()
    finally:
        server.kill()
        server.wait()
    return rows, harmless, blocked


def level(category: str, lenient=()) -> str:
    """FAIL, WARN (a strict category made lenient) or NOTE (reported, never failing)."""
    if category in NOTES:
        return "NOTE"
    return "WARN" if category in lenient else "FAIL"


def check_site(site: Path, shots: Path, chromium: str, lenient=()) -> int:
    """Check every page, print each problem and a table; 1 if a page fails. The categories in
    ``lenient`` (of :data:`STRICT`) are printed as WARN and do not fail."""
    rows, harmless, blocked = check_pages(site, chromium, shots)
    failures, counts = 0, {}
    for rel, *_, problems in rows:
        for cat, msg in problems:
            counts[cat] = counts.get(cat, 0) + 1
            tag = "" if cat == "page" else f"[{cat}] "
            print(f"{level(cat, lenient)} {rel}: {tag}{msg}")
        failures += any(level(cat, lenient) == "FAIL" for cat, _ in problems)
    print(f"\n{'page':<40} {'images':>9} {'links':>6} {'sliders':>8} {'math':>6} {'problems':>9}")
    for rel, ok, n, links, sliders, formulas, problems in rows:
        nprob = sum(c not in NOTES for c, _ in problems)
        print(f"{rel:<40} {f'{ok}/{n}':>9} {links:>6} {sliders:>8} {formulas:>6} {nprob:>9}")
    for known in sorted(harmless):
        print(f"known harmless JS error, ignored: {known}\n  ({KNOWN_HARMLESS.get(known, '')})")
    if blocked:
        print(f"\nexternal hosts blocked (no network in CI): {', '.join(sorted(blocked))}")
    if counts:
        print("\nby category: " + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())))
    if lenient:
        print(f"lenient (reported as WARN, not failing): {', '.join(sorted(lenient))}; "
              "drop --lenient / BROWSER_CHECK_LENIENT to make them fail")
    print(f"\n{len(rows)} pages checked in Chromium, {failures} failing; "
          f"screenshots in {shots}")
    return 1 if failures or not rows else 0


def parse_lenient(value: str) -> tuple[str, ...]:
    """``"math-error,raw-tex"`` -> the categories; "all" means every one of :data:`STRICT`."""
    cats = tuple(c.strip() for c in (value or "").split(",") if c.strip())
    if "all" in cats:
        return STRICT
    unknown = [c for c in cats if c not in STRICT]
    if unknown:
        raise SystemExit(f"--lenient: unknown categories {unknown}; known: {', '.join(STRICT)}")
    return cats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", nargs="?", type=Path, default=Path("_build/html"))
    ap.add_argument("--screenshots", type=Path, default=Path("screenshots"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--lenient", default=os.environ.get("BROWSER_CHECK_LENIENT", ""),
                    help="comma-separated categories to report without failing "
                         f"({', '.join(STRICT)}, or all); default: $BROWSER_CHECK_LENIENT, "
                         "else none (every category fails)")
    args = ap.parse_args(argv)
    lenient = parse_lenient(args.lenient)
    if not (args.site / "intro.html").is_file() and not (args.site / "index.html").is_file():
        print(f"no built book in {args.site}: run `make book` first")
        return 1
    return check_site(args.site, args.screenshots, args.chromium, lenient)


if __name__ == "__main__":
    sys.exit(main())

"""Load every page of the built book in a real browser (Debian's headless Chromium) and check it.

    python .ci/browser_check.py [_build/html] [--screenshots screenshots] [--chromium PATH]

The book is served on 127.0.0.1 by Python's http.server in a subprocess; Chromium is driven
over the Chrome DevTools protocol by Playwright's Python package, launched on the system's
Chromium (``executable_path``; Playwright's own browser download is never used). Requests to
other hosts (CDNs, launch buttons) are aborted at once: CI has no network.

A page fails on:
  * a JavaScript exception or console error, except those caused by an external resource the
    closed network blocks (a script from a CDN that never arrived);
  * an internal request that fails or answers >= 400;
  * an image that does not load;
  * an internal link to a missing page, or to an anchor (#id) that the target page lacks;
  * a static slider (a Matplotlib ``to_jshtml`` animation) that does not change its frame when
    the slider is moved with the mouse.
It saves a full-page screenshot of each page into the screenshots folder and prints a table.
Exit status 1 if any page fails.
"""

from __future__ import annotations

import argparse
import html.parser
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
                         visible: i.getClientRects().length > 0}));
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


def check_site(site: Path, shots: Path, chromium: str) -> int:
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(site)
    cache, failures, rows = {}, 0, []
    blocked, harmless = set(), set()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
            context = browser.new_context(viewport={"width": 1200, "height": 900})

            def route(r):
                if r.request.url.startswith(base) or r.request.url.startswith("data:"):
                    r.continue_()
                else:
                    blocked.add(urlsplit(r.request.url).netloc)
                    r.abort()

            context.route("**/*", route)
            for path in pages_of(site):
                rel = path.relative_to(site).as_posix()
                page = context.new_page()
                problems = []
                def pageerror(e, p=problems):
                    if str(e) in KNOWN_HARMLESS or getattr(e, "message", None) in KNOWN_HARMLESS:
                        harmless.add(str(getattr(e, "message", e)))
                    else:
                        p.append(f"JS error: {e}")

                page.on("pageerror", pageerror)

                def console(msg, p=problems):
                    url = (msg.location or {}).get("url", "")
                    if msg.type != "error" or "net::ERR_FAILED" in msg.text:
                        return
                    if msg.text in KNOWN_HARMLESS:
                        harmless.add(msg.text)
                    elif not url or url.startswith(base):
                        p.append(f"console error: {msg.text[:200]}")

                page.on("console", console)
                page.on("requestfailed", lambda r, p=problems: p.append(
                    f"failed request {r.url}") if r.url.startswith(base) else None)
                page.on("response", lambda r, p=problems: p.append(
                    f"HTTP {r.status} for {r.url}") if r.url.startswith(base)
                    and r.status >= 400 else None)
                page.goto(f"{base}/{rel}", wait_until="load", timeout=60_000)
                try:
                    page.wait_for_load_state("networkidle", timeout=10_000)
                except Exception:
                    pass
                here = site / unquote(urlsplit(page.url).path).lstrip("/")
                images = page.evaluate(IMAGES_JS)
                problems += [f"image did not load: {im['src']}" for im in images
                             if not im["ok"] and im["src"].startswith((base, "data:"))]
                dom_ids = set(page.evaluate(
                    "() => Array.from(document.querySelectorAll('[id],[name]'))"
                    ".flatMap(e => [e.id, e.getAttribute('name')]).filter(x => x)"))
                link_problems, links = check_links(page.evaluate(LINKS_JS), base, site, here,
                                                   dom_ids, cache)
                problems += link_problems
                slider_problems, sliders = exercise_sliders(page)
                problems += slider_problems
                page.evaluate("() => window.scrollTo(0, 0)")
                shot = shots / (rel.replace("/", "__")[:-5] + ".png")
                page.screenshot(path=str(shot), full_page=True)
                page.close()
                loaded = sum(im["ok"] for im in images)
                rows.append((rel, loaded, len(images), links, sliders, len(problems)))
                for p in problems:
                    print(f"FAIL {rel}: {p}")
                failures += bool(problems)
            browser.close()
    finally:
        server.kill()
        server.wait()
    print(f"\n{'page':<40} {'images':>9} {'links':>6} {'sliders':>8} {'problems':>9}")
    for rel, ok, n, links, sliders, nprob in rows:
        print(f"{rel:<40} {f'{ok}/{n}':>9} {links:>6} {sliders:>8} {nprob:>9}")
    for known in sorted(harmless):
        print(f"known harmless JS error, ignored: {known}\n  ({KNOWN_HARMLESS.get(known, '')})")
    if blocked:
        print(f"\nexternal hosts blocked (no network in CI): {', '.join(sorted(blocked))}")
    print(f"\n{len(rows)} pages checked in Chromium, {failures} with problems; "
          f"screenshots in {shots}")
    return 1 if failures or not rows else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", nargs="?", type=Path, default=Path("_build/html"))
    ap.add_argument("--screenshots", type=Path, default=Path("screenshots"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    if not (args.site / "intro.html").is_file() and not (args.site / "index.html").is_file():
        print(f"no built book in {args.site}: run `make book` first")
        return 1
    return check_site(args.site, args.screenshots, args.chromium)


if __name__ == "__main__":
    sys.exit(main())

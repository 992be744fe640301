"""The PDF edition: the whole book as one PDF, printed by headless Chromium.

    python .ci/pdf_edition.py build [--book .] [--out _build/pdf/book.pdf] [--copy-to _build/html]
    python .ci/pdf_edition.py check _build/pdf/book.pdf [--book .] [--no-solutions]

``build`` (what ``make pdf`` runs) builds the book once more with Sphinx's single-page HTML
builder (``jupyter-book build --builder singlehtml``: every chapter on one page, so the
cross-references and the numbering are those of the HTML book), serves it on 127.0.0.1, opens it
in Debian's Chromium through Playwright (the same browser the browser check drives; no browser
download), waits until MathJax has typeset every formula, opens every solution dropdown, shows
each static slider at its current frame without its controls, and prints the page to A4 with the
browser's own PDF engine. With ``--copy-to`` it also copies the PDF into the HTML book, where the
download menu of every page links it.

Why Chromium and not LaTeX: this route needs nothing beyond what the browser check already
installs (Chromium, Playwright's Python package), works offline, and prints exactly what the
HTML book shows (MathJax's typesetting, the notebooks' PNG figures, sphinx-proof and
sphinx-exercise boxes with their HTML numbers). Jupyter Book's LaTeX route needs 0.4-2.4 GB of
TeX packages on every clean CI machine, and its ``pdfhtml`` builder downloads a Chromium of its
own, which fails without a network.

``check`` reads the PDF's text with pypdf and fails unless every chapter's title and every
exercise number is there, no reference is unresolved ("??"), no raw TeX survived (``$`` pairs,
``\\frac`` and other commands in the text), and prints the page count.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

#: Print-only CSS: the book's column full width, no navigation, no buttons; slider controls hidden
#: (the PDF shows the frame the page opened on); no page break inside an image or a caption,
#: and no image taller than 40% of the page (an unbreakable block that does not fit moves to
#: the next page and leaves the space behind it blank: capped at 40%, the space left is too),
#: while figures (between image and caption), boxes, code, cells and tables (between rows,
#: the header repeated) may break, which the theme's print style forbids; every chapter (in the
#: single-page build, the section after each ``document-*`` anchor, titled by an h2) starts a
#: page; the labels of hidden code ("Show / Hide code cell source") never print; numbers in
#: table cells never break across lines (a table too wide for the page is scaled down by
#: FIT_TABLES_JS instead).
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article, .bd-footer,
.bd-footer-article, .bd-footer-content, .prev-next-area, .header-article-items,
.headerlink, .toggle-button, .anim-buttons, .anim-state, input[type="range"],
.skip-link, .search-button-field { display: none !important; }
.bd-main .bd-content .bd-article-container { max-width: 100% !important; }
.bd-page-width { max-width: 100% !important; }
img, figcaption { break-inside: avoid; }
img { max-height: 40vh; object-fit: contain; object-position: left top; }
figure, .admonition, div.admonition, details, aside, div.highlight, div[class*="highlight-"],
div.literal-block-wrapper, div.cell, div.cell_input, div.cell_output, table
  { break-inside: auto !important; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
h1, h2, h3, h4, .admonition-title, .proof .title, caption { break-after: avoid; }
h1 { break-before: page; }
#jb-print-docs-body h1 { break-before: avoid; }
span[id^="document-"] + section { break-before: page; }
details.hide > summary, details.above-input > summary, details.below-input > summary
  { display: none !important; }
div.cell_output, div.highlight pre { white-space: pre-wrap; word-break: break-word; }
table td, table th { word-break: normal !important; overflow-wrap: normal !important;
  white-space: nowrap !important; hyphens: none !important; }
#jb-print-toc li > a { display: inline !important; }
#jb-print-toc .toc-page { float: right; padding-left: 1em; font-variant-numeric: tabular-nums; }
"""

#: The printable width of an A4 page with PRINT_CSS's margins, in CSS pixels (96 per inch):
#: (210 - 28) mm. The page is laid out at this width before tables are measured.
PRINT_WIDTH_PX = 688

#: Scales every table wider than its column down to fit (CSS zoom), and returns the text of
#: every table cell that holds a number, and those that still wrap onto a second line.
FIT_TABLES_JS = r"""() => {
  const number = /^[-+\u2212]?(\d[\d,]*(\.\d+)?|\.\d+)([eE][-+\u2212]?\d+)?%?$/;
  let scaled = 0;
  document.querySelectorAll('table').forEach(t => {
    const box = t.parentElement.getBoundingClientRect().width;
    const wide = t.scrollWidth;
    if (box > 0 && wide > box + 1) { t.style.zoom = (box / wide).toFixed(3); scaled += 1; }
  });
  const numbers = [], wrapped = [];
  document.querySelectorAll('table td, table th').forEach(c => {
    const text = c.innerText.trim();
    if (!number.test(text)) { return; }
    numbers.push(text);
    const range = document.createRange();
    range.selectNodeContents(c);
    const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
    if (tops.size > 1) { wrapped.push(text); }
  });
  return {scaled, numbers, wrapped};
}"""

#: Writes each chapter's page number (from the first printing) after its entry in the printed
#: contents; the argument maps ``#document-...`` anchors to page numbers.
TOC_PAGES_JS = """(pages) => {
  let n = 0;
  document.querySelectorAll('#jb-print-toc a.nav-link').forEach(a => {
    const page = pages[a.getAttribute('href')];
    if (page) {
      const span = document.createElement('span');
      span.className = 'toc-page'; span.textContent = String(page);
      a.parentElement.appendChild(span); n += 1;
    }
  });
  return n;
}"""

#: The contents' entries: anchor and text, in order.
TOC_JS = """() => Array.from(document.querySelectorAll('#jb-print-toc a.nav-link'))
  .map(a => [a.getAttribute('href'), a.innerText.trim()])"""

#: Waits for MathJax (if the page loads it) to finish typesetting; returns the number of formulas.
MATHJAX_JS = """async () => {
  const mj = window.MathJax;
  if (!mj || !mj.startup || !mj.startup.promise) { return -1; }
  await mj.startup.promise;
  if (mj.typesetPromise) { await mj.typesetPromise(); }
  return document.querySelectorAll('mjx-container').length;
}"""

#: Opens every dropdown (sphinx-togglebutton's <details> and hidden toggles) so that solutions
#: and hidden inputs print in the instructor edition.
OPEN_JS = """() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('button.toggle-button')
    .forEach(b => b.classList.remove('toggle-button-hidden'));
  return document.querySelectorAll('details').length;
}"""


#: The text of every code cell and output, which the check sets aside (code legitimately holds
#: TeX strings such as Matplotlib labels).
CODE_JS = """() => Array.from(document.querySelectorAll(
  'div.highlight pre, div.cell_output pre, div.output pre, pre.literal-block, code'))
  .map(e => e.innerText).join('\\n')"""


def _browser_check():
    path = ROOT / ".ci" / "browser_check.py"
    spec = importlib.util.spec_from_file_location("browser_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_singlehtml(book: Path) -> Path:
    """Build the single-page HTML book into ``book/_build/singlehtml`` and return its folder."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(book), "--builder", "singlehtml", "-W", "--keep-going"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-6000:])
        sys.stderr.write(result.stderr[-6000:])
        raise SystemExit(f"pdf: the single-page HTML build failed (exit {result.returncode})")
    site = book / "_build" / "singlehtml"
    if not (site / "intro.html").is_file():
        raise SystemExit(f"pdf: no {site / 'intro.html'} after the single-page build")
    return site


def _print(page, out: Path) -> None:
    page.pdf(path=str(out), format="A4", print_background=True, outline=True, tagged=True,
             display_header_footer=True, header_template="<span></span>",
             footer_template=('<div style="font-size:8px;width:100%;text-align:center;">'
                              '<span class="pageNumber"></span></div>'),
             margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})


def heads_page(raw: str, title: str) -> bool:
    """True when the page text ``raw`` starts with ``title`` on line(s) of its own (a heading
    may wrap over a few lines); a paragraph that merely begins with the same words does not."""
    wanted, seen = normalise(title).strip(), ""
    for line in raw.strip().split("\n")[:4]:
        seen = normalise(f"{seen} {line}").strip()
        if seen == wanted:
            return True
        if len(seen) >= len(wanted):
            return False
    return False


def chapter_pages(pdf: Path, entries: list[list[str]]) -> dict[str, int]:
    """For each contents entry ``[anchor, title]``, the 1-based page its title heads: the first
    page after the first (the contents) that :func:`heads_page` (every chapter starts a page)."""
    from pypdf import PdfReader

    texts = [p.extract_text() or "" for p in PdfReader(str(pdf)).pages]
    pages = {}
    for anchor, title in entries:
        for number, text in enumerate(texts[1:], start=2):
            if title.strip() and heads_page(text, title):
                pages[anchor] = number
                break
    return pages


def print_pdf(site: Path, out: Path, chromium: str = CHROMIUM) -> dict:
    """Print ``site/intro.html`` (the single-page book) to ``out``; returns what it saw.

    Two printings: the first finds the page on which each chapter starts, the second writes
    those numbers into the printed contents. Beside the PDF it leaves ``.code.txt`` (the text
    of code and outputs, which the check sets aside) and ``.tables.json`` (numeric table cells,
    those that wrap, tables scaled to fit)."""
    import json

    from playwright.sync_api import sync_playwright

    bc = _browser_check()
    server, base = bc.serve(site)
    blocked = set()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=bc.FLAGS)
            context = browser.new_context(viewport={"width": 1100, "height": 1400})

            bc.block_outside(context, base, blocked)
            page = context.new_page()
            page.goto(f"{base}/intro.html", wait_until="load", timeout=180_000)
            formulas = page.evaluate(MATHJAX_JS)
            details = page.evaluate(OPEN_JS)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.with_suffix(".code.txt").write_text(page.evaluate(CODE_JS))
            page.add_style_tag(content=PRINT_CSS)
            page.emulate_media(media="print")
            page.set_viewport_size({"width": PRINT_WIDTH_PX, "height": 1400})
            page.wait_for_timeout(500)
            tables = page.evaluate(FIT_TABLES_JS)
            out.with_suffix(".tables.json").write_text(json.dumps(tables, indent=1))
            _print(page, out)
            numbered = page.evaluate(TOC_PAGES_JS, chapter_pages(out, page.evaluate(TOC_JS)))
            _print(page, out)
            browser.close()
    finally:
        server.kill()
    return {"formulas": formulas, "dropdowns": details, "blocked": sorted(blocked),
            "tables_scaled": tables["scaled"], "contents_numbered": numbered}


# --------------------------------------------------------------------------------------------
# Checks on the printed PDF
# --------------------------------------------------------------------------------------------

RAW_TEX = re.compile(r"\$[^$\n]{1,80}\$|\\(?:frac|sqrt|mathbf|mathcal|operatorname|left|right|"
                     r"begin|end|alpha|beta|eta|kappa|lambda|sigma|norm|grad|vx|vu)\b")


def chapter_titles(book: Path, toc: Path) -> list[str]:
    """The first ``# `` heading of every chapter in the table of contents."""
    import json

    import yaml

    titles = []
    spec = yaml.safe_load(toc.read_text())
    files = [spec["root"]] + [c["file"] for part in spec.get("parts", []) for c in part["chapters"]]
    for f in files:
        for suffix in (".ipynb", ".md"):
            path = book / (f + suffix)
            if not path.is_file():
                continue
            if suffix == ".ipynb":
                cells = json.loads(path.read_text())["cells"]
                text = "\n".join("".join(c["source"]) for c in cells
                                  if c["cell_type"] == "markdown")
            else:
                text = path.read_text()
            m = re.search(r"^# (.+)$", text, re.M)
            if m:
                titles.append(m.group(1).strip())
            break
    return titles


def exercise_count(book: Path, toc: Path) -> dict[int, int]:
    """Exercises per numbered chapter (1, 2, ...), counted in the chapters' sources."""
    import json

    import yaml

    spec = yaml.safe_load(toc.read_text())
    counts = {}
    chapters = [c["file"] for part in spec.get("parts", []) if part.get("numbered")
                for c in part["chapters"]]
    for i, f in enumerate(chapters, start=1):
        path = book / (f + ".ipynb")
        if not path.is_file():
            continue
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        counts[i] = len(re.findall(r"^[`:]{3,}\{exercise(?:-start)?\}", text, re.M | re.I))
    return counts


#: Labels of the HTML book's toggles, which mean nothing on paper.
TOGGLE_LABELS = ("Show code cell source", "Hide code cell source", "Show code cell output",
                 "Hide code cell output", "Click to show", "Click to hide")


def outline_titles(pdf: Path) -> list[str]:
    """Every entry of the PDF's outline (bookmarks), flattened."""
    from pypdf import PdfReader

    def walk(items):
        for item in items:
            if isinstance(item, list):
                yield from walk(item)
            else:
                yield normalise(str(item.title))

    return list(walk(PdfReader(str(pdf)).outline))


def split_numbers(flat: str, numbers: list[str]) -> list[str]:
    """Numbers of table cells that appear in the text only broken across a line ("100 0" for
    "1000"): nowhere whole, and somewhere as two pieces."""
    found = []
    for number in dict.fromkeys(numbers):
        if len(number) < 2 or re.search(rf"(?<![\w.]){re.escape(number)}(?![\w])", flat):
            continue
        pieces = (rf"(?<![\w.]){re.escape(number[:k])}\s+{re.escape(number[k:])}(?![\w])"
                  for k in range(1, len(number)))
        if any(re.search(p, flat) for p in pieces):
            found.append(number)
    return found


def pdf_text(pdf: Path) -> tuple[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages), len(reader.pages)


#: A page whose content ends above this fraction of its body is "mostly blank" (issue 24: 31
#: pages of the first PDF were more than 45% blank), unless a chapter starts on the next page.
MOSTLY_BLANK = 0.45


def content_extent(pdf: Path, dpi: int = 20) -> list[tuple[float, float]]:
    """Per page, the top and bottom of its content as fractions of the page height (the footer
    with the page number, the bottom 5%, left out), from a grey rendering by poppler's
    ``pdftoppm`` (``apt-get install poppler-utils``, as .ci/run does). ``(1.0, 0.0)`` for an
    empty page."""
    import tempfile

    import numpy as np
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdf: no pdftoppm (apt-get install poppler-utils, as .ci/run does)")
    extents = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(pdf), f"{tmp}/p"], check=True)
        for f in sorted(Path(tmp).glob("p-*.pgm"), key=lambda f: int(f.stem.split("-")[-1])):
            a = np.asarray(Image.open(f))
            body = a[: int(0.95 * a.shape[0])]
            rows = np.flatnonzero((body < 200).any(axis=1))
            h = a.shape[0]
            extents.append((rows[0] / h, rows[-1] / h) if rows.size else (1.0, 0.0))
    return extents


def mostly_blank_pages(pdf: Path, titles: list[str]) -> list[tuple[int, float]]:
    """``(page, blank fraction)`` for every page but the first, the last and those before a
    page that a chapter title heads, whose content ends more than :data:`MOSTLY_BLANK` of the
    body above its foot. The body runs from the median top of content to the 90th percentile
    of its bottom over the pages (the margins as printed)."""
    import numpy as np
    from pypdf import PdfReader

    texts = [p.extract_text() or "" for p in PdfReader(str(pdf)).pages]
    extents = content_extent(pdf)
    if len(extents) != len(texts):
        raise SystemExit(f"pdf: pdftoppm rendered {len(extents)} pages of {len(texts)}")
    top = float(np.median([t for t, b in extents if b > t]))
    foot = float(np.percentile([b for t, b in extents if b > t], 90))
    found = []
    for i in range(1, len(extents) - 1):
        head = re.sub(r"^\s*\d+\.\s+", "", texts[i + 1])  # "2. The partition model"
        # the text reader may put a list's labels ("[1]") before the heading: a title on a
        # line of its own among the first lines heads the page too
        lines = {normalise(re.sub(r"^\s*\d+\.\s+", "", x)).strip()
                 for x in texts[i + 1].split("\n")[:20]}
        if any(heads_page(head, t) or normalise(t).strip() in lines for t in titles):
            continue
        blank = 1 - (extents[i][1] - top) / (foot - top)
        if blank > MOSTLY_BLANK:
            found.append((i + 1, round(blank, 2)))
    return found


def normalise(s: str) -> str:
    """Text as compared: curly quotes straightened, whitespace collapsed."""
    for curly, straight in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"')):
        s = s.replace(curly, straight)
    return re.sub(r"\s+", " ", s)


def check_pdf(pdf: Path, book: Path = ROOT, toc: Path | None = None,
              solutions: bool = True) -> list[str]:
    """Problems found in the printed book (empty when it is fine). With ``solutions=False``
    (the student edition) any solution box in the PDF is a problem too."""
    toc = toc or book / "_toc.yml"
    text, pages = pdf_text(pdf)
    flat = normalise(text)
    problems = []
    for title in chapter_titles(book, toc):
        plain = normalise(re.sub(r"[*_`$]", "", title))
        if plain not in flat:
            problems.append(f"chapter title missing: {plain!r}")
    for chapter, n in exercise_count(book, toc).items():
        for j in range(1, n + 1):
            if not re.search(rf"Exercise {chapter}\.{j}\b", flat):
                problems.append(f"exercise {chapter}.{j} not found")
    if "??" in flat:
        i = flat.index("??")
        problems.append(f"unresolved reference '??' near {flat[max(0, i - 60):i + 20]!r}")
    code_file = pdf.with_suffix(".code.txt")
    code = normalise(code_file.read_text()) if code_file.is_file() else ""
    prose = [line for line in text.splitlines()
             if (n := normalise(line).strip()) and n not in code]
    for m in list(RAW_TEX.finditer(normalise("\n".join(prose))))[:10]:
        problems.append(f"raw TeX in the text (outside code): {m.group(0)!r}")
    for label in TOGGLE_LABELS:
        if label in flat:
            problems.append(f"a toggle label printed: {label!r}")
    outline = outline_titles(pdf)
    if not outline:
        problems.append("the PDF has no outline (bookmarks)")
    else:
        squeezed = [re.sub(r"\s+", "", entry) for entry in outline]  # headings wrap there
        for title in chapter_titles(book, toc):
            plain = normalise(re.sub(r"[*_`$]", "", title))
            if not any(re.sub(r"\s+", "", plain) in entry for entry in squeezed):
                problems.append(f"no outline entry for the chapter {plain!r}")
    tables_file = pdf.with_suffix(".tables.json")
    if tables_file.is_file():
        import json

        tables = json.loads(tables_file.read_text())
        for number in tables.get("wrapped", [])[:10]:
            problems.append(f"a number wraps in its table cell: {number!r}")
        for number in split_numbers(flat, tables.get("numbers", []))[:10]:
            problems.append(f"a table number split across lines: {number!r}")
    titles = [normalise(re.sub(r"[*_`$]", "", t)) for t in chapter_titles(book, toc)]
    blank = mostly_blank_pages(pdf, titles)
    if blank:
        problems.append(f"{len(blank)} page(s) more than {MOSTLY_BLANK:.0%} blank, not before a "
                        "chapter (a block too tall for the space left went to the next page): "
                        + ", ".join(f"p. {p} ({b:.0%})" for p, b in blank))
    if not solutions:
        for m in list(re.finditer(r"Solution to", flat))[:5]:
            problems.append(f"a solution in the student PDF: {flat[m.start():m.start() + 60]!r}")
    print(f"pdf: {pdf} has {pages} pages")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--book", type=Path, default=ROOT)
    b.add_argument("--out", type=Path, default=None)
    b.add_argument("--copy-to", type=Path, default=None)
    b.add_argument("--chromium", default=CHROMIUM)
    c = sub.add_parser("check")
    c.add_argument("pdf", type=Path)
    c.add_argument("--book", type=Path, default=ROOT)
    c.add_argument("--toc", type=Path, default=None)
    c.add_argument("--no-solutions", action="store_true",
                   help="fail on any solution box (the student edition)")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        if not Path(args.chromium).exists():
            raise SystemExit(f"pdf: no Chromium at {args.chromium} "
                             "(apt-get install chromium, as .ci/run does)")
        book = args.book.resolve()
        out = (args.out or book / "_build" / "pdf" / "book.pdf").resolve()
        seen = print_pdf(build_singlehtml(book), out, args.chromium)
        print(f"pdf: wrote {out} ({out.stat().st_size / 1e6:.1f} MB; "
              f"{seen['formulas']} typeset formulas, {seen['dropdowns']} dropdowns opened, "
              f"{seen['tables_scaled']} wide tables scaled to the page, "
              f"{seen['contents_numbered']} contents entries numbered)")
        if seen["formulas"] == -1:
            print("pdf: warning: the page loaded no MathJax; formulas print as TeX")
        if args.copy_to:
            target = args.copy_to / "book.pdf"
            shutil.copyfile(out, target)
            print(f"pdf: copied to {target} (linked from every page's download menu)")
        return 0
    problems = check_pdf(args.pdf, args.book.resolve(), args.toc,
                         solutions=not args.no_solutions)
    for p in problems:
        print(f"pdf: {p}")
    print("pdf: ok" if not problems else f"pdf: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

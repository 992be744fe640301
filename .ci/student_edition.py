"""The student edition, and the Colab install cell every chapter starts with.

    python .ci/student_edition.py build [--toc _toc.yml] [--out student] [--no-html]
    python .ci/student_edition.py sync-install-cells     # rewrite cell 1 of every chapter
    python .ci/student_edition.py check-install-cells    # exit 1 if one is out of date

``build`` (what ``make student`` runs) copies the book into ``student/`` with every solution
*removed from the sources* (not hidden): ``{solution}`` blocks, and everything between
``{solution-start}`` and ``{solution-end}`` (markdown and code cells alike). Exercise cells stay;
where a solution held code, an empty code cell is left for the student's answer. It then builds
the HTML book into ``student/_build/html`` (Sphinx ``-W``) without the launch (Binder, Colab)
and repository buttons, which would open the instructor notebooks, and fails if any solution
text is found in the notebooks or the HTML, or any link in the HTML to the repository or to a
notebook launcher.

``sync-install-cells`` writes the Colab install cell (see :func:`install_cell_source`) from
``repository.url`` in ``_config.yml`` into every ``chapters/*.ipynb`` (``make colab-cells``):
a fork changes the URL in one place and runs it.
"""

from __future__ import annotations

import argparse
import copy
import html.parser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALL_TAG = "remove-cell"
INSTALL_FIRST_LINE = ("# Colab or a bare kernel: install the book's library "
                      "when it is not importable.")

# --------------------------------------------------------------------------------------------
# The Colab install cell
# --------------------------------------------------------------------------------------------


def repository_url(root: Path = ROOT) -> str:
    """``repository.url`` from the book's ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


def install_cell_source(url: str) -> str:
    """The first cell of every chapter: a no-op when ``momentum`` imports; otherwise (Colab, a
    bare kernel) pip installs the library from ``url``. The library's dependencies are not
    pinned, so pip keeps the torch, NumPy and Matplotlib that Colab already has."""
    return (
        f"{INSTALL_FIRST_LINE}\n"
        "try:\n"
        "    import momentum\n"
        "except ImportError:\n"
        "    import subprocess, sys\n"
        '    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                           "git+{url}"])'
    )


def is_install_cell(cell) -> bool:
    return (cell.cell_type == "code" and INSTALL_TAG in cell.metadata.get("tags", [])
            and cell.source.startswith(INSTALL_FIRST_LINE))


def sync_install_cell(nb, url: str) -> bool:
    """Make ``nb``'s first cell the install cell for ``url``; True if ``nb`` changed."""
    want = install_cell_source(url)
    if nb.cells and is_install_cell(nb.cells[0]):
        if nb.cells[0].source == want:
            return False
        nb.cells[0].source = want
        return True
    cell = nbformat.v4.new_code_cell(want, metadata={"tags": [INSTALL_TAG]})
    nb.cells.insert(0, cell)
    return True


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted((root / "chapters").glob("*.ipynb"))


# --------------------------------------------------------------------------------------------
# Removing solutions
# --------------------------------------------------------------------------------------------

_OPEN = re.compile(r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>solution(?:-start|-end)?)\}")


def _fence_end(lines: list[str], i: int, fence: str) -> int:
    """Index of the line closing the fence opened at line ``i`` (CommonMark: the same character,
    at least as long, nothing else on the line)."""
    close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for j in range(i + 1, len(lines)):
        if close.match(lines[j]):
            return j
    raise ValueError(f"unclosed {{solution}} fence opened by: {lines[i]!r}")


def _placeholder(label: str):
    return nbformat.v4.new_code_cell(
        f"# Exercise {label}: your code here\n", metadata={"tags": ["student-answer"]})


def strip_solutions(nb):
    """A copy of ``nb`` with every solution removed (see the module docstring).

    Returns ``(student_nb, removed)`` where ``removed`` counts the solutions taken out.
    Raises ValueError on a ``{solution-start}`` without its ``{solution-end}`` or an unclosed
    fence, so that nothing leaks through a malformed notebook."""
    out = copy.deepcopy(nb)
    cells, removed = [], 0
    gated, gated_label, gated_code = False, None, False

    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if gated:
                gated_code = gated_code or cell.cell_type == "code"
            else:
                cells.append(copy.deepcopy(cell))
            continue
        lines = cell.source.split("\n")
        parts, current, i = [], [], 0
        while i < len(lines):
            line = lines[i]
            m = _OPEN.match(line)
            if gated:
                if m and m["name"] == "solution-end":
                    i = _fence_end(lines, i, m["fence"]) + 1
                    gated = False
                    if gated_code:
                        parts.append(("code", gated_label))
                    continue
                i += 1
                continue
            if m and m["name"] == "solution":
                i = _fence_end(lines, i, m["fence"]) + 1
                removed += 1
                continue
            if m and m["name"] == "solution-start":
                target = line[m.end():].strip()
                i = _fence_end(lines, i, m["fence"]) + 1
                gated, gated_label, gated_code = True, target, False
                removed += 1
                parts.append(("markdown", "\n".join(current)))
                current = []
                continue
            if m and m["name"] == "solution-end":
                raise ValueError("{solution-end} without {solution-start}")
            current.append(line)
            i += 1
        parts.append(("markdown", "\n".join(current)))
        for k, (kind, text) in enumerate(parts):
            if kind == "code":
                cells.append(_placeholder(text))
            elif text.strip():
                new = copy.deepcopy(cell)
                new.source = text.strip("\n")
                if k and "id" in new:
                    new["id"] = f"{cell.get('id', 'cell')}-{k}"
                cells.append(new)
    if gated:
        raise ValueError(f"{{solution-start}} {gated_label} has no {{solution-end}}")
    out.cells = cells
    for cell in cells:
        if cell.cell_type == "markdown" and re.search(r"\{solution(-start|-end)?\}", cell.source):
            raise ValueError("a solution directive survived stripping")
    return out, removed


# --------------------------------------------------------------------------------------------
# Finding solution text (the leak check)
# --------------------------------------------------------------------------------------------

_MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\{[\w:-]+\}`[^`]*`|`[^`]*`|\[[^\]]*\]\([^)]*\)",
                           re.S)
WINDOW = 6


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _phrases(markdown: str) -> set[tuple[str, ...]]:
    """Runs of WINDOW plain words from prose, never across math, code, roles or links (which
    Sphinx renders differently from their source)."""
    out = set()
    for chunk in _MATH_OR_CODE.split(markdown):
        for line_chunk in re.split(r"\n\s*\n|^\s*[`~:]{3,}.*$|^:\w+:.*$", chunk, flags=re.M):
            w = _words(line_chunk or "")
            out.update(tuple(w[j:j + WINDOW]) for j in range(len(w) - WINDOW + 1))
    return out


def solution_snippets(nb) -> tuple[set[tuple[str, ...]], set[str]]:
    """What only the solutions of ``nb`` contain: prose phrases (word tuples) and code lines
    (stripped, at least 12 characters) that appear nowhere else in the notebook."""
    student, _ = strip_solutions(nb)
    kept_md = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    kept_code = {ln.strip() for c in student.cells if c.cell_type == "code"
                 for ln in c.source.splitlines()}
    kept_phrases = _phrases(kept_md)
    kept_words = " ".join(_words(kept_md + "\n" + "\n".join(kept_code)))
    all_md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    phrases = {p for p in _phrases(all_md) - kept_phrases if " ".join(p) not in kept_words}
    all_code = {ln.strip() for c in nb.cells if c.cell_type == "code"
                for ln in c.source.splitlines()}
    kept_text = notebook_text(student)
    code = {ln for ln in all_code - kept_code
            if len(ln) >= 12 and not ln.startswith("#") and ln not in kept_text}
    return phrases, code


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(page: str) -> str:
    """The visible text of an HTML page (scripts and styles dropped, entities decoded)."""
    parser = _Text()
    parser.feed(page)
    return "".join(parser.parts)


def find_leaks(snippets, text: str) -> list[str]:
    """The solution snippets found in ``text`` (notebook JSON sources or an HTML page's text)."""
    phrases, code = snippets
    words = " " + " ".join(_words(text)) + " "
    lines = {ln.strip() for ln in text.splitlines()}
    found = [" ".join(p) for p in phrases if f" {' '.join(p)} " in words]
    found += [c for c in code if c in lines or c in text]
    return sorted(found)


def notebook_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


# --------------------------------------------------------------------------------------------
# Building the edition
# --------------------------------------------------------------------------------------------


def _toc_files(toc: dict) -> list[str]:
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


def _source(root: Path, name: str) -> Path:
    for ext in ("", ".ipynb", ".md"):
        p = root / f"{name}{ext}"
        if p.is_file():
            return p
    raise FileNotFoundError(f"the table of contents names {name}, which is not in {root}")


def write_edition(root: Path, toc_path: Path, out: Path) -> dict[str, int]:
    """Write the student sources into ``out``; return the solutions removed per file."""
    toc = yaml.safe_load(toc_path.read_text())
    for sub in ("_build", "chapters"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["title"] = f"{config['title']} (student edition)"
    # The launch (Binder, Colab) and repository buttons would open the instructor notebooks,
    # solutions included: the student edition has none (hand out student/chapters/ instead).
    config["launch_buttons"] = {"binderhub_url": "", "colab_url": "", "jupyterhub_url": "",
                                "thebe": False}
    html = config.setdefault("html", {})
    for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
        html[button] = False
    (out / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    (out / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    for extra in ("references.bib", "_static", "_ext"):
        src = root / extra
        if src.is_dir():
            shutil.copytree(src, out / extra, dirs_exist_ok=True)
        elif src.is_file():
            shutil.copy2(src, out / extra)
    removed = {}
    for name in _toc_files(toc):
        src = _source(root, name)
        dst = out / src.relative_to(root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".ipynb":
            nb, n = strip_solutions(nbformat.read(src, as_version=4))
            nbformat.write(nb, dst)
        else:
            md = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(src.read_text())])
            nb, n = strip_solutions(md)
            dst.write_text("\n".join(c.source for c in nb.cells) + "\n")
        removed[str(src.relative_to(root))] = n
    return removed


def build_html(out: Path) -> None:
    """``jupyter-book build out -W --keep-going`` (HTML into ``out/_build/html``)."""
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(out), "-W", "--keep-going"]
    subprocess.run(cmd, check=True)


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [v for k, v in attrs if k in ("href", "src", "action") and v]


#: Hosts that open a notebook of the repository (the instructor's, with its solutions).
LAUNCH_HOSTS = ("mybinder.org", "colab.research.google.com")


def instructor_links(page: str, repo_url: str) -> list[str]:
    """The links in an HTML page that lead to the instructor notebooks: to the repository
    (``repo_url``, in any form: GitHub, a Colab or Binder URL naming its owner/name) or to a
    notebook launcher (Binder, Colab)."""
    parser = _Links()
    parser.feed(page)
    repo = "/".join(repo_url.rstrip("/").split("/")[-2:]).lower()
    return sorted({h for h in parser.hrefs
                   if repo in h.lower() or any(host in h.lower() for host in LAUNCH_HOSTS)})


def leaks_in_edition(root: Path, out: Path) -> list[str]:
    """Every solution snippet of the instructor notebooks found in the student notebooks or
    HTML pages under ``out``, and every link in its HTML to the instructor notebooks (launch
    and repository buttons): empty when the edition is clean."""
    problems = []
    site = out / "_build" / "html"
    repo = repository_url(root)
    for page in sorted(site.rglob("*.html")) if site.is_dir() else []:
        if any(part.startswith(("_", ".")) for part in page.relative_to(site).parts[:-1]):
            continue
        for href in instructor_links(page.read_text(errors="replace"), repo):
            problems.append(f"{page.relative_to(out)}: link to the instructor notebooks {href}")
    for src in sorted(out.rglob("*.ipynb")):
        if "_build" in src.parts:
            continue
        rel = src.relative_to(out)
        snippets = solution_snippets(nbformat.read(root / rel, as_version=4))
        texts = {str(rel): notebook_text(nbformat.read(src, as_version=4))}
        page = out / "_build" / "html" / rel.with_suffix(".html")
        if page.is_file():
            texts[str(page.relative_to(out))] = html_text(page.read_text())
        for where, text in texts.items():
            problems += [f"{where}: {leak}" for leak in find_leaks(snippets, text)]
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write student/ and build its HTML")
    b.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    b.add_argument("--out", type=Path, default=ROOT / "student")
    b.add_argument("--root", type=Path, default=ROOT)
    b.add_argument("--no-html", action="store_true", help="write the notebooks only")
    sub.add_parser("sync-install-cells", help="write the Colab cell into every chapter")
    sub.add_parser("check-install-cells", help="exit 1 if a chapter's Colab cell is stale")
    args = ap.parse_args(argv)

    if args.cmd == "build":
        removed = write_edition(args.root, args.toc, args.out)
        for name, n in removed.items():
            print(f"{name}: {n} solution(s) removed")
        if not args.no_html:
            build_html(args.out)
        leaks = leaks_in_edition(args.root, args.out)
        if leaks:
            print("solution text or instructor links found in the student edition:\n  "
                  + "\n  ".join(leaks))
            return 1
        print(f"student edition written to {args.out} with no solution text")
        return 0

    url, stale = repository_url(), []
    for path in chapters():
        nb = nbformat.read(path, as_version=4)
        if sync_install_cell(nb, url):
            stale.append(path)
            if args.cmd == "sync-install-cells":
                nbformat.write(nb, path)
    verb = "updated" if args.cmd == "sync-install-cells" else "out of date"
    for path in stale:
        print(f"{path.relative_to(ROOT)}: install cell {verb}")
    return 1 if stale and args.cmd == "check-install-cells" else 0


if __name__ == "__main__":
    sys.exit(main())

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
text is found in any file it writes (notebooks, whole; markdown; HTML pages; ``searchindex.js``;
``_sources``), or any link in the HTML to the repository or to a notebook launcher. Directives
are found in any case, in backtick, tilde or colon fences and as ``.. solution::`` in
``{eval-rst}`` blocks; a solution cell's metadata and unused attachments and the notebooks'
widget state are dropped; a solution form the script does not understand stops the build.

``sync-install-cells`` writes the Colab install cell (see :func:`install_cell_source`) from
``repository.url`` in ``_config.yml`` into every ``chapters/*.ipynb`` (``make colab-cells``):
a fork changes the URL in one place and runs it.
"""

from __future__ import annotations

import argparse
import copy
import html.parser
import json
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
    """The first cell of every chapter (and of the Jupyter edition): a no-op when ``momentum``
    imports; otherwise (Colab, a bare kernel) pip installs the library from ``url``, and when
    that fails (the repository cannot be reached, no git) it stops with what to install and how
    to set the repository's URL instead of pip's message alone. Nothing else is installed:
    the chapters' ``glue`` is the library's own (``momentum.display.glue`` writes MyST-NB's
    glue output itself). On Colab it then enables Colab's custom widget manager, without
    which live ipywidgets do not show. The library's dependencies are not pinned, so pip keeps
    the torch, NumPy and Matplotlib Colab has."""
    return (
        f"{INSTALL_FIRST_LINE}\n"
        "try:\n"
        "    import momentum\n"
        "except ImportError:\n"
        "    import subprocess, sys\n"
        "    try:  # the library (and its dependencies that the kernel lacks)\n"
        '        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                               "git+{url}"])\n'
        "    except (subprocess.CalledProcessError, OSError):\n"
        "        raise RuntimeError(\n"
        '            "The book\'s library `momentum` is not installed, and pip could not "\n'
        '            "install it from\\n    "\n'
        f'            "git+{url}\\n"\n'
        '            "(is the repository reachable, and git installed?). Install it "\n'
        '            "yourself: `pip install git+<repository URL>`, or "\n'
        '            "`pip install -e .` in a clone of the repository. A fork sets its "\n'
        '            "own URL as repository.url in _config.yml, then runs "\n'
        '            "`make colab-cells` and `make jupyter`.") from None\n'
        "try:  # on Colab, live ipywidgets need Colab's custom widget manager\n"
        "    from google.colab import output\n"
        "    output.enable_custom_widget_manager()\n"
        "except ImportError:\n"
        "    pass"
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

# A solution directive in any case ({solution}, {Solution}, {SOLUTION-START}: Sphinx accepts
# them all), with backtick, tilde or colon fences.
_OPEN = re.compile(r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\{\s*(?P<name>solution(?:-start|-end)?)\s*\}",
                   re.I)
# An eval-rst block, and the solution directives reStructuredText spells ``.. solution::``.
_EVAL_RST = re.compile(r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\{\s*eval-rst\s*\}", re.I)
_RST_SOLUTION = re.compile(r"^(?P<indent>\s*)\.\.\s+(?P<name>solution(?:-start|-end)?)\s*::", re.I)
# Anything left that looks like a solution after stripping: a form this script does not
# understand, so the build is refused rather than risk a leak.
_UNKNOWN = re.compile(r"\{\s*solution[\w-]*\s*\}|^\s*\.\.\s+solution[\w-]*\s*::|"
                      r"class\s*=\s*[\"'][^\"']*\bsolution\b|^\s*:class:.*\bsolution\b|"
                      r"<summary[^>]*>\s*(?:<[^>]+>\s*)*solution|"
                      r"^\s*#+\s*(?:BEGIN|END) (?:SOLUTION|HIDDEN TESTS)\b", re.I | re.M)
# In code cells also otter's one-line marker (a markdown heading "# Solution" is prose).
_CODE_MARKER = re.compile(r"#\s*SOLUTION\s*$", re.I | re.M)
# What each form found by _UNKNOWN is, for the refusal's message.
_FORMS = [(re.compile(r"<summary", re.I), "a <details><summary>Solution block"),
          (re.compile(r":class:", re.I), "an admonition with :class: solution"),
          (re.compile(r"BEGIN|END|#\s*SOLUTION", re.I),
           "an nbgrader/otter solution marker (### BEGIN SOLUTION, # SOLUTION)"),
          (re.compile(r"class\s*=", re.I), "an HTML element of class solution")]


def _form(found: str, cell) -> str:
    what = next((name for rx, name in _FORMS if rx.search(found)), "a solution directive")
    if cell.cell_type == "code" and cell.source.lstrip().startswith("%%"):
        what += f" inside a {cell.source.split()[0]} code cell"
    return what


def _fence_end(lines: list[str], i: int, fence: str) -> int:
    """Index of the line closing the fence opened at line ``i`` (CommonMark: the same character,
    at least as long, nothing else on the line)."""
    close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for j in range(i + 1, len(lines)):
        if close.match(lines[j]):
            return j
    raise ValueError(f"unclosed {{solution}} fence opened by: {lines[i]!r}")


def _strip_rst(lines: list[str], i: int, end: int) -> tuple[list[str], int]:
    """The lines of the eval-rst block ``lines[i+1:end]`` without its ``.. solution::``
    directives (each with its body: the following blank or more-indented lines), and how many
    were removed. A ``.. solution-start::`` / ``-end::`` pair is not understood: refused."""
    kept, removed, j = [], 0, i + 1
    while j < end:
        m = _RST_SOLUTION.match(lines[j])
        if not m:
            kept.append(lines[j])
            j += 1
            continue
        if m["name"].lower() != "solution":
            raise ValueError(f"unsupported solution form in eval-rst: {lines[j].strip()!r}")
        indent, j, removed = len(m["indent"]), j + 1, removed + 1
        while j < end and (not lines[j].strip()
                           or len(lines[j]) - len(lines[j].lstrip()) > indent):
            j += 1
    return kept, removed


def _clean_cell(cell, text: str):
    """A copy of a markdown ``cell`` that held a solution, with ``text`` as its source: its
    metadata dropped (tags kept unless they name a solution) and its attachments kept only
    where the remaining text still refers to them."""
    new = copy.deepcopy(cell)
    new.source = text
    tags = [t for t in cell.metadata.get("tags", []) if "solution" not in t.lower()]
    new.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
    if "attachments" in new:
        keep = {k: v for k, v in new.attachments.items() if f"attachment:{k}" in text}
        if keep:
            new.attachments = nbformat.NotebookNode(keep)
        else:
            del new["attachments"]
    return new


def _placeholder(label: str):
    return nbformat.v4.new_code_cell(
        f"# Exercise {label}: your code here\n", metadata={"tags": ["student-answer"]})


def strip_solutions(nb):
    """A copy of ``nb`` with every solution removed (see the module docstring).

    Directives are found in any case, in backtick, tilde or colon fences, and as
    ``.. solution::`` inside ``{eval-rst}`` blocks. A markdown cell that held a solution keeps
    no metadata (but its tags) and no attachment its remaining text does not use; a removed
    code cell goes with its outputs and metadata; the notebook's widget state is dropped.

    Returns ``(student_nb, removed)`` where ``removed`` counts the solutions taken out.
    Raises ValueError on a ``{solution-start}`` without its ``{solution-end}``, an unclosed
    fence, or any solution form it does not understand (left in a cell after stripping, in a
    raw cell, a tag or a class), so that nothing leaks through a malformed notebook."""
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
        parts, current, i, touched = [], [], 0, False
        while i < len(lines):
            line = lines[i]
            m = _OPEN.match(line)
            if m:
                m = {"fence": m["fence"], "name": m["name"].lower(), "end": m.end()}
                touched = True
            rst = None if gated or m else _EVAL_RST.match(line)
            if rst:
                end = _fence_end(lines, i, rst["fence"])
                body, n = _strip_rst(lines, i, end)
                removed += n
                touched = touched or n > 0
                if any(ln.strip() for ln in body) or not n:
                    current += [line, *body, lines[end]]
                i = end + 1
                continue
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
                target = line[m["end"]:].strip()
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
                new = _clean_cell(cell, text.strip("\n")) if touched else copy.deepcopy(cell)
                new.source = text.strip("\n")
                if k and "id" in new:
                    new["id"] = f"{cell.get('id', 'cell')}-{k}"
                cells.append(new)
    if gated:
        raise ValueError(f"{{solution-start}} {gated_label} has no {{solution-end}}")
    out.cells = cells
    for cell in cells:
        tags = " ".join(cell.metadata.get("tags", []))
        found = (_UNKNOWN.search(cell.source) or re.search(r"solution", tags, re.I)
                 or (cell.cell_type == "code" and _CODE_MARKER.search(cell.source)))
        if found:
            raise ValueError(f"{_form(found[0], cell)} ({found[0].strip()!r}, in the cell "
                             f"starting {cell.source.strip()[:60]!r}) is a solution form "
                             "this script does not understand; refusing to build it. Write "
                             "solutions as {solution} or {solution-start} ... {solution-end} "
                             "(see the README, 'Teaching with the book').")
        if "nbgrader" in cell.metadata:
            raise ValueError("a cell carries nbgrader metadata (a solution or test cell of "
                             "nbgrader); refusing to build the student edition")
    _check_structure(nb, out)
    out.metadata.pop("widgets", None)     # ipywidgets state, which can hold any cell's text
    _drop_solution_metadata(nb, out)
    return out, removed


def _solution_text(nb) -> str:
    """The text of every solution of ``nb``: the sources of the cells and the parts of cells
    that :func:`strip_solutions` removes, found on the instructor notebook itself."""
    parts, gated = [], False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if gated:
                parts.append(cell.source)
            continue
        lines, i = cell.source.split("\n"), 0
        while i < len(lines):
            m = _OPEN.match(lines[i])
            name = m["name"].lower() if m else None
            if gated:
                if name == "solution-end":
                    gated = False
                    i = _fence_end(lines, i, m["fence"]) + 1
                    continue
                parts.append(lines[i])
                i += 1
                continue
            if name in ("solution", "solution-start"):
                end = _fence_end(lines, i, m["fence"])
                parts.append("\n".join(lines[i:end + 1]))
                gated = name == "solution-start"
                i = end + 1
                continue
            i += 1
    return "\n".join(parts)


_LABEL = re.compile(r"^\s*:label:\s*(\S+)", re.M)


def _check_structure(nb, student) -> None:
    """Refuse, with a clear message, a notebook whose student copy would not build: a
    solution's label referenced where the solution is gone, or a directive (an admonition, a
    dropdown) whose only content was a solution."""
    labels = set(_LABEL.findall(_solution_text(nb)))
    kept = notebook_text(student)
    for label in sorted(labels):
        if re.search(rf"[`(#<]{re.escape(label)}[`)>]|\({re.escape(label)}\)=", kept):
            raise ValueError(f"the solution label {label!r} is referenced outside its solution "
                             "(a {ref}, {numref} or link to it); the student edition removes "
                             "the solution, so the reference would dangle. Refer to the "
                             "exercise's label instead.")
    emptied = _empty_directives(student) - _empty_directives(nb)
    if emptied:
        line = sorted(emptied)[0]
        raise ValueError(f"a directive ({line!r}) held only a solution: without it the "
                         "directive is empty and the student edition would not build. Put the "
                         "solution after the directive, or give the directive other content.")


def _empty_directives(nb) -> set[str]:
    """The opening lines of the directives of ``nb``'s markdown cells that have no content
    (options aside)."""
    out = set()
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            m = re.match(r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w:-]+)\}", line)
            if not m or m["name"].lower().startswith("solution"):
                continue
            try:
                end = _fence_end(lines, i, m["fence"])
            except ValueError:
                continue
            if not [ln for ln in lines[i + 1:end] if ln.strip() and not re.match(r"^\s*:\w", ln)]:
                out.add(line.strip())
    return out


_SUBSTITUTION = re.compile(r"\{\{\s*([\w-]+)\s*\}\}")


def _drop_solution_metadata(nb, student) -> None:
    """Drop the notebook's MyST substitutions (``metadata.myst.substitutions``) that only
    solutions use: their values are solution text."""
    subs = student.metadata.get("myst", {}).get("substitutions")
    if not isinstance(subs, dict):
        return
    kept = notebook_text(student)
    used_by_solutions = set(_SUBSTITUTION.findall(_solution_text(nb)))
    for key in list(subs):
        if key in used_by_solutions and not re.search(rf"\{{\{{\s*{re.escape(key)}\s*\}}\}}",
                                                      kept):
            del subs[key]


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
    # fence lines first: their backticks would otherwise open inline code spans
    markdown = re.sub(r"^\s*[`~:]{3,}.*$", "\n\n", markdown, flags=re.M)
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
    # The shown text and the attribute values are kept apart: interleaved, the class names of
    # a highlighted code line ("n", "o", "mi") would split it, and a leaked line of code would
    # go unseen.
    def __init__(self):
        super().__init__()
        self.parts, self.attrs, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag == "style"
        self.attrs += [v for _, v in attrs if v]                      # alt, title, data-*

    def handle_endtag(self, tag):
        self._skip -= tag == "style" and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(page: str) -> str:
    """The text of an HTML page: what it shows, its attribute values and its scripts (which
    can hold widget state), entities decoded; styles dropped."""
    parser = _Text()
    parser.feed(page)
    return "".join(parser.parts) + "\n" + "\n".join(parser.attrs)


def _strings(node) -> list[str]:
    """Every string in a JSON document (a notebook: sources, outputs, metadata, attachments)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in [k, *_strings(v)]]
    if isinstance(node, list):
        return [t for v in node for t in _strings(v)]
    return []


def file_text(path: Path) -> str:
    """The text of a file the edition writes, as the leak check reads it: every string of a
    notebook (not only its cell sources), an HTML page's text, attributes and scripts, and
    every other file (markdown, ``searchindex.js``, ``_sources/*.txt``) as it is."""
    raw = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        try:
            return "\n".join(_strings(json.loads(raw)))
        except json.JSONDecodeError:
            return raw
    if path.suffix in (".html", ".htm"):
        return html_text(raw)
    if path.name == "searchindex.js":
        return raw.replace('","', '" "')
    return raw


def find_leaks(snippets, text: str) -> list[str]:
    """The solution snippets found in ``text`` (notebook JSON sources or an HTML page's text)."""
    phrases, code = snippets
    w = _words(text)
    grams = {tuple(w[j:j + WINDOW]) for j in range(len(w) - WINDOW + 1)}
    lines = {ln.strip() for ln in text.splitlines()}
    found = [" ".join(p) for p in phrases & grams]
    found += [c for c in code if c in lines or c in text]
    return sorted(found)


def _solution_words(snippets, kept: str) -> set[str]:
    """Words of at least 8 letters that only the solutions use (for ``searchindex.js``, which
    holds single stemmed terms rather than running text)."""
    phrases, code = snippets
    words = {w for p in phrases for w in p} | {w for c in code for w in _words(c)}
    return {w for w in words if len(w) >= 8} - set(_words(kept))


def _stem(word: str) -> str:
    try:
        import snowballstemmer
    except ImportError:       # pragma: no cover - Sphinx installs it
        return word
    return snowballstemmer.stemmer("english").stemWord(word)


def notebook_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


def shown_text(nb) -> str:
    """What an author wrote for the page in the cells of ``nb``: their sources and the MyST-NB
    figure and image options (captions, alt text) of their metadata; never outputs, other
    metadata or attachments."""
    return "\n".join([notebook_text(nb)] + [
        "\n".join(_strings(c.metadata.get("mystnb", {}))) for c in nb.cells])


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
    # (its Jupyter form, student/jupyter/, is rewritten by `make jupyter` from these sources)
    for sub in ("_build", "chapters", "jupyter"):
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
    solution_only = solution_only_static(root, toc)
    for extra in ("references.bib", "_static", "_ext"):
        src = root / extra
        if src.is_dir():
            shutil.copytree(src, out / extra, dirs_exist_ok=True,
                            ignore=lambda d, names: [n for n in names if (Path(d) / n).resolve()
                                                     in solution_only])
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
            text = "\n".join(c.source for c in nb.cells) + "\n"
            if name == toc["root"]:
                text = student_intro(text)
            dst.write_text(text)
        removed[str(src.relative_to(root))] = n
    return removed


_STATIC_REF = re.compile(r"(?:_static|\.\./_static)/[\w./-]+")


def solution_only_static(root: Path, toc: dict) -> set[Path]:
    """The files under ``_static/`` that only solutions name (a ``{literalinclude}``,
    ``{download}``, image or link): the student edition does not ship them."""
    in_solutions, elsewhere = set(), set()
    for name in _toc_files(toc):
        src = _source(root, name)
        nb = _instructor_notebook(src)
        sol = _solution_text(nb)
        kept = notebook_text(strip_solutions(nb)[0])
        in_solutions |= {r.split("_static/", 1)[1] for r in _STATIC_REF.findall(sol)}
        elsewhere |= {r.split("_static/", 1)[1] for r in _STATIC_REF.findall(kept)}
    for extra in ("_config.yml", "_ext"):
        for path in [root / extra] if (root / extra).is_file() else (root / extra).rglob("*.py"):
            elsewhere |= {r.split("_static/", 1)[1]
                          for r in _STATIC_REF.findall(path.read_text(errors="replace"))}
    return {(root / "_static" / r).resolve() for r in in_solutions - elsewhere}


#: What the student edition's front page says about using it (in place of the instructor's
#: "How to read, run and teach with it", which points at launch buttons and solution dropdowns
#: this edition does not have).
STUDENT_USE = """## How to use this edition

This is the **student edition**: every chapter and every exercise is here, the solutions are
not.

- **Read** the chapters here: every figure and number was produced by the code above it.
- **Run** a chapter: open the notebooks your instructor hands out (this edition's
  `chapters/`) in JupyterLab or VS Code, or upload one to Colab. A chapter executes in a couple
  of minutes on a laptop CPU.
- **Exercises**: a code exercise has an empty cell for your answer. Where the exercise names a
  checker from `momentum.check`, run it on your function: it tries your code on random cases
  and tells you what is wrong, and often why. A checker gives feedback; it is not a grade.
  Graded work comes as assignments from your instructor, with their own tests.
"""


def student_intro(text: str) -> str:
    """The front page for students: the section on reading, running and teaching replaced by
    :data:`STUDENT_USE` (added after the title when there is no such section)."""
    lines = text.split("\n")
    head = next((i for i, ln in enumerate(lines) if ln.startswith("## How to read")), None)
    if head is not None:
        end = head + 1
        while end < len(lines) and (not lines[end].strip() or lines[end].startswith(("- ", " "))):
            end += 1
        rest = "\n".join(lines[end:])
        return "\n".join(lines[:head]) + "\n" + STUDENT_USE + ("\n" + rest if rest else "")
    title = re.search(r"^# .*\n", text, re.M)
    cut = title.end() if title else 0
    return text[:cut] + "\n" + STUDENT_USE + "\n" + text[cut:]


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


#: Suffixes of the files the leak check reads (everything the edition writes that holds text).
TEXT_SUFFIXES = (".ipynb", ".md", ".html", ".htm", ".js", ".txt", ".json", ".rst", ".tex")


def _instructor_notebook(path: Path):
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(path.read_text())])


def leaks_in_edition(root: Path, out: Path) -> list[str]:
    """Every solution snippet of the instructor sources (notebooks and markdown pages) found in
    any file the edition writes under ``out`` (notebooks, whole, metadata and attachments
    included; markdown; HTML pages; ``searchindex.js``; ``_sources``), except theme assets
    (``_static``) and Sphinx's pickles, and every link in its HTML to the instructor notebooks
    (launch and repository buttons): empty when the edition is clean."""
    problems = []
    site = out / "_build" / "html"
    repo = repository_url(root)
    for page in sorted(site.rglob("*.html")) if site.is_dir() else []:
        if any(part.startswith(("_", ".")) for part in page.relative_to(site).parts[:-1]):
            continue
        for href in instructor_links(page.read_text(errors="replace"), repo):
            problems.append(f"{page.relative_to(out)}: link to the instructor notebooks {href}")
    sources = [p for p in sorted(out.rglob("*")) if p.suffix in (".ipynb", ".md")
               and "_build" not in p.parts and (root / p.relative_to(out)).is_file()]
    phrases, code, kept = set(), set(), []
    for src in sources:
        instructor = _instructor_notebook(root / src.relative_to(out))
        p, c = solution_snippets(instructor)
        phrases |= p
        code |= c
        # the text a student may see: the sources of the cells outside the solutions, read
        # from the instructor notebook (never outputs, metadata or attachments, which
        # stripping may have missed)
        kept.append(shown_text(strip_solutions(instructor)[0]))
    # the edition's own front-page text (STUDENT_USE) is the script's, not a solution's
    kept.append(STUDENT_USE)
    # a snippet only one chapter's solutions hold may be another chapter's kept text
    kept_all = "\n".join(kept)
    w = _words(kept_all)
    kept_grams = {tuple(w[j:j + WINDOW]) for j in range(len(w) - WINDOW + 1)}
    snippets = (phrases - kept_grams, {c for c in code if c not in kept_all})
    bib = root / "references.bib"
    kept_all += "\n" + (bib.read_text(errors="replace") if bib.is_file() else "")
    kept_stems = {_stem(w) for w in set(_words(kept_all))}
    stems = {_stem(w): w for w in _solution_words(snippets, kept_all)}
    stems = {k: v for k, v in stems.items() if k not in kept_stems}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES or \
                {"_static", ".doctrees", ".jupyter_cache"} & set(rel.parts):
            continue
        text = file_text(path)
        problems += [f"{rel}: {leak}" for leak in find_leaks(snippets, text)]
        if path.name == "searchindex.js":
            terms = set(re.findall(r'"([a-z]+)"\s*:', text))
            problems += [f"{rel}: the solution-only word {stems[t]!r} is indexed"
                         for t in sorted(terms & set(stems))]
    return problems


# --------------------------------------------------------------------------------------------
# The assignments' student notebooks (make assignments)
# --------------------------------------------------------------------------------------------


def _otter_solutions(master) -> tuple[str, str, str]:
    """(solution code, solution prose, what a student is shown) of an otter master notebook:
    code between ``# BEGIN SOLUTION`` / ``# END SOLUTION`` and lines ending ``# SOLUTION``,
    markdown between the raw ``# BEGIN SOLUTION`` / ``# END SOLUTION`` cells, hidden tests;
    the rest of the sources is what the student notebook may hold."""
    code, prose, shown, gated = [], [], [], False
    for cell in master.cells:
        src = cell.source
        if cell.cell_type == "raw":
            gated = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(src.strip(), gated)
            continue
        if gated and cell.cell_type == "markdown":
            prose.append(src)
            continue
        if cell.cell_type == "code" and "hidden: true" in src:
            code.append(src)
            continue
        inside = False
        for line in src.splitlines():
            if line.strip() == "# BEGIN SOLUTION":
                inside = True
            elif line.strip() == "# END SOLUTION":
                inside = False
            elif inside or line.rstrip().endswith("# SOLUTION"):
                code.append(line)
            else:
                shown.append(line)
    return "\n".join(code), "\n".join(prose), "\n".join(shown)


_OTTER_MARKER = re.compile(r"#\s*(?:BEGIN|END) SOLUTION|#\s*SOLUTION\s*$|BEGIN TESTS", re.M)


def assignment_leaks(folder: Path, root: Path = ROOT) -> list[str]:
    """Every solution of each assignment's master notebook (``folder/chNN/master``) found in
    what its student folder (``folder/chNN/student``) holds: notebooks (every string), test
    files, anything else of text; otter's solution markers; the hidden tests' module; a
    library copy that differs from ``lib/momentum``. The master and autograder notebooks,
    where otter's markers and the solutions belong, are not read."""
    problems = []
    for master_path in sorted(folder.glob("ch*/master/ch*.ipynb")):
        name = master_path.stem
        student = master_path.parent.parent / "student"
        if not student.is_dir():
            problems.append(f"{name}: no student folder")
            continue
        code, prose, shown = _otter_solutions(nbformat.read(master_path, as_version=4))
        shown_lines = {ln.strip() for ln in shown.splitlines()}
        lines = {ln.strip() for ln in code.splitlines()
                 if len(ln.strip()) >= 12 and not ln.strip().startswith(("#", '"""'))
                 and ln.strip() not in shown_lines}
        lines = {ln.removesuffix("# SOLUTION").strip() for ln in lines}
        phrases = _phrases(prose) - _phrases(shown)
        lib = root / "lib" / "momentum"
        for path in sorted(student.rglob("*")):
            rel = path.relative_to(folder)
            if not path.is_file():
                continue
            if path.name.startswith("grading_"):
                problems.append(f"{rel}: the hidden tests' module is in the student folder")
                continue
            inner = path.relative_to(student)
            if inner.parts[0] == "momentum":
                same = lib / Path(*inner.parts[1:])
                if not same.is_file() or same.read_bytes() != path.read_bytes():
                    problems.append(f"{rel}: not the library's file")
                continue
            if path.suffix not in TEXT_SUFFIXES + (".py",):
                continue
            text = file_text(path)
            if path.suffix in (".ipynb", ".py") and _OTTER_MARKER.search(text):
                problems.append(f"{rel}: an otter solution marker survived "
                                f"({_OTTER_MARKER.search(text)[0]!r})")
            problems += [f"{rel}: {leak}" for leak in find_leaks((phrases, lines), text)]
    if not any(folder.glob("ch*/master/ch*.ipynb")):
        problems.append(f"{folder}: no assignments (run make assignments)")
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
    a = sub.add_parser("check-assignments", help="leak-check assignments/*/student")
    a.add_argument("folder", type=Path, nargs="?", default=ROOT / "assignments")
    sub.add_parser("check-install-cells", help="exit 1 if a chapter's Colab cell is stale")
    args = ap.parse_args(argv)

    if args.cmd == "build":
        try:
            removed = write_edition(args.root, args.toc, args.out)
        except ValueError as err:
            print(f"refusing to build the student edition: {err}")
            return 2
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

    if args.cmd == "check-assignments":
        leaks = assignment_leaks(args.folder)
        if leaks:
            print("solutions found in the assignments' student folders:\n  " + "\n  ".join(leaks))
            return 1
        print(f"{args.folder}: the student notebooks hold no solution")
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

"""The Jupyter edition (jupyter/, ``make jupyter``): plain Jupyter markdown with the built
book's numbers, the chapters' own code, no outputs; up to date with the chapters; every formula
typesets in KaTeX (Colab, VS Code) and every notebook reads clean in a real JupyterLab
(MathJax); the HTML book's launch and download buttons open it; Binder's environment runs it.

The JupyterLab, KaTeX, staleness and Binder tests are slow (``make test`` runs them). The
JupyterLab check of the whole edition and of the student form runs once, in ``make
jupyter-check`` (.ci/run); here it is shown to fail on planted MyST and a planted bad formula.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
import jupyter_edition as je_cli  # noqa: E402  (.ci/, put on the path by conftest.py)
import katex_check  # noqa: E402
import student_edition as se  # noqa: E402

# _ext/jupyter_edition.py, the Sphinx builder (same module name as the command in .ci/)
_spec = importlib.util.spec_from_file_location("jupyter_edition_builder",
                                               ROOT / "_ext" / "jupyter_edition.py")
ext = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ext)

EDITION = ROOT / "jupyter"
CHAPTERS = se.chapters(ROOT)
PAIRS = [(c, EDITION / "chapters" / c.name) for c in CHAPTERS]
IDS = [c.stem for c in CHAPTERS]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
MACROS = CONFIG["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
CHROMIUM = "/usr/bin/chromium"

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian's chromium is not installed (.ci/run does)")
needs_katex = pytest.mark.skipif(
    shutil.which("node") is None or not (katex_check.KATEX_DIR / "node_modules").is_dir(),
    reason="node or KaTeX missing: npm ci --prefix .ci/katex (make jupyter-check does)")

# Leftover MyST in a markdown cell's source: a directive fence, a role, a (label)= target.
MYST = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})\{[\w:-]+\}|\{[\w:-]+\}`|^[ \t]*\([^()\s]+\)=[ \t]*$",
                  re.M)


def is_claim(cell) -> bool:
    return (cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", [])
            and bool(ext.ASSERT.search(cell.source)))


# --------------------------------------------------------------------------------------------
# The committed edition
# --------------------------------------------------------------------------------------------


def test_every_chapter_has_its_edition_notebook_and_nothing_else():
    assert CHAPTERS
    made = sorted(p.relative_to(EDITION) for p in EDITION.rglob("*.ipynb"))
    assert made == sorted(Path("chapters") / c.name for c in CHAPTERS)


@pytest.mark.parametrize("chapter,edition", PAIRS, ids=IDS)
def test_code_cells_equal_the_chapters_code_cells(chapter, edition):
    """What a reader runs is what CI ran: the chapter's code cells, in order, the same text,
    claim cells (hidden checks) aside; the install cell is the current template."""
    src = nbformat.read(chapter, as_version=4)
    out = nbformat.read(edition, as_version=4)
    want = [c.source for c in src.cells[1:] if c.cell_type == "code" and not is_claim(c)]
    got = [c.source for c in out.cells if c.cell_type == "code"]
    assert got[0] == se.install_cell_source(se.repository_url(ROOT))
    assert got[1:] == want
    assert not any(is_claim(c) for c in out.cells)


@pytest.mark.parametrize("edition", [e for _, e in PAIRS], ids=IDS)
def test_no_myst_no_outputs_no_undefined_macros(edition):
    nb = nbformat.read(edition, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {i} has output"
            continue
        assert cell.cell_type == "markdown"
        m = MYST.search(cell.source)
        assert m is None, f"cell {i}: leftover MyST {m[0]!r}"
        for name in MACROS:
            assert not re.search(rf"\\{name}(?![A-Za-z])", katex_check._CODE.sub(
                "", cell.source)), f"cell {i}: the book's macro \\{name} is not expanded"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("chapter,edition", PAIRS, ids=IDS)
def test_boxes_are_numbered_quotes_and_solutions_are_details(chapter, edition):
    """Every labelled box of the chapter is a quoted block headed by its bold number, with an
    anchor; every solution a <details> block; no box is lost."""
    src = "\n".join(c.source for c in nbformat.read(chapter, as_version=4).cells
                    if c.cell_type == "markdown")
    out = "\n".join(c.source for c in nbformat.read(edition, as_version=4).cells
                    if c.cell_type == "markdown")
    boxes = re.findall(r"^[ \t]*`{3,}\{(prf:\w+|exercise)\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?"
                       r"[ \t]*:label:[ \t]*(\S+)", src, re.M)
    assert boxes
    n = chapter.name[:2].lstrip("0")
    for kind, label in boxes:
        assert f'<a id="{label}"></a>' in out, label
        word = "Exercise" if kind == "exercise" else kind[4:].title()
        assert re.search(rf"^> \*\*{word} {n}\.\d+\*\*", out, re.M), (kind, label)
    solutions = len(re.findall(r"\{solution(?:-start)?\}", src, re.I))
    assert out.count("<summary><b>Solution to Exercise") >= solutions
    assert out.count("<details>") == out.count("</details>")


def test_references_are_the_books_numbers_linked_to_the_html_book():
    base = CONFIG["html"]["baseurl"].rstrip("/") + "/"
    text = "\n".join(c.source for _, e in PAIRS for c in nbformat.read(e, as_version=4).cells
                     if c.cell_type == "markdown")
    links = re.findall(r"\[([^\]]+)\]\(([^)\s]+)\)", text)
    internal = [(t, u) for t, u in links if u.startswith(base)]
    assert len(internal) > 100
    pages = {u[len(base):].split("#")[0] for _, u in internal}
    for page in pages:
        assert (ROOT / page.replace(".html", ".ipynb")).is_file() or \
            (ROOT / page.replace(".html", ".md")).is_file(), page
    shown = {t for t, _ in internal}
    assert any(re.fullmatch(r"Theorem \d\.\d+", t) for t in shown)
    assert any(re.fullmatch(r"Exercise \d\.\d+", t) for t in shown)
    assert any(re.fullmatch(r"Fig\. \d\.\d+", t) for t in shown)
    assert "(Liao and Kyrillidis, 2024)" in re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)


@pytest.mark.parametrize("edition", [e for _, e in PAIRS], ids=IDS)
def test_citations_have_their_entries_appended(edition):
    nb = nbformat.read(edition, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    if "bibliography.html#" not in text.split("## References")[0]:
        return
    last = nb.cells[-1].source
    assert last.startswith("## References") and "\n- " in last


def test_macro_expansion():
    assert ext.expand_macros(r"\norm{\vx - \vu_0}", MACROS) == \
        r"\left\lVert \mathbf{x} - \mathbf{u}_0 \right\rVert"
    assert ext.expand_macros(r"\grad_\vx f", MACROS) == r"\nabla_{\mathbf{x}} f"
    assert ext.expand_macros(r"\norm{A\norm{\vx}}^2", MACROS) == \
        r"\left\lVert A\left\lVert \mathbf{x} \right\rVert \right\rVert^2"
    assert ext.expand_macros(r"a \\vx", MACROS) == r"a \\vx"     # a line break, then "vx"
    assert ext.expand_macros(r"\vxi", MACROS) == r"\vxi"            # another name
    assert ext.expand_math_macros(r"`\vx` and $\vx$", MACROS) == r"`\vx` and $\mathbf{x}$"


# --------------------------------------------------------------------------------------------
# KaTeX (Colab, VS Code)
# --------------------------------------------------------------------------------------------


def _planted(tmp_path: Path, edition: Path, text: str) -> Path:
    """A copy of an edition notebook with ``text`` appended as a markdown cell."""
    nb = nbformat.read(edition, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    out = tmp_path / "chapters" / edition.name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


@needs_katex
@pytest.mark.slow
def test_slow_every_formula_of_the_edition_renders_in_katex():
    n, errors = katex_check.check(sorted(EDITION.rglob("*.ipynb")))
    assert n > 1000
    assert errors == []


@needs_katex
@pytest.mark.slow
def test_slow_katex_check_fails_on_a_planted_bad_formula(tmp_path):
    bad = _planted(tmp_path, PAIRS[0][1], "A planted formula: $\\norm{\\vx}$ and $\\frac{1}{$."
                   "\n\n> A quote:\n>\n> $$\n> x = 1\n> $$")
    n, errors = katex_check.check([bad])
    assert n > 10
    assert len(errors) == 3 and all("cell" in e["where"] for e in errors)
    assert any("quote marker" in e["error"] for e in errors)
    assert any("Undefined control sequence" in e["error"] for e in errors)


# --------------------------------------------------------------------------------------------
# JupyterLab (MathJax), in Debian's Chromium
# --------------------------------------------------------------------------------------------


@needs_chromium
@pytest.mark.slow
def test_slow_jupyterlab_check_fails_on_planted_myst_a_bad_formula_and_a_broken_image(tmp_path):
    import jupyterlab_check

    chapter = PAIRS[1][1]
    _planted(tmp_path / "glue", chapter,
             "The rate is {glue:text}`rate_gd_0.01:.4f` per step.\n\n(sec-planted)=\n")
    math = _planted(tmp_path / "math", chapter, r"A planted formula: $\frac{1}{2$ here.")
    fence = _planted(tmp_path / "fence", chapter,
                     "```{prf:theorem} A planted theorem\n:label: thm-planted\n\nText.\n```"
                     "\n\n![a planted image](missing.png)")
    shutil.copytree(tmp_path / "glue", tmp_path / "all", dirs_exist_ok=True)
    for src, name in ((math, "math.ipynb"), (fence, "fence.ipynb")):
        shutil.copy(src, tmp_path / "all" / name)
    results = jupyterlab_check.check_notebooks(tmp_path / "all",
                                               sorted((tmp_path / "all").rglob("*.ipynb")),
                                               CHROMIUM, tmp_path / "shots")
    glue_problems = results[f"chapters/{chapter.name}"]
    assert any("MyST role" in p and "{glue:text}" in p for p in glue_problems), glue_problems
    assert any("(label)=" in p for p in glue_problems), glue_problems
    assert any("MathJax error" in p or "untypeset TeX" in p for p in results["math.ipynb"]), \
        results["math.ipynb"]
    assert any("directive fence" in p for p in results["fence.ipynb"]), results["fence.ipynb"]
    assert any("image not loaded" in p for p in results["fence.ipynb"]), results["fence.ipynb"]
    assert not any("image" in p for p in glue_problems)
    shots = {p.name for p in (tmp_path / "shots").glob("*.png")}
    assert {"chapters__" + chapter.stem + ".png", "math.png", "fence.png"} <= shots


# --------------------------------------------------------------------------------------------
# Up to date, and what the HTML book links
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_slow_regenerating_the_edition_changes_nothing():
    """``make jupyter`` run now would write exactly the committed jupyter/ (about a minute:
    Sphinx reads the whole book)."""
    assert je_cli.main(["check"]) == 0


def test_stale_lists_changed_missing_and_extra_notebooks(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / "chapters").mkdir(parents=True)
    (a / "chapters" / "x.ipynb").write_text("1")
    (b / "chapters" / "x.ipynb").write_text("2")
    (a / "chapters" / "old.ipynb").write_text("1")
    (b / "chapters" / "new.ipynb").write_text("1")
    assert sorted(je_cli.stale(a, b)) == sorted([
        "chapters/x.ipynb: differs", "chapters/old.ipynb: not generated any more",
        "chapters/new.ipynb: missing from a/"])
    assert je_cli.stale(b, b) == []


def _site(tmp_path: Path, hrefs: list[str]) -> Path:
    site = tmp_path / "html"
    (site / "chapters").mkdir(parents=True)
    (site / "chapters" / "x.html").write_text(
        "".join(f'<a href="{h}">x</a>' for h in hrefs))
    return site


def test_link_check_accepts_edition_urls_and_rejects_the_myst_sources(tmp_path):
    repo = "/".join(CONFIG["repository"]["url"].rstrip("/").split("/")[-2:])
    branch = CONFIG["repository"]["branch"]
    name = CHAPTERS[0].name
    good = [f"https://colab.research.google.com/github/{repo}/blob/{branch}/jupyter/chapters/"
            f"{name}",
            f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=tree/jupyter/chapters/{name}"]
    site = _site(tmp_path, good)
    assert je_cli.link_problems(site) == (2, [])
    bad = [u.replace("jupyter/chapters", "chapters") for u in good] + \
        [good[0].replace(branch, "other"), f"../_sources/chapters/{name}",
         f"../_jupyter/chapters/{name}"]
    count, problems = je_cli.link_problems(_site(tmp_path / "bad", bad))
    assert count == 5 and len(problems) == 5, problems


@pytest.mark.skipif(not (ROOT / "_build" / "html" / "intro.html").is_file(),
                    reason="the HTML book is not built (make book; .ci/run checks it after)")
def test_built_books_launch_and_download_urls_open_the_edition():
    count, problems = je_cli.link_problems(ROOT / "_build" / "html")
    assert problems == []
    assert count == 3 * len(CHAPTERS)          # Binder, Colab and the download, per chapter


# --------------------------------------------------------------------------------------------
# Binder's environment
# --------------------------------------------------------------------------------------------


def test_binder_environment_is_the_runtime_only():
    reqs = (ROOT / "binder" / "requirements.txt").read_text()
    lines = [ln.split("#")[0].strip() for ln in reqs.splitlines()]
    pins = [ln for ln in lines if ln and not ln.startswith("-")]
    assert "torch==2.13.0+cpu" in pins
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    for pin in pins:
        assert "==" in pin, pin
    for heavy in ("jupyter-book", "sphinx-book-theme", "playwright", "pytest", "nbval",
                  "ruff", "hypothesis", "pypdf", "jupyterlab"):
        assert not any(p.lower().startswith(heavy + "==") for p in pins), heavy
    # the same versions as requirements.txt, the CPU build aside
    main = {ln.split("==")[0].lower(): ln.split("==")[1]
            for ln in (ROOT / "requirements.txt").read_text().splitlines() if "==" in ln}
    for pin in pins:
        name, version = pin.split("==")
        assert main.get(name.lower()) == version.split("+")[0], pin
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)


@pytest.mark.slow
def test_slow_binder_environment_installs_and_runs_the_fastest_chapter(tmp_path):
    """A fresh venv gets binder/requirements.txt (pip resolves from the machine's wheel
    mirrors; the PyTorch index is not reached offline) and binder/postBuild, as repo2docker
    does; then the fastest chapter's edition notebook executes in it from a temporary
    directory."""
    from chapter_runs import fastest_chapter

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    env = dict(os.environ, PIP_RETRIES="0", PIP_TIMEOUT="5", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
               VIRTUAL_ENV=str(env_dir), TQDM_DISABLE="1")
    env.pop("PYTHONPATH", None)
    subprocess.run([py, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
                   cwd=ROOT, env=env, check=True)
    subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, env=env, check=True)
    listed = subprocess.run([py, "-m", "pip", "list", "--format=freeze"], env=env,
                            capture_output=True, text=True, check=True).stdout.lower()
    assert "torch==2.13.0+cpu" in listed
    for absent in ("jupyter-book", "sphinx-book-theme", "playwright", "pytest"):
        assert f"\n{absent}==" not in "\n" + listed, absent
    chapter = EDITION / "chapters" / fastest_chapter().name
    run = tmp_path / "run"
    run.mkdir()
    script = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=900, kernel_name='python3',\n"
        "               resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "errors = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs\n"
        "          if o.output_type == 'error']\n"
        "assert not errors, errors\n"
        "assert nb.cells[0].outputs == []   # the install cell found momentum\n"
        "print('executed', len(nb.cells), 'cells')\n")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    result = subprocess.run([py, "-c", script, str(chapter), str(run)], cwd=run, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "executed" in result.stdout
    # the library came from the repository (postBuild), not from the shared environment
    where = subprocess.run([py, "-c", "import momentum; print(momentum.__file__)"], cwd=run,
                           env=env, capture_output=True, text=True, check=True).stdout
    assert where.strip().startswith(str(ROOT / "lib"))

"""Assignments from the chapters' exercises: otter-grader master notebooks, and ``otter assign``.

    python .ci/assignments.py build --seed SEED [--out assignments] [--chapter 1 ...]
                                    [--no-assign]

For every chapter (what ``make assignments SEED=...`` runs) this writes
``assignments/chNN/master/chNN.ipynb``, an otter-grader master notebook generated from the
chapter's exercises and the graded questions of ``assignments_src/chNN.py``, and runs ``otter
assign`` on it into ``assignments/chNN/`` (``student/``: the notebook to hand out, with the
library beside it; ``autograder/``: the instructor key, i.e. the notebook with the solutions
and the rubrics, and ``chNN-autograder.zip`` for ``otter run`` or Gradescope).

* Each question is headed by the book's exercise number and title ("Exercise 1.3: ..."),
  followed by the exercise's text as the Jupyter edition (``jupyter/chapters/``, committed, made
  by ``make jupyter`` from the built book) shows it: references as the book's numbers linked to
  the HTML book ("Theorem 2.1"), citations as the book prints them, glued values filled in,
  macros expanded; then the graded task (the book's macros expanded there too). The build stops
  if the edition's exercises are not the chapter's (a stale edition) or if any markdown cell
  still shows MyST, a macro Jupyter lacks or a bare label. Where a chapter has too few
  exercises a code answer can grade, the graded task is a seeded variant of the exercise (said
  in the heading).
* Code questions: an answer cell with a function skeleton, a public test (the book's checker or
  a sanity check, with its feedback) and hidden tests with points, which call the references in
  ``grading_chNN.py`` (shipped only inside the autograder zip). Written questions: a markdown
  answer cell; the solution and its rubric are in the instructor key, graded by hand.
* Constants: every constant a graded question states, and the seed of the hidden tests' cases,
  are drawn from the instructor's ``SEED`` (the book's solutions are public).
* Self-contained: the student notebook imports NumPy and the library shipped beside it and
  sets up in seconds; no chapter is re-run. Its export cell writes the submission zip without
  a PDF (no LaTeX, no downloaded browser).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib
import importlib.util
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The Python of the grading image (Gradescope's, built by the zip's setup.sh): the one that builds
#: the assignments, with the book's pins installed (otter's default would be 3.13).
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
#: Where the grading image gets PyTorch's CPU build (as Binder does).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: The autograder's requirements on Gradescope: the library's numerics (as pinned for the book).
AUTOGRADER_REQUIREMENTS = ("torch", "numpy", "scipy", "matplotlib", "scikit-learn", "tqdm",
                           "pandas")

_EXERCISE = re.compile(r"^(?P<fence>[`:]{3,})\{exercise\}(?P<title>[^\n]*)\n(?P<body>.*?)\n"
                       r"(?P=fence)\s*$", re.S | re.M)


# --------------------------------------------------------------------------------------------
# The chapter's exercises, in Jupyter markdown
# --------------------------------------------------------------------------------------------


def chapter_path(number: int, root: Path = ROOT) -> Path:
    found = sorted((root / "chapters").glob(f"{number:02d}_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no chapter {number} in {root / 'chapters'}")
    return found[0]


def edition_path(number: int, root: Path = ROOT) -> Path:
    """The chapter's notebook in the Jupyter edition (``jupyter/chapters/``, committed)."""
    return root / "jupyter" / "chapters" / chapter_path(number, root).name


_EDITION_EXERCISE = re.compile(r'<a id="(?P<label>[^"]+)"></a>\s*\n> \*\*Exercise '
                               r'(?P<number>\d+\.\d+)\*\*[ \t]*(?P<title>[^\n]*)\n'
                               r'(?P<body>(?:>[^\n]*(?:\n|$))*)')
# What must not reach an assignment's markdown: a MyST directive fence, a role, a (label)= target
MYST = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})\{[\w:-]+\}|\{[\w:-]+\}`|"
                  r"^[ \t]*\([^()\s]+\)=[ \t]*$", re.M)


def exercises(number: int, root: Path = ROOT) -> dict[str, dict]:
    """The chapter's exercises by label: ``number`` ("1.3"), ``title`` and ``text``, as the
    Jupyter edition (``jupyter/chapters/``, written by ``_ext/jupyter_edition.py`` from the
    built book) shows them: cross-references as the book's numbers linked to the HTML book
    ("Theorem 2.1"), citations as the book prints them, glued values filled in, the book's
    macros expanded. The edition's exercises must be the chapter's (same labels, same order),
    or the edition is stale and this stops."""
    path = edition_path(number, root)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no Jupyter edition of chapter {number} (make jupyter)")
    chapter = nbformat.read(chapter_path(number, root), as_version=4)
    wanted = []
    for cell in chapter.cells:
        if cell.cell_type == "markdown":
            for m in _EXERCISE.finditer(cell.source):
                label = re.search(r"^\s*:label:\s*(\S+)", m["body"], re.M)
                wanted.append(label[1] if label else None)
    out = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for m in _EDITION_EXERCISE.finditer(cell.source):
            title = m["title"].strip()
            if title.startswith("(") and title.endswith(")"):
                title = title[1:-1]
            text = "\n".join(re.sub(r"^> ?", "", ln) for ln in m["body"].rstrip("\n").split("\n"))
            out[m["label"]] = dict(number=m["number"], title=title, text=text.strip())
    numbers = [f"{number}.{k}" for k in range(1, len(wanted) + 1)]
    if list(out) != wanted or [e["number"] for e in out.values()] != numbers:
        raise ValueError(f"{path}: the Jupyter edition's exercises {list(out)} are not chapter "
                         f"{number}'s {wanted} (numbered {numbers}): the edition is stale; run "
                         "`make jupyter` (or .ci/jupyter_edition.py build) and commit jupyter/")
    return out


def _edition_builder():
    """``_ext/jupyter_edition.py`` (the Sphinx builder of the Jupyter edition), for its macro
    expansion."""
    spec = importlib.util.spec_from_file_location("jupyter_edition_builder",
                                                  ROOT / "_ext" / "jupyter_edition.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def book_macros(root: Path = ROOT) -> dict:
    """The book's MathJax macros (``_config.yml``), which Jupyter's renderers do not know."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]


@functools.lru_cache(maxsize=4)
def book_labels(root: Path = ROOT) -> frozenset[str]:
    """Every label the chapters define (``:label:`` options and ``(label)=`` targets)."""
    out = set()
    for path in (root / "chapters").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                out |= set(re.findall(r"^\s*:label:\s*(\S+)", cell.source, re.M))
                out |= set(re.findall(r"^\s*\(([^()\s]+)\)=\s*$", cell.source, re.M))
            name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
            out |= {name} if name else set()
    return frozenset(out)


def markdown_problems(text: str, macros: dict, labels: set[str]) -> list[str]:
    """What in an assignment's markdown does not read as the book: leftover MyST (a role, a
    directive, a ``(label)=`` target), one of the book's macros (undefined in Jupyter), or a
    label shown as text instead of the book's number (a label may only be a link's target or an
    anchor's id)."""
    problems = [f"leftover MyST {m[0]!r}" for m in MYST.finditer(text)]
    plain = re.sub(r"\]\([^)\s]*\)|<a id=\"[^\"]*\"></a>", "", text)
    for name in macros:
        if re.search(rf"\\{name}(?![A-Za-z])", plain):
            problems.append(f"the book's macro \\{name}, which Jupyter does not define")
    for label in sorted(labels):
        if re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", plain):
            problems.append(f"the label {label!r} as text (not the book's number)")
    return problems


def chapter_title(number: int, root: Path = ROOT) -> str:
    nb = nbformat.read(chapter_path(number, root), as_version=4)
    for cell in nb.cells:
        m = re.search(r"^#\s+(.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
        if m:
            return m[1].strip()
    return f"Chapter {number}"


# --------------------------------------------------------------------------------------------
# The master notebook
# --------------------------------------------------------------------------------------------


def seeds(seed: int, number: int) -> tuple[int, int]:
    """The chapter's (constants, hidden tests) seeds, derived from the instructor's seed."""
    h = hashlib.sha256(f"momentum-assignments:{seed}:{number}".encode()).digest()
    return int.from_bytes(h[:8], "little"), int.from_bytes(h[8:16], "little") % 2**62


def load_questions(number: int, seed: int):
    import numpy as np

    mod = importlib.import_module(f"assignments_src.ch{number:02d}")
    mod = importlib.reload(mod)
    const_seed, hidden_seed = seeds(seed, number)
    qs = mod.questions(np.random.default_rng(const_seed))
    return qs, mod.GRADING.replace("{hidden_seed}", str(hidden_seed))


def _raw(text):
    return nbformat.v4.new_raw_cell(text)


def _test_cell(lines, points, hidden, grading=None):
    head = f'""" # BEGIN TEST CONFIG\npoints: {points}\nhidden: {str(hidden).lower()}\n'
    head += '""" # END TEST CONFIG\n'
    body = ([f"import {grading}"] if grading else []) + list(lines)
    return nbformat.v4.new_code_cell(head + "\n".join(body))


def _split(lines):
    cells, cur = [], []
    for ln in lines:
        if ln == "---":
            cells.append(cur)
            cur = []
        else:
            cur.append(ln)
    return [*cells, cur]


def intro_markdown(number: int, title: str, questions) -> str:
    graded = sum(q["kind"] == "code" for q in questions)
    written = len(questions) - graded
    pts = sum(sum(q["points"]) if q["kind"] == "code" else q["points"] for q in questions)
    return f"""# Assignment: Chapter {number}, {title}

This assignment goes with Chapter {number} of *When does Nesterov's momentum provably
accelerate?*. Each question is one of the chapter's exercises, by its number in the book; read
the chapter first. The constants in the questions were drawn for your course: use the ones
written here, not the book's.

- **Code questions** ({graded}): fill in the function in the answer cell (keep its name and
  arguments) and run the cell. The cell after it runs the public test: the book's checker or a
  sanity check, which tells you what is wrong and often why. Passing it is feedback, not the
  grade: the autograder runs hidden tests on other cases.
- **Written questions** ({written}): write your answer (text and $\\LaTeX$ math) in the markdown
  cell marked for it; they are graded by hand.
- Run every cell from the top (Kernel > Restart & Run All) before you submit, then run the last
  cell: it writes the zip file to submit. {pts} points in all.
"""


SETUP = """# Set-up: NumPy and the book's library (shipped beside this notebook as momentum/).
import numpy as np

from momentum import check"""


def master_notebook(number: int, seed: int, root: Path = ROOT):
    """The otter master notebook of chapter ``number`` and the text of its grading module."""
    exs = exercises(number, root)
    questions, grading = load_questions(number, seed)
    name = f"ch{number:02d}"
    config = f"""# ASSIGNMENT CONFIG
name: {name}
requirements: requirements.txt
python_version: "{PYTHON}"
files:
    - momentum
autograder_files:
    - grading_{name}.py
init_cell: true
check_all_cell: true
run_tests: false
export_cell:
    pdf: false
    instructions: "Submit the zip file this cell writes (no PDF is made: no LaTeX needed)."
generate:
    pdf: false
    show_stdout: true
tests:
    files: false
"""
    cells = [_raw(config), nbformat.v4.new_markdown_cell(
        intro_markdown(number, chapter_title(number, root), questions)),
        nbformat.v4.new_code_cell(SETUP)]
    for q in questions:
        ex = exs.get(q["label"])
        if ex is None:
            raise ValueError(f"{name}: question {q['name']} names {q['label']}, which is not "
                             f"an exercise of chapter {number}")
        head = f"## Exercise {ex['number']}: {ex['title']}"
        if q.get("variant"):
            head += f" ({q['variant']}; a graded variant)"
        prompt = f"{head}\n\n{ex['text']}"
        if q["kind"] == "code":
            prompt += f"\n\n**Graded task ({sum(q['points'])} points).** {q['task']}"
            cells.append(_raw(f"# BEGIN QUESTION\nname: {q['name']}"))
            cells.append(nbformat.v4.new_markdown_cell(prompt))
            answer = (q["given"] + "\n\n" if q.get("given") else "") + q["answer"]
            cells.append(_raw("# BEGIN SOLUTION"))
            cells.append(nbformat.v4.new_code_cell(answer))
            cells.append(_raw("# END SOLUTION"))
            cells.append(_raw("# BEGIN TESTS"))
            points = list(q["points"])
            cells.append(_test_cell(q["public"], points[0], False))
            hidden = _split(q["hidden"])
            if len(hidden) != len(points) - 1:
                raise ValueError(f"{name} {q['name']}: {len(hidden)} hidden tests, "
                                 f"{len(points) - 1} points")
            for lines, p in zip(hidden, points[1:], strict=True):
                cells.append(_test_cell(lines, p, True, grading=f"grading_{name}"))
            cells.append(_raw("# END TESTS"))
            cells.append(_raw("# END QUESTION"))
        else:
            prompt += (f"\n\n**Written answer ({q['points']} points).** Answer in the markdown "
                       "cell below.")
            cells.append(_raw(f"# BEGIN QUESTION\nname: {q['name']}\nmanual: true\n"
                              f"points: {q['points']}"))
            cells.append(nbformat.v4.new_markdown_cell(prompt))
            cells.append(_raw("# BEGIN SOLUTION"))
            cells.append(nbformat.v4.new_markdown_cell(
                "**Instructor key (removed from the student notebook).** " + q["answer"]))
            cells.append(_raw("# END SOLUTION"))
            cells.append(_raw("# END QUESTION"))
    cells.append(nbformat.v4.new_markdown_cell("## Submitting\n\nRun the cells below."))
    # the questions' own text (tasks, rubrics) gets the edition's macro expansion too, and no
    # markdown cell may show MyST, a macro Jupyter lacks or a bare label
    macros, labels = book_macros(root), book_labels(root)
    expand = _edition_builder().expand_math_macros
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            cell.source = expand(cell.source, macros)
            problems = markdown_problems(cell.source, macros, labels)
            if problems:
                raise ValueError(f"{name}, cell {i}: " + "; ".join(problems))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb, grading, questions


def write_master(number: int, seed: int, out: Path, root: Path = ROOT) -> Path:
    """Write ``out/chNN/master/``: the master notebook, the library, the grading module and
    the autograder's requirements; return the notebook's path."""
    name = f"ch{number:02d}"
    master = out / name / "master"
    shutil.rmtree(out / name, ignore_errors=True)
    master.mkdir(parents=True)
    nb, grading, _ = master_notebook(number, seed, root)
    path = master / f"{name}.ipynb"
    nbformat.write(nb, path)
    (master / f"grading_{name}.py").write_text(
        f'"""Hidden tests of assignment {name} (autograder only; seeded by the instructor)."""\n'
        + grading)
    shutil.copytree(root / "lib" / "momentum", master / "momentum",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pins = {}
    for line in (root / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if m:
            pins[m[1].lower()] = line.strip()
    # PyTorch's CPU build from PyTorch's index, as on Binder (binder/requirements.txt): a few
    # hundred MB in the grading image instead of several GB of CUDA
    if "torch" in pins and "+" not in pins["torch"]:
        pins["torch"] += "+cpu"
    (master / "requirements.txt").write_text(
        f"--extra-index-url {TORCH_CPU_INDEX}\n"
        + "\n".join(pins.get(p, p) for p in AUTOGRADER_REQUIREMENTS) + "\n")
    return path


def otter_assign(path: Path, result: Path) -> Path:
    """``otter assign`` the master notebook ``path`` into ``result``; return the zip."""
    cmd = [sys.executable, "-m", "otter", "assign", str(path), str(result)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    zips = sorted((result / "autograder").glob("*-autograder_*.zip"))
    if not zips:
        raise RuntimeError(f"otter assign wrote no autograder zip into {result}")
    final = result / "autograder" / f"{result.name}-autograder.zip"
    zips[-1].rename(final)
    for extra in zips[:-1]:
        extra.unlink()
    return final


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write assignments/chNN/ for every chapter")
    b.add_argument("--seed", type=int, required=True,
                   help="the instructor's seed: the constants and the hidden tests' cases")
    b.add_argument("--out", type=Path, default=ROOT / "assignments")
    b.add_argument("--chapter", type=int, nargs="*", default=None)
    b.add_argument("--no-assign", action="store_true", help="write the master notebooks only")
    b.add_argument("--jobs", type=int, default=2, help="otter assign processes at a time")
    args = ap.parse_args(argv)
    numbers = args.chapter or sorted(int(p.name[:2]) for p in (ROOT / "chapters").glob("*.ipynb"))
    paths = [write_master(n, args.seed, args.out) for n in numbers]
    if args.no_assign:
        for path in paths:
            print(f"{path}: master notebook written")
        return 0
    # otter assign runs in its own process per chapter: two at a time
    with ThreadPoolExecutor(max(1, min(args.jobs, len(paths)))) as pool:
        zips = list(pool.map(lambda p: otter_assign(p, p.parent.parent), paths))
    for n, zip_path in zip(numbers, zips, strict=True):
        print(f"chapter {n}: {zip_path.parent.parent / 'student'} and {zip_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Assignments from the chapters' exercises: otter-grader master notebooks, and ``otter assign``.

    python .ci/assignments.py build --seed SEED [--out assignments] [--chapter 1 ...]
                                    [--no-assign]

For every chapter (what ``make assignments SEED=...`` runs) this writes
``assignments/chNN/master/chNN.ipynb``, an otter-grader master notebook generated from the
chapter's exercises and the graded questions of ``assignments_src/chNN.py``, and runs ``otter
assign`` on it into ``assignments/chNN/`` (``student/``: the notebook to hand out, with the
library beside it; ``autograder/``: the instructor key, i.e. the notebook with the solutions
and the rubrics, and ``chNN-autograder.zip`` for ``otter run`` or Gradescope).

* Each question is headed by the book's exercise number and title ("Exercise 1.3: ..."), read
  from the chapter (its order among the chapter's ``{exercise}`` boxes, as the book numbers
  them), followed by the exercise's text in plain Jupyter markdown (roles written out, macros
  expanded) and the graded task. Where a chapter has too few exercises a code answer can grade,
  the graded task is a seeded variant of the exercise (said in the heading).
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
import hashlib
import importlib
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def _glue_values(nb) -> dict[str, str]:
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and "text/plain" in o.get("data", {}):
                out[name] = str(o["data"]["text/plain"]).strip("'\"")
    return out


def _bib_authors(root: Path) -> dict[str, str]:
    text = (root / "references.bib").read_text()
    out = {}
    for m in re.finditer(r"@\w+\{([^,]+),(.*?)\n\}", text, re.S):
        author = re.search(r"author\s*=\s*\{(.*?)\}\s*,", m[2], re.S)
        year = re.search(r"year\s*=\s*\{?(\d{4})", m[2])
        if author:
            names = [a.split(",")[0].strip() for a in author[1].split(" and ")]
            who = names[0] if len(names) == 1 else (
                f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al.")
            out[m[1].strip()] = f"{who} ({year[1] if year else 'n.d.'})"
    return out


_KINDS = {"thm": "the theorem", "lem": "the lemma", "prop": "the proposition",
          "fig": "the figure", "sec": "the section", "tbl": "the table", "eq": "the equation",
          "asm": "the assumption", "def": "the definition", "cor": "the corollary"}


def jupyter_markdown(text: str, chapter: int, glue: dict, authors: dict) -> str:
    """The exercise's MyST text as plain Jupyter markdown: cross-references and citations
    written out as text, glued values filled in, the book's macros expanded."""
    def ref(m):
        label = m["label"].split("<")[-1].rstrip(">")
        kind = _KINDS.get(label.split("-")[0], "the item")
        return f"{kind} `{label}` of Chapter {chapter} in the book"

    text = re.sub(r"\{(?:prf:ref|numref|ref|eq)\}`(?P<label>[^`]+)`", ref, text)
    text = re.sub(r"\{cite:t\}`([^`]+)`",
                  lambda m: ", ".join(authors.get(k.strip(), k) for k in m[1].split(",")), text)
    text = re.sub(r"\{cite(?::p)?\}`([^`]+)`",
                  lambda m: "(" + "; ".join(authors.get(k.strip(), k)
                                            for k in m[1].split(",")) + ")", text)
    text = re.sub(r"\{glue:text\}`([^`:]+)(?::[^`]*)?`", lambda m: glue.get(m[1], m[1]), text)
    text = re.sub(r"\{glue\}`([^`]+)`", lambda m: glue.get(m[1], m[1]), text)
    macros = {r"\R": r"\mathbb{R}", r"\grad": r"\nabla", r"\argmin": r"\operatorname*{arg\,min}",
              **{rf"\v{c}": rf"\mathbf{{{c}}}" for c in "xuyvwzr"}}
    for k, v in macros.items():
        text = re.sub(re.escape(k) + r"(?![A-Za-z])", lambda m, v=v: v, text)
    text = re.sub(r"\\norm\{((?:[^{}]|\{[^{}]*\})*)\}", r"\\left\\lVert \1 \\right\\rVert", text)
    return text


def exercises(number: int, root: Path = ROOT) -> dict[str, dict]:
    """The chapter's exercises by label: ``number`` ("1.3", the book's), ``title`` and
    ``text`` (Jupyter markdown)."""
    nb = nbformat.read(chapter_path(number, root), as_version=4)
    glue, authors = _glue_values(nb), _bib_authors(root)
    out, k = {}, 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for m in _EXERCISE.finditer(cell.source):
            k += 1
            body = m["body"].split("\n")
            label = next((ln.split(":label:")[1].strip() for ln in body
                          if ln.strip().startswith(":label:")), f"exercise-{k}")
            text = "\n".join(ln for ln in body if not re.match(r"^:\w+:", ln.strip()))
            out[label] = dict(number=f"{number}.{k}", title=m["title"].strip(),
                              text=jupyter_markdown(text.strip(), number, glue, authors))
    return out


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
    (master / "requirements.txt").write_text(
        "\n".join(pins.get(p, p) for p in AUTOGRADER_REQUIREMENTS) + "\n")
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

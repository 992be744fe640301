"""The assignments (``make assignments``, .ci/assignments.py): a master notebook per chapter with
the book's exercise numbers, skeletons, public and hidden tests with points and rubrics; the
instructor's seed draws the constants; and grading, offline: the reference solutions score full
marks, blank answers zero, typical wrong answers partial marks with the checker's hint shown.
The fast tests grade in this process (the tests' own code, as otter runs it); the slow one runs
``otter assign`` and ``otter run`` on every chapter."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("assignments", ROOT / ".ci/assignments.py")
assignments = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assignments)
CHAPTERS = sorted(int(p.name[:2]) for p in (ROOT / "chapters").glob("*.ipynb"))


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    return out, {n: assignments.write_master(n, 1234, out) for n in CHAPTERS}


def _questions(nb):
    """(name, config, cells) for each question of a master notebook."""
    out, cur = [], None
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            cur = (re.search(r"name: (\w+)", cell.source)[1], cell.source, [])
        elif cell.cell_type == "raw" and cell.source.startswith("# END QUESTION"):
            out.append(cur)
            cur = None
        elif cur is not None:
            cur[2].append(cell)
    return out


def test_every_chapter_has_a_master_notebook_with_graded_questions(masters):
    out, paths = masters
    autograded = 0
    for n, path in paths.items():
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
        config = nb.cells[0].source
        assert "pdf: false" in config and "- momentum" in config      # no LaTeX; the library
        assert f"grading_ch{n:02d}.py" in config                        # hidden refs: autograder
        qs = _questions(nb)
        assert len(qs) >= 2, f"chapter {n}: {len(qs)} questions"
        exs = assignments.exercises(n)
        for _name, cfg, cells in qs:
            prompt = cells[0].source
            m = re.match(r"## Exercise (\d+)\.(\d+): (.+)", prompt)
            assert m and int(m[1]) == n, prompt[:80]
            assert any(e["number"] == f"{m[1]}.{m[2]}" for e in exs.values())
            if "manual: true" in cfg:
                key = "".join(c.source for c in cells if c.cell_type == "markdown")
                assert "Rubric" in key
                continue
            autograded += 1
            answer = next(c for c in cells if c.cell_type == "code")
            assert re.search(r"^def \w+\(", answer.source, re.M)       # a function skeleton
            tests = [c.source for c in cells if c.cell_type == "code" and "TEST CONFIG" in c.source]
            hidden = [t for t in tests if "hidden: true" in t]
            assert hidden and all(re.search(r"points: [1-9]", t) for t in tests)
    assert autograded >= 14


# What an assignment's markdown must not show (the tests' own patterns, not the builder's):
# a MyST directive fence or role, a (label)= target.
MYST = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})\{[\w:-]+\}|\{[\w:-]+\}`|^[ \t]*\([^()\s]+\)=[ \t]*$",
                  re.M)
CODE = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1[ \t]*$", re.S | re.M)


def _labels():
    """Every label of the chapters: exercise and proof boxes, (label)= targets, figures."""
    out = set()
    for p in (ROOT / "chapters").glob("*.ipynb"):
        for cell in nbformat.read(p, as_version=4).cells:
            if cell.cell_type == "markdown":
                out |= set(re.findall(r":label:\s*([\w-]+)", cell.source))
                out |= set(re.findall(r"^\(([\w-]+)\)=$", cell.source, re.M))
            out |= set(re.findall(r"'name': '([\w-]+)'", str(cell.metadata.get("mystnb"))))
    return out


def _assert_reads_as_the_book(path, labels):
    """Assert that no markdown cell of the notebook ``path`` shows MyST, one of the book's
    macros or a label as text, and that its links go to the HTML book; return the links."""
    import yaml
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    base = config["html"]["baseurl"].rstrip("/") + "/"
    links = 0
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        where = f"{path.name}, cell {i}"
        assert not MYST.search(cell.source), (where, MYST.search(cell.source)[0])
        text = CODE.sub("", cell.source)
        for name in macros:
            assert not re.search(rf"\\{name}(?![A-Za-z])", text), (where, name)
        shown = re.sub(r"\]\([^)\s]*\)|<a id=\"[^\"]*\"></a>", "", text)
        for label in labels:
            assert not re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", shown), \
                (where, label)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            assert target.startswith(base), (where, target)     # no in-page link
            links += 1
    return links


def test_assignment_markdown_reads_as_the_book(masters):
    """Every markdown cell of every assignment reads as the book (the Jupyter edition's text):
    no MyST role, directive or (label)= target, none of the book's macros (Jupyter does not
    define them), no label shown as text; references are the book's numbers linked to the
    HTML book; every formula renders in KaTeX where it is installed."""
    import yaml
    base = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["baseurl"].rstrip("/") + "/"
    labels = _labels()
    assert {"thm-ch1-rates", "fig-ch1-plane", "ex-ch1-hb-step"} <= labels
    _, paths = masters
    assert sum(_assert_reads_as_the_book(path, labels) for path in paths.values()) >= 10
    ch1 = assignments.exercises(1)
    assert ch1["ex-ch1-critical"]["text"].count(f"[Theorem 1.1]({base}chapters/01_") == 1
    assert "Lessard et al." in ch1["ex-ch1-nag-best"]["text"]


def test_assignment_formulas_render_in_katex(masters):
    import katex_check
    if shutil.which("node") is None or not (katex_check.KATEX_DIR / "node_modules").is_dir():
        pytest.skip("node or KaTeX missing: npm ci --prefix .ci/katex")
    n, errors = katex_check.check(list(masters[1].values()))
    assert n > 50 and errors == [], errors[:3]


@pytest.mark.parametrize("text, problem", [
    ("See {prf:ref}`thm-ch1-rates`.", "leftover MyST"),
    ("A section.\n\n(sec-x)=\n", "leftover MyST"),
    ("As in `thm-ch1-rates`, the rate is $1 - 1/\\sqrt\\kappa$.", "label"),
    ("As in the theorem thm-ch1-rates of the book.", "label"),
])
def test_the_builder_refuses_markdown_that_does_not_read_as_the_book(monkeypatch, text, problem):
    qs, grading = assignments.load_questions(1, 1)
    qs[0] = dict(qs[0], task=text)
    monkeypatch.setattr(assignments, "load_questions", lambda n, s: (qs, grading))
    with pytest.raises(ValueError, match=problem):
        assignments.master_notebook(1, 1, ROOT)


def test_the_builder_expands_the_books_macros_in_the_questions_own_text(monkeypatch):
    qs, grading = assignments.load_questions(1, 1)
    qs[0] = dict(qs[0], task="Let $\\vx \\in \\R^d$ and $\\norm{\\vx} \\le 1$.")
    monkeypatch.setattr(assignments, "load_questions", lambda n, s: (qs, grading))
    text = "\n".join(c.source for c in assignments.master_notebook(1, 1, ROOT)[0].cells)
    assert r"Let $\mathbf{x} \in \mathbb{R}^d$ and $\left\lVert \mathbf{x} \right\rVert" in text
    assert not re.search(r"\\(vx|R|norm)(?![A-Za-z])", text)


def test_a_stale_jupyter_edition_stops_the_build(tmp_path):
    """The exercises come from jupyter/; if its exercises are not the chapter's (an exercise
    added or reordered since `make jupyter`), the build stops instead of misnumbering."""
    (tmp_path / "jupyter" / "chapters").mkdir(parents=True)
    (tmp_path / "chapters").mkdir()
    chapter = assignments.chapter_path(1)
    shutil.copy(chapter, tmp_path / "chapters" / chapter.name)
    edition = nbformat.read(assignments.edition_path(1), as_version=4)
    nbformat.write(edition, tmp_path / "jupyter" / "chapters" / chapter.name)
    assert list(assignments.exercises(1, tmp_path)) == list(assignments.exercises(1))
    for cell in edition.cells:
        cell.source = cell.source.replace('<a id="ex-ch1-cycle"></a>', '<a id="ex-ch1-new"></a>')
    nbformat.write(edition, tmp_path / "jupyter" / "chapters" / chapter.name)
    with pytest.raises(ValueError, match="stale"):
        assignments.exercises(1, tmp_path)


def test_the_seed_draws_the_constants(tmp_path):
    a = assignments.master_notebook(1, 1, ROOT)
    b = assignments.master_notebook(1, 2, ROOT)
    c = assignments.master_notebook(1, 1, ROOT)
    text = lambda m: "\n".join(cell.source for cell in m[0].cells)   # noqa: E731
    assert text(a) == text(c) and a[1] == c[1]
    assert text(a) != text(b) and a[1] != b[1]      # the constants and the hidden seed differ
    assert "SEED = " in a[1] and str(assignments.seeds(1, 1)[1]) in a[1]


def _blank(source: str) -> str:
    """What otter leaves of an answer cell: the solution block and lines replaced by `...`."""
    source = re.sub(r"^(\s*)# BEGIN SOLUTION\n.*?# END SOLUTION$", r"\1...", source,
                    flags=re.S | re.M)
    return re.sub(r"^(\s*\w[\w, ]*) = .*# SOLUTION$", r"\1 = ...", source, flags=re.M)


def _grade(path, answers, only=None):
    """Run each question's tests (or only question ``only``'s) on ``answers(question)``, in
    this process, as otter does: (points earned, points possible, failure messages)."""
    sys.path.insert(0, str(path.parent))
    name = path.stem
    module = importlib.import_module(f"grading_{name}")
    importlib.reload(module)
    nb = nbformat.read(path, as_version=4)
    earned = possible = 0
    messages = []
    try:
        for qname, cfg, cells in _questions(nb):
            if "manual: true" in cfg or only not in (None, qname):
                continue
            answer = next(c.source for c in cells if c.cell_type == "code")
            env = {}
            exec(assignments.SETUP, env)
            try:
                exec(answers(qname, answer), env)
            except Exception as err:  # noqa: BLE001 - a blank answer may not run
                messages.append(f"{qname}: {err!r}")
            for t in (c.source for c in cells if "TEST CONFIG" in c.source):
                pts = int(re.search(r"points: (\d+)", t)[1])
                possible += pts
                try:
                    exec(t.split('""" # END TEST CONFIG')[1], env)
                    earned += pts
                except Exception as err:  # noqa: BLE001 - a failing test
                    messages.append(f"{qname}: {err}")
    finally:
        sys.path.remove(str(path.parent))
    return earned, possible, messages


def _source(n):
    return importlib.import_module(f"assignments_src.ch{n:02d}")


@pytest.mark.parametrize("n", CHAPTERS)
def test_reference_full_blank_zero_wrong_partial_in_process(masters, n):
    sys.path.insert(0, str(ROOT))
    _, paths = masters
    qs = {q["name"]: q for q in _source(n).questions(
        __import__("numpy").random.default_rng(assignments.seeds(1234, n)[0]))}
    full, total, msgs = _grade(paths[n], lambda q, a: a)
    assert full == total, msgs
    got, _, _ = _grade(paths[n], lambda q, a: _blank(a))
    assert got == 0
    for name, q in qs.items():
        if q["kind"] != "code":
            continue
        def wrong(qn, a, name=name, q=q):
            if qn != name:
                return a
            return (q["given"] + "\n\n" if q.get("given") else "") + q["wrong"]
        # only this question is graded again: the others score as in the full run above
        got_q, total_q, msgs = _grade(paths[n], wrong, only=name)
        got = total - total_q + got_q
        assert 0 < got < total and got_q < total_q, (name, got, total)
        if q.get("wrong_hint"):
            assert any("hint:" in m and q["wrong_hint"] in m for m in msgs), msgs


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``make assignments`` as CI runs it (``.ci/assignments.py build``), once for all the
    slow tests: ``assignments/chNN/`` with master/, student/ and autograder/."""
    out = tmp_path_factory.mktemp("built") / "assignments"
    subprocess.run([sys.executable, str(ROOT / ".ci/assignments.py"), "build", "--seed", "99",
                    "--out", str(out)], check=True, capture_output=True, timeout=900)
    return out


@pytest.mark.slow
def test_slow_autograder_zips_hold_what_gradescope_needs(built):
    """What Gradescope's otter runtime reads from the zip (otter 7: ``setup.sh`` builds the
    image from ``environment.yml``; ``run_autograder`` runs ``run_otter.py``, which grades
    ``/autograder/submission`` with ``otter_config.json``, the tests and ``files/``): all
    present; the image's Python and pins are the ones these tests ran on; the library whole;
    the student folders leak nothing and read as the book."""
    import importlib.metadata

    import otter
    import student_edition
    import yaml

    lib = ROOT / "lib" / "momentum"
    library = {f"files/momentum/{p.relative_to(lib).as_posix()}" for p in lib.rglob("*.py")}
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(),
                           re.M))
    labels = _labels()
    for n in CHAPTERS:
        name = f"ch{n:02d}"
        zf = zipfile.ZipFile(built / name / "autograder" / f"{name}-autograder.zip")
        names = set(zf.namelist())
        code = [q for q, cfg, _ in _questions(nbformat.read(
            built / name / "master" / f"{name}.ipynb", as_version=4)) if "manual" not in cfg]
        need = {"run_autograder", "run_otter.py", "setup.sh", "environment.yml",
                "otter_config.json", f"files/grading_{name}.py",
                *(f"tests/{q}.py" for q in code)} | library
        assert need <= names, sorted(need - names)
        config = json.loads(zf.read("otter_config.json"))
        assert config["assignment_name"] == name and config["lang"] == "python"
        assert config["pdf"] is False                    # no LaTeX or browser in the image
        env = yaml.safe_load(zf.read("environment.yml"))
        assert f"python={assignments.PYTHON}" in env["dependencies"]
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        assert f"otter-grader[grading,plugins]=={otter.__version__}" in pip
        assert f"--extra-index-url {assignments.TORCH_CPU_INDEX}" in pip   # torch's CPU build
        for req in assignments.AUTOGRADER_REQUIREMENTS:
            pinned = next(p for p in pip if p.lower().startswith(req.lower() + "=="))
            version = pinned.split("==")[1]
            assert version.split("+")[0] == pins[req].split("+")[0], pinned
            assert version == importlib.metadata.version(req), pinned      # as tested here
        assert 'run_autograder("/autograder")' in zf.read("run_otter.py").decode()
        assert "run_otter.py" in zf.read("run_autograder").decode()
        assert "environment.yml" in zf.read("setup.sh").decode()
        student = built / name / "student"
        assert (student / f"{name}.ipynb").is_file() and (student / "momentum").is_dir()
        assert not (student / f"grading_{name}.py").exists()
        _assert_reads_as_the_book(student / f"{name}.ipynb", labels)
    assert student_edition.assignment_leaks(built) == []


def _student_answers(n, built):
    """The answer cells of the student notebook as otter wrote it, by question (matched by
    the function each question asks for)."""
    name = f"ch{n:02d}"
    student = [c.source for c in nbformat.read(built / name / "student" / f"{name}.ipynb",
                                                as_version=4).cells if c.cell_type == "code"]
    out = {}
    for q, cfg, cells in _questions(nbformat.read(built / name / "master" / f"{name}.ipynb",
                                                  as_version=4)):
        if "manual" in cfg:
            continue
        answer = next(c.source for c in cells if c.cell_type == "code")
        fn = re.search(r"^def \w+\(", answer, re.M)[0]
        out[q] = next(src for src in student if fn in src)
        assert "SOLUTION" not in out[q] and "..." in out[q], out[q]
    return out


@pytest.mark.slow
def test_slow_student_notebooks_as_handed_out_score_zero(built):
    """Every chapter's student notebook, as ``otter assign`` wrote it (its answer cells, not
    this file's imitation of otter's stripping), scores zero on every test, public and hidden
    (run in this process, as otter runs them; ``otter run`` on one of them below)."""
    for n in CHAPTERS:
        blank = _student_answers(n, built)
        path = built / f"ch{n:02d}" / "master" / f"ch{n:02d}.ipynb"
        got, total, _ = _grade(path, lambda q, a, blank=blank: blank[q])
        assert total > 0 and got == 0, (n, got, total)


def _otter_run(zip_path, notebook, out):
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out),
                    "--no-logo", str(notebook)], check=True, capture_output=True, timeout=600)
    tests = json.loads((out / "results.json").read_text())["tests"]
    scored = [t for t in tests if t.get("max_score")]
    return (sum(t["score"] for t in scored), sum(t["max_score"] for t in scored),
            "\n".join(t.get("output", "") for t in tests))


@pytest.mark.slow
def test_slow_otter_run_grades_every_chapter(built, tmp_path):
    """``otter run`` (what Gradescope runs, without the image build) with each chapter's zip:
    the instructor key gets full marks in every chapter; Chapter 1's student notebook as handed
    out gets zero; Chapter 1 with the typical wrong answers (a sign error in heavy ball,
    Nesterov's gradient at the wrong point) gets partial marks, with the checker's hint in the
    output. (Every chapter's blank notebook scores zero in the test above.)"""
    out = built
    jobs = []
    for n in CHAPTERS:
        d = out / f"ch{n:02d}"
        zip_path = d / "autograder" / f"ch{n:02d}-autograder.zip"
        jobs.append(("key", n, zip_path, d / "autograder" / f"ch{n:02d}.ipynb"))
    jobs.append(("blank", 1, out / "ch01" / "autograder" / "ch01-autograder.zip",
                 out / "ch01" / "student" / "ch01.ipynb"))
    # Chapter 1 with the typical wrong answers
    key = nbformat.read(out / "ch01" / "autograder" / "ch01.ipynb", as_version=4)
    src = _source(1).questions(__import__("numpy").random.default_rng(
        assignments.seeds(99, 1)[0]))
    wrong = {q["name"]: q for q in src if q["kind"] == "code"}
    replaced = 0
    for cell in key.cells:        # the reference answers, except heavy ball and Nesterov
        for qn in ("q2", "q3"):
            if cell.cell_type == "code" and cell.source.startswith(
                    wrong[qn]["answer"].split("(")[0]):
                cell.source = wrong[qn]["wrong"]
                replaced += 1
    assert replaced == 2
    nbformat.write(key, tmp_path / "ch01.ipynb")
    jobs.append(("wrong", 1, out / "ch01" / "autograder" / "ch01-autograder.zip",
                 tmp_path / "ch01.ipynb"))
    workers = max(2, min(4, os.cpu_count() or 2))
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda j: (j, _otter_run(j[2], j[3], tmp_path / f"{j[0]}{j[1]}")),
                                jobs))
    for (kind, n, _, _), (score, total, output) in results:
        assert total > 0
        if kind == "key":
            assert score == total, (n, score, total, output[-2000:])
        elif kind == "blank":
            assert score == 0, (n, score, total)
        else:
            assert 0 < score < total, (score, total)
            assert "hint: the gradient term has the wrong sign" in output
            assert "hint: the gradient is evaluated at x" in output


@pytest.mark.parametrize("answer, hint", [
    ("def heavy_ball_step(x, x_prev, g, eta, beta):\n"
     "    return x - eta * g + beta * (x_prev - x)", "uses the wrong difference"),
    ("def heavy_ball_step(x, x_prev, g, eta, beta):\n"
     "    x -= eta * g - beta * (x - x_prev)\n    return x", "in place"),
    ("def heavy_ball_step(x, x_prev, g, eta, beta):\n"
     "    x - eta * g + beta * (x - x_prev)", "forget `return`"),
])
def test_more_typical_wrong_answers_get_partial_marks_and_the_hint(masters, answer, hint):
    _, paths = masters
    # the other questions' reference answers score full marks (the test above)
    got, total, msgs = _grade(paths[1], lambda q, a: answer if q == "q2" else a, only="q2")
    assert got < total
    assert any(hint in m for m in msgs), msgs

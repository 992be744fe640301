"""The student edition (.ci/student_edition.py, `make student`): every solution is absent from
the notebooks and from the HTML, the exercises stay, and the leak detector itself finds the
solutions where they are (so a clean result means something)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("student_edition", ROOT / ".ci/student_edition.py")
se = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(se)

CHAPTERS = se.chapters(ROOT)

# Secrets that only solutions contain: each must vanish from the student edition.
PROSE_SECRET = "the answer hides behind seven quiet purple elephants"
GATED_SECRET = "a gated explanation mentions twelve orange submarines again"
CODE_SECRET = "secret_value = 1234567 * 89"
NESTED_SECRET = "nested_fence_line = 'inside a four backtick solution'"


def synthetic_chapter():
    """A chapter that uses every form the book's convention allows."""
    return new_notebook(cells=[
        new_code_cell(se.install_cell_source("https://example.org/fork"),
                      metadata={"tags": ["remove-cell"]}),
        new_markdown_cell("# Synthetic chapter\n\nSome narrative that stays.\n\n"
                          "```{exercise} Prose exercise\n:label: ex-syn-prose\n\n"
                          "Explain something.\n```"),
        new_markdown_cell(f"```{{solution}} ex-syn-prose\n:label: sol-syn-prose\n"
                          f":class: dropdown\n\nWell, {PROSE_SECRET}.\n```"),
        new_markdown_cell("````{exercise} Fenced exercise\n:label: ex-syn-fenced\n\n"
                          "```python\nkept_exercise_code = 1\n```\n````\n\n"
                          f"````{{solution}} ex-syn-fenced\n:label: sol-syn-fenced\n\n"
                          f"```python\n{NESTED_SECRET}\n```\n````\n\nText after it stays."),
        new_markdown_cell("```{exercise} Code exercise\n:label: ex-syn-code\n\nCompute it.\n```\n\n"
                          "```{solution-start} ex-syn-code\n:label: sol-syn-code\n"
                          f":class: dropdown\n```\n\n{GATED_SECRET}."),
        new_code_cell(f"{CODE_SECRET}\nprint(secret_value)"),
        new_markdown_cell(f"Still inside: {PROSE_SECRET.replace('seven', 'eight')}.\n\n"
                          "```{solution-end}\n```\n\nThe narrative goes on here."),
        new_code_cell("kept = 2 + 2\nprint(kept)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"},
                 "language_info": {"name": "python"}})


def test_strip_removes_every_form_and_keeps_the_rest():
    nb = synthetic_chapter()
    student, removed = se.strip_solutions(nb)
    assert removed == 3
    text = se.notebook_text(student)
    for secret in (PROSE_SECRET, GATED_SECRET, CODE_SECRET, NESTED_SECRET, "eight quiet"):
        assert secret not in text
    assert "solution" not in text
    for kept in ("Some narrative that stays.", "{exercise} Prose exercise", "kept_exercise_code",
                 "Text after it stays.", "{exercise} Code exercise",
                 "The narrative goes on here.", "kept = 2 + 2"):
        assert kept in text
    assert se.is_install_cell(student.cells[0])
    # the code solution leaves an empty answer cell where it was, before the narrative resumes
    answer = [c for c in student.cells if "student-answer" in c.metadata.get("tags", [])]
    assert [c.source for c in answer] == ["# Exercise ex-syn-code: your code here\n"]
    order = [c.source[:20] for c in student.cells]
    assert order.index(answer[0].source[:20]) < order.index("The narrative goes o")
    ids = [c.get("id") for c in student.cells]
    assert len(set(ids)) == len(ids)
    nbformat.validate(student)
    assert nb.cells[2].source.startswith("```{solution}")  # the input is not modified


@pytest.mark.parametrize("source, match", [
    ("```{solution-start} ex-a\n:label: sol-a\n```\nno end", "no {solution-end}"),
    ("```{solution-end}\n```", "without {solution-start}"),
    ("```{solution} ex-a\nnever closed", "unclosed"),
])
def test_malformed_solutions_are_refused_not_leaked(source, match):
    with pytest.raises(ValueError, match=match):
        se.strip_solutions(new_notebook(cells=[new_markdown_cell(source)]))


def test_leak_detector_finds_solutions_where_they_are():
    nb = synthetic_chapter()
    snippets = se.solution_snippets(nb)
    phrases, code = snippets
    assert CODE_SECRET in code and NESTED_SECRET not in code  # the nested one is prose-side
    leaks = se.find_leaks(snippets, se.notebook_text(nb))
    assert any("purple elephants" in leak for leak in leaks)
    assert any("orange submarines" in leak for leak in leaks)
    assert CODE_SECRET in leaks
    assert se.find_leaks(snippets, se.notebook_text(se.strip_solutions(nb)[0])) == []


def test_instructor_links_are_found_in_any_form():
    repo = "https://github.com/someone/the-book"
    page = ('<a href="https://github.com/someone/the-book">repo</a>'
            '<a href="https://mybinder.org/v2/gh/other/x/main">binder</a>'
            '<a href="https://colab.research.google.com/github/someone/the-book/blob/main/a.ipynb">'
            'colab</a><a href="https://example.org/paper.pdf">a paper</a>'
            '<a href="../_sources/chapters/a.ipynb">download</a>')
    found = se.instructor_links(page, repo + "/")
    assert len(found) == 3 and not any("example.org" in h or "_sources" in h for h in found)


@pytest.mark.skipif(not CHAPTERS, reason="no chapter exists yet")
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_chapter_strips_clean(path):
    nb = nbformat.read(path, as_version=4)
    student, removed = se.strip_solutions(nb)
    exercises = [c for c in nb.cells if c.cell_type == "markdown" and "{exercise}" in c.source]
    assert len(exercises) >= 3, "each chapter ends with at least 3 exercises"
    assert removed >= len(exercises), "every exercise has a solution"
    assert se.notebook_text(student).count("{exercise}") == se.notebook_text(nb).count("{exercise}")
    snippets = se.solution_snippets(nb)
    assert se.find_leaks(snippets, se.notebook_text(nb)), "the detector sees the solutions"
    assert se.find_leaks(snippets, se.notebook_text(student)) == []
    assert "sol-" not in se.notebook_text(student).replace("sol-ch", "SOL")  # no label survives
    assert "{solution" not in se.notebook_text(student)


def _mini_book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    shutil.copytree(ROOT / "_ext", book / "_ext")  # the config's local extension (book_pdf)
    (book / "intro.md").write_text("# Mini book\n\nA front page.\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: chapters/synthetic\n")
    nbformat.write(synthetic_chapter(), book / "chapters" / "synthetic.ipynb")
    return book


@pytest.mark.slow
def test_slow_student_html_has_no_solution_and_instructor_html_has_all(tmp_path):
    """Builds the synthetic chapter twice with Sphinx (-W): the student edition through the
    script, the instructor edition as `make book` does. (`make student` runs the same build,
    with the same leak check, over the whole book.)"""
    book = _mini_book(tmp_path)
    out = tmp_path / "student"
    assert se.main(["build", "--root", str(book), "--toc", str(book / "_toc.yml"),
                    "--out", str(out)]) == 0
    page = out / "_build/html/chapters/synthetic.html"
    student_text = se.html_text(page.read_text())
    assert "Code exercise" in student_text and "The narrative goes on here" in student_text
    assert 'class="solution' not in page.read_text()
    snippets = se.solution_snippets(nbformat.read(book / "chapters/synthetic.ipynb", 4))
    assert se.find_leaks(snippets, student_text) == []
    assert "(student edition)" in (out / "_build/html/index.html").read_text() or \
        "(student edition)" in (out / "_build/html/intro.html").read_text()

    # no launch (Binder, Colab) or repository button leads to the instructor notebooks
    repo = se.repository_url(book)
    assert se.instructor_links(page.read_text(), repo) == []
    assert se.leaks_in_edition(book, out) == []

    se.build_html(book)  # the instructor edition: the normal build, solutions in dropdowns
    instructor = (book / "_build/html/chapters/synthetic.html").read_text()
    assert 'class="solution' in instructor
    links = se.instructor_links(instructor, repo)  # the detector sees the instructor's buttons
    assert any("mybinder.org" in h for h in links) and any("colab" in h for h in links)
    assert repo in links
    leaks = se.find_leaks(snippets, se.html_text(instructor))
    assert CODE_SECRET in leaks
    assert any("purple elephants" in leak for leak in leaks)
    assert any("orange submarines" in leak for leak in leaks)


# --------------------------------------------------------------------------------------------
# Issue 11: every leak path of the student edition
# --------------------------------------------------------------------------------------------

SECRET = "the hidden reasoning involves thirteen velvet giraffes dancing slowly"
SECRET_WORD = "giraffes"


@pytest.mark.parametrize("source", [
    f"```{{Solution}} ex-a\n:label: sol-a\n\n{SECRET}.\n```",
    f"```{{SOLUTION}} ex-a\n\n{SECRET}.\n```",
    f":::{{solution}} ex-a\n{SECRET}.\n:::",
    f"::::{{Solution}} ex-a\n```python\nx = 1\n```\n{SECRET}.\n::::",
    f"~~~{{solution}} ex-a\n{SECRET}.\n~~~",
    f"```{{eval-rst}}\n.. solution:: ex-a\n   :label: sol-a\n\n   {SECRET}.\n```",
    f"```{{eval-rst}}\n.. Solution:: ex-a\n\n   {SECRET}.\n\nKept rst text.\n```",
])
def test_every_directive_form_is_stripped(source):
    nb = new_notebook(cells=[new_markdown_cell("Intro stays.\n\n" + source + "\n\nOutro stays.")])
    student, removed = se.strip_solutions(nb)
    text = se.notebook_text(student)
    assert removed == 1 and SECRET not in text and "olution" not in text
    assert "Intro stays." in text and "Outro stays." in text
    if "Kept rst text" in source:
        assert "Kept rst text." in text and "{eval-rst}" in text


@pytest.mark.parametrize("source", [
    f"```{{solution-hidden}} ex-a\n{SECRET}\n```",
    f"```{{eval-rst}}\n.. solution-start:: ex-a\n\n   {SECRET}\n```",
    f"<div class=\"solution\">{SECRET}</div>",
    f"{{solution}}`{SECRET}`",
])
def test_a_solution_form_it_does_not_understand_refuses_the_build(source):
    with pytest.raises(ValueError, match="does not understand|unsupported"):
        se.strip_solutions(new_notebook(cells=[new_markdown_cell(source)]))
    raw = new_notebook(cells=[nbformat.v4.new_raw_cell(source)])
    with pytest.raises(ValueError):
        se.strip_solutions(raw)


def test_solution_cells_lose_attachments_metadata_and_widget_state():
    cell = new_markdown_cell("Question stays. ![fig](attachment:kept.png)\n\n"
                             f"```{{solution}} ex-a\n![s](attachment:answer.png) {SECRET}\n```")
    cell.attachments = {"kept.png": {"image/png": "AAAA"},
                        "answer.png": {"image/png": "U0VDUkVU"}}
    cell.metadata = {"tags": ["keep-me", "solution-tag"], "answer": SECRET}
    code = new_code_cell("x = 1", metadata={"tags": ["solution"]})
    nb = new_notebook(cells=[cell], metadata={"widgets": {
        "application/vnd.jupyter.widget-state+json": {"state": {"w": {"value": SECRET}}}}})
    student, _ = se.strip_solutions(nb)
    out = student.cells[0]
    assert list(out.attachments) == ["kept.png"]
    assert out.metadata == {"tags": ["keep-me"]}
    assert "widgets" not in student.metadata
    assert SECRET not in json.dumps(student)
    # a cell tagged as a solution is a form the script does not understand
    with pytest.raises(ValueError, match="does not understand"):
        se.strip_solutions(new_notebook(cells=[code]))


def _edition(tmp_path, files):
    """An instructor root with one chapter holding SECRET in a solution, and an edition under
    out/ with ``files`` (relative path -> text) written as they are."""
    root, out = tmp_path / "root", tmp_path / "out"
    (root / "chapters").mkdir(parents=True)
    (root / "_config.yml").write_text("repository:\n  url: https://github.com/o/book\n")
    nb = new_notebook(cells=[
        new_markdown_cell("A question about the method, kept for the students."),
        new_markdown_cell(f"```{{solution}} ex-a\n{SECRET}.\n```")])
    nbformat.write(nb, root / "chapters" / "a.ipynb")
    (out / "chapters").mkdir(parents=True)
    nbformat.write(se.strip_solutions(nb)[0], out / "chapters" / "a.ipynb")
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return root, out


def test_the_leak_check_reads_every_file_the_edition_writes(tmp_path):
    root, out = _edition(tmp_path, {})
    assert se.leaks_in_edition(root, out) == []          # clean edition: clean result
    student = nbformat.read(out / "chapters" / "a.ipynb", as_version=4)
    student.cells[0].metadata["note"] = SECRET           # metadata of a kept cell
    leaky = {
        "chapters/a.ipynb": nbformat.writes(student),
        "chapters/b.md": f"# Page\n\n{SECRET}\n",
        "_build/html/chapters/a.html": f'<p>ok</p><img alt="{SECRET}">',
        "_build/html/chapters/w.html": f'<script type="application/json">"{SECRET}"</script>',
        "_build/html/_sources/chapters/a.ipynb.txt": SECRET,
        "_build/html/searchindex.js": 'Search.setIndex({"terms": {"giraff": [0], "method": 1}})',
    }
    root, out = _edition(tmp_path / "leaky", leaky)
    problems = se.leaks_in_edition(root, out)
    for rel in leaky:
        assert any(p.startswith(rel + ":") for p in problems), rel
    assert any(SECRET_WORD in p for p in problems if "searchindex" in p)


def test_the_build_refuses_and_says_so(tmp_path, capsys):
    root = tmp_path / "root"
    (root / "chapters").mkdir(parents=True)
    (root / "_config.yml").write_text("title: T\nrepository:\n  url: https://github.com/o/b\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: chapters/a\n")
    nbformat.write(new_notebook(cells=[new_markdown_cell(f"```{{solution-x}}\n{SECRET}\n```")]),
                   root / "chapters" / "a.ipynb")
    rc = se.main(["build", "--root", str(root), "--toc", str(root / "_toc.yml"),
                  "--out", str(tmp_path / "out"), "--no-html"])
    assert rc == 2 and "refusing to build" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Issue 23: the leak forms of the fresh probe, each a test
# --------------------------------------------------------------------------------------------

LEAK = "the hidden answer rides seven quiet purple elephants home"


def _book(tmp_path, cells, metadata=None, static=None, intro="# Front\n\nA front page.\n"):
    """An instructor root with one chapter of ``cells``; returns (root, toc path)."""
    root = tmp_path / "root"
    (root / "chapters").mkdir(parents=True)
    (root / "_config.yml").write_text("title: T\nrepository:\n  url: https://github.com/o/b\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: chapters/a\n")
    (root / "intro.md").write_text(intro)
    for rel, text in (static or {}).items():
        (root / "_static" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "_static" / rel).write_text(text)
    nb = new_notebook(cells=cells, metadata=metadata or {})
    nbformat.write(nb, root / "chapters" / "a.ipynb")
    return root, root / "_toc.yml"


def _solution(text=LEAK, label="ex-a"):
    return new_markdown_cell(f"```{{solution}} {label}\n:label: sol-a\n\n{text}.\n```")


def test_what_stripping_misses_the_check_still_finds(tmp_path):
    """Outputs and metadata of a kept cell are not whitelisted: the check reads the solutions'
    own text against everything the edition holds."""
    kept = new_code_cell("print(answer)")
    kept.outputs = [nbformat.v4.new_output("stream", name="stdout", text=LEAK + "\n")]
    note = new_markdown_cell("Kept narrative.", metadata={"note": LEAK})
    root, toc = _book(tmp_path, [new_markdown_cell("Question."), _solution(), kept, note])
    out = tmp_path / "out"
    se.write_edition(root, toc, out)
    problems = se.leaks_in_edition(root, out)
    assert any("chapters/a.ipynb" in p and "purple elephants" in p for p in problems), problems


def test_static_files_only_solutions_use_are_not_shipped(tmp_path):
    root, toc = _book(tmp_path, [
        new_markdown_cell("Question; see ![fig](../_static/shown.png)."),
        new_markdown_cell("````{solution} ex-a\n:label: sol-a\n\n```{literalinclude} "
                          "../_static/answer.py\n```\n\n{download}`key <../_static/key.txt>` "
                          f"and {LEAK}.\n````")],
        static={"answer.py": "x = 42\n", "key.txt": LEAK, "shown.png": "png",
                "theme.css": "body {}"})
    out = tmp_path / "out"
    se.write_edition(root, toc, out)
    assert not (out / "_static" / "answer.py").exists()
    assert not (out / "_static" / "key.txt").exists()
    assert (out / "_static" / "shown.png").exists() and (out / "_static" / "theme.css").exists()


@pytest.mark.parametrize("cell, words", [
    (new_code_cell("### BEGIN SOLUTION\nx = 42\n### END SOLUTION"), "nbgrader/otter"),
    (new_code_cell("x = 42  # SOLUTION"), "nbgrader/otter"),
    (new_code_cell("x = 1", metadata={"nbgrader": {"solution": True}}), "nbgrader metadata"),
    (new_markdown_cell(f"<details><summary>Solution</summary>\n\n{LEAK}\n</details>"),
     "<details><summary>Solution"),
    (new_markdown_cell(f"```{{admonition}} Answer\n:class: solution\n\n{LEAK}\n```"),
     ":class: solution"),
    (new_code_cell(f"%%markdown\n```{{solution}} ex-a\n{LEAK}\n```"), "%%markdown"),
])
def test_other_solution_forms_are_refused_with_a_clear_message(cell, words):
    nb = new_notebook(cells=[new_markdown_cell("Question."), cell])
    with pytest.raises(ValueError) as err:
        se.strip_solutions(nb)
    assert words in str(err.value) and "Traceback" not in str(err.value)


def test_metadata_only_a_solution_uses_is_dropped(tmp_path):
    meta = {"myst": {"substitutions": {"secret": LEAK, "shown": "a kept value"}}}
    nb = new_notebook(cells=[new_markdown_cell("Question with {{ shown }}."),
                             _solution("It is {{ secret }}")], metadata=meta)
    student, _ = se.strip_solutions(nb)
    assert student.metadata["myst"]["substitutions"] == {"shown": "a kept value"}
    assert nb.metadata["myst"]["substitutions"]["secret"] == LEAK      # the source is untouched


@pytest.mark.parametrize("cells, words", [
    ([new_markdown_cell("````{admonition} Try it\n```{solution} ex-a\n" + LEAK + "\n```\n````")],
     "held only a solution"),
    ([new_markdown_cell("Question; compare {ref}`sol-a`."), _solution()], "sol-a"),
    ([new_markdown_cell("Question; compare [the answer](#sol-a)."), _solution()], "sol-a"),
])
def test_a_build_that_would_break_gets_a_clear_error_not_a_traceback(tmp_path, capsys, cells,
                                                                      words):
    root, toc = _book(tmp_path, cells)
    rc = se.main(["build", "--root", str(root), "--toc", str(toc), "--out",
                  str(tmp_path / "out"), "--no-html"])
    text = capsys.readouterr().out
    assert rc == 2 and "refusing to build" in text and words in text


def test_the_front_page_speaks_to_students(tmp_path):
    root, toc = _book(tmp_path, [new_markdown_cell("Question."), _solution()],
                      intro=(ROOT / "intro.md").read_text())
    se.write_edition(root, toc, tmp_path / "out")
    intro = (tmp_path / "out" / "intro.md").read_text()
    assert "student edition" in intro and "not a grade" in intro
    for instructor in ("rocket icon", "sit in dropdowns", "Teach"):
        assert instructor not in intro


def _assignment(tmp_path, student_answer, extra=None):
    """A minimal otter layout: master notebook with one solution, a student folder."""
    folder = tmp_path / "assignments"
    master = folder / "ch01" / "master"
    student = folder / "ch01" / "student"
    master.mkdir(parents=True)
    student.mkdir(parents=True)
    nb = new_notebook(cells=[
        nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q1"),
        new_markdown_cell("Write f."),
        nbformat.v4.new_raw_cell("# BEGIN SOLUTION"),
        new_code_cell("def f(x):\n    # BEGIN SOLUTION\n    return x * 1234567 + 89\n"
                      "    # END SOLUTION"),
        nbformat.v4.new_raw_cell("# END SOLUTION"),
        nbformat.v4.new_raw_cell("# BEGIN SOLUTION"),
        new_markdown_cell(f"Key: {LEAK}."),
        nbformat.v4.new_raw_cell("# END SOLUTION"),
        nbformat.v4.new_raw_cell("# END QUESTION")])
    nbformat.write(nb, master / "ch01.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell("Write f."),
                                       new_code_cell(student_answer)]), student / "ch01.ipynb")
    for rel, text in (extra or {}).items():
        (student / rel).write_text(text)
    return folder


def test_the_assignments_student_notebooks_are_leak_checked(tmp_path):
    clean = _assignment(tmp_path / "a", "def f(x):\n    ...")
    assert se.assignment_leaks(clean) == []
    leaked = _assignment(tmp_path / "b", "def f(x):\n    return x * 1234567 + 89")
    assert any("return x * 1234567 + 89" in p for p in se.assignment_leaks(leaked))
    marker = _assignment(tmp_path / "c", "def f(x):\n    # BEGIN SOLUTION\n    ...")
    assert any("otter solution marker" in p for p in se.assignment_leaks(marker))
    prose = _assignment(tmp_path / "d", "def f(x):\n    ...", {"notes.md": LEAK})
    assert any("notes.md" in p for p in se.assignment_leaks(prose))
    hidden = _assignment(tmp_path / "e", "def f(x):\n    ...", {"grading_ch01.py": "x = 1"})
    assert any("hidden tests' module" in p for p in se.assignment_leaks(hidden))
    assert se.main(["check-assignments", str(leaked)]) == 1
    assert se.main(["check-assignments", str(clean)]) == 0

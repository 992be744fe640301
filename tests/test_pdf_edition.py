"""The PDF edition's check (.ci/pdf_edition.py): it must find what a broken PDF gets wrong.

The PDFs here are written by Matplotlib (text on an empty figure), so the test needs no
browser; the printing itself runs in CI as ``make pdf`` and ``make student-pdf``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("pdf_edition", ROOT / ".ci/pdf_edition.py")
pdf_edition = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pdf_edition)


def _book(tmp: Path) -> Path:
    """A two-chapter book: a front page and one numbered chapter with two exercises."""
    (tmp / "chapters").mkdir(parents=True)
    (tmp / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: Chapters\n    numbered: true\n"
        "    chapters:\n      - file: chapters/01_one\n")
    (tmp / "intro.md").write_text("# The front page\n\nText.\n")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# First chapter\n\nProse."},
             {"cell_type": "markdown", "metadata": {},
              "source": "```{exercise}\n:label: ex-a\nDo it.\n```"},
             {"cell_type": "markdown", "metadata": {},
              "source": ":::{exercise}\n:label: ex-b\nDo more.\n:::"}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp / "chapters" / "01_one.ipynb").write_text(json.dumps(nb))
    return tmp


def _pdf(path: Path, pages: list[list[str]], code: str = "",
         outline: tuple[str, ...] = ("The front page", "1. First chapter"),
         tables: dict | None = None) -> Path:
    """A PDF of ``pages`` (lines of text), with an outline of ``outline`` entries (pypdf), the
    code sidecar and, when given, the tables sidecar that ``print_pdf`` writes."""
    from pypdf import PdfWriter

    with PdfPages(path) as pdf:
        for lines in pages:
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                fig.text(0.1, 0.9 - 0.05 * i, line, usetex=False, math_fontfamily="dejavusans")
            pdf.savefig(fig)
            plt.close(fig)
    writer = PdfWriter(clone_from=str(path))
    for i, title in enumerate(outline):
        writer.add_outline_item(title=title, page_number=min(i, len(pages) - 1))
    writer.write(str(path))
    path.with_suffix(".code.txt").write_text(code)
    if tables is not None:
        path.with_suffix(".tables.json").write_text(json.dumps(tables))
    return path


GOOD = [["The front page", "Text."],
        ["1. First chapter", "Prose.", "Exercise 1.1 (first)", "Exercise 1.2 (second)"]]


def test_a_complete_pdf_passes(tmp_path):
    book = _book(tmp_path / "book")
    assert pdf_edition.check_pdf(_pdf(tmp_path / "ok.pdf", GOOD), book) == []


def test_a_missing_chapter_title_and_exercise_are_reported(tmp_path):
    book = _book(tmp_path / "book")
    pages = [["The front page"], ["Prose.", "Exercise 1.1 (first)"]]
    problems = pdf_edition.check_pdf(_pdf(tmp_path / "bad.pdf", pages), book)
    assert any("First chapter" in p for p in problems)
    assert any("exercise 1.2" in p for p in problems)


def test_an_unresolved_reference_is_reported(tmp_path):
    book = _book(tmp_path / "book")
    pages = GOOD + [["as shown in Figure ??, the rate"]]
    problems = pdf_edition.check_pdf(_pdf(tmp_path / "q.pdf", pages), book)
    assert any("??" in p for p in problems)


def test_raw_tex_in_prose_fails_but_tex_in_code_does_not(tmp_path):
    book = _book(tmp_path / "book")
    prose = pdf_edition.check_pdf(
        _pdf(tmp_path / "tex.pdf", GOOD + [[r"the rate is \sqrt\kappa times faster"]]), book)
    assert any("raw TeX" in p for p in prose)
    label = 'ax.set_xlabel(r"$\\kappa$")'  # Matplotlib prints \$ as a plain $
    code = pdf_edition.check_pdf(
        _pdf(tmp_path / "code.pdf", GOOD + [[label.replace("$", "\\$")]], code=label), book)
    assert code == []


def test_the_student_pdf_must_hold_no_solution(tmp_path):
    book = _book(tmp_path / "book")
    pdf = _pdf(tmp_path / "s.pdf", GOOD + [["Solution to Exercise 1.1 (first)"]])
    assert pdf_edition.check_pdf(pdf, book) == []
    assert any("solution" in p for p in pdf_edition.check_pdf(pdf, book, solutions=False))


def test_a_missing_outline_or_chapter_bookmark_is_reported(tmp_path):
    book = _book(tmp_path / "book")
    none = pdf_edition.check_pdf(_pdf(tmp_path / "n.pdf", GOOD, outline=()), book)
    assert any("no outline" in p for p in none)
    part = pdf_edition.check_pdf(_pdf(tmp_path / "p.pdf", GOOD, outline=("The front page",)),
                                 book)
    assert any("no outline entry" in p and "First chapter" in p for p in part)


def test_a_printed_toggle_label_is_reported(tmp_path):
    book = _book(tmp_path / "book")
    pdf = _pdf(tmp_path / "t.pdf", GOOD + [["Hide code cell source", "x = 1"]])
    assert any("toggle label" in p for p in pdf_edition.check_pdf(pdf, book))


def test_a_number_split_across_table_lines_is_reported(tmp_path):
    book = _book(tmp_path / "book")
    table = ["width  eta", "100", "0  0.9", "7"]          # "1000" and "0.97" broken in two
    tables = {"numbers": ["1000", "0.97", "4"], "wrapped": [], "scaled": 0}
    problems = pdf_edition.check_pdf(_pdf(tmp_path / "s.pdf", GOOD + [table], tables=tables),
                                     book)
    assert sum("split across lines" in p for p in problems) == 2
    whole = GOOD + [["width  eta", "1000  0.97", "4"]]
    assert pdf_edition.check_pdf(_pdf(tmp_path / "w.pdf", whole, tables=tables), book) == []
    wrapped = dict(tables, wrapped=["1000"])
    problems = pdf_edition.check_pdf(_pdf(tmp_path / "d.pdf", whole, tables=wrapped), book)
    assert any("wraps in its table cell" in p for p in problems)


def test_a_contents_entry_is_found_only_where_its_title_heads_the_page():
    assert pdf_edition.heads_page("Notation\nOne symbol, one meaning.", "Notation")
    assert pdf_edition.heads_page("4. Two-layer ReLU networks: heavy ball\nagainst Nesterov\nThe "
                                  "network", "4. Two-layer ReLU networks: heavy ball against "
                                  "Nesterov")
    assert not pdf_edition.heads_page("Notation is fixed across the book: eta is", "Notation")
    assert not pdf_edition.heads_page("Map of the book\nNotation", "Notation")


def _full(n: int = 18) -> list[str]:
    return [f"line {i} of a full page" for i in range(n)]


def test_a_mostly_blank_page_is_reported_unless_a_chapter_starts_next(tmp_path):
    """A page whose content stops near its top (a figure that did not fit went on) is found;
    the same page before a page that a chapter title heads is a chapter's end, not a fault."""
    pages = [["The front page"] + _full(), _full(), ["a short page", "that stops here"],
             _full(), ["1. First chapter"] + _full(), _full()]
    pdf = _pdf(tmp_path / "blank.pdf", pages)
    found = pdf_edition.mostly_blank_pages(pdf, ["Second chapter"])
    assert [p for p, _ in found] == [3] and found[0][1] > 0.8
    pages[3] = ["2. Second chapter"] + _full()
    pdf = _pdf(tmp_path / "chapter_end.pdf", pages)
    assert pdf_edition.mostly_blank_pages(pdf, ["Second chapter"]) == []


def test_the_check_reports_blank_pages(tmp_path):
    book = _book(tmp_path / "book")
    pages = [["The front page", "Text."] + _full(),
             ["1. First chapter", "Prose.", "Exercise 1.1 (first)", "Exercise 1.2 (second)"]
             + _full(), ["a short page"], _full()]
    problems = pdf_edition.check_pdf(_pdf(tmp_path / "b.pdf", pages), book)
    assert len(problems) == 1 and "p. 3" in problems[0] and "blank" in problems[0]

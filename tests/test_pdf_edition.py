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


def _pdf(path: Path, pages: list[list[str]], code: str = "") -> Path:
    with PdfPages(path) as pdf:
        for lines in pages:
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                fig.text(0.1, 0.9 - 0.05 * i, line, usetex=False, math_fontfamily="dejavusans")
            pdf.savefig(fig)
            plt.close(fig)
    path.with_suffix(".code.txt").write_text(code)
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

"""The stored outputs reproduce on another machine: no float with more digits than a float64
shares across CPUs, no round-off value written as digits (.ci/output_digits.py)."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("output_digits", ROOT / ".ci" / "output_digits.py")
output_digits = importlib.util.module_from_spec(spec)
spec.loader.exec_module(output_digits)

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_stored_output_is_machine_independent(path):
    problems = output_digits.check_notebook(path)
    assert problems == [], "\n".join(problems)


def notebook(outputs):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": "",
                       "execution_count": 1, "outputs": outputs}]}


def glued(name, text, mime="text/plain"):
    return {"output_type": "display_data", "metadata": {"scrapbook": {"name": name}},
            "data": {f"application/papermill.record/{mime}": text}}


def check(tmp_path, outputs):
    path = tmp_path / "planted.ipynb"
    path.write_text(json.dumps(notebook(outputs)))
    return output_digits.check_notebook(path)


def test_a_planted_17_digit_glue_fails(tmp_path):
    problems = check(tmp_path, [glued("est_g1_ratio", "0.8932592653075452")])
    assert len(problems) == 1 and "est_g1_ratio" in problems[0] and "16 significant" in problems[0]


def test_a_planted_round_off_print_fails(tmp_path):
    stream = {"output_type": "stream", "name": "stdout", "text": "||H - formula||_2 = 1.7e-15\n"}
    problems = check(tmp_path, [stream])
    assert len(problems) == 1 and "1.7e-15" in problems[0] and "floor" in problems[0]


@pytest.mark.parametrize("text", ["3 × 10⁻¹⁷", r"$2 \times 10^{-18}$", "<td>1e-29</td>"])
def test_round_off_in_any_notation_fails(tmp_path, text):
    assert len(check(tmp_path, [glued("x", text, "text/markdown")])) == 1


@pytest.mark.parametrize("text", ["0.893259", "50.0", "6.103515625e-05", "< 1e-12",
                                  "&lt; 1e-12", "< 10⁻¹²", "1.7 × 10⁷", "0.0", "94.4808",
                                  "shape (50, 50), seed 12345678901"])
def test_what_the_display_module_writes_passes(tmp_path, text):
    assert check(tmp_path, [glued("x", text)]) == []


def test_the_display_module_output_passes_the_check(tmp_path):
    from momentum import display

    values = [0.8932592653075452, 94.48078406344831, 1.7e-15, 5498130.8649252495]
    text = " ".join(str(display.floored(v)) for v in values) + " " + display.sci(3e-17, 0)
    assert check(tmp_path, [glued("x", text)]) == []

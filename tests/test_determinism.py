"""Determinism: the fastest chapter executed twice (once from /tmp, once from chapters/) prints
exactly the same text, after masking only what .ci/nbval_sanitize.cfg masks for nbval."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import nbformat
import pytest
from chapter_runs import CHAPTERS, execute_chapter, fastest_chapter

ROOT = Path(__file__).resolve().parent.parent
TEXT_TYPES = ("text/plain", "text/latex", "text/markdown")


def sanitizers():
    """The (regex, replacement) pairs of CI's nbval sanitize file."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / ".ci/nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def text_outputs(nb) -> list[tuple[int, str]]:
    """Every text output of every code cell, sanitized: stream text, text/* results, errors.
    Consecutive stream outputs of a cell are joined first (how the kernel chunks a stream
    depends on timing; nbval coalesces them the same way)."""
    subs = sanitizers()
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        merged = []
        for o in cell.get("outputs", []):
            if (o.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == o.name):
                merged[-1] = nbformat.v4.new_output("stream", name=o.name,
                                                    text=merged[-1].text + o.text)
            else:
                merged.append(o)
        for o in merged:
            if o.output_type == "stream":
                texts = [o.text]
            elif o.output_type == "error":
                texts = [f"{o.ename}: {o.evalue}"]
            else:
                texts = [o.get("data", {}).get(t) for t in TEXT_TYPES]
            for t in texts:
                if t:
                    t = "".join(t) if isinstance(t, list) else t
                    for rx, rep in subs:
                        t = rx.sub(rep, t)
                    out.append((i, t))
    return out


def test_text_outputs_compare_what_they_should():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="rate "),
        nbformat.v4.new_output("stream", name="stdout", text="0.905\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<HTML id 0123456789abcdef"
                                                       "0123456789abcdef>", "image/png": "AAA"}),
    ]
    assert text_outputs(nb) == [(0, "rate 0.905\n"), (0, "<HTML id ANIMATION-ID>")]


@pytest.mark.skipif(not CHAPTERS, reason="no chapter exists yet in chapters/")
@pytest.mark.slow
def test_slow_fastest_chapter_twice_gives_identical_text():
    path = fastest_chapter()
    first = text_outputs(execute_chapter(path, "/tmp"))
    second = text_outputs(execute_chapter(path, str(path.parent)))
    assert first, "the chapter prints something to compare"
    differing = [(a, b) for a, b in zip(first, second, strict=False) if a != b]
    assert len(first) == len(second) and not differing, differing[:3]
    print(f"{path.name}: {len(first)} text outputs identical over two executions")

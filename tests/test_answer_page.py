"""The closing page (answer.md) is computed, not typed: every number in it is glued from a
chapter's stored outputs (MyST-NB cross-document glue, ``{glue:text}`path::key:fmt```), each
glued key exists in that chapter, outside an exercise's solution (the student edition removes
solutions), and formats with the page's format spec; no number is typed into the prose."""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "answer.md"
GLUE = re.compile(r"\{glue:(\w+)\}`([^`]*)`")
ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")          # {doc}, {ref}, {cite}, ... and their targets
MATH = re.compile(r"\$[^$]*\$")


def glue_refs(text):
    return GLUE.findall(text)


def chapter_glue(path):
    """``{key: text/plain}`` of a notebook's glued values, outside solutions."""
    nb = json.loads(path.read_text())
    found, in_solution = {}, False
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if "{solution-start}" in src:
                in_solution = True
            if "{solution-end}" in src:
                in_solution = "{solution-start}" in src.split("{solution-end}")[-1]
            continue
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and not in_solution:
                data = out["data"].get("application/papermill.record/text/plain")
                found[name] = "".join(data) if isinstance(data, list) else data
    return found


def parse(target):
    """``path::key:fmt`` -> (path, key, fmt); the format spec is required (MyST-NB reads the
    last ``:`` part as the format)."""
    ref, fmt = target.rsplit(":", 1)
    path, key = ref.split("::", 1)
    return path, key, fmt


REFS = glue_refs(PAGE.read_text())


def test_the_page_glues_its_numbers():
    assert len(REFS) >= 20, f"only {len(REFS)} glued values on the page"
    assert all(kind == "text" for kind, _ in REFS), "cross-document glue needs {glue:text}"
    assert all("::" in target for _, target in REFS), "every glue on the page names its chapter"


@pytest.mark.parametrize("target", [t for _, t in REFS], ids=[t.split("::")[-1] for _, t in REFS])
def test_each_glued_value_exists_in_its_chapter(target):
    path, key, fmt = parse(target)
    nb = ROOT / path
    assert nb.exists(), f"{path} does not exist"
    values = chapter_glue(nb)
    assert key in values, f"{key!r} is not glued in {path} (outside solutions)"
    value = ast.literal_eval(values[key])
    format(value, fmt)                          # the page's format applies to the stored value


def test_no_number_is_typed_in_the_prose():
    text = PAGE.read_text()
    text = ROLE.sub("", GLUE.sub("", text))     # glued values, references, citations
    text = MATH.sub("", text)                   # formulas (rates, exponents, settings)
    text = re.sub(r"\bA[1-6]\b|\bA1–A6\b|\bTheorem 7\b|Chapters? \d( and \d)?", "", text)
    text = re.sub(r"`[^`]*`", "", text)         # file names
    digits = re.findall(r"[^\s|]*\d[^\s|]*", text)
    assert not digits, f"numbers typed on the closing page: {digits}"


def test_every_row_has_a_verdict():
    rows = [r for r in PAGE.read_text().splitlines() if r.startswith("| ") and "---" not in r]
    header, body = rows[0], rows[1:]
    assert header.rstrip(" |").endswith("verdict"), header
    assert len(body) == 7, f"{len(body)} rows"
    for row in body:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 5 and cells[-1], row


def test_the_summary_figure_is_glued_in_chapter_7():
    """The page's figure is pasted from Chapter 7 (``{glue}`path::key```), which draws it
    from the chapters' glued values; the key must hold an image there, outside solutions."""
    text = PAGE.read_text()
    found = re.findall(r"\{glue\}`([^`]*)::([^`]*)`", text)
    assert found, "the page pastes no figure"
    for path, key in found:
        nb = json.loads((ROOT / path).read_text())
        images = [out for cell in nb["cells"] for out in cell.get("outputs", [])
                  if out.get("metadata", {}).get("scrapbook", {}).get("name") == key]
        assert images and "image/png" in images[0]["data"], f"{key!r} is no image in {path}"

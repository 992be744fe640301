"""A value the prose shows outside a solution is glued outside every solution: the student
edition drops solution blocks (their code cells too), so a key glued only inside one leaves the
student book's prose with an unresolved glue (Sphinx's "No key ... found in glue data", fatal
under -W)."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
USED = re.compile(r"\{glue(?::\w+)?\}`([A-Za-z_][\w.-]*)")


def _outside_solutions(nb):
    """The notebook's cells with a flag: True when the cell is outside every solution block."""
    inside = False
    for cell in nb.cells:
        source = cell.source
        if cell.cell_type == "markdown" and "{solution-start}" in source:
            inside = True
        yield cell, not inside
        if cell.cell_type == "markdown" and "{solution-end}" in source:
            inside = False


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_prose_outside_solutions_uses_only_keys_glued_outside_solutions(path):
    """Read from the stored outputs: the glued names are those of the outputs of code cells
    outside every solution block (MyST-NB's scrapbook metadata)."""
    nb = nbformat.read(path, as_version=4)
    used, glued = set(), set()
    for cell, outside in _outside_solutions(nb):
        if not outside:
            continue
        if cell.cell_type == "markdown":
            used |= {k for k in USED.findall(cell.source) if "::" not in k}
        elif cell.cell_type == "code":
            glued |= {out.get("metadata", {}).get("scrapbook", {}).get("name")
                      for out in cell.get("outputs", [])}
    missing = sorted(used - glued)
    assert not missing, (f"{path.name}: prose outside solutions shows keys glued only in a "
                         f"solution, or nowhere: {missing}")

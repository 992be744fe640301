"""Running a chapter as a reader's kernel would, for the tests (test_colab, test_determinism):
importable as a module (tests/conftest.py puts .ci/ on the path), so no test imports another."""

from __future__ import annotations

import functools
import os
import time
from datetime import datetime
from pathlib import Path

import nbformat
import student_edition as se

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = se.chapters(ROOT)




def recorded_seconds(path: Path) -> float:
    """How long the chapter's stored execution took, from the cells' execution timestamps
    (infinite when they are missing, so such a chapter is never picked as the fastest)."""
    total = 0.0
    for cell in nbformat.read(path, as_version=4).cells:
        ex = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code":
            continue
        try:
            start = datetime.fromisoformat(ex["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
        except KeyError:
            return float("inf")
        total += (end - start).total_seconds()
    return total


def fastest_chapter() -> Path | None:
    return min(CHAPTERS, key=recorded_seconds) if CHAPTERS else None


@functools.cache
def execute_chapter(path: Path, cwd: str):
    """Execute the chapter with nbclient, as a reader's kernel would, with ``cwd`` as its working
    directory; cached, so the Colab and determinism tests share one run from /tmp."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {"TQDM_DISABLE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": cwd}}).execute()
        nb.metadata["_seconds"] = time.perf_counter() - start
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb



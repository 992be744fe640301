"""Execute chapter notebooks in place, top to bottom, the way CI's nbval re-runs them.

    python .ci/execute_notebooks.py chapters/01_quadratics.ipynb [more.ipynb ...]

Runs each notebook with its own directory as the working directory and TQDM_DISABLE=1 (so the
stored outputs hold no progress bars with timings; in a live notebook the bars show), then
writes it back with its outputs. `make execute` calls this for every chapter.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 1200) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ["TQDM_DISABLE"] = "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        p = Path(arg)
        seconds = execute(p)
        size = p.stat().st_size / 1e6
        print(f"{p}: executed in {seconds:.0f} s, {size:.2f} MB")

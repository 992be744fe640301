"""Execute the chapters with the newest numerics the registry serves, as on Colab; report failures.

    python .ci/newest_libraries.py setup [--venv .venv-newest]   # the environment (make does it)
    .venv-newest/bin/python .ci/newest_libraries.py run chapters/*.ipynb

Colab and a reader's own machine do not install the book's pins: they keep whatever NumPy,
SciPy, pandas, Matplotlib and PyTorch they have, usually newer ones. The claim cells (hidden
cells that assert what the prose says, with a tolerance) must hold there too. `setup` builds a
virtual environment from requirements.txt with those five packages unpinned and upgraded to
the newest release pip may install here; `run` executes each chapter in it top to bottom
(errors do not stop the run), without writing the notebooks back, and prints one line per
failing cell: claim cell or not, and the error. Not part of CI's gating path (`make
notebooks-newest`); its result is reported in the session notes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNPINNED = ("torch", "numpy", "scipy", "pandas", "matplotlib")


def setup(venv: Path) -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pinned = re.compile(rf"^({'|'.join(UNPINNED)})\s*==")
    kept = [line for line in lines if not pinned.match(line.strip())]
    if not (venv / "bin" / "python").exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, dir=ROOT) as f:
        f.write("\n".join(kept + list(UNPINNED)) + "\n")
        reqs = f.name
    try:
        subprocess.check_call([py, "-m", "pip", "install", "--quiet", "--upgrade",
                               "-r", reqs], cwd=ROOT)
    finally:
        os.unlink(reqs)


def versions() -> str:
    import importlib.metadata as md

    return ", ".join(f"{name} {md.version(name)}" for name in UNPINNED)


def is_claim(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return "remove-cell" in tags and "assert" in "".join(cell.get("source", ""))


def run(paths: list[Path], timeout: int) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    os.environ["TQDM_DISABLE"] = "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    print(f"newest libraries: {versions()}")
    failures = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        bad = []
        try:
            client.execute()
        except CellTimeoutError as error:  # report it, go on with the next chapter
            bad.append(f"  timed out after {timeout} s: {str(error).splitlines()[0][:200]}")
        seconds = time.perf_counter() - start
        for index, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    kind = "claim cell" if is_claim(cell) else "cell"
                    first = (out.get("evalue") or "").strip().splitlines()
                    bad.append(f"  {kind} {index} (id {cell.get('id', '?')}): {out['ename']}: "
                               f"{first[0][:300] if first else ''}")
        failures += len(bad)
        print(f"{path}: {len(bad)} failing cells, {seconds:.0f} s")
        print("\n".join(bad)) if bad else None
    print(f"{failures} failing cells in {len(paths)} chapters")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--venv", type=Path, default=ROOT / ".venv-newest")
    r = sub.add_parser("run")
    r.add_argument("paths", nargs="+", type=Path)
    r.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args(argv)
    if args.command == "setup":
        setup(args.venv)
        return 0
    return run(args.paths, args.timeout)


if __name__ == "__main__":
    sys.exit(main())

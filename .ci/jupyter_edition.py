"""The Jupyter edition (``make jupyter``): the chapters in plain Jupyter markdown.

    python .ci/jupyter_edition.py build              # jupyter/chapters/*.ipynb (committed)
    python .ci/jupyter_edition.py build --student    # student/jupyter/chapters/*.ipynb
    python .ci/jupyter_edition.py check              # exit 1 if jupyter/ is stale

``build`` runs Jupyter Book with the builder of ``_ext/jupyter_edition.py``
(``--builder custom --custom-builder jupyter_edition``): Sphinx reads the book with the book's
own configuration, so every number, glued value and citation is the built book's, and the
builder writes the edition (see that module for what it does to each cell). ``--student``
first writes the student sources (``.ci/student_edition.py build --no-html``: solutions
removed), then builds their Jupyter form. ``check`` regenerates the edition into a temporary
directory and compares it, file by file, with the committed ``jupyter/``.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITION = "jupyter"


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else "jupyter-book"


def build(book: Path, out: Path, build_dir: Path | None = None, quiet: bool = False) -> None:
    """Write the Jupyter edition of the book in ``book`` into ``out``."""
    env = dict(os.environ, JUPYTER_EDITION_DIR=str(out.resolve()))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(ROOT / "lib"), env.get("PYTHONPATH", "")] if p)
    cmd = [_jupyter_book(), "build", str(book), "--builder", "custom",
           "--custom-builder", "jupyter_edition", "-W", "--keep-going"]
    if build_dir is not None:
        cmd += ["--path-output", str(build_dir)]
    result = subprocess.run(cmd, env=env, text=True, capture_output=quiet)
    if result.returncode:
        if quiet:
            print(result.stdout[-6000:], result.stderr[-6000:], sep="\n")
        raise SystemExit(f"the Jupyter edition build failed ({' '.join(cmd)})")


def stale(committed: Path, fresh: Path) -> list[str]:
    """Files that differ between the committed edition and a fresh one (either side)."""
    a = {p.relative_to(committed) for p in committed.rglob("*.ipynb")} if committed.is_dir() \
        else set()
    b = {p.relative_to(fresh) for p in fresh.rglob("*.ipynb")}
    out = [f"{p}: not generated any more" for p in sorted(a - b)]
    out += [f"{p}: missing from {committed.name}/" for p in sorted(b - a)]
    out += [f"{p}: differs" for p in sorted(a & b)
            if not filecmp.cmp(committed / p, fresh / p, shallow=False)]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write the edition")
    b.add_argument("--student", action="store_true",
                   help="the student edition's Jupyter form, student/jupyter/")
    b.add_argument("--out", type=Path, help="where to write (default: jupyter/ of the book)")
    c = sub.add_parser("check", help="exit 1 if the committed edition is stale")
    c.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    start = time.monotonic()
    if args.cmd == "build":
        book = ROOT
        if args.student:
            book = ROOT / "student"
            subprocess.run([sys.executable, str(ROOT / ".ci" / "student_edition.py"), "build",
                            "--no-html", "--out", str(book)], check=True)
        out = args.out or book / EDITION
        build(book, out)
        print(f"Jupyter edition written to {out} in {time.monotonic() - start:.0f} s")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / EDITION
        build(args.root, fresh, build_dir=Path(tmp) / "build", quiet=True)
        problems = stale(args.root / EDITION, fresh)
    if problems:
        print("the Jupyter edition is stale; run `make jupyter` and commit jupyter/:\n  "
              + "\n  ".join(problems))
        return 1
    print(f"the Jupyter edition is up to date ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

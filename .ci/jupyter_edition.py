"""The Jupyter edition (``make jupyter``): the chapters in plain Jupyter markdown.

    python .ci/jupyter_edition.py build              # jupyter/chapters/*.ipynb (committed)
    python .ci/jupyter_edition.py build --student    # student/jupyter/chapters/*.ipynb
    python .ci/jupyter_edition.py check              # exit 1 if jupyter/ is stale
    python .ci/jupyter_edition.py links [_build/html]  # launch/download URLs -> the edition

``build`` runs Jupyter Book with the builder of ``_ext/jupyter_edition.py``
(``--builder custom --custom-builder jupyter_edition``): Sphinx reads the book with the book's
own configuration, so every number, glued value and citation is the built book's, and the
builder writes the edition (see that module for what it does to each cell). ``--student``
first writes the student sources into ``_build/student-sources`` (``.ci/student_edition.py
build --no-html``: solutions removed; ``student/`` and its HTML are left alone), then builds
their Jupyter form into ``student/jupyter/``. ``check`` regenerates the edition into a temporary
directory and compares it, file by file, with the committed ``jupyter/``. ``links`` reads
every page of the built HTML book and fails unless each launch (Binder, Colab) and ``.ipynb``
download URL points at a notebook of the edition that exists (the download serves the copy the
build puts under ``_jupyter/``, which must equal ``jupyter/``'s).
"""

from __future__ import annotations

import argparse
import filecmp
import html.parser
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

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


class _Hrefs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [v for k, v in attrs if k == "href" and v]


def launch_targets(href: str, repo: str, branch: str) -> str | None:
    """The repository path a Binder or Colab URL opens (None for any other URL); a URL for
    another repository or branch gives ``"<elsewhere> ..."``."""
    parts = urlsplit(href)
    if parts.netloc.endswith("colab.research.google.com"):
        m = re.match(r"^/github/([^/]+/[^/]+)/blob/([^/]+)/(.+)$", parts.path)
        if not m or m[1].lower() != repo.lower() or m[2] != branch:
            return f"<elsewhere> {href}"
        return unquote(m[3])
    if parts.netloc.endswith("mybinder.org"):
        m = re.match(r"^/v2/gh/([^/]+/[^/]+)/([^/?]+)", parts.path)
        urlpath = parse_qs(parts.query).get("urlpath", [""])[0]
        path = re.sub(r"^(lab/tree|tree|notebooks)/", "", unquote(urlpath))
        if not m or m[1].lower() != repo.lower() or m[2] != branch or not path:
            return f"<elsewhere> {href}"
        return path
    return None


def link_problems(site: Path, root: Path = ROOT) -> tuple[int, list[str]]:
    """Every launch and ``.ipynb`` download URL in the HTML book under ``site``: how many, and
    those that do not point at an existing notebook of the edition (``jupyter/``)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    repo_cfg = config["repository"]
    repo = "/".join(repo_cfg["url"].rstrip("/").split("/")[-2:])
    branch = repo_cfg.get("branch", "main")
    edition = root / EDITION
    problems, count = [], 0
    pages = sorted(p for p in site.rglob("*.html")
                   if not any(part.startswith(("_", ".")) for part in p.relative_to(site).parts))
    for page in pages:
        parser = _Hrefs()
        parser.feed(page.read_text(errors="replace"))
        where = page.relative_to(site)
        for href in parser.hrefs:
            target = launch_targets(href, repo, branch)
            if target is not None:
                count += 1
                if target.startswith("<elsewhere>"):
                    problems.append(f"{where}: a launch URL for another repository or branch: "
                                    f"{href}")
                elif not target.startswith(f"{EDITION}/") or not (root / target).is_file():
                    problems.append(f"{where}: {href} opens {target}, not a notebook of the "
                                    "Jupyter edition")
                continue
            if href.split("#")[0].endswith(".ipynb") and "://" not in href:
                count += 1
                local = (page.parent / href.split("#")[0]).resolve()
                try:
                    rel = local.relative_to((site / "_jupyter").resolve())
                except ValueError:
                    problems.append(f"{where}: the download {href} is not the Jupyter edition")
                    continue
                if not local.is_file() or not (edition / rel).is_file():
                    problems.append(f"{where}: the download {href} does not exist")
                elif not filecmp.cmp(local, edition / rel, shallow=False):
                    problems.append(f"{where}: the download {href} differs from "
                                    f"{EDITION}/{rel} (rebuild the book after make jupyter)")
    return count, problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write the edition")
    b.add_argument("--student", action="store_true",
                   help="the student edition's Jupyter form, student/jupyter/")
    b.add_argument("--out", type=Path, help="where to write (default: jupyter/ of the book)")
    c = sub.add_parser("check", help="exit 1 if the committed edition is stale")
    c.add_argument("--root", type=Path, default=ROOT)
    lk = sub.add_parser("links", help="check the built book's launch and download URLs")
    lk.add_argument("site", nargs="?", type=Path, default=ROOT / "_build" / "html")
    args = ap.parse_args(argv)
    if args.cmd == "links":
        count, problems = link_problems(args.site)
        for p in problems:
            print(p)
        print(f"{count} launch and download URLs, {len(problems)} not pointing at the edition")
        return 1 if problems or not count else 0
    start = time.monotonic()
    if args.cmd == "build":
        book, out = ROOT, args.out or ROOT / EDITION
        if args.student:
            book, out = ROOT / "_build" / "student-sources", args.out or ROOT / "student" / EDITION
            subprocess.run([sys.executable, str(ROOT / ".ci" / "student_edition.py"), "build",
                            "--no-html", "--out", str(book)], check=True)
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

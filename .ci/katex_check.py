"""Every formula of the Jupyter edition rendered with KaTeX, which Colab and VS Code use for
notebook markdown (JupyterLab uses MathJax: .ci/jupyterlab_check.py covers that).

    python .ci/katex_check.py [jupyter/chapters/*.ipynb ...]    # exit 1 on any KaTeX error

KaTeX is the npm package pinned in ``.ci/katex/package.json``, installed there by
``npm ci --prefix .ci/katex`` (``make jupyter-check`` does it) and run with the machine's Node.
Formulas are what the notebook's markdown cells hold outside code: ``$$...$$``, ``$...$`` and
``\\begin{env}...\\end{env}`` (amsmath environments, which Jupyter typesets without dollars).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KATEX_DIR = ROOT / ".ci" / "katex"
_CODE = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1[ \t]*$|(`+)[^`].*?(?<!`)\2(?!`)",
                   re.S | re.M)
_MATH = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?!\$)(?P<inline>(?:\\.|[^$\\])+?)\$|"
                   r"(?P<env>\\begin\{(?P<name>\w+\*?)\}.+?\\end\{(?P=name)\})", re.S)


def formulas(nb, where: str) -> list[dict]:
    """The formulas in the markdown cells of ``nb``: ``{"tex", "display", "where"}``."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = _CODE.sub(" ", cell.source)
        for m in _MATH.finditer(text):
            tex = m["display"] or m["inline"] or m["env"]
            out.append({"tex": tex.strip(), "display": m["inline"] is None,
                        "where": f"{where}, cell {i}"})
    return out


def quote_markers(items: list[dict]) -> list[dict]:
    """Formulas holding a line that starts with ``>``: a display formula written across the
    lines of a markdown quote, whose ``> `` markers Jupyter's renderers typeset as part of it."""
    return [{"where": f["where"], "tex": f["tex"],
             "error": "a quote marker '>' inside the formula (write it on one line)"}
            for f in items if re.search(r"^\s*>", f["tex"], re.M)]


def render_errors(items: list[dict]) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed (KaTeX runs under the machine's Node)")
    if not (KATEX_DIR / "node_modules" / "katex").is_dir():
        raise SystemExit(f"KaTeX is not installed: run `npm ci --prefix {KATEX_DIR}`")
    result = subprocess.run([node, str(KATEX_DIR / "render.js")], input=json.dumps(items),
                            capture_output=True, text=True, check=True, cwd=KATEX_DIR)
    return json.loads(result.stdout)


def check(paths: list[Path]) -> tuple[int, list[dict]]:
    items = []
    for p in paths:
        items += formulas(nbformat.read(p, as_version=4), str(p))
    return len(items), quote_markers(items) + render_errors(items)


def main(argv=None) -> int:
    args = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    paths = args or sorted(p for p in (ROOT / "jupyter").rglob("*.ipynb")
                           if ".ipynb_checkpoints" not in p.parts)
    n, errors = check(paths)
    for e in errors:
        print(f"{e['where']}: {e['error']}\n    {e['tex'][:200]!r}")
    print(f"KaTeX: {n} formulas in {len(paths)} notebooks, {len(errors)} errors")
    return 1 if errors or not n else 0


if __name__ == "__main__":
    sys.exit(main())

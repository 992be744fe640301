"""The Jupyter edition in a real JupyterLab, offline: every notebook opened in Debian's
headless Chromium, checked as a reader sees it.

    python .ci/jupyterlab_check.py [DIR ...] [--screenshots DIR] [--chromium PATH]

Starts one ``jupyter lab`` (pip ``jupyterlab``, which bundles its MathJax) on a copy of the
notebooks under each DIR (default ``jupyter/``, the edition; ``make jupyter-check`` adds
``student/jupyter/``, the student edition's Jupyter form) with no token, no update or news
checks, and the notebook's windowing off (``windowingMode: none``, in a throwaway settings
directory: JupyterLab would otherwise render only the cells in view). Playwright's Python
package drives the system's Chromium (``executable_path``; never ``playwright install``);
every request to another host is aborted. Each ``*.ipynb`` under DIR is opened, and the check
waits until every markdown cell is rendered and MathJax has typeset, then fails on

- leftover MyST: a directive fence (a code block whose language is ``{name}``, or a line
  starting with ``:::{``), a ``{role}`` followed by a backtick (in the rendered page, a
  ``{name}`` right before an inline code element), a ``(label)=`` line;
- a MathJax error (``mjx-merror``, or TeX left untypeset between dollars);
- an image that does not load;
- a notebook JupyterLab cannot open (no cells rendered);

and saves a screenshot per notebook into ``--screenshots`` (default ``screenshots/jupyter``):
its top, and (``-box.png``) its first numbered box.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_check import FLAGS, block_outside  # noqa: E402 - the book's browser check, beside

# JupyterLab user settings: every cell rendered (no virtual scrolling), no news fetched.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}

# Runs in the page once the notebook is rendered: every problem a reader would see.
PROBLEMS_JS = r"""() => {
  const out = [];
  const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-MarkdownCell'));
  const short = (s) => s.replace(/\s+/g, ' ').trim().slice(0, 120);
  const bad = (i, what, s) => out.push(`markdown cell ${i}: ${what}: ${short(s)}`);
  cells.forEach((cell, i) => {
    const md = cell.querySelector('.jp-RenderedMarkdown');
    if (!md) { out.push(`markdown cell ${i}: not rendered`); return; }
    for (const code of md.querySelectorAll('pre code, pre')) {
      const cls = code.className || '';
      const first = (code.textContent || '').split('\n')[0];
      if (/language-\{/.test(cls) || /^\s*\{[\w:-]+\}/.test(first) && code.tagName === 'CODE' &&
          /language-/.test(cls)) {
        out.push(`markdown cell ${i}: a MyST directive fence (${cls})`);
      }
    }
    const text = md.innerText || '';
    for (const line of text.split('\n')) {
      if (/^\s*\([\w:.-]+\)=\s*$/.test(line)) bad(i, 'a (label)= line', line);
      if (/^\s*(:{3,}|`{3,})\{/.test(line)) bad(i, 'a directive fence', line);
    }
    const role = text.match(/.{0,40}\{[\w:-]+\}`.{0,40}/s);
    if (role) bad(i, 'a MyST role', role[0]);
    for (const code of md.querySelectorAll('code')) {
      if (code.closest('pre')) continue;
      const prev = code.previousSibling;
      if (prev && prev.nodeType === 3 && /\{[\w:-]+\}$/.test(prev.textContent)) {
        bad(i, 'a MyST role', prev.textContent.slice(-40) + code.textContent);
      }
    }
    for (const err of md.querySelectorAll('mjx-merror, [data-mjx-error], .MathJax_Error')) {
      bad(i, 'MathJax error', err.getAttribute('data-mjx-error') || err.textContent);
    }
    // TeX that MathJax left as text: a backslash command between dollars outside code
    const clone = md.cloneNode(true);
    clone.querySelectorAll('code, pre, mjx-container, script').forEach(e => e.remove());
    const rest = clone.textContent || '';
    const raw = rest.match(/\$[^$]*\\[A-Za-z]+[^$]*\$/);
    if (raw) out.push(`markdown cell ${i}: untypeset TeX: ${short(raw[0])}`);
  });
  for (const img of document.querySelectorAll('.jp-Notebook img')) {
    if (!img.complete || img.naturalWidth === 0) {
      out.push(`image not loaded: ${img.src.slice(0, 100)}`);
    }
  }
  return out;
}"""

READY_JS = r"""(n) => {
  const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');
  const md = document.querySelectorAll('.jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown');
  const mdCells = document.querySelectorAll('.jp-Notebook .jp-MarkdownCell');
  return cells.length === n && md.length === mdCells.length;
}"""

MATH_JS = r"""() => document.querySelectorAll('.jp-Notebook mjx-container').length"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(root: Path, work: Path):
    """``jupyter lab`` on ``root`` (settings, workspaces and runtime files under ``work``)."""
    settings = work / "settings"
    for name, value in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), JUPYTER_CONFIG_DIR=str(work / "config"))
    exe = Path(sys.executable).with_name("jupyter-lab")
    cmd = [str(exe) if exe.exists() else "jupyter-lab", "--no-browser", f"--port={port}",
           "--ip=127.0.0.1", f"--ServerApp.root_dir={root}", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.news_url=", "--ServerApp.open_browser=False", "--allow-root",
           "--LabApp.extension_manager=readonly"]
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: {(work / 'lab.log').read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("jupyter lab did not start")


def check_notebooks(root: Path, notebooks: list[Path], chromium: str,
                    shots: Path | None) -> dict[str, list[str]]:
    """Open each notebook in JupyterLab; return its problems (empty when clean)."""
    import nbformat
    from playwright.sync_api import sync_playwright

    results, typeset = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        # JupyterLab writes checkpoints next to what it opens: it serves a copy
        served = Path(tmp) / "served"
        for nb_path in notebooks:
            dst = served / nb_path.resolve().relative_to(root.resolve())
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(nb_path, dst)
        proc, base = start_lab(served, Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
                context = browser.new_context(viewport={"width": 1280, "height": 1600})
                blocked = set()
                block_outside(context, base, blocked)
                for nb_path in notebooks:
                    rel = nb_path.resolve().relative_to(root.resolve()).as_posix()
                    nb = nbformat.read(nb_path, as_version=4)
                    n_cells = len(nb.cells)
                    has_math = any("$" in c.source for c in nb.cells
                                   if c.cell_type == "markdown")
                    page = context.new_page()
                    problems = []
                    try:
                        # the notebook opens in a single-document view, with no kernel
                        page.goto(f"{base}/lab/tree/{quote(rel)}?reset", timeout=120_000)
                        page.wait_for_function(READY_JS, arg=n_cells, timeout=180_000,
                                               polling=500)
                        # MathJax typesets asynchronously: wait until it stops adding math
                        last, stable = -1, 0
                        for _ in range(240):
                            count = page.evaluate(MATH_JS)
                            stable = stable + 1 if count == last else 0
                            last = count
                            if stable >= 4:
                                break
                            page.wait_for_timeout(500)
                        problems = page.evaluate(PROBLEMS_JS)
                        if has_math and last == 0:
                            problems.append("MathJax typeset no formula")
                        typeset[rel] = last
                    except Exception as err:       # a notebook that does not open fails
                        problems = [f"did not render: {str(err).splitlines()[0]}"]
                    if shots is not None:
                        shots.mkdir(parents=True, exist_ok=True)
                        name = rel.replace("/", "__").removesuffix(".ipynb") + ".png"
                        page.screenshot(path=str(shots / name))
                        # and the first numbered box, as the edition renders it
                        box = page.locator(".jp-RenderedMarkdown blockquote").first
                        if box.count():
                            try:
                                box.scroll_into_view_if_needed(timeout=10_000)
                                page.screenshot(path=str(shots / name.replace(".png",
                                                                              "-box.png")))
                            except Exception:
                                pass
                    results[rel] = problems
                    print(f"{rel}: {typeset.get(rel, 0)} formulas typeset by MathJax, "
                          f"{len(problems)} problem(s)", flush=True)
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roots", nargs="*", type=Path, default=[ROOT / "jupyter"])
    ap.add_argument("--screenshots", type=Path, default=ROOT / "screenshots" / "jupyter")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    if not Path(args.chromium).exists() and not shutil.which(args.chromium):
        print(f"no Chromium at {args.chromium}")
        return 2
    notebooks = sorted(p.resolve() for root in args.roots for p in root.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts)
    empty = [str(r) for r in args.roots if not any(r.rglob("*.ipynb"))]
    if empty or not notebooks:
        print(f"no notebook under {', '.join(empty) or args.roots}")
        return 1
    # served from the deepest directory that holds them all
    common = Path(os.path.commonpath([str(p.parent) for p in notebooks]))
    start = time.monotonic()
    results = check_notebooks(common, notebooks, args.chromium, args.screenshots)
    bad = 0
    for rel, problems in results.items():
        print(f"{rel}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for p in problems[:30]:
            print(f"    {p}")
        bad += bool(problems)
    print(f"JupyterLab: {len(results)} notebooks, {bad} with problems "
          f"({time.monotonic() - start:.0f} s); screenshots in {args.screenshots}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

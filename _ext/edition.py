"""The edition stamp: which edition of the book a page, a PDF or a handout is.

A reader, or an instructor grading against the book, needs to know which edition they hold.
The edition is the date and short hash of the commit the book was built from (``git log -1``
in the book's folder; "unversioned" outside a git checkout). This extension

- puts ``Edition of 2026-12-03 (commit 1f70669)`` in the footer of every HTML page (the theme's
  ``extra_footer``), with a pointer to the changes page;
- defines the MyST substitution ``{{ edition }}``, which the front page (and so the PDF's first
  page, and the student edition's) shows under the title.

The date is the commit's, not the build's, so two builds of one commit are identical.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def edition(folder: str | Path) -> str:
    """``"Edition of <commit date> (commit <short hash>)"`` for the checkout holding ``folder``."""
    try:
        result = subprocess.run(["git", "log", "-1", "--format=%cs %h"], cwd=folder,
                                capture_output=True, text=True, timeout=20)
        date, commit = result.stdout.split()
    except (OSError, ValueError, subprocess.SubprocessError):
        return "Unversioned edition (not built from a git checkout)"
    return f"Edition of {date} (commit {commit})"


def _stamp(app, config):
    text = edition(app.srcdir)
    config.myst_substitutions = {**(config.myst_substitutions or {}), "edition": text}
    options = dict(config.html_theme_options or {})
    footer = options.get("extra_footer", "")
    options["extra_footer"] = (f'{footer}<p class="book-edition">{text}. What changed between '
                               "editions: the Changes page, at the end of the contents.</p>")
    config.html_theme_options = options


def setup(app):
    app.connect("config-inited", _stamp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

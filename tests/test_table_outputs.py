"""Outputs that carry a MyST table and an HTML table at once (``momentum.display.table``): the book
renders the MyST form (``nb_mime_priority_overrides`` in _config.yml ranks text/markdown above
text/html), a reader's Jupyter or Colab the HTML form. The override reaches every output with
both forms, so only such tables may carry both."""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _both(path):
    for cell in json.loads(path.read_text())["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data and "text/html" in data:
                yield "".join(data["text/markdown"]), "".join(data["text/html"])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_only_tables_carry_a_markdown_and_an_html_form(path):
    for markdown, html in _both(path):
        assert markdown.startswith(":::{table}"), markdown[:80]
        assert html.lstrip().startswith("<table") and "<caption>" in html, html[:80]
        assert "\\v" not in html and "\\norm" not in html   # the book's macros expanded


def test_the_book_ranks_the_myst_form_first():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert ["*", "text/markdown", 25] in config["nb_mime_priority_overrides"]
    assert any(True for p in CHAPTERS for _ in _both(p))   # the case exists

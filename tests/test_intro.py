"""The front page's reading times follow the chapters (words of prose, at 150 a minute)."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS_PER_MINUTE = 150


def prose_words(path: Path) -> int:
    """Words in a chapter's markdown cells, formulas left out."""
    nb = json.loads(path.read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", "", text, flags=re.S)
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))


def stated_rows():
    text = (ROOT / "intro.md").read_text()
    rows = re.findall(r"^\| (\d)\. [^|]+\| about ([\d,]+) \| (\d+) min \|$", text, re.M)
    return {int(n): (int(words.replace(",", "")), int(minutes)) for n, words, minutes in rows}


def test_every_chapter_has_a_reading_time():
    chapters = sorted((ROOT / "chapters").glob("0*.ipynb"))
    assert sorted(stated_rows()) == list(range(1, len(chapters) + 1))


def test_the_stated_words_and_minutes_match_the_chapters():
    chapters = sorted((ROOT / "chapters").glob("0*.ipynb"))
    for number, (words, minutes) in stated_rows().items():
        actual = prose_words(chapters[number - 1])
        assert abs(words - actual) <= max(300, 0.1 * actual), (number, words, actual)
        assert abs(minutes - actual / WORDS_PER_MINUTE) <= 5, (number, minutes, actual)

"""_ext/alt_text.py: a figure's alt text is its caption, not the output's file hash."""

import importlib.util
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("alt_text", ROOT / "_ext" / "alt_text.py")
alt_text = importlib.util.module_from_spec(spec)
spec.loader.exec_module(alt_text)


def test_caption_alt_keeps_two_sentences_within_the_limit():
    caption = "Loss against k. Nesterov falls faster. Heavy ball rings. More detail follows."
    assert alt_text.caption_alt(caption) == "Loss against k. Nesterov falls faster."
    long = "word " * 200
    assert len(alt_text.caption_alt(long)) <= 304 and alt_text.caption_alt(long).endswith("...")


def _app(source: str):
    """A stand-in for Sphinx's app: only ``env.doc2path`` is read."""
    class Env:
        def doc2path(self, docname):
            return Path(source)

    class App:
        env = Env()

    return App()


def test_images_get_their_caption_or_a_plain_description():
    doc = new_document("test", get_default_settings(Parser))
    figure = nodes.figure("", nodes.image(uri="a.png", alt="0123456789abcdef0123.png"),
                          nodes.caption("", "Iterations against kappa. Slopes 1 and 1/2."))
    bare = nodes.image(uri="b.png")
    kept = nodes.image(uri="c.png", alt="written by the author")
    doc += [figure, bare, kept]
    alt_text.add_alt_text(_app("test.ipynb"), doc, "test")
    images = list(doc.findall(nodes.image))
    assert images[0]["alt"] == "Iterations against kappa. Slopes 1 and 1/2."
    assert images[1]["alt"] == alt_text.UNCAPTIONED
    assert images[2]["alt"] == "written by the author"


def test_a_figure_pasted_into_a_markdown_page_gets_the_paragraph_after_it():
    """The answer page pastes a chapter's glued figure with no caption of its own: "drawn by
    the code cell above" would be false there; the paragraph after it says what it shows."""
    doc = new_document("answer", get_default_settings(Parser))
    doc += [nodes.paragraph("", "", nodes.image(uri="s.png", alt="0123456789abcdef0123.png")),
            nodes.paragraph("", "The table at a glance. Exponents on the left. More.")]
    alt_text.add_alt_text(_app("answer.md"), doc, "answer")
    assert next(doc.findall(nodes.image))["alt"] == "The table at a glance. Exponents on the left."
    alone = new_document("answer", get_default_settings(Parser))
    alone += nodes.paragraph("", "", nodes.image(uri="s.png"))
    alt_text.add_alt_text(_app("answer.md"), alone, "answer")
    assert next(alone.findall(nodes.image))["alt"] == alt_text.PASTED

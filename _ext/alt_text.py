"""Alt text for the notebooks' figures: what the figure shows, not a file name.

MyST-NB writes each output image under a content hash and gives it no alt text, so a screen
reader (and a broken-image box) announces the hash. After the references are resolved, each
image in a figure gets its caption as alt text (the first two sentences, at most 300
characters: the caption says what to look at), an uncaptioned output image in a notebook gets
"Figure drawn by the code cell above", and an image pasted into a Markdown page (a chapter's
glued figure) the first two sentences of the paragraph after it. An alt text set in the source
is kept.
"""

from __future__ import annotations

import re

from docutils import nodes

UNCAPTIONED = "Figure drawn by the code cell above"


def caption_alt(text: str, limit: int = 300) -> str:
    """The first two sentences of ``text``, cut at ``limit`` characters on a word boundary."""
    text = re.sub(r"\s+", " ", text).strip()
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text)
    alt = " ".join(sentences[:2])
    if len(alt) > limit:
        alt = alt[:limit].rsplit(" ", 1)[0] + " ..."
    return alt


def _is_hash(alt: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{16,}(\.\w+)?", alt or ""))


def add_alt_text(app, doctree, docname):
    for image in doctree.findall(nodes.image):
        if image.get("alt") and not _is_hash(image["alt"]):
            continue
        figure = image.parent
        while figure is not None and not isinstance(figure, nodes.figure):
            figure = figure.parent
        captions = list(figure.findall(nodes.caption)) if figure is not None else []
        if captions:
            image["alt"] = caption_alt(captions[0].astext())
        elif str(app.env.doc2path(docname)).endswith(".ipynb"):
            image["alt"] = UNCAPTIONED
        else:  # pasted into a Markdown page (glue from a chapter): the paragraph after it
            image["alt"] = caption_alt(_next_paragraph(image)) or PASTED


PASTED = "Figure pasted from a chapter"


def _next_paragraph(image) -> str:
    """The text of the first paragraph after the block that holds ``image`` ("" if none)."""
    block = image
    while block.parent is not None and not isinstance(block.parent, nodes.section) and \
            not isinstance(block.parent, nodes.document):
        block = block.parent
    parent = block.parent
    if parent is None:
        return ""
    for sibling in parent.children[parent.index(block) + 1:]:
        if isinstance(sibling, nodes.paragraph):
            return sibling.astext()
    return ""


def setup(app):
    app.connect("doctree-resolved", add_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

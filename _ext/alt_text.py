"""Alt text for the notebooks' figures: what the figure shows, not a file name.

MyST-NB writes each output image under a content hash and gives it no alt text, so a screen
reader (and a broken-image box) announces the hash. After the references are resolved, each
image in a figure gets its caption as alt text (the first two sentences, at most 300
characters: the caption says what to look at), and an uncaptioned output image gets "Figure
drawn by the code cell above". An alt text set in the source is kept.
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
        image["alt"] = caption_alt(captions[0].astext()) if captions else UNCAPTIONED


def setup(app):
    app.connect("doctree-resolved", add_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

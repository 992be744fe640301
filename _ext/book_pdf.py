"""The PDF edition's two hooks into the Sphinx build (loaded through ``local_extensions``).

1. The single-page HTML builder, which ``make pdf`` prints, must render every custom node the
   multi-page one renders. Sphinx looks up node visitors by builder name first and falls back
   to the builder's format only when *no* extension registered any visitor under that name
   (``create_translator`` in ``sphinx/registry.py``). sphinx-exercise registers its nodes for
   ``singlehtml``, so the fallback never happens and sphinx-proof's nodes (registered for
   ``html`` only) have no visitor there: ``NotImplementedError: ... unknown node type:
   definition_node``. Copying the missing ``html`` visitors under ``singlehtml`` restores it.
2. The download menu of every HTML page (sphinx-book-theme's ``.ipynb``, ``.md`` and "print
   this page" entries) gains one more: the whole book as one PDF, ``book.pdf`` at the root of
   the HTML build, where ``make pdf`` copies it.
"""

from __future__ import annotations

PDF_NAME = "book.pdf"


def _copy_html_handlers(app):
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for name, pair in handlers.get("html", {}).items():
        single.setdefault(name, pair)


def _add_book_pdf(app, pagename, templatename, context, doctree):
    if app.builder.name != "html":
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link",
                "url": context["pathto"](PDF_NAME, 1),
                "text": "book (.pdf)",
                "tooltip": "Download the whole book as one PDF",
                "icon": "fas fa-book",
                "label": "download-book-pdf-button",
            })


def setup(app):
    app.connect("builder-inited", _copy_html_handlers)
    # after sphinx-book-theme's add_header_buttons (priority 501) has made the menu
    app.connect("html-page-context", _add_book_pdf, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

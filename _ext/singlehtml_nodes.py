"""Let the single-page HTML builder render every custom node the multi-page one renders.

Sphinx looks up node visitors by builder name first and falls back to the builder's format
only when *no* extension registered any visitor under that name (``create_translator`` in
``sphinx/registry.py``). sphinx-exercise registers its nodes for ``singlehtml``, so the
fallback never happens and sphinx-proof's nodes (registered for ``html`` only) have no
visitor there: ``NotImplementedError: ... unknown node type: definition_node``. Copying the
missing ``html`` visitors under ``singlehtml`` restores the fallback. The PDF edition
(``make pdf``) prints the single-page build, so it needs this.
"""

from __future__ import annotations


def _copy_html_handlers(app):
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for name, pair in handlers.get("html", {}).items():
        single.setdefault(name, pair)


def setup(app):
    app.connect("builder-inited", _copy_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

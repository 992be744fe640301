"""The Jupyter edition: the chapters in plain Jupyter markdown, written by a Sphinx builder
from the book's own build environment (loaded through ``local_extensions``).

``make jupyter`` runs ``jupyter-book build . --builder custom --custom-builder jupyter_edition``
(see ``.ci/jupyter_edition.py``): Sphinx reads the book exactly as for the HTML build (same
configuration, same numbering), then this builder writes, for every notebook page,
``jupyter/<page>.ipynb`` in which

- theorem, lemma, definition, ... (sphinx-proof) and exercise boxes are quoted blocks headed by
  their number and title in bold ("**Theorem 2.1** (title)"), numbers taken from the
  environment (``toc_fignumbers``), as the HTML book shows them;
- solutions are ``<details>`` blocks ("Solution to Exercise 2.1"); the code cells of a
  ``{solution-start}`` ... ``{solution-end}`` solution stay code cells, their input collapsed;
- ``{glue:text}`` / ``{glue:md}`` are replaced by the text the book shows (myst-nb's own
  formatting of the notebook's stored glue outputs);
- ``{ref}``, ``{numref}``, ``{prf:ref}``, ``{doc}`` and the citation roles are resolved by
  Sphinx's own domains and post-transforms (so "Theorem 2.1", "Exercise 4.2", "Fig. 3.1",
  "Liao and Kyrillidis [2024]" are the built book's text) and linked to the HTML book at
  ``html.baseurl`` (``_config.yml``); each notebook ends with the entries it cites;
- ``(label)=`` targets become ``<a id="label"></a>``; figure captions (``mystnb.figure`` cell
  metadata) become a markdown cell after their figure's code cell;
- the book's MathJax macros (``mathjax3_config.tex.macros`` in ``_config.yml``) are expanded
  in the math, so KaTeX (Colab, VS Code) and MathJax (JupyterLab) both typeset it;
- the install cell stays first (the template of ``.ci/student_edition.py``), claim cells
  (``remove-cell`` code cells that ``assert``) are dropped, every other code cell is kept as it
  is, and no outputs are stored.

The HTML build gets one hook too: the download menu's ``.ipynb`` entry serves the edition's
notebook (copied into the HTML output as ``_jupyter/<page>.ipynb``) instead of the MyST source.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.utils import new_document
from sphinx.addnodes import pending_xref
from sphinx.builders import Builder
from sphinx.util import logging

logger = logging.getLogger(__name__)

EDITION_DIR = "jupyter"          # under the book's source directory
HTML_COPY_DIR = "_jupyter"       # under the HTML output, for the download button
ASSERT = re.compile(r"^\s*assert\b", re.M)


class ConversionError(ValueError):
    """A MyST form the converter does not know: it stops the edition instead of leaking."""


# --------------------------------------------------------------------------------------------
# Macros
# --------------------------------------------------------------------------------------------


def _braced(text: str, i: int) -> tuple[str, int]:
    """The argument starting at ``text[i]`` (a ``{...}`` group or one token) and the index
    after it."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        raise ConversionError("a macro argument is missing at the end of a formula")
    if text[i] == "{":
        depth = 0
        for j in range(i, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return text[i + 1:j], j + 1
        raise ConversionError(f"unbalanced braces in a macro argument: {text[i:i + 40]!r}")
    if text[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", text[i:])
        return m[0], i + len(m[0])
    return text[i], i + 1


def expand_macros(tex: str, macros: dict) -> str:
    """``tex`` with every macro of ``macros`` (MathJax's ``{name: body}`` or
    ``{name: [body, nargs]}``) expanded, recursively; an expansion right after ``_`` or ``^``
    is braced (``\\grad_\\vx`` -> ``\\nabla_{\\mathbf{x}}``)."""
    if not macros:
        return tex
    names = sorted(macros, key=len, reverse=True)
    pattern = re.compile(r"\\(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z])")
    for _ in range(10):
        out, pos, changed = [], 0, False
        for m in pattern.finditer(tex):
            if m.start() < pos:
                continue
            # an escaped backslash (\\vx is a line break then "vx") is not a macro
            k, slashes = m.start() - 1, 0
            while k >= 0 and tex[k] == "\\":
                slashes, k = slashes + 1, k - 1
            if slashes % 2:
                continue
            spec = macros[m[1]]
            body, nargs = (spec, 0) if isinstance(spec, str) else (spec[0], int(spec[1]))
            end = m.end()
            for n in range(1, nargs + 1):
                arg, end = _braced(tex, end)
                body = body.replace(f"#{n}", arg)
            prev = tex[:m.start()].rstrip(" ")
            if prev.endswith(("_", "^")) or nargs == 0 and end < len(tex) and \
                    re.match(r"[A-Za-z]", tex[end]):
                body = "{" + body + "}"
            out += [tex[pos:m.start()], body]
            pos, changed = end, True
        out.append(tex[pos:])
        tex = "".join(out)
        if not changed:
            return tex
    raise ConversionError("macro expansion does not terminate (a recursive macro?)")


# Math in markdown: display $$...$$, inline $...$ and \begin{env}...\end{env} blocks (amsmath).
_MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+?\$|"
                   r"\\begin\{(\w+\*?)\}.+?\\end\{\1\}", re.S)
_CODE = re.compile(r"(?P<fence>^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\2[ \t]*$)|"
                   r"(?P<span>(`+).+?(?<!`)\4(?!`))", re.S | re.M)


def map_outside_code(text: str, fn) -> str:
    """``fn`` applied to the parts of markdown ``text`` outside code fences and code spans."""
    out, pos = [], 0
    for m in _CODE.finditer(text):
        out += [fn(text[pos:m.start()]), m[0]]
        pos = m.end()
    out.append(fn(text[pos:]))
    return "".join(out)


def expand_math_macros(markdown: str, macros: dict) -> str:
    return map_outside_code(
        markdown, lambda part: _MATH.sub(lambda m: expand_macros(m[0], macros), part))


# --------------------------------------------------------------------------------------------
# docutils nodes -> markdown (the resolved references)
# --------------------------------------------------------------------------------------------


def node_markdown(node) -> str:
    """A resolved reference (or the inline node holding several) as markdown links."""
    if isinstance(node, nodes.Text):
        return node.astext()
    if isinstance(node, nodes.reference):
        text = node.astext()
        uri = node.get("refuri") or ("#" + node["refid"] if node.get("refid") else "")
        return f"[{text}]({uri})" if uri else text
    if isinstance(node, nodes.math):
        return f"${node.astext()}$"
    return "".join(node_markdown(child) for child in node.children)


# --------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w:-]+)\}"
                    r"[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
_TARGET = re.compile(r"^[ \t]*\((?P<label>[^()\s]+)\)=[ \t]*$")
_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
_ROLE_OR_CODE = re.compile(r"(?P<role>\{[\w:-]+\}`[^`]*`)|(`+)[^`].*?(?<!`)\2(?!`)", re.S)
_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_ADMONITIONS = ("note", "warning", "tip", "important", "caution", "attention", "hint",
                "seealso", "danger", "error", "admonition")


def _fence_end(lines: list[str], i: int, fence: str) -> int:
    close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    depth = 0
    for j in range(i + 1, len(lines)):
        m = _FENCE.match(lines[j])
        if m and m["fence"][0] == fence[0] and len(m["fence"]) == len(fence):
            depth += 1
        elif close.match(lines[j]):
            if depth == 0:
                return j
            depth -= 1
    raise ConversionError(f"unclosed fence opened by {lines[i]!r}")


def _one_line(m) -> str:
    if re.search(r"(?<!\\)%", m[0]):
        raise ConversionError(f"a TeX comment in a formula of a box: {m[0][:60]!r}")
    return " ".join(ln.strip() for ln in m[0].split("\n") if ln.strip())


def _quote(text: str) -> str:
    """``text`` as a markdown quote. Each formula is joined onto one line first: Jupyter's
    renderers take the math out before parsing the markdown, so the ``> `` of a quoted line
    inside ``$$...$$`` (or a ``$...$`` that wraps) would become part of the formula."""
    text = map_outside_code(text, lambda part: _MATH.sub(_one_line, part))
    return "\n".join("> " + ln if ln.strip() else ">" for ln in text.strip("\n").split("\n"))


class JupyterEditionBuilder(Builder):
    """Writes the Jupyter edition of every notebook page into ``<srcdir>/jupyter/``."""

    name = "jupyter_edition"
    format = "jupyter"
    epilog = "The Jupyter edition is in %(outdir)s."
    allow_parallel = False

    def init(self):
        config = self.config
        base = (config.html_baseurl or "").strip()
        if not base:
            raise ConversionError("html.baseurl is not set in _config.yml: the Jupyter edition "
                                  "links every reference to the HTML book there")
        self.base_url = base.rstrip("/") + "/"
        self.macros = (config.mathjax3_config or {}).get("tex", {}).get("macros", {})
        # JUPYTER_EDITION_DIR (set by .ci/jupyter_edition.py check) writes it elsewhere
        self.edition_dir = Path(os.environ.get("JUPYTER_EDITION_DIR") or
                                Path(self.srcdir) / config.jupyter_edition_dir)

    # -- Builder API ---------------------------------------------------------------------------
    def get_outdated_docs(self):
        return self.env.found_docs

    def get_target_uri(self, docname, typ=None):
        return f"{docname}.html"

    def get_relative_uri(self, from_, to, typ=None):
        # every link of the edition goes to the HTML book
        return self.base_url + self.get_target_uri(to, typ)

    def prepare_writing(self, docnames):
        pass

    def write_doc(self, docname, doctree):
        pass

    def write(self, build_docnames, updated_docnames, method="update"):
        pages = sorted(d for d in self.env.found_docs
                       if str(self.env.doc2path(d)).endswith(".ipynb"))
        written = []
        for docname in pages:
            src = Path(self.env.doc2path(docname))
            nb = nbformat.read(src, as_version=4)
            out = self.convert(docname, nb)
            dst = self.edition_dir / f"{docname}.ipynb"
            dst.parent.mkdir(parents=True, exist_ok=True)
            text = nbformat.writes(out) + "\n"
            if not dst.is_file() or dst.read_text() != text:
                dst.write_text(text)
            written.append(dst)
        # notebooks of pages that no longer exist
        keep = {p.resolve() for p in written}
        for old in self.edition_dir.rglob("*.ipynb"):
            if old.resolve() not in keep and ".ipynb_checkpoints" not in old.parts:
                old.unlink()
        logger.info(f"jupyter edition: {len(written)} notebooks in {self.edition_dir}")

    def finish(self):
        pass

    def _settings(self):
        if not hasattr(self, "_doc_settings"):
            from docutils.frontend import get_default_settings
            from docutils.parsers.rst import Parser
            settings = get_default_settings(Parser)
            settings.env = self.env
            settings.report_level = 5            # the role's own warnings come from Sphinx
            self._doc_settings = settings
        return self._doc_settings

    # -- resolving roles -------------------------------------------------------------------------
    def resolve_role(self, docname: str, role: str, text: str) -> tuple[str, set]:
        """The markdown the book shows for ``{role}`text```, resolved by Sphinx's domains and
        post-transforms, and the citation keys it cites."""
        explicit = _EXPLICIT.match(text)
        title, target = (explicit["title"], explicit["target"]) if explicit else (text, text)
        domain, _, typ = role.rpartition(":")
        if role in ("ref", "numref", "doc"):
            domain, typ = "std", role
            if role != "doc":
                target = target.lower()
        elif role in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts", "cite:ct", "cite:cp",
                      "cite:label", "cite:year", "cite:author", "cite:alp"):
            domain, typ = "cite", "p" if role == "cite" else typ
        elif role == "prf:ref":
            domain, typ = "prf", "ref"
        else:
            raise ConversionError(f"{docname}: the role {{{role}}} is not known to the "
                                  "Jupyter edition")
        document = new_document(str(self.env.doc2path(docname)), self._settings())
        document["source"] = str(self.env.doc2path(docname))
        inner = nodes.literal if typ == "numref" else nodes.inline
        contnode = inner(title, title, classes=["xref", domain, f"{domain}-{typ}"])
        xref = pending_xref(text, contnode, refdomain=domain, reftype=typ, reftarget=target,
                            refexplicit=bool(explicit), refwarn=True, refdoc=docname)
        xref["ids"] = [f"jupyter-edition-{len(self._ids)}"]
        self._ids.append(1)
        para = nodes.paragraph("", "", xref)
        document += para
        self.env.apply_post_transforms(document, docname)
        keys = set()
        if domain == "cite":
            keys = {k.strip() for k in target.split(",")}
        if list(para.findall(pending_xref)) or not list(para.findall(nodes.reference)):
            raise ConversionError(f"{docname}: {{{role}}}`{text}` does not resolve in the "
                                  "book")
        for ref in para.findall(nodes.reference):
            if not ref.get("refuri") and ref.get("refid"):     # a target on the same page
                ref["refuri"] = self.get_relative_uri(docname, docname) + "#" + ref["refid"]
        return node_markdown(para), keys

    # -- converting a notebook --------------------------------------------------------------
    def convert(self, docname: str, nb):
        self._ids = []
        self._cited = []
        self._glue = glue_data(nb)
        self._docname = docname
        # the install cell's template: .ci/student_edition.py of the repository (the student
        # edition's sources live in student/, inside it)
        ci = next(p / ".ci" for p in [Path(self.srcdir), *Path(self.srcdir).resolve().parents]
                  if (p / ".ci" / "student_edition.py").is_file())
        sys.path.insert(0, str(ci))
        try:
            import student_edition as se
            url = se.repository_url(ci.parent)
            install = se.install_cell_source(url)
            is_install = se.is_install_cell
        finally:
            sys.path.pop(0)
        cells = [nbformat.v4.new_code_cell(install)]
        gated = None                      # the exercise of an open {solution-start}
        for index, cell in enumerate(nb.cells):
            tags = cell.metadata.get("tags", [])
            if cell.cell_type == "code":
                if index == 0 and is_install(cell):
                    continue
                if "remove-cell" in tags and ASSERT.search(cell.source):
                    continue                      # a claim cell: a check, not reading
                new = nbformat.v4.new_code_cell(cell.source)
                hidden = gated or "remove-cell" in tags or "hide-input" in tags
                if hidden:
                    new.metadata["jupyter"] = {"source_hidden": True}
                # the book's display tags mean nothing here; others (student-answer) stay
                keep = [t for t in tags if not t.startswith(("remove-", "hide-"))]
                keep += ["solution"] if gated else []
                if keep:
                    new.metadata["tags"] = keep
                cells.append(new)
                figure = cell.metadata.get("mystnb", {}).get("figure")
                if figure:
                    cells.append(nbformat.v4.new_markdown_cell(self.figure_caption(figure)))
                continue
            if cell.cell_type != "markdown":
                raise ConversionError(f"{docname}: a {cell.cell_type} cell")
            parts, gated = self.convert_markdown(cell.source, gated)
            for text in parts:
                if text.strip():
                    cells.append(nbformat.v4.new_markdown_cell(text.strip("\n")))
        if gated:
            raise ConversionError(f"{docname}: {{solution-start}} {gated} has no {{solution-end}}")
        if self._cited:
            cells.append(nbformat.v4.new_markdown_cell(self.references()))
        for i, cell in enumerate(cells):
            cell["id"] = f"{Path(docname).name}-{i}"[-64:]
            if cell.cell_type == "markdown":
                cell.source = expand_math_macros(cell.source, self.macros)
        out = nbformat.v4.new_notebook(cells=cells)
        out.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec",
                                                                       "language_info")}
        out.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python",
                                               "name": "python3"})
        out.metadata["language_info"] = {"name": "python"}
        out.metadata["colab"] = {"provenance": []}
        return out

    def figure_caption(self, figure) -> str:
        name = figure.get("name")
        caption = self.inline(figure.get("caption", ""))
        if not name:
            return caption
        number, _ = self.resolve_role(self._docname, "numref", name)
        number = re.sub(r"^\[(.*)\]\(.*\)$", r"\1", number)
        return f'<a id="{name}"></a>\n\n**{number}.** {caption}'

    def references(self) -> str:
        domain = self.env.get_domain("cite")
        from pybtex.plugin import find_plugin
        backend = find_plugin("pybtex.backends", "markdown")()
        seen, entries = set(), []
        for key in self._cited:
            for cit in domain.citations:
                if cit.key == key and key not in seen:
                    seen.add(key)
                    text = cit.formatted_entry.text.render(backend)
                    entries.append(f"- {text.replace(chr(10), ' ')}")
        bib = self.base_url + self.get_target_uri(
            next(c.bibliography_key.docname for c in domain.citations))
        return ("## References\n\nThe works this chapter cites (the book's whole bibliography "
                f"is [in the HTML book]({bib})).\n\n" + "\n".join(entries))

    def glue_text(self, role: str, text: str) -> str:
        if role == "glue:md":
            key = text.rsplit(":", 1)[0] if ":" in text else text
            data = self._glue.get(key)
            if data is None or "text/markdown" not in data:
                raise ConversionError(f"{self._docname}: no glued markdown {key!r}")
            return data["text/markdown"].strip()
        key, _, fmt = text.rpartition(":") if role == "glue:text" and ":" in text else \
            (text, "", "")
        if "::" in key:
            raise ConversionError(f"{self._docname}: glue from another document ({text!r})")
        data = self._glue.get(key)
        if data is None or "text/plain" not in data:
            raise ConversionError(f"{self._docname}: no glued value {key!r}")
        from myst_nb.core.variables import format_plain_text
        return format_plain_text(data["text/plain"], fmt if role == "glue:text" else "")

    def inline(self, text: str) -> str:
        """Roles (outside code spans) replaced by what the book shows."""
        def fn(part):
            def sub(m):
                role, body = m["role"], m["text"]
                if role in ("glue:text", "glue:md", "glue", "glue:any"):
                    return self.glue_text("glue:text" if role == "glue:text" else
                                          "glue:md" if role == "glue:md" else "glue", body)
                md, keys = self.resolve_role(self._docname, role, body)
                self._cited += sorted(keys)
                return md
            return _ROLE.sub(sub, part)

        # left to right: a role, or a code span (left as it is)
        return _ROLE_OR_CODE.sub(lambda m: fn(m[0]) if m["role"] else m[0], text)

    def convert_markdown(self, source: str, gated):
        """The markdown cells (usually one) that ``source`` becomes, and the exercise label of
        a ``{solution-start}`` still open at its end."""
        lines = source.split("\n")
        parts, current = [], []
        i = 0

        plain = []

        def text():           # the plain lines read so far, roles resolved
            if plain:
                current.append(self.inline("\n".join(plain)))
                plain.clear()

        def flush():
            text()
            parts.append("\n".join(current))
            current.clear()

        if gated:
            current.append(f"<details><summary><b>{self.solution_title(gated)}</b> "
                           "(continued)</summary>\n")
        while i < len(lines):
            line = lines[i]
            target = _TARGET.match(line)
            if target:
                text()
                current.append(f'<a id="{target["label"]}"></a>')
                i += 1
                continue
            m = _FENCE.match(line)
            if not m:
                if re.match(r"^[ \t]*(`{3,}|~{3,})", line):        # a plain code fence
                    end = _fence_end(lines, i, re.match(r"^[ \t]*(`{3,}|~{3,})", line)[1])
                    text()
                    current += lines[i:end + 1]
                    i = end + 1
                    continue
                plain.append(line)
                i += 1
                continue
            text()
            end = _fence_end(lines, i, m["fence"])
            body = lines[i + 1:end]
            options = {}
            while body and _OPTION.match(body[0]):
                o = _OPTION.match(body.pop(0))
                options[o["key"]] = o["value"]
            name = m["name"]
            if name == "solution-start":
                if current and current[0].startswith("<details>") and gated:
                    current.append("\n</details>")
                gated = m["arg"].strip()
                current.append(f"<details><summary><b>{self.solution_title(gated)}</b>"
                               "</summary>\n")
                i = end + 1
                continue
            if name == "solution-end":
                if not gated:
                    raise ConversionError("{solution-end} without {solution-start}")
                current.append("\n</details>")
                gated = None
                i = end + 1
                continue
            inner, gated_inner = self.convert_markdown("\n".join(body).strip("\n"), None)
            if gated_inner:
                raise ConversionError("{solution-start} inside a directive")
            inner = "\n\n".join(p for p in inner if p.strip())
            current.append(self.directive(name, m["arg"], options, inner))
            i = end + 1
        text()
        if gated and current:
            current.append("\n</details>")
        flush()
        empty = re.compile(r"<details><summary>[^\n]*\(continued\)</summary>\s*</details>")
        parts = [empty.sub("", p) for p in parts]
        return parts, gated

    def solution_title(self, exercise_label: str) -> str:
        number = self.number("exercise", exercise_label)
        return f"Solution to Exercise {number}"

    def number(self, kind: str, label: str) -> str:
        env = self.env
        if kind == "exercise":
            entry = env.sphinx_exercise_registry[label]
            nums = env.toc_fignumbers[entry["docname"]]["exercise"][label]
        else:
            entry = env.proof_list[label]
            if entry["nonumber"]:
                return ""
            nums = env.toc_fignumbers[entry["docname"]][entry["countertype"]][label]
        return ".".join(map(str, nums))

    def directive(self, name: str, arg: str, options: dict, body: str) -> str:
        label = options.get("label")
        anchor = f'<a id="{label}"></a>\n\n' if label else ""
        title = self.inline(arg) if arg else ""
        if name.startswith("prf:"):
            kind = name[4:]
            if kind == "proof":
                head = "**Proof.**" + (f" ({title})" if title else "")
                return anchor + _quote(f"{head} {body}\n\n∎" if body else head)
            if not label:
                raise ConversionError(f"a {{{name}}} without a :label: (its number is not "
                                      "known)")
            number = self.number("prf", label)
            head = f"**{kind.title()} {number}**".replace(" **", "**")
            if title:
                head += f" ({title})"
            return anchor + _quote(f"{head}\n\n{body}" if body else head)
        if name == "exercise":
            if not label:
                raise ConversionError("an {exercise} without a :label:")
            head = f"**Exercise {self.number('exercise', label)}**"
            if title:
                head += f" ({title})"
            return anchor + _quote(f"{head}\n\n{body}" if body else head)
        if name == "solution":
            return (f"{anchor}<details><summary><b>{self.solution_title(arg.strip())}</b>"
                    f"</summary>\n\n{body}\n\n</details>")
        if name in _ADMONITIONS:
            head = f"**{title or name.title()}**"
            return anchor + _quote(f"{head}\n\n{body}")
        if name in ("math",):
            return anchor + f"$$\n{body}\n$$"
        raise ConversionError(f"the directive {{{name}}} is not known to the Jupyter edition")


def glue_data(nb) -> dict[str, dict]:
    """The glued values of a notebook: key -> mime bundle (prefix stripped)."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            scrap = o.get("metadata", {}).get("scrapbook")
            if not scrap:
                continue
            prefix = scrap.get("mime_prefix", "")
            out[scrap["name"]] = {k[len(prefix):]: v for k, v in o.get("data", {}).items()
                                  if k.startswith(prefix)}
    return out


# --------------------------------------------------------------------------------------------
# The HTML book's download button
# --------------------------------------------------------------------------------------------


def _edition_notebook(app, pagename: str) -> Path:
    return Path(app.srcdir) / app.config.jupyter_edition_dir / f"{pagename}.ipynb"


def _download_edition(app, pagename, templatename, context, doctree):
    if app.builder.name != "html":
        return
    src = _edition_notebook(app, pagename)
    if not src.is_file():
        return
    dst = Path(app.outdir) / HTML_COPY_DIR / f"{pagename}.ipynb"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    url = context["pathto"](f"{HTML_COPY_DIR}/{pagename}.ipynb", 1)
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        for button in group["buttons"]:
            if str(button.get("url", "")).endswith(".ipynb") or \
                    button.get("label") == "download-source-button" and ".ipynb" in \
                    str(button.get("text", "")):
                button["url"] = url
                button["tooltip"] = "Download the Jupyter edition of this page"


def _register_round_citations():
    """``bibtex_reference_style: author_year_round``: sphinxcontrib-bibtex's author-year
    style with round brackets, "(Liao and Kyrillidis, 2024)" and "Liao and Kyrillidis (2024)",
    in the HTML book and the Jupyter edition alike."""
    from dataclasses import dataclass, field

    import sphinxcontrib.bibtex.plugin
    from sphinxcontrib.bibtex.style.referencing import BracketStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    def round_brackets() -> BracketStyle:
        return BracketStyle(left="(", right=")")

    @dataclass
    class RoundAuthorYear(AuthorYearReferenceStyle):
        bracket_parenthetical: BracketStyle = field(default_factory=round_brackets)
        bracket_textual: BracketStyle = field(default_factory=round_brackets)
        bracket_author: BracketStyle = field(default_factory=round_brackets)
        bracket_label: BracketStyle = field(default_factory=round_brackets)
        bracket_year: BracketStyle = field(default_factory=round_brackets)

    group = "sphinxcontrib.bibtex.style.referencing"
    try:
        sphinxcontrib.bibtex.plugin.register_plugin(group, "author_year_round", RoundAuthorYear)
    except Exception:          # already registered (a second Sphinx app in one process)
        pass


def setup(app):
    _register_round_citations()
    app.add_config_value("jupyter_edition_dir", EDITION_DIR, "env")
    app.add_builder(JupyterEditionBuilder)
    app.connect("html-page-context", _download_edition, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":       # pragma: no cover
    print(json.dumps({"builder": JupyterEditionBuilder.name}))

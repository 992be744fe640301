r"""What a chapter shows of a number: rounded to what the page needs, round-off floored.

A float64 computed here and on another machine agrees to about 13 significant digits and then
differs: another instruction set (AVX-512 against AVX2), another BLAS, another thread count
sums in another order. A notebook that stores a raw float64 repr (``0.8932592653075452``) is
therefore reproduced by nbval on the machine that wrote it and nowhere else. Every number a
chapter glues into its prose or prints goes through this module:

- :func:`rounded` keeps :data:`SIGNIFICANT` significant digits (6; the prose shows 1-3), so the
  stored text is the same wherever the computation agrees to 6 digits;
- :data:`FLOOR` (:math:`10^{-12}`) is the round-off floor: a nonzero value below it is noise of
  the arithmetic (``1.7e-15`` here, ``2.1e-15`` elsewhere), never a result. :func:`glue`
  refuses one, :func:`sci` and :func:`floored` show it as "< 1e-12";
- :func:`table` shows a table of text cells as a numbered table with a caption and a label:
  MyST for the book, HTML for a reader's Jupyter, Colab or VS Code;
- :func:`chapter_glue` reads back a value another chapter glued, from its stored outputs (the
  book's summary compares the chapters' measurements without re-running them);
- :func:`glue` is MyST-NB's ``glue`` with the value rounded first (claim cells assert on the
  unrounded variables, never on what was glued); it writes MyST-NB's glue output itself, so
  running a chapter needs IPython, not MyST-NB.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["FLOOR", "MACROS", "SIGNIFICANT", "below_floor", "chapter_glue", "floored",
           "floored_frame", "glue", "rounded", "sci", "table"]

#: significant digits a glued or printed float keeps
SIGNIFICANT = 6
#: the round-off floor: nonzero values below it are shown as "< 1e-12", never as digits
FLOOR = 1e-12

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _digits(digits, name="digits", low=0):
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {digits!r}")
    return int(digits)


def _real(value, name="value"):
    """``value`` as a Python float; ValueError for complex, bool, non-numeric or arrays."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (complex, np.complexfloating)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if hasattr(value, "item") and not isinstance(value, np.ndarray) and hasattr(value, "dim"):
        if value.dim() != 0:  # a torch tensor with more than one entry
            raise ValueError(f"{name} must be a scalar, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def below_floor(value, floor: float = FLOOR) -> bool:
    """True when ``value`` is nonzero and ``|value| < floor`` (round-off, not a result)."""
    v = _real(value)
    return v != 0.0 and math.isfinite(v) and abs(v) < floor


def rounded(value, digits: int = SIGNIFICANT):
    """``value`` rounded to ``digits`` significant digits, ``float(f"{value:.{digits}g}")``.

    Integers (Python or NumPy) come back as Python ints, unchanged; a float as a Python float
    whose repr has at most ``digits`` significant digits. Raises ValueError for complex, bool or
    non-numeric input, for inf and nan (a diverged run is said in words, never shown as a
    number "nan") and for ``digits < 1``."""
    digits = _digits(digits, low=1)
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
            value, (bool, np.bool_)):
        return int(value)
    v = _real(value)
    if not math.isfinite(v):
        raise ValueError(f"value must be finite, got {v!r}: say what it means in words "
                         "(diverged, not reached) instead of showing it as a number")
    return float(f"{v:.{digits}g}")


def floored(value, floor: float = FLOOR, digits: int = SIGNIFICANT):
    """:func:`rounded` ``value``, or the string ``"< 1e-12"`` (the floor, written with one
    digit) when it is nonzero and below ``floor`` in magnitude. For a table cell: inf and nan
    come back as they are, for the table to write in its own words ("diverged", "not
    reached"), which only the caller knows."""
    if below_floor(value, floor):
        return f"< {floor:.0e}"
    if not math.isfinite(_real(value)):
        return _real(value)
    return rounded(value, digits)


def floored_frame(frame, floor: float = FLOOR, digits: int = SIGNIFICANT):
    """A copy of a pandas DataFrame with every float :func:`floored` (other entries kept)."""
    def cell(v):
        if isinstance(v, (complex, np.complexfloating)):
            raise ValueError(f"value must be real, got {v!r} in the frame")
        if isinstance(v, (float, np.floating)):
            return floored(v, floor, digits)
        return v
    return frame.map(cell) if hasattr(frame, "map") else frame.applymap(cell)


def sci(value, digits: int = 1, floor: float = FLOOR) -> str:
    """``value`` as ``"1.7 × 10⁷"`` (``digits`` decimals in the mantissa), for a number glued
    into the prose; ``"< 10⁻¹²"`` when it is nonzero and below ``floor`` (round-off: its digits
    are the machine's, not the computation's). ``sci(0.00034, 0)`` gives ``"3 × 10⁻⁴"``."""
    digits = _digits(digits)
    v = _real(value)
    if not math.isfinite(v):
        raise ValueError(f"value must be finite, got {value!r}")
    if below_floor(v, floor):
        return "< 10" + str(int(math.floor(math.log10(floor)))).translate(_SUPERSCRIPT)
    mantissa, exponent = f"{v:.{digits}e}".split("e")
    return f"{mantissa} × 10" + str(int(exponent)).translate(_SUPERSCRIPT)


def glue(name: str, value, display: bool = False, *, digits: int = SIGNIFICANT) -> None:
    """MyST-NB's ``glue(name, value, display)`` with a float ``value`` :func:`rounded` to
    ``digits`` significant digits first (NumPy and 0-d torch scalars become Python floats).

    Anything else (ints, strings, Markdown, figures, DataFrames) is glued as it is. A float
    below :data:`FLOOR` is refused with ValueError: glue ``sci(value)`` (text) or assert it in a
    claim cell instead. Unlike MyST-NB, ``display`` is False by default (the chapters show
    glued values in their prose, not in the cell's output)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    digits = _digits(digits, low=1)
    is_number = isinstance(value, (numbers.Real, np.number)) or (
        hasattr(value, "dim") and hasattr(value, "item") and value.dim() == 0)
    if is_number:
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"value must be a number, not a bool, got {value!r}")
        if not math.isfinite(_real(value)):
            raise ValueError(f"value for {name!r} must be finite, got {_real(value)!r}: glue "
                             "what it means in words (diverged, not reached) instead")
        if below_floor(value):
            raise ValueError(f"value {float(_real(value)):.1e} for {name!r} is below the "
                             f"round-off floor {FLOOR:g}: glue sci(value) instead")
        value = rounded(value, digits)
    _glue_output(name, value, display)


#: the MIME prefix MyST-NB's glue gives an output it stores but does not show
GLUE_PREFIX = "application/papermill.record/"


def _glue_output(name: str, value, display: bool) -> None:
    """Write the output MyST-NB's ``glue`` writes, without MyST-NB (so a reader's kernel on
    Colab or VS Code needs only IPython): the value's display data, each MIME type prefixed
    with :data:`GLUE_PREFIX` unless ``display``, and ``metadata["scrapbook"]`` naming it.
    MyST-NB 1.4 (``myst_nb.ext.glue.glue``) writes exactly this; a test checks the two
    outputs are equal."""
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    mimebundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in mimebundle.items()}, raw=True, metadata=metadata)


def _chapters_folder():
    """The repository's ``chapters/`` when this library is the repository's own (an editable
    install, as in a clone, on Binder and in CI), else None (pip installed from git, as on
    Colab: the chapters are not installed with the library). Found from this file, never from
    the working directory."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "chapters"
    return folder if folder.is_dir() else None


def chapter_glue(chapter: int, key: str, folder=None):
    """The value that Chapter ``chapter`` glued under ``key``, read from the outputs stored in
    its notebook ``chapters/NN_*.ipynb`` (what the HTML book shows), or None when the chapters
    are not beside the library (on Colab). ``folder`` overrides where the chapters are.

    Raises ValueError for a chapter number that is not a positive integer or an empty key, and
    KeyError when the chapter is there but glued no ``key``."""
    import ast
    import json
    from pathlib import Path

    chapter = _digits(chapter, "chapter", low=1)
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string, got {key!r}")
    folder = _chapters_folder() if folder is None else Path(folder)
    paths = sorted(folder.glob(f"{chapter:02d}_*.ipynb")) if folder is not None else []
    if not paths:
        return None
    for cell in json.loads(paths[0].read_text())["cells"]:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook", {}).get("name") == key:
                text = out["data"][GLUE_PREFIX + "text/plain"]
                return ast.literal_eval("".join(text))
    raise KeyError(f"{key!r} is not glued in {paths[0].name}")


#: The book's TeX macros (``_config.yml``'s MathJax settings; a test keeps the two in step), as
#: substitutions for text that Jupyter, Colab and VS Code typeset without them.
MACROS = [(r"\\v([a-z])(?![A-Za-z])", r"\\mathbf{\1}"),
          (r"\\R(?![A-Za-z])", r"\\mathbb{R}"),
          (r"\\grad(?![A-Za-z])", r"\\nabla"),
          (r"\\argmin(?![A-Za-z])", r"\\operatorname*{arg\\,min}"),
          (r"\\norm\{([^{}]*)\}", r"\\left\\lVert \1 \\right\\rVert")]


class Table:
    """A table in two forms: MyST (``text/markdown``: a numbered ``{table}`` with its caption
    and label, which the book renders, ``nb_mime_priority_overrides`` in ``_config.yml``
    ranking it first) and HTML (``text/html``: the table with its caption and the book's
    macros expanded, which Jupyter, Colab and VS Code show). Its plain text is the MyST form."""

    def __init__(self, myst: str, html: str):
        self.myst, self.html = myst, html

    def _repr_markdown_(self):
        return self.myst

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return self.myst


def table(frame, caption: str, label: str) -> Table:
    """``frame`` (a pandas DataFrame whose cells are already formatted as text, e.g. with
    :func:`floored`) as a numbered table with ``caption`` and ``label`` (referred to with
    ``{numref}``); named index levels become columns, an unnamed index is dropped; columns
    whose every cell starts like a number are right-aligned. The caption holds no MyST role
    (``{numref}``, ``{ref}``): its HTML twin in Jupyter could not resolve it."""
    import re
    from html import escape

    if not isinstance(caption, str) or not caption.strip():
        raise ValueError(f"caption must be a non-empty string, got {caption!r}")
    if re.search(r"\{[a-z:-]+\}`", caption):
        raise ValueError("caption must not hold a MyST role such as {numref}: its HTML twin "
                         f"(Jupyter, Colab) cannot resolve it, got {caption!r:.120}")
    if not isinstance(label, str) or not re.fullmatch(r"[A-Za-z][\w-]*", label):
        raise ValueError(f"label must be a name such as 'tab-ch7-a6', got {label!r}")
    if not hasattr(frame, "to_html") or not hasattr(frame, "columns"):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if any(frame.index.names):
        frame = frame.reset_index()
    numeric = [frame[c].astype(str).str.match(r"[-+<\d]").all() for c in frame]
    rows = [list(frame.columns), ["---:" if v else ":---" for v in numeric]]
    # a "|" in a header or cell would end the cell in the MyST table: escape it
    body = "\n".join("| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |"
                     for r in rows + frame.astype(str).values.tolist())
    html = frame.to_html(index=False, border=0).replace(
        ">", f">\n<caption>{escape(caption)}</caption>", 1)
    for macro, tex in MACROS:
        html = re.sub(macro, tex, html)
    return Table(f":::{{table}} {caption}\n:name: {label}\n\n{body}\n:::\n", html)

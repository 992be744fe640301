"""Find stored notebook outputs that another machine would print differently.

    python .ci/output_digits.py chapters/*.ipynb        # lists each fragile number; exit 1 if any

A float64 agrees across machines (instruction set, BLAS, thread count) to about 13 significant
digits, so nbval, which compares every stored output as text, fails on a second machine for
any output that shows more. Two kinds of number are flagged, in every text output of every
code cell (printed text, tables in text and HTML, glued values, Markdown):

- a float written with more than MAX_DIGITS significant digits (``0.8932592653075452``), unless
  its value is exact in binary with few bits (``50.0``, ``0.375``, ``6.103515625e-05`` = 2^-14):
  such a value is the same on every machine;
- a nonzero number below FLOOR (1e-12) in magnitude (``1.7e-15``, ``3 × 10⁻¹⁷``,
  ``2 \\times 10^{-18}``): round-off, whose digits are the machine's. Written as a bound
  (``< 1e-12``) it is fine.

`momentum.display` (glue rounded to 6 digits, sci and floored with the floor) produces outputs
this check accepts; `tests/test_output_digits.py` runs it on every chapter and on planted cases.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

MAX_DIGITS = 8
FLOOR = 1e-12
EXACT_BITS = 20  # a value m * 2^e with |m| < 2^20 is exact, whatever its decimal digits

_FLOAT = re.compile(r"(?<![\w.])(?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?![\w.])")
_SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_TIMES_TEN = re.compile(r"(?P<m>\d+(?:\.\d+)?)\s*(?:×|\\times)\s*10\s*"
                        r"(?:\^\{?(?P<e1>[-−]?\d+)\}?|(?P<e2>[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))")
_BOUND = re.compile(r"(?:<|&lt;|≤|\\le|\\lt)\s*$")
_SKIP_HTML = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|data:[\w/+.-]+;base64,[\w+/=]+",
                        re.S | re.I)


def significant_digits(token: str) -> int:
    """Significant digits of a decimal literal: ``"0.0890"`` has 3, ``"1.5e-3"`` 2, ``"500"`` 1."""
    mantissa = re.split("[eE]", token.lstrip("+-"))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    if "." not in mantissa:
        digits = digits.rstrip("0")
    return len(digits)


def exact_in_binary(value: float, bits: int = EXACT_BITS) -> bool:
    """True when ``value`` is m * 2^e with an integer ``|m| < 2**bits`` (50.0, 0.375, 2^-14)."""
    if value == 0 or not math.isfinite(value):
        return True
    mantissa, _ = math.frexp(abs(value))
    return (mantissa * 2 ** bits).is_integer()


def fragile_numbers(text: str) -> list[tuple[str, str]]:
    """``(number as written, why)`` for each number in ``text`` another machine may change."""
    found = []
    text = _SKIP_HTML.sub(" ", text)
    for match in _TIMES_TEN.finditer(text):
        exponent = match["e1"] or match["e2"].translate(_SUP)
        value = float(match["m"]) * 10.0 ** int(exponent.replace("−", "-"))
        if value != 0 and abs(value) < FLOOR and not _BOUND.search(text[:match.start()]):
            found.append((match.group(0), f"below the round-off floor {FLOOR:g}"))
    text = _TIMES_TEN.sub(" ", text)
    for match in _FLOAT.finditer(text):
        token = match["num"]
        if "." not in token and "e" not in token.lower():
            continue  # an integer
        value = float(token)
        if _BOUND.search(text[:match.start()]):
            continue  # "< 1e-12": a bound, not a measured value
        if value != 0 and abs(value) < FLOOR:
            found.append((token, f"below the round-off floor {FLOOR:g}"))
        elif significant_digits(token) > MAX_DIGITS and not exact_in_binary(value):
            found.append((token, f"{significant_digits(token)} significant digits "
                                 f"(at most {MAX_DIGITS})"))
    return found


def output_texts(output: dict):
    """``(kind, text)`` for every text an output stores (streams, text/*, glued text)."""
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        yield "stream", text if isinstance(text, str) else "".join(text)
    for mime, value in output.get("data", {}).items():
        if "text/" not in mime:
            continue
        yield mime, value if isinstance(value, str) else "".join(value)


def check_notebook(path: Path) -> list[str]:
    """One line per fragile number in the stored outputs of ``path``."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    problems = []
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            glued = output.get("metadata", {}).get("scrapbook", {}).get("name")
            for mime, text in output_texts(output):
                for token, why in fragile_numbers(text):
                    where = f"glue {glued!r}" if glued else mime
                    problems.append(f"{Path(path).name}: cell {index} "
                                    f"(id {cell.get('id', '?')}), {where}: {token}: {why}")
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    problems = [line for path in argv for line in check_notebook(Path(path))]
    for line in problems:
        print(line)
    print(f"{len(problems)} fragile numbers in {len(argv)} notebooks")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

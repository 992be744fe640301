r"""Theorem 7's sufficient conditions evaluated on measured or closed-form constants
(formulas in :mod:`momentum.theory`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import _validate, theory
from .model import PartitionConstants, _fmt

__all__ = ["Theorem7Check", "check_theorem7", "additive_threshold"]


@dataclass(frozen=True)
class Theorem7Check:
    r"""Which of Theorem 7's sufficient conditions hold (see :func:`check_theorem7`).

    ``rows``: one tuple ``(name, lhs, rhs, holds, margin)`` per condition, with
    ``margin = rhs / lhs`` (> 1: holds with that factor to spare; ``None`` when unknown).
    """

    constants: PartitionConstants
    beta: float
    c: float
    constant: float
    rows: tuple

    @property
    def holds(self) -> bool | None:
        """True if every condition holds, False if one fails, None if one is unknown."""
        flags = [r[3] for r in self.rows]
        if any(f is False for f in flags):
            return False
        return None if any(f is None for f in flags) else True

    def __str__(self) -> str:
        head = f"{'condition':<34} {'lhs':>10} {'rhs':>10} {'holds':>6} {'rhs/lhs':>9}"
        lines = [f"Theorem 7 (c = {self.c:g}, beta = {self.beta:.4g}, kappa = "
                 f"{self.constants.kappa:.3g}, hidden constant C = {self.constant:g})", head,
                 "-" * len(head)]
        for name, lhs, rhs, ok, margin in self.rows:
            flag = {True: "yes", False: "NO", None: "?"}[ok]
            lines.append(f"{name:<34} {_fmt(lhs):>10} {_fmt(rhs):>10} {flag:>6} "
                         f"{_fmt(margin):>9}")
        return "\n".join(lines)


def check_theorem7(constants: PartitionConstants, beta: float, c: float = 1.0, *,
                   constant: float = 1.0) -> Theorem7Check:
    r"""Evaluate Theorem 7's sufficient conditions on small :math:`G_1, G_2` (Liao &
    Kyrillidis 2024, Thm 7, in the form the authors' essay states it):

    .. math::
        G_1^4 \le \frac{\mu^2}{C\,L_2 (L_2+1)^2}\Big(\frac{1-\beta}{1+\beta}\Big)^3, \qquad
        G_1^2 G_2^2 \le \frac{\mu^3}{C\,L_2 (L_2+1)\sqrt\kappa}\Big(\frac{1-\beta}{1+\beta}\Big)^2 .

    The essay writes these with :math:`\lesssim`; :math:`C` (``constant``) is the absolute
    constant it hides, 1 by default, so the margins are indicative, not the paper's exact
    thresholds. The bounds are :func:`momentum.theory.theorem7_bounds`. Also reported: whether
    ``beta`` is Theorem 7's choice :func:`momentum.theory.theorem7_beta` for this
    :math:`\kappa` and ``c``. The theorem's further lower bounds on the radii
    :math:`R_x, R_u` are not checked here (for the additive model the assumptions hold for
    every :math:`u`).
    """
    if not isinstance(constants, PartitionConstants):
        raise ValueError(f"constants must be a PartitionConstants, got "
                         f"{type(constants).__name__}")
    beta, c = _validate.scalar("beta", beta), _validate.scalar("c", c)
    constant = _validate.scalar("constant", constant)
    _validate.momentum("beta", beta)
    _validate.positive("c", c)
    if c > 1:
        raise ValueError(f"c must lie in (0, 1], got {c!r}")
    _validate.positive("constant", constant)
    k = constants.kappa
    beta_thm = theory.theorem7_beta(k, c)
    rows = [("beta = Theorem 7's beta", beta, beta_thm, bool(abs(beta - beta_thm) <= 1e-9),
             None)]
    known = constants.L2 is not None and constants.G1 is not None
    if known:
        b1, b2 = theory.theorem7_bounds(constants.mu, constants.L2, k, beta, constant=constant)
        lhs1 = constants.G1 ** 4
        lhs2 = constants.G1 ** 2 * constants.G2 ** 2
        for name, lhs, rhs in (("G1^4 <= bound (small G1)", lhs1, b1),
                               ("G1^2 G2^2 <= bound (small G1 G2)", lhs2, b2)):
            rows.append((name, lhs, rhs, bool(lhs <= rhs), rhs / lhs if lhs > 0 else math.inf))
    else:
        rows += [("G1^4 <= bound (small G1)", None, None, None, None),
                 ("G1^2 G2^2 <= bound (small G1 G2)", None, None, None, None)]
    return Theorem7Check(constants=constants, beta=float(beta), c=float(c),
                         constant=float(constant), rows=tuple(rows))


#: Kept here too: the formula lives in :mod:`momentum.theory`.
additive_threshold = theory.additive_threshold

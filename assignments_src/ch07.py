"""Chapter 7: open questions. Its exercises are probes without answer cells; the graded
questions are seeded variants that a code answer can grade (Exercises 7.1, 7.2, 7.3, 7.5), and
Exercise 7.4 is written."""

GRADING = r'''
import numpy as np
from momentum import check

SEED = {hidden_seed}


def _rng(k):
    return np.random.default_rng([SEED, k])


def _perp(A1, M):
    Q, _ = np.linalg.qr(A1)
    return M - Q @ (Q.T @ M)


def q1(fn):
    rng = _rng(1)
    cases = []
    for i in range(10):
        d1 = int(rng.integers(1, 12))
        n, d2 = 2 * d1, int(rng.integers(1, 12))
        A1 = rng.standard_normal((n, d1))
        M = A1 @ rng.standard_normal((d1, d2)) if i == 0 else rng.standard_normal((n, d2))
        cases.append(dict(A1=A1, M=M))
    return check.function(fn, _perp, cases, name="off_range", verbose=False)


def _outside(A1, active, dx):
    rows = A1[np.asarray(active, dtype=bool)]
    if rows.shape[0] == 0:
        return np.array(dx, dtype=float)
    return dx - np.linalg.pinv(rows) @ (rows @ dx)


def q2(fn):
    rng = _rng(2)
    cases = []
    for i in range(10):
        m, d = int(rng.integers(1, 10)), int(rng.integers(2, 30))
        active = rng.uniform(size=m) < 0.5 if i else np.zeros(m, dtype=bool)
        cases.append(dict(A1=rng.standard_normal((m, d)), active=active.astype(float),
                          dx=rng.standard_normal(d)))
    return check.function(fn, _outside, cases, name="outside_row_space", verbose=False)


def _fit(n, widths):
    return float(np.polyfit(np.log(np.asarray(n, float)), np.log(np.asarray(widths, float)), 1)[0])


def q3(fn, value, n, widths):
    rng = _rng(3)
    cases = []
    for _ in range(10):
        k = int(rng.integers(3, 10))
        nn = np.sort(rng.choice(np.arange(4, 400), size=k, replace=False)).astype(float)
        cases.append(dict(n=nn, widths=nn ** rng.uniform(0.5, 3) * np.exp(rng.normal(0, .2, k))))
    r = check.function(fn, _fit, cases, name="fit_exponent", verbose=False)
    return r.passed, r.passed and abs(float(value) - _fit(n, widths)) < 1e-9, r.message


def _mask(W, sparsity):
    W = np.asarray(W, dtype=float)
    keep = int(round((1 - sparsity) * W.size))
    out = np.zeros(W.size, dtype=float)
    out[np.argsort(-np.abs(W).ravel(), kind="stable")[:keep]] = 1.0
    return out.reshape(W.shape)


def q4(fn):
    rng = _rng(4)
    cases = [dict(W=rng.standard_normal(tuple(int(v) for v in rng.integers(1, 40, 2))),
                  sparsity=float(rng.choice([0.0, 0.5, 0.8, 0.9, 0.99]))) for _ in range(10)]
    return check.function(lambda W, sparsity: np.asarray(fn(W, sparsity), dtype=float),
                          _mask, cases, name="magnitude_mask", verbose=False)
'''


def questions(rng):
    n = sorted(int(v) for v in rng.choice(range(8, 129, 8), size=5, replace=False))
    p = float(rng.uniform(1.0, 2.5))
    widths = [int(round(2 * v ** p * float(rng.uniform(0.8, 1.25)))) for v in n]
    sparsity = float(rng.choice([0.7, 0.8, 0.9]))
    return [
        dict(label="ex-ch7-a6", name="q1", kind="code", points=(1, 3),
             variant="the projection that decides A6",
             task="""Write `off_range(A1, M)` that returns $P^\\perp M$, the part of the columns
of `M` off the range of the tall full-column-rank `A1`. (With `M` = $A_2$ and the identity in
place of the ReLU, the floor does not depend on $\\mathbf u$ exactly when this is zero.)""",
             answer='''def off_range(A1, M):
    """P_perp M: M minus its projection onto the range of A1."""
    # BEGIN SOLUTION
    Q, _ = np.linalg.qr(A1)
    return M - Q @ (Q.T @ M)
    # END SOLUTION''',
             wrong='''def off_range(A1, M):
    Q, _ = np.linalg.qr(A1)
    return Q @ (Q.T @ M)''',
             public=["_A1 = np.array([[1.0], [0.0]])",
                     "_v = off_range(_A1, np.array([[2.0], [3.0]]))",
                     "assert np.allclose(_v, [[0.0], [3.0]]), "
                     "'with A1 = e_1 the part of (2, 3) off its range is (0, 3)'"],
             hidden=["_r = grading_ch07.q1(off_range)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch7-flat", name="q2", kind="code", points=(1, 3),
             variant="the part of a step outside the moving row space",
             task="""For $h(\\mathbf x, \\mathbf u) = \\operatorname{diag}(\\sigma(A_2\\mathbf
u))A_1\\mathbf x$ the rows of $A_1$ that count are those the ReLU lets through. Write
`outside_row_space(A1, active, dx)` that returns the part of the step `dx` outside the row space
of the active rows of `A1` (`active` is a 0/1 vector, one entry per row; with no active row the
whole step is outside).""",
             answer='''def outside_row_space(A1, active, dx):
    """dx minus its projection onto the row space of the active rows of A1."""
    # BEGIN SOLUTION
    rows = A1[np.asarray(active, dtype=bool)]
    if rows.shape[0] == 0:
        return np.array(dx, dtype=float)
    return dx - np.linalg.pinv(rows) @ (rows @ dx)
    # END SOLUTION''',
             wrong='''def outside_row_space(A1, active, dx):
    return dx - np.linalg.pinv(A1) @ (A1 @ dx)''',
             public=["_act, _dx = np.array([1.0, 0.0]), np.array([3.0, 4.0])",
                     "_v = outside_row_space(np.eye(2), _act, _dx)",
                     "assert np.allclose(_v, [0.0, 4.0]), 'with only row e_1 active, the part of "
                     "(3, 4) outside its span is (0, 4)'"],
             hidden=["_r = grading_ch07.q2(outside_row_space)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch7-width", name="q3", kind="code", points=(1, 2, 1),
             variant="the exponent of the sufficient width",
             task=f"""Write `fit_exponent(n, widths)` that returns the least-squares slope of
$\\log(\\text{{width}})$ against $\\log n$, and set `exponent` to it for these measured sufficient
widths: $n$ = {n}, widths = {widths}.""",
             given=f"n_values = {n}\nwidths = {widths}",
             answer='''def fit_exponent(n, widths):
    """The least-squares slope of log(width) against log(n)."""
    # BEGIN SOLUTION
    return float(np.polyfit(np.log(np.asarray(n, float)), np.log(np.asarray(widths, float)), 1)[0])
    # END SOLUTION


exponent = fit_exponent(n_values, widths)  # SOLUTION''',
             wrong='''def fit_exponent(n, widths):
    return float(np.polyfit(np.asarray(n, float), np.asarray(widths, float), 1)[0])


exponent = fit_exponent(n_values, widths)''',
             public=["assert abs(fit_exponent([1, 2, 4], [1, 4, 16]) - 2) < 1e-9, "
                     "'widths n^2 have exponent 2'"],
             hidden=[f"_f, _ok, _m = grading_ch07.q3(fit_exponent, exponent, {n}, {widths})",
                     "assert _f, _m", "---",
                     f"_f, _ok, _m = grading_ch07.q3(fit_exponent, exponent, {n}, {widths})",
                     "assert _ok, 'exponent is not the fit of your data'"]),
        dict(label="ex-ch7-lottery", name="q4", kind="code", points=(1, 3),
             variant=f"the magnitude mask at sparsity {sparsity:g}",
             task=f"""Write `magnitude_mask(W, sparsity)` that returns a 0/1 array of `W`'s shape
keeping the `round((1 - sparsity) * W.size)` entries of largest magnitude (the pruning of the
exercise); your course prunes at sparsity {sparsity:g}.""",
             answer='''def magnitude_mask(W, sparsity):
    """1 where |W| is among the round((1 - sparsity) W.size) largest, else 0."""
    # BEGIN SOLUTION
    keep = int(round((1 - sparsity) * W.size))
    out = np.zeros(W.size)
    out[np.argsort(-np.abs(W).ravel(), kind="stable")[:keep]] = 1.0
    return out.reshape(W.shape)
    # END SOLUTION''',
             wrong='''def magnitude_mask(W, sparsity):
    keep = int(round((1 - sparsity) * W.size))
    out = np.zeros(W.size)
    out[np.argsort(np.abs(W).ravel(), kind="stable")[:keep]] = 1.0
    return out.reshape(W.shape)''',
             public=["_m = magnitude_mask(np.array([[1.0, -3.0], [0.5, 2.0]]), 0.5)",
                     "assert np.allclose(_m, [[0, 1], [0, 1]]), 'at sparsity 0.5 keep -3 and 2'"],
             hidden=["_r = grading_ch07.q4(magnitude_mask)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch7-arch", name="q5", kind="written", points=4,
             answer="""An answer builds both networks as $h(\\mathbf x, \\mathbf u)$, measures
$\\mu$, $L_1$, $G_1$, $G_2$ with `partition.estimate_constants`, evaluates the margins of
`partition.check_theorem7` and compares with a fully-connected network of the same size.

**Rubric (4 points).** 1: both architectures written with the last layer as $\\mathbf x$. 1: the
constants measured (on the row space for $\\mu$). 1: the margins of both conditions for the
three networks, in a table. 1: says which condition is closer to holding, from the numbers."""),
    ]

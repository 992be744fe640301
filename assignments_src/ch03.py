"""Chapter 3: deep ReLU networks (Exercises 3.1-3.3)."""

GRADING = r'''
import numpy as np
from momentum import check

SEED = {hidden_seed}


def _rng(k):
    return np.random.default_rng([SEED, k])


def _req(n, d0):
    return float(n) ** 4.5 * max(float(n), float(d0) ** 2)


def _null(F, dx):
    return dx - np.linalg.pinv(F) @ (F @ dx)


def q1(fn, value, n, d0):
    rng = _rng(1)
    cases = [dict(n=int(rng.integers(1, 2000)), d0=int(rng.integers(1, 800))) for _ in range(12)]
    cases[0] = dict(n=400, d0=10)        # n above d0 squared
    r = check.function(fn, _req, cases, name="width_requirement", verbose=False)
    return r.passed, r.passed and abs(float(value) / _req(n, d0) - 1) < 1e-9, r.message


def q2(fn):
    rng = _rng(2)
    cases = []
    for _ in range(10):
        d = int(rng.integers(2, 40))
        n = int(rng.integers(1, d))
        cases.append(dict(F=rng.standard_normal((n, d)), dx=rng.standard_normal(d)))
    return check.function(fn, _null, cases, name="null_part", verbose=False)
'''


def questions(rng):
    n = int(rng.integers(20, 200))
    d0 = int(rng.integers(8, 100))
    return [
        dict(label="ex-ch3-width", name="q1", kind="code", points=(1, 2, 1),
             task=f"""Write `width_requirement(n, d0)` that returns the theorem's width
requirement $n^{{4.5}}\\max\\{{n, d_0^2\\}}$ (no constant) as a float, and set `req` to it for
$n = {n}$ examples of dimension $d_0 = {d0}$.""",
             given=f"n, d0 = {n}, {d0}",
             answer='''def width_requirement(n, d0):
    """n^4.5 max(n, d0^2), as a float (no overflow for large n)."""
    # BEGIN SOLUTION
    return float(n) ** 4.5 * max(float(n), float(d0) ** 2)
    # END SOLUTION


req = width_requirement(n, d0)  # SOLUTION''',
             wrong='''def width_requirement(n, d0):
    return float(n) ** 4.5 * float(d0) ** 2


req = width_requirement(n, d0)''',
             public=["assert abs(width_requirement(1, 1) - 1.0) < 1e-12, "
                     "'for n = d0 = 1 the requirement is 1'"],
             hidden=[f"_f, _ok, _m = grading_ch03.q1(width_requirement, req, {n}, {d0})",
                     "assert _f, _m", "---",
                     f"_f, _ok, _m = grading_ch03.q1(width_requirement, req, {n}, {d0})",
                     "assert _ok, 'req is not the requirement for your constants'"]),
        dict(label="ex-ch3-null", name="q2", kind="code", points=(1, 3),
             task="""Write `null_part(F, dx)` that returns the component of a step `dx` of the
last layer (a vector of length $d$) in the null space of the features `F` (shape $n \\times d$,
$n < d$): the part of the step the loss cannot see.""",
             answer='''def null_part(F, dx):
    """dx minus its projection onto the row space of F."""
    # BEGIN SOLUTION
    return dx - np.linalg.pinv(F) @ (F @ dx)
    # END SOLUTION''',
             wrong='''def null_part(F, dx):
    return np.linalg.pinv(F) @ (F @ dx)''',
             public=["_v = null_part(np.array([[1.0, 0.0]]), np.array([3.0, 4.0]))",
                     "assert np.allclose(_v, [0.0, 4.0]), 'with F = [[1, 0]] the null-space part "
                     "of (3, 4) is (0, 4)'"],
             hidden=["_r = grading_ch03.q2(null_part)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch3-scale", name="q3", kind="written", points=3,
             answer="""At initialisation the gradient for the wild block is proportional to the
last layer: with $N(0, d^{-3/2})$ it is $d^{-1/4}$ times smaller than with $N(0, 1/d)$, so the
ratio $\\lVert\\nabla_{\\mathbf u} f\\rVert/\\lVert\\nabla_{\\mathbf x} f\\rVert$ falls with
the width for the small last layer and stays of order one for the standard one.

**Rubric (3 points).** 1: measures the ratio at depth 3 for several widths, both scales. 1:
identifies that the small last layer makes the wild block quiet. 1: explains it through the
factor of the last layer in the backpropagated gradient."""),
    ]

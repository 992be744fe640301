"""Chapter 2: the partition model (Exercises 2.1-2.4)."""

GRADING = r'''
import numpy as np
from momentum import check

SEED = {hidden_seed}


def _rng(k):
    return np.random.default_rng([SEED, k])


def _G(A1, A2, B):
    s1, s2 = np.linalg.norm(A1, 2), np.linalg.norm(A2, 2)
    return B * s2, B * s1 * s2


def _threshold(b1, b2, L1):
    return min(b1 ** 0.25, (b2 / L1) ** 0.25)


def _floor(A1, A2, u, y):
    Q, _ = np.linalg.qr(A1)
    r = y - np.maximum(A2 @ u, 0.0)
    r = r - Q @ (Q.T @ r)
    return 0.5 * float(r @ r)


def q1(fn):
    rng = _rng(1)
    cases = []
    for _ in range(10):
        n, d1, d2 = (int(v) for v in rng.integers(1, 30, 3))
        cases.append(dict(A1=rng.standard_normal((n, d1)), A2=rng.standard_normal((n, d2)),
                          B=float(rng.uniform(0.1, 5))))
    return check.function(fn, _G, cases, name="additive_constants", verbose=False)


def q2(fn, value, b1, b2, L1):
    rng = _rng(2)
    cases = [dict(b1=float(10 ** rng.uniform(-12, 0)), b2=float(10 ** rng.uniform(-12, 0)),
                  L1=float(10 ** rng.uniform(-1, 2))) for _ in range(12)]
    r = check.function(fn, _threshold, cases, name="threshold", verbose=False)
    return r.passed, r.passed and abs(float(value) - _threshold(b1, b2, L1)) <= 1e-9 * abs(
        _threshold(b1, b2, L1)), r.message


def q3(fn):
    rng = _rng(3)
    cases = []
    for _ in range(10):
        d1 = int(rng.integers(1, 15))
        n, d2 = 2 * d1, int(rng.integers(1, 20))
        cases.append(dict(A1=rng.standard_normal((n, d1)), A2=rng.standard_normal((n, d2)),
                          u=rng.standard_normal(d2), y=rng.standard_normal(n)))
    return check.function(fn, _floor, cases, name="floor_value", verbose=False)
'''


def questions(rng):
    b1 = float(f"{10 ** rng.uniform(-9, -5):.3g}")
    b2 = float(f"{10 ** rng.uniform(-11, -7):.3g}")
    L1 = float(f"{rng.uniform(1, 20):.3g}")
    return [
        dict(label="ex-ch2-constants", name="q1", kind="code", points=(1, 3),
             task="""Write `additive_constants(A1, A2, B)` that returns the pair `(G1, G2)` of
the exercise's closed forms for the additive model with ReLU, where `B` bounds the norm of the
points considered.""",
             answer='''def additive_constants(A1, A2, B):
    """G1 = B sigma_max(A2) and G2 = B sigma_max(A1) sigma_max(A2)."""
    # BEGIN SOLUTION
    s1, s2 = np.linalg.norm(A1, 2), np.linalg.norm(A2, 2)
    return B * s2, B * s1 * s2
    # END SOLUTION''',
             wrong='''def additive_constants(A1, A2, B):
    s1, s2 = np.linalg.norm(A1), np.linalg.norm(A2)
    return B * s2, B * s1 * s2''',
             public=["_G1, _G2 = additive_constants(np.eye(3), 2 * np.eye(3), 1.0)",
                     "assert abs(_G1 - 2) < 1e-9 and abs(_G2 - 2) < 1e-9, "
                     "'for A1 = I, A2 = 2 I, B = 1 both constants are 2'"],
             hidden=["_r = grading_ch02.q1(additive_constants)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch2-threshold", name="q2", kind="code", points=(1, 2, 1),
             task=f"""Write `threshold(b1, b2, L1)` that returns the largest
$s = \\sigma_{{\\max}}(A_2)$ for which both conditions hold, and set `s_star` to it for
$b_1 = {b1}$, $b_2 = {b2}$, $L_1 = {L1}$.""",
             given=f"b1, b2, L1 = {b1}, {b2}, {L1}",
             answer='''def threshold(b1, b2, L1):
    """The threshold min(b1^(1/4), (b2 / L1)^(1/4)) on sigma_max(A2)."""
    # BEGIN SOLUTION
    return min(b1 ** 0.25, (b2 / L1) ** 0.25)
    # END SOLUTION


s_star = threshold(b1, b2, L1)  # SOLUTION''',
             wrong='''def threshold(b1, b2, L1):
    return min(b1 ** 0.25, b2 ** 0.25)


s_star = threshold(b1, b2, L1)''',
             public=["assert abs(threshold(1.0, 1.0, 1.0) - 1.0) < 1e-12, "
                     "'with b1 = b2 = L1 = 1 the threshold is 1'"],
             hidden=[f"_f, _ok, _m = grading_ch02.q2(threshold, s_star, {b1}, {b2}, {L1})",
                     "assert _f, _m", "---",
                     f"_f, _ok, _m = grading_ch02.q2(threshold, s_star, {b1}, {b2}, {L1})",
                     "assert _ok, 's_star is not the threshold for your constants'"]),
        dict(label="ex-ch2-a6", name="q3", kind="code", points=(1, 3),
             task="""Write `floor_value(A1, A2, u, y)` that returns
$\\min_{\\mathbf{x}} f(\\mathbf{x}, \\mathbf{u}) = \\tfrac12\\lVert P^\\perp(\\mathbf{y} -
\\sigma(A_2\\mathbf{u}))\\rVert^2$ for the additive model with ReLU and a tall `A1` of full
column rank.""",
             answer='''def floor_value(A1, A2, u, y):
    """The floor of the additive model: half the squared residual off the range of A1."""
    # BEGIN SOLUTION
    r = y - np.maximum(A2 @ u, 0.0)
    x, *_ = np.linalg.lstsq(A1, r, rcond=None)
    return 0.5 * float(np.sum((r - A1 @ x) ** 2))
    # END SOLUTION''',
             wrong='''def floor_value(A1, A2, u, y):
    r = y - A2 @ u
    x, *_ = np.linalg.lstsq(A1, r, rcond=None)
    return 0.5 * float(np.sum((r - A1 @ x) ** 2))''',
             public=["_A1 = np.vstack([np.eye(2), np.zeros((2, 2))])",
                     "_y = np.array([1., 2, 3, 4])",
                     "_v = floor_value(_A1, np.zeros((4, 1)), np.zeros(1), _y)",
                     "assert abs(_v - 12.5) < 1e-9, 'with A2 = 0 the floor is half the squared "
                     "part of y off the range of A1 (12.5 here)'"],
             hidden=["_r = grading_ch02.q3(floor_value)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch2-tanh", name="q4", kind="written", points=3,
             answer="""With tanh the model is smooth, so the constants $L_2$ and the Lipschitz
bounds hold with equality less often; the three regimes keep their order, but Nesterov's
divergence threshold in the sweep moves because tanh saturates (its slope is below 1 away from
0), which shrinks the effective $\\sigma_{\\max}(A_2)$ seen by the nice block.

**Rubric (3 points).** 1: runs the experiment with `sigma="tanh"` and reports which observations
change. 1: explains that tanh is 1-Lipschitz and smooth but saturates (slope < 1 off 0). 1:
connects the saturation to a larger threshold on $\\sigma_{\\max}(A_2)$ in the sweep."""),
    ]

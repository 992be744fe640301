"""Chapter 4: heavy ball against Nesterov through ODEs (Exercises 4.1-4.4)."""

GRADING = r'''
import numpy as np
from momentum import check

SEED = {hidden_seed}


def _rng(k):
    return np.random.default_rng([SEED, k])


def _band(mu, s):
    root = np.sqrt(1 - mu * s)
    return mu / (1 + np.sqrt(mu * s)), (2 - 2 * root) / s, (2 + 2 * root) / s


def _tied(lambda0, eta):
    r = np.sqrt(lambda0 / 2 * eta)
    return (1 - r) / (1 + r)


def q1(fn):
    rng = _rng(1)
    cases = [dict(mu=float(10 ** rng.uniform(-4, 0)), s=0.0) for _ in range(12)]
    for c in cases:
        c["s"] = float(rng.uniform(0.01, 0.99) / c["mu"])
    return check.function(fn, _band, cases, name="underdamped_bounds", verbose=False)


def q2(fn, value, lambda0, eta):
    rng = _rng(2)
    cases = [dict(lambda0=float(10 ** rng.uniform(-4, 0)), eta=float(10 ** rng.uniform(-2, 1)))
             for _ in range(12)]
    cases = [c for c in cases if c["lambda0"] * c["eta"] < 2] or [dict(lambda0=0.1, eta=1.0)]
    r = check.function(fn, _tied, cases, name="tied_beta", verbose=False)
    return r.passed, r.passed and abs(float(value) - _tied(lambda0, eta)) < 1e-9, r.message
'''


def questions(rng):
    lam0 = float(f"{10 ** rng.uniform(-3, -1):.3g}")
    lam_m = float(f"{rng.uniform(1, 5):.3g}")
    div = int(rng.choice([10, 20, 40]))
    return [
        dict(label="ex-ch4-damping", name="q1", kind="code", points=(1, 3),
             task="""Write `underdamped_bounds(mu, s)` that returns three numbers: the eigenvalue
above which heavy ball's mode is underdamped, and the two roots $\\lambda_- < \\lambda_+$
between which Nesterov's mode is underdamped (assume $\\mu s < 1$).""",
             answer='''def underdamped_bounds(mu, s):
    """Heavy ball's bound mu / (1 + sqrt(mu s)) and Nesterov's roots (2 -+ 2 sqrt(1 - mu s)) / s."""
    # BEGIN SOLUTION
    root = (1 - mu * s) ** 0.5
    return mu / (1 + (mu * s) ** 0.5), (2 - 2 * root) / s, (2 + 2 * root) / s
    # END SOLUTION''',
             wrong='''def underdamped_bounds(mu, s):
    root = (1 - mu * s) ** 0.5
    return mu, (2 - 2 * root) / s, (2 + 2 * root) / s''',
             public=["_b = underdamped_bounds(0.01, 1.0)",
                     "assert len(_b) == 3 and _b[1] < _b[2], 'return three numbers, the two "
                     "roots in increasing order'",
                     "assert abs(_b[1] * _b[2] - 4 * 0.01) < 1e-9, 'the product of the Nesterov "
                     "roots should be 4 mu / s'"],
             hidden=["_r = grading_ch04.q1(underdamped_bounds)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch4-beta", name="q2", kind="code", points=(1, 2, 1),
             task=f"""Write `tied_beta(lambda0, eta)` that returns the momentum the
high-resolution ODEs tie to the step, $\\beta = (1 - \\sqrt{{\\mu s}})/(1 + \\sqrt{{\\mu s}})$
with $s = \\eta$ and $\\mu = \\lambda_0/2$, and set `beta_tied` to it for your data:
$\\lambda_0 = {lam0}$, $\\lambda_m = {lam_m}$ and $\\eta = 1/({div}\\lambda_m)$.""",
             given=f"lambda0, lambda_m, eta = {lam0}, {lam_m}, 1 / ({div} * {lam_m})",
             answer='''def tied_beta(lambda0, eta):
    """beta = (1 - sqrt(mu s)) / (1 + sqrt(mu s)) with mu = lambda0 / 2 and s = eta."""
    # BEGIN SOLUTION
    r = (lambda0 / 2 * eta) ** 0.5
    return (1 - r) / (1 + r)
    # END SOLUTION


beta_tied = tied_beta(lambda0, eta)  # SOLUTION''',
             wrong='''def tied_beta(lambda0, eta):
    r = (lambda0 * eta) ** 0.5
    return (1 - r) / (1 + r)


beta_tied = tied_beta(lambda0, eta)''',
             public=["assert 0 < tied_beta(0.01, 1.0) < 1, 'the tied momentum lies in (0, 1)'"],
             hidden=[f"_f, _ok, _m = grading_ch04.q2(tied_beta, beta_tied, {lam0}, "
                     f"1 / ({div} * {lam_m}))", "assert _f, _m", "---",
                     f"_f, _ok, _m = grading_ch04.q2(tied_beta, beta_tied, {lam0}, "
                     f"1 / ({div} * {lam_m}))",
                     "assert _ok, 'beta_tied is not the tied momentum for your data'"]),
        dict(label="ex-ch4-residual", name="q3", kind="written", points=4,
             answer="""Multiply the weight ODE by $\\partial f_i/\\partial w_r$ and sum over $r$:
$\\dot f = J\\dot w$ and $\\ddot f = J\\ddot w$ while no activation pattern changes, which holds
almost surely along the flow (the set of times where some $w_r^\\top x_i = 0$ has measure zero).
The Hessian term becomes $\\sqrt s\\,H\\dot f$ and the gradient term $(1 + \\sqrt{\\mu s})H(f - y)$.

**Rubric (4 points).** 1: the chain rule $\\dot f = J\\dot w$, with $J$ from the given derivative.
1: the Hessian-vector term pushed through $J$ gives $H\\dot f$. 1: where "almost surely" enters
(activation patterns constant a.e.). 1: a numerical check on a small network."""),
    ]

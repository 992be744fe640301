"""Chapter 1: strongly convex quadratics (Exercises 1.1-1.4)."""

GRADING = r'''
import numpy as np
from momentum import check

SEED = {hidden_seed}


def _rng(k):
    return np.random.default_rng([SEED, k])


def _best_gd(mu, L):
    return 2 / (L + mu), (L / mu - 1) / (L / mu + 1)


def _nag_best(mu, L):
    k = L / mu
    r = np.sqrt(3 * k + 1)
    return 4 / (3 * L + mu), (r - 2) / (r + 2), 1 - 2 / r


def _spectra(k, n=12):
    rng = _rng(k)
    mu = rng.uniform(0.01, 2.0, n)
    return [dict(mu=float(m), L=float(m * rng.choice([1.5, 10.0, 1e3, 1e6])))
            for m in mu]


def q1(fn, rate_1, mu_1, L_1):
    r = check.function(fn, _best_gd, _spectra(1), name="best_gd_step", verbose=False)
    ok = r.passed and abs(float(rate_1) - _best_gd(mu_1, L_1)[1]) < 1e-9
    return r.passed, ok, r.message


def q2(fn):
    return check.heavy_ball_step(fn, seed=int(SEED) % 2**31 + 2, trials=40, verbose=False)


def q3(fn):
    return check.nesterov_step(fn, seed=int(SEED) % 2**31 + 3, trials=40, verbose=False)


def q4(fn, rate_4, mu_4, L_4):
    r = check.function(fn, _nag_best, _spectra(4), name="nag_best_tuning", verbose=False)
    ok = r.passed and abs(float(rate_4) - _nag_best(mu_4, L_4)[2]) < 1e-9
    return r.passed, ok, r.message
'''


def questions(rng):
    mu_1, L_1 = round(float(rng.uniform(0.1, 1.0)), 3), float(rng.integers(20, 400))
    mu_4, L_4 = round(float(rng.uniform(0.1, 1.0)), 3), float(rng.integers(50, 2000))
    return [
        dict(label="ex-ch1-gd-step", name="q1", kind="code", points=(1, 2, 1),
             task=f"""Write `best_gd_step(mu, L)` that returns the pair `(eta, rate)`: the
constant step of gradient descent that minimises $\\max_{{\\lambda\\in[\\mu, L]}}
|1 - \\eta\\lambda|$ and the rate it gives. Then set `rate_1` to the rate for
$\\mu = {mu_1}$, $L = {L_1:g}$ (the constants of your assignment).""",
             given=f"mu_1, L_1 = {mu_1}, {L_1:g}",
             answer='''def best_gd_step(mu, L):
    """The best constant step of gradient descent on [mu, L] and its rate."""
    # BEGIN SOLUTION
    eta = 2 / (L + mu)
    return eta, (L / mu - 1) / (L / mu + 1)
    # END SOLUTION


rate_1 = best_gd_step(mu_1, L_1)[1]  # SOLUTION''',
             wrong='''def best_gd_step(mu, L):
    return 1 / L, 1 - mu / L


rate_1 = best_gd_step(mu_1, L_1)[1]''',
             public=["_eta, _rate = best_gd_step(1.0, 9.0)",
                     "assert abs(_rate - max(abs(1 - _eta), abs(1 - 9 * _eta))) < 1e-9, "
                     "'the rate you return is not max |1 - eta lambda| over [mu, L] for your eta'"],
             hidden=["_found, _ok, _msg = grading_ch01.q1(best_gd_step, rate_1, mu_1, L_1)",
                     "assert _found, _msg", "---",
                     "_found, _ok, _msg = grading_ch01.q1(best_gd_step, rate_1, mu_1, L_1)",
                     "assert _ok, 'rate_1 is not the rate for your constants'"]),
        dict(label="ex-ch1-hb-step", name="q2", kind="code", points=(1, 3),
             task="""Write `heavy_ball_step(x, x_prev, g, eta, beta)` that returns $x_{k+1}$ given
$x_k$ = `x`, $x_{k-1}$ = `x_prev` and $\\nabla f(x_k)$ = `g` (arrays of any shape, a batch of rows
included). The public test runs the book's checker, `momentum.check.heavy_ball_step`, and shows
its feedback; the autograder runs it on other cases.""",
             answer='''def heavy_ball_step(x, x_prev, g, eta, beta):
    """One step of heavy ball: x_{k+1} = x_k - eta g_k + beta (x_k - x_{k-1})."""
    # BEGIN SOLUTION
    return x - eta * g + beta * (x - x_prev)
    # END SOLUTION''',
             wrong='''def heavy_ball_step(x, x_prev, g, eta, beta):
    return x + eta * g + beta * (x - x_prev)''',
             wrong_hint="wrong sign",
             public=["from momentum import check",
                     "_r = check.heavy_ball_step(heavy_ball_step, verbose=False)",
                     "assert _r.passed, _r.message"],
             hidden=["_r = grading_ch01.q2(heavy_ball_step)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch1-hb-step", name="q3", kind="code", points=(1, 3),
             variant="the same for Nesterov's method",
             task="""Write `nesterov_step(x, x_prev, grad, eta, beta)` that returns Nesterov's
$x_{k+1} = y_k - \\eta\\nabla f(y_k)$ with $y_k = x_k + \\beta(x_k - x_{k-1})$; here `grad` is a
function (`grad(z)` returns $\\nabla f(z)$), because where the gradient is taken is the point of
the method.""",
             answer='''def nesterov_step(x, x_prev, grad, eta, beta):
    """One step of Nesterov's method in the book's form (Liao & Kyrillidis, eq. (2))."""
    # BEGIN SOLUTION
    y = x + beta * (x - x_prev)
    return y - eta * grad(y)
    # END SOLUTION''',
             wrong='''def nesterov_step(x, x_prev, grad, eta, beta):
    return x + beta * (x - x_prev) - eta * grad(x)''',
             wrong_hint="evaluated at x",
             public=["from momentum import check",
                     "_r = check.nesterov_step(nesterov_step, verbose=False)",
                     "assert _r.passed, _r.message"],
             hidden=["_r = grading_ch01.q3(nesterov_step)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch1-nag-best", name="q4", kind="code", points=(1, 2, 1),
             task=f"""Write `nag_best_tuning(mu, L)` that returns `(eta, beta, rate)`, the best
constant tuning of Nesterov's method on a quadratic with spectrum in $[\\mu, L]$ that the exercise
quotes, and its rate. Set `rate_4` to the rate for $\\mu = {mu_4}$, $L = {L_4:g}$.""",
             given=f"mu_4, L_4 = {mu_4}, {L_4:g}",
             answer='''def nag_best_tuning(mu, L):
    """Lessard, Recht and Packard's tuning of Nesterov's method and its rate."""
    # BEGIN SOLUTION
    r = (3 * L / mu + 1) ** 0.5
    return 4 / (3 * L + mu), (r - 2) / (r + 2), 1 - 2 / r
    # END SOLUTION


rate_4 = nag_best_tuning(mu_4, L_4)[2]  # SOLUTION''',
             wrong='''def nag_best_tuning(mu, L):
    k = L / mu
    return 1 / L, (k ** 0.5 - 1) / (k ** 0.5 + 1), 1 - 1 / k ** 0.5


rate_4 = nag_best_tuning(mu_4, L_4)[2]''',
             public=["_t = nag_best_tuning(1.0, 100.0)",
                     "assert len(_t) == 3 and 0 < _t[1] < 1 and 0 < _t[2] < 1, "
                     "'return three numbers (eta, beta, rate), beta and rate in (0, 1)'"],
             hidden=["_found, _ok, _msg = grading_ch01.q4(nag_best_tuning, rate_4, mu_4, L_4)",
                     "assert _found, _msg", "---",
                     "_found, _ok, _msg = grading_ch01.q4(nag_best_tuning, rate_4, mu_4, L_4)",
                     "assert _ok, 'rate_4 is not the rate for your constants'"]),
        dict(label="ex-ch1-critical", name="q5", kind="written", points=3,
             answer="""With $\\eta = 1/L$, Nesterov's iteration matrix on a mode $\\lambda$ has
characteristic polynomial $z^2 - (1+\\beta)(1-\\lambda/L)z + \\beta(1-\\lambda/L)$. Its
discriminant vanishes at $\\lambda = \\mu$ for the given $\\beta$, which gives the double root
$(1+\\beta)(1 - 1/\\kappa)/2 = 1 - 1/\\sqrt\\kappa$; for $\\mu < \\lambda < L$ it is negative, and
complex roots have modulus $\\sqrt{\\text{product}} = \\sqrt{\\beta(1-\\lambda/L)}$. A repeated
eigenvalue makes the matrix a Jordan block, whose $k$-th power holds $k\\rho^{k-1}$.

**Rubric (3 points).** 1: the characteristic polynomial of $T_{\\mathrm{NAG}}(\\lambda)$ with
$\\eta = 1/L$. 1: the double root at $\\lambda = \\mu$ equals $1 - 1/\\sqrt\\kappa$, and the modulus
$\\sqrt{\\beta(1-\\lambda/L)}$ from the product of complex roots. 1: the Jordan block and the factor
$k$ (a non-diagonalisable matrix's power)."""),
    ]

"""Chapter 6: beyond the theorems (Exercises 6.1-6.4)."""

GRADING = r'''
import numpy as np
from momentum import check

SEED = {hidden_seed}


def _rng(k):
    return np.random.default_rng([SEED, k])


def q1(fn):
    return check.mass_step(fn, seed=int(SEED) % 2**31 + 1, trials=30, verbose=False)


def _worst(eigenvalues, eta, beta, K, method):
    out = 0.0
    for lam in np.asarray(eigenvalues, dtype=float):
        if method == "heavy_ball":
            T = np.array([[1 + beta - eta * lam, -beta], [1.0, 0.0]])
        else:
            c = 1 - eta * lam
            T = np.array([[(1 + beta) * c, -beta * c], [1.0, 0.0]])
        v = np.linalg.matrix_power(T, int(K)) @ np.ones(2)
        out = max(out, abs(v[0]))
    return out


def q2(fn):
    rng = _rng(2)
    cases = []
    for i in range(12):
        cases.append(dict(eigenvalues=rng.uniform(0.01, 1.0, int(rng.integers(1, 20))),
                          eta=float(rng.uniform(0.1, 1.5)), beta=float(rng.uniform(0, 0.99)),
                          K=int(rng.integers(0, 60)),
                          method=("heavy_ball", "nesterov")[i % 2]))
    return check.function(fn, _worst, cases, name="worst_factor", verbose=False)


def _limit(g, eta, beta):
    return -eta * g / (1 - beta)


def q3(fn):
    rng = _rng(3)
    cases = [dict(g=rng.standard_normal(int(rng.integers(1, 60))), eta=float(rng.uniform(1e-3, 2)),
                  beta=float(rng.choice([0.0, 0.5, 0.9, 0.999, rng.uniform(0, 1)])))
             for _ in range(12)]
    return check.function(fn, _limit, cases, name="limit_step", verbose=False)
'''


def questions(rng):
    return [
        dict(label="ex-ch6-mass", name="q1", kind="code", points=(1, 3),
             task="""Write `mass_step(w, u, g, eta1, eta2, gamma)` as the exercise asks. The
public test runs the book's checker, `momentum.check.mass_step`.""",
             answer='''def mass_step(w, u, g, eta1, eta2, gamma):
    """One step of MaSS: w_next = u - eta1 g, u_next = (1 + gamma) w_next - gamma w + eta2 g."""
    # BEGIN SOLUTION
    w_next = u - eta1 * g
    return w_next, (1 + gamma) * w_next - gamma * w + eta2 * g
    # END SOLUTION''',
             wrong='''def mass_step(w, u, g, eta1, eta2, gamma):
    w_next = u - eta1 * g
    return w_next, (1 + gamma) * w_next - gamma * w - eta2 * g''',
             wrong_hint="wrong sign",
             public=["from momentum import check",
                     "_r = check.mass_step(mass_step, verbose=False)",
                     "assert _r.passed, _r.message"],
             hidden=["_r = grading_ch06.q1(mass_step)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch6-quadratic", name="q2", kind="code", points=(1, 3),
             task="""Write `worst_factor(eigenvalues, eta, beta, K, method)` that returns
$\\max_i |p_K(\\lambda_i)|$, with $p_K(\\lambda)$ the first entry of $T(\\lambda)^K(1, 1)^\\top$
and $T$ the $2\\times 2$ iteration matrix of heavy ball (`method="heavy_ball"`) or Nesterov
(`method="nesterov"`) on a mode $\\lambda$, in the state $(x_k, x_{k-1})$.""",
             answer='''def worst_factor(eigenvalues, eta, beta, K, method):
    """max over the eigenvalues of |first entry of T(lambda)^K (1, 1)|."""
    # BEGIN SOLUTION
    out = 0.0
    for lam in np.asarray(eigenvalues, dtype=float):
        if method == "heavy_ball":
            T = np.array([[1 + beta - eta * lam, -beta], [1.0, 0.0]])
        else:
            c = 1 - eta * lam
            T = np.array([[(1 + beta) * c, -beta * c], [1.0, 0.0]])
        out = max(out, abs((np.linalg.matrix_power(T, int(K)) @ np.ones(2))[0]))
    return out
    # END SOLUTION''',
             wrong='''def worst_factor(eigenvalues, eta, beta, K, method):
    out = 0.0
    for lam in np.asarray(eigenvalues, dtype=float):
        T = np.array([[1 + beta - eta * lam, -beta], [1.0, 0.0]])
        out = max(out, abs((np.linalg.matrix_power(T, int(K)) @ np.ones(2))[0]))
    return out''',
             public=["assert abs(worst_factor([0.5], 1.0, 0.0, 1, 'heavy_ball') - 0.5) < 1e-12, "
                     "'with beta = 0 one step multiplies the error by 1 - eta lambda'"],
             hidden=["_r = grading_ch06.q2(worst_factor)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch6-effective", name="q3", kind="code", points=(1, 2),
             task="""Write `limit_step(g, eta, beta)` that returns the limit of heavy ball's
steps $x_{k+1} - x_k$ under a constant gradient `g` (an array).""",
             answer='''def limit_step(g, eta, beta):
    """The limit -eta g / (1 - beta) of heavy ball's steps under a constant gradient."""
    # BEGIN SOLUTION
    return -eta * g / (1 - beta)
    # END SOLUTION''',
             wrong='''def limit_step(g, eta, beta):
    return -eta * g / (1 + beta)''',
             public=["assert np.allclose(limit_step(np.ones(2), 0.1, 0.0), -0.1), "
                     "'without momentum the step is -eta g'"],
             hidden=["_r = grading_ch06.q3(limit_step)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch6-gd", name="q4", kind="written", points=3,
             answer="""The PEP worst case of gradient descent with $\\eta = 1/L$ equals
$(1 - 1/\\kappa)^K$, the worst case on the spectrum: there is no gap. The inequality contracts
the distance by $\\max(|1-\\eta\\mu|, |1-\\eta L|)$ at every step for every $f$, and a quadratic
with eigenvalue $\\mu$ attains it.

**Rubric (3 points).** 1: the PEP numbers for $K = 1, \\dots, 5$ and the comparison. 1: the two
agree (no gap). 1: the inequality bounds every step and a quadratic attains it."""),
    ]

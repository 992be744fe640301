"""Chapter 5: deep linear networks and linear ResNets (Exercises 5.1-5.4)."""

GRADING = r'''
import numpy as np
from momentum import check

SEED = {hidden_seed}


def _rng(k):
    return np.random.default_rng([SEED, k])


def q1(fn):
    return check.deep_linear_gradients(fn, seed=int(SEED) % 2**31 + 1, trials=30, verbose=False)


def _room(kappa):
    mu, L = 1 / kappa, 1.0
    eta_hb = 4 / (L ** 0.5 + mu ** 0.5) ** 2
    beta_hb = ((kappa ** 0.5 - 1) / (kappa ** 0.5 + 1)) ** 2
    beta_nag = (kappa ** 0.5 - 1) / (kappa ** 0.5 + 1)
    return 2 * (1 + beta_hb) / eta_hb, 2 * (1 + beta_nag) / (1 + 2 * beta_nag)


def q2(fn, value, kappa):
    rng = _rng(2)
    cases = [dict(kappa=float(10 ** rng.uniform(0.1, 6))) for _ in range(12)]
    r = check.function(fn, _room, cases, name="edge_room", verbose=False)
    ok = r.passed and np.allclose(np.asarray(value, dtype=float), _room(kappa), rtol=1e-9)
    return r.passed, ok, r.message


def _kernel(B, A, X, depth):
    return depth * np.kron(B @ B.T, X.T @ A.T @ A @ X)


def q3(fn):
    rng = _rng(3)
    cases = []
    for _ in range(8):
        dy, m, dx, n = (int(v) for v in rng.integers(1, 7, 4))
        cases.append(dict(B=rng.standard_normal((dy, m)), A=rng.standard_normal((m, dx)),
                          X=rng.standard_normal((dx, n)), depth=int(rng.integers(1, 12))))
    return check.function(fn, _kernel, cases, name="resnet_kernel", verbose=False)
'''


def questions(rng):
    kappa = float(rng.choice([300.0, 500.0, 2000.0, 5000.0, 1e4]))
    return [
        dict(label="ex-ch5-grad", name="q1", kind="code", points=(1, 3),
             task="""Write `layer_gradients(weights, X, Y, scale)` as the exercise asks. The
public test runs the book's checker, `momentum.check.deep_linear_gradients`.""",
             answer='''def layer_gradients(weights, X, Y, scale):
    """The gradients S_l^T U P_l^T of 1/2 ||a W_L ... W_1 X - Y||_F^2, in layer order."""
    # BEGIN SOLUTION
    P = [X]
    for W in weights[:-1]:
        P.append(W @ P[-1])
    U = scale * weights[-1] @ P[-1] - Y
    grads, S = [], scale * np.eye(Y.shape[0])
    for W, P_l in zip(weights[::-1], P[::-1]):
        grads.append(S.T @ U @ P_l.T)
        S = S @ W
    return grads[::-1]
    # END SOLUTION''',
             wrong='''def layer_gradients(weights, X, Y, scale):
    P = [X]
    for W in weights[:-1]:
        P.append(W @ P[-1])
    U = scale * weights[-1] @ P[-1] - Y
    grads, S = [], np.eye(Y.shape[0])
    for W, P_l in zip(weights[::-1], P[::-1]):
        grads.append(S.T @ U @ P_l.T)
        S = S @ W
    return grads[::-1]''',
             wrong_hint="factor scale",
             public=["from momentum import check",
                     "_r = check.deep_linear_gradients(layer_gradients, verbose=False)",
                     "assert _r.passed, _r.message"],
             hidden=["_r = grading_ch05.q1(layer_gradients)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch5-edge", name="q2", kind="code", points=(1, 2, 1),
             task=f"""Write `edge_room(kappa)` that returns the pair: how many times $L$ the
largest curvature may be before heavy ball with Polyak's tuning diverges, and the same for
Nesterov with $\\eta = 1/L$, $\\beta = (\\sqrt\\kappa-1)/(\\sqrt\\kappa+1)$. Set `room` to it for
$\\kappa = {kappa:g}$.""",
             given=f"kappa = {kappa:g}",
             answer='''def edge_room(kappa):
    """The largest stable lambda / L: heavy ball (Polyak's tuning), Nesterov (eta = 1/L)."""
    # BEGIN SOLUTION
    s = kappa ** 0.5
    beta_nag = (s - 1) / (s + 1)
    return 1 + 1 / kappa, 2 * (1 + beta_nag) / (1 + 2 * beta_nag)
    # END SOLUTION


room = edge_room(kappa)  # SOLUTION''',
             wrong='''def edge_room(kappa):
    s = kappa ** 0.5
    beta_nag = (s - 1) / (s + 1)
    return 2.0, 2 * (1 + beta_nag) / (1 + 2 * beta_nag)


room = edge_room(kappa)''',
             public=["_h, _n = edge_room(100.0)",
                     "assert 1 < _h < 2 and 1 < _n < 2, 'both margins lie between 1 and 2'"],
             hidden=[f"_f, _ok, _m = grading_ch05.q2(edge_room, room, {kappa!r})",
                     "assert _f, _m", "---",
                     f"_f, _ok, _m = grading_ch05.q2(edge_room, room, {kappa!r})",
                     "assert _ok, 'room is not the pair for your kappa'"]),
        dict(label="ex-ch5-resnet", name="q3", kind="code", points=(1, 3),
             task="""Write `resnet_kernel(B, A, X, depth)` that returns $H_0 =
\\Lambda\\,(BB^\\top)\\otimes(X^\\top A^\\top A X)$, the kernel at $W_\\ell = 0$ of the ResNet of
depth $\\Lambda$ = `depth` (use `np.kron`).""",
             answer='''def resnet_kernel(B, A, X, depth):
    """H_0 = depth * kron(B B^T, X^T A^T A X)."""
    # BEGIN SOLUTION
    return depth * np.kron(B @ B.T, X.T @ A.T @ A @ X)
    # END SOLUTION''',
             wrong='''def resnet_kernel(B, A, X, depth):
    return np.kron(B @ B.T, X.T @ A.T @ A @ X)''',
             public=["_H = resnet_kernel(np.eye(2), np.eye(3), np.eye(3), 1)",
                     "assert np.shape(_H) == (6, 6), 'H_0 has d_y n rows and columns'"],
             hidden=["_r = grading_ch05.q3(resnet_kernel)", "assert _r.passed, _r.message"]),
        dict(label="ex-ch5-ortho", name="q4", kind="written", points=3,
             answer="""With the orthogonality relations every product $S_\\ell^\\top S_\\ell$ and
$P_\\ell^\\top P_\\ell$ is a multiple of the identity, and the sum over the $L$ layers gives
$(L/d_y) I \\otimes X^\\top X$ after the normalisation. For Gaussian layers the products are only
approximately orthogonal, and the deviation grows with the depth; the factor that goes wrong first
is the one with more layers multiplied, the long products.

**Rubric (3 points).** 1: uses the orthogonality to collapse each layer's term. 1: sums the $L$
terms with the normalisation. 1: explains the failure for Gaussian layers with depth."""),
    ]

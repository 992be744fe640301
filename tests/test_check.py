"""The exercise checkers: their references agree with the library's runs, correct code passes,
and each typical mistake fails with the input, expected, got, and the right hint."""

import re

import numpy as np
import pytest
import torch

from momentum import check, optimizers, problems

# --------------------------------------------------------------------------------------------
# The references are the library's methods, step by step
# --------------------------------------------------------------------------------------------


def _run_steps(step, x0, x1, k):
    xs = [x0, x1]
    for _ in range(k):
        xs.append(step(xs[-1], xs[-2]))
    return np.array(xs)


def test_reference_steps_reproduce_full_library_runs():
    q = problems.random_quadratic(kappa=50.0, dim=6, seed=3)
    x0 = np.random.default_rng(0).standard_normal(q.dim)
    eta, beta = 0.8, 0.7
    # heavy ball: x_{-1} = x_0, so the first step is a gradient step
    hb = optimizers.heavy_ball(q.grad, x0, eta=eta, beta=beta, steps=40).x
    mine = _run_steps(lambda x, xp: check.reference_heavy_ball_step(x, xp, q.grad(x), eta, beta),
                      hb[0], hb[1], 39)
    np.testing.assert_allclose(mine, hb, rtol=1e-10, atol=1e-12)
    # Nesterov: y_0 = x_0, so the first step too is a gradient step
    nag = optimizers.nesterov(q.grad, x0, eta=eta, beta=beta, steps=40).x
    mine = _run_steps(lambda x, xp: check.reference_nesterov_step(x, xp, q.grad, eta, beta),
                      nag[0], nag[1], 39)
    np.testing.assert_allclose(mine, nag, rtol=1e-10, atol=1e-12)
    gd = optimizers.gd(q.grad, x0, eta=eta, steps=40).x
    mine = [x0]
    for _ in range(40):
        mine.append(check.reference_gd_step(mine[-1], q.grad(mine[-1]), eta))
    np.testing.assert_allclose(np.array(mine), gd, rtol=1e-10, atol=1e-12)


def test_heavy_ball_reference_is_pytorchs_sgd_over_a_run():
    """The torch.optim.SGD reference, iterated, gives the same run as SGD left to itself."""
    q = problems.random_quadratic(kappa=20.0, dim=4, seed=1)
    x0 = np.ones(q.dim)
    p = torch.nn.Parameter(torch.tensor(x0))
    opt = optimizers.torch_optimizer("heavy_ball", [p], eta=0.5, beta=0.6)
    xs = [x0.copy()]
    for _ in range(25):
        opt.zero_grad()
        p.grad = torch.as_tensor(q.grad(p.detach().numpy()))
        opt.step()
        xs.append(p.detach().numpy().copy())
    mine = _run_steps(lambda x, xp: check.reference_heavy_ball_step(x, xp, q.grad(x), 0.5, 0.6),
                      xs[0], xs[1], 24)
    np.testing.assert_allclose(mine, np.array(xs), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Correct implementations pass, in NumPy and in torch
# --------------------------------------------------------------------------------------------


def test_correct_implementations_pass(capsys):
    r = check.gd_step(lambda x, g, eta: x - eta * g)
    assert r.passed and r.case is None and bool(r)
    r = check.heavy_ball_step(lambda x, x_prev, g, eta, beta: x - eta * g + beta * (x - x_prev))
    assert r.passed

    def nag(x, x_prev, grad, eta, beta):
        y = x + beta * (x - x_prev)
        return y - eta * grad(y)

    assert check.nesterov_step(nag).passed
    out = capsys.readouterr().out.splitlines()
    assert out == ["gd_step: all 20 random cases pass.",
                   "heavy_ball_step: all 20 random cases pass.",
                   "nesterov_step: all 20 random cases pass."]


def test_a_torch_implementation_passes_too():
    def hb(x, x_prev, g, eta, beta):
        x, x_prev, g = (torch.as_tensor(v) for v in (x, x_prev, g))
        return torch.add(x, x - x_prev, alpha=beta) - eta * g

    assert check.heavy_ball_step(hb, verbose=False).passed


# --------------------------------------------------------------------------------------------
# Typical mistakes fail, say where, and say why
# --------------------------------------------------------------------------------------------

HB_MISTAKES = {
    "wrong sign": (lambda x, x_prev, g, eta, beta: x + eta * g + beta * (x - x_prev)),
    "wrong difference": (lambda x, x_prev, g, eta, beta: x - eta * g + beta * (x_prev - x)),
    "missing": (lambda x, x_prev, g, eta, beta: x - eta * g),
    "multiply the last step": (lambda x, x_prev, g, eta, beta: x - eta * g + beta * x),
}


@pytest.mark.parametrize("hint", HB_MISTAKES)
def test_heavy_ball_mistakes_fail_with_their_hint(hint, capsys):
    r = check.heavy_ball_step(HB_MISTAKES[hint])
    printed = capsys.readouterr().out
    assert not r.passed and r.case == 1
    assert printed.strip() == r.message
    assert "case 1 of 20 fails" in printed
    for part in ("x = [", "x_prev = [", "g = [", "eta = ", "beta = ", "expected: [", "got:"):
        assert part in printed
    assert "hint:" in printed and hint in printed


def _nag_gradient_at_x(x, x_prev, grad, eta, beta):
    return x + beta * (x - x_prev) - eta * grad(x)


def _nag_sign(x, x_prev, grad, eta, beta):
    y = x + beta * (x - x_prev)
    return y + eta * grad(y)


def _nag_wrong_difference(x, x_prev, grad, eta, beta):
    y = x + beta * (x_prev - x)
    return y - eta * grad(y)


@pytest.mark.parametrize("fn, hint", [
    (_nag_gradient_at_x, "evaluated at x"),
    (_nag_sign, "wrong sign"),
    (_nag_wrong_difference, "wrong difference"),
])
def test_nesterov_mistakes_fail_with_their_hint(fn, hint):
    r = check.nesterov_step(fn, verbose=False)
    assert not r.passed
    assert f"hint: the {hint}" in r.message or hint in r.message.split("hint:")[1]


def test_gd_sign_error_and_an_unknown_mistake():
    r = check.gd_step(lambda x, g, eta: x + eta * g, verbose=False)
    assert not r.passed and "wrong sign" in r.message
    # a mistake the checker has no hint for still reports input, expected and got
    r = check.gd_step(lambda x, g, eta: x - 0.5 * eta * g, verbose=False)
    assert not r.passed and "expected:" in r.message and "hint" not in r.message


def test_mistakes_that_pass_on_some_inputs_are_still_caught():
    """Right for small steps, wrong for eta > 0.5: caught at the first case with a large step,
    and that case is the one reported."""
    def clipped_step(x, g, eta):
        return x - min(eta, 0.5) * g

    r = check.gd_step(clipped_step, verbose=False)
    assert not r.passed
    assert f"case {r.case} of 20" in r.message
    eta = float(re.search(r"eta = ([0-9.]+)", r.message).group(1))
    assert eta > 0.5
    # the cases before it had small steps and passed: the same checker with fewer trials passes
    if r.case > 1:
        assert check.gd_step(clipped_step, trials=r.case - 1, verbose=False).passed


def test_forgotten_return_in_place_update_exception_and_shape():
    def no_return(x, g, eta):
        x - eta * g

    def in_place(x, g, eta):
        x -= eta * g
        return x

    def raises(x, g, eta):
        return x - eta * undefined_name  # noqa: F821

    def scalar(x, g, eta):
        return float(np.sum(x - eta * g))

    assert "forget `return`" in check.gd_step(no_return, verbose=False).message
    assert "changed its input x in place" in check.gd_step(in_place, verbose=False).message
    assert "raised NameError" in check.gd_step(raises, verbose=False).message
    r = check.gd_step(scalar, verbose=False)
    assert not r.passed and "shape: expected" in r.message


def test_feedback_is_deterministic_and_seeded():
    wrong = HB_MISTAKES["wrong sign"]
    a = check.heavy_ball_step(wrong, verbose=False).message
    assert a == check.heavy_ball_step(wrong, verbose=False).message
    assert a != check.heavy_ball_step(wrong, verbose=False, seed=1).message


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="fn"):
        check.gd_step("x - eta * g")
    with pytest.raises(ValueError, match="trials"):
        check.heavy_ball_step(lambda *a: a[0], trials=0)


def test_result_shows_nothing_extra_in_a_notebook():
    r = check.gd_step(lambda x, g, eta: x - eta * g, verbose=False)
    assert r._ipython_display_() is None
    assert r.cases == 20 and r.name == "gd_step"

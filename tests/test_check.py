"""The exercise checkers: their references agree with the library's runs, correct code passes,
and each typical mistake fails with the input, expected, got, and the right hint."""

import re

import numpy as np
import pytest
import torch

from momentum import check, optimizers, problems
from momentum.check import deep_linear, mass, steps

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
    mine = _run_steps(lambda x, xp: steps.reference_heavy_ball_step(x, xp, q.grad(x), eta, beta),
                      hb[0], hb[1], 39)
    np.testing.assert_allclose(mine, hb, rtol=1e-10, atol=1e-12)
    # Nesterov: y_0 = x_0, so the first step too is a gradient step
    nag = optimizers.nesterov(q.grad, x0, eta=eta, beta=beta, steps=40).x
    mine = _run_steps(lambda x, xp: steps.reference_nesterov_step(x, xp, q.grad, eta, beta),
                      nag[0], nag[1], 39)
    np.testing.assert_allclose(mine, nag, rtol=1e-10, atol=1e-12)
    gd = optimizers.gd(q.grad, x0, eta=eta, steps=40).x
    mine = [x0]
    for _ in range(40):
        mine.append(steps.reference_gd_step(mine[-1], q.grad(mine[-1]), eta))
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
    mine = _run_steps(lambda x, xp: steps.reference_heavy_ball_step(x, xp, q.grad(x), 0.5, 0.6),
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
    assert not r.passed and "returned a float, not an array" in r.message
    r = check.gd_step(lambda x, g, eta: (x - eta * g)[..., :-1], verbose=False)
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


# --------------------------------------------------------------------------------------------
# Issue 11: checkers that cannot be fooled
# --------------------------------------------------------------------------------------------


def _hb(x, x_prev, g, eta, beta):
    return x - eta * g + beta * (x - x_prev)


def test_cases_cover_the_whole_valid_range():
    """Code wrong only for large momentum, large dimensions, batches or large steps fails."""
    def wrong_for_large_beta(x, x_prev, g, eta, beta):
        return _hb(x, x_prev, g, eta, min(beta, 0.94))

    def wrong_for_d_6(x, x_prev, g, eta, beta):
        out = _hb(x, x_prev, g, eta, beta)
        return out if x.shape[-1] < 6 else out + 1e-3

    def wrong_for_batches(x, x_prev, g, eta, beta):
        return _hb(x, x_prev, g, eta, beta) if x.ndim == 1 else _hb(x, x_prev, g, eta, beta).T.T[:1]

    def wrong_for_eta_over_1(x, x_prev, g, eta, beta):
        return _hb(x, x_prev, g, min(eta, 1.0), beta)

    for fn in (wrong_for_large_beta, wrong_for_d_6, wrong_for_batches, wrong_for_eta_over_1):
        assert not check.heavy_ball_step(fn, verbose=False).passed, fn.__name__
    assert check.heavy_ball_step(_hb, verbose=False).passed


def test_a_complex_offset_or_a_non_array_return_fails_clearly():
    r = check.gd_step(lambda x, g, eta: x - eta * g + 1e-3j, verbose=False)
    assert not r.passed and "complex" in r.message
    r = check.gd_step(lambda x, g, eta: list(x - eta * g), verbose=False)
    assert not r.passed and "returned a list, not an array" in r.message
    r = check.gd_step(lambda x, g, eta: "x - eta * g", verbose=False)
    assert not r.passed and "not an array" in r.message
    r = check.gd_step(lambda x, g, eta: (x - eta * g) * np.nan, verbose=False)
    assert not r.passed and "NaN" in r.message


def test_a_function_that_replaces_the_reference_or_the_comparison_cannot_pass():
    saved = (steps.reference_gd_step, check._close, np.allclose)

    def cheat(x, g, eta):
        steps.reference_gd_step = lambda x, g, eta: np.zeros_like(x)
        check._close = lambda a, b, *args: True
        np.allclose = lambda *a, **k: True
        return np.zeros_like(x)

    try:
        r = check.gd_step(cheat, verbose=False)
    finally:
        steps.reference_gd_step, check._close, np.allclose = saved
    assert not r.passed and r.case == 1


def test_a_float32_answer_is_told_to_use_float64():
    r = check.gd_step(lambda x, g, eta: (x - eta * g).astype(np.float32), verbose=False)
    assert not r.passed and "float32 precision only" in r.message and "float64" in r.message
    r = check.heavy_ball_step(
        lambda x, x_prev, g, eta, beta: torch.as_tensor(_hb(x, x_prev, g, eta, beta),
                                                       dtype=torch.float32), verbose=False)
    assert not r.passed and "float32 precision only" in r.message
    # expected and got are never printed identically
    lines = {ln.split(":", 1)[0]: ln.split(":", 1)[1].strip() for ln in r.message.splitlines()
             if ln.startswith(("expected:", "got:"))}
    assert lines["expected"] != lines["got"]


def test_a_function_that_never_returns_is_stopped_and_reported():
    import time

    def endless(x, g, eta):
        while True:
            time.sleep(0.01)

    t0 = time.perf_counter()
    r = check.gd_step(endless, verbose=False, timeout=0.5)
    assert time.perf_counter() - t0 < 5
    assert not r.passed and "did not return within 0.5 seconds" in r.message


def test_expected_values_do_not_depend_on_what_the_function_does_to_its_inputs():
    def mutate_grad_then_use_it(x, x_prev, grad, eta, beta):
        for cell in grad.__closure__ or ():
            if isinstance(cell.cell_contents, np.ndarray):
                cell.cell_contents[...] = 0.0
        y = x + beta * (x - x_prev)
        return y - eta * grad(y)

    assert not check.nesterov_step(mutate_grad_then_use_it, verbose=False).passed


def test_off_the_main_thread_the_checker_keeps_its_deadline():
    """The deadline is the child's SIGKILL, not a SIGALRM of this thread: it holds anywhere."""
    import threading
    import time
    out = {}

    def endless(x, g, eta):
        while True:
            time.sleep(0.01)

    th = threading.Thread(target=lambda: out.update(
        good=check.gd_step(lambda x, g, eta: x - eta * g, verbose=False),
        bad=check.gd_step(endless, verbose=False, timeout=0.3)))
    th.start()
    th.join(120)
    assert out["good"].passed
    assert not out["bad"].passed and "did not return within 0.3 seconds" in out["bad"].message


# --------------------------------------------------------------------------------------------
# Issue 23: the cheat forms of the fresh probe, each a test
# --------------------------------------------------------------------------------------------


def _gd(x, g, eta):
    return x - eta * g


def test_reading_expected_from_the_checkers_frames_finds_nothing():
    import sys

    def peek(x, g, eta):
        f = sys._getframe(1)
        while f is not None:
            for name in ("expected", "wrong", "cases"):
                v = f.f_locals.get(name)
                if isinstance(v, np.ndarray) and v.shape == x.shape:
                    return v
            f = f.f_back
        return np.zeros_like(x)

    r = check.gd_step(peek, verbose=False)
    assert not r.passed and r.case == 1


def test_overwriting_every_array_in_memory_changes_nothing_it_is_judged_against():
    import gc

    def overwrite(x, g, eta):
        for obj in gc.get_objects():
            if isinstance(obj, np.ndarray) and obj.dtype == float and obj.flags.writeable:
                obj[...] = 0.0
        return np.zeros_like(x)

    r = check.gd_step(overwrite, verbose=False)
    assert not r.passed and "expected" in r.message
    assert check.gd_step(_gd, verbose=False).passed


def test_a_module_patch_does_not_reach_this_call_or_the_next():
    import momentum.check as mc
    saved = (mc._close, mc._judge, np.allclose, np.abs)

    def patch(x, g, eta):
        mc._close = lambda *a, **k: True
        mc._judge = lambda *a, **k: None
        np.allclose = lambda *a, **k: True
        np.abs = lambda a: 0 * a
        return np.zeros_like(x)

    assert not check.gd_step(patch, verbose=False).passed
    assert (mc._close, mc._judge, np.allclose, np.abs) == saved          # parent untouched
    assert not check.gd_step(lambda x, g, eta: x + eta * g, verbose=False).passed
    assert check.gd_step(_gd, verbose=False).passed


def test_a_tensor_whose_detach_runs_forever_is_stopped_by_the_deadline():
    import time

    class Slow(torch.Tensor):
        def detach(self):
            while True:
                time.sleep(0.01)

    t0 = time.perf_counter()
    r = check.gd_step(lambda x, g, eta: torch.as_tensor(_gd(x, g, eta)).as_subclass(Slow),
                      verbose=False, timeout=0.5)
    assert time.perf_counter() - t0 < 10
    assert not r.passed and "did not return within 0.5 seconds" in r.message


@pytest.mark.parametrize("form", ["catch", "cancel-timer", "ignore-signals", "str", "repr"])
def test_functions_that_fight_the_deadline_are_stopped(form):
    import signal
    import time

    def catch(x, g, eta):
        while True:
            try:
                time.sleep(0.01)
            except BaseException:  # noqa: BLE001 - the cheat
                pass

    def cancel(x, g, eta):
        signal.setitimer(signal.ITIMER_REAL, 0)
        while True:
            time.sleep(0.01)

    def ignore(x, g, eta):
        for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            pass

    class Blocking(Exception):
        def __str__(self):
            while True:
                time.sleep(0.01)

    def raise_blocking(x, g, eta):
        raise Blocking

    class Answer:
        def __repr__(self):
            while True:
                time.sleep(0.01)

    fn = {"catch": catch, "cancel-timer": cancel, "ignore-signals": ignore,
          "str": raise_blocking, "repr": lambda x, g, eta: Answer()}[form]
    t0 = time.perf_counter()
    r = check.gd_step(fn, verbose=False, timeout=0.5)
    assert time.perf_counter() - t0 < 10
    assert not r.passed


def test_system_exit_and_os_exit_do_not_escape():
    import os
    import sys
    r = check.gd_step(lambda x, g, eta: sys.exit(3), verbose=False)
    assert not r.passed and "raised SystemExit" in r.message
    r = check.heavy_ball_step(lambda *a: (_ for _ in ()).throw(KeyboardInterrupt), verbose=False)
    assert not r.passed and "KeyboardInterrupt" in r.message
    r = check.gd_step(lambda x, g, eta: os._exit(0), verbose=False)
    assert not r.passed and "ended the process" in r.message


def test_a_huge_timeout_does_not_fail_a_correct_answer():
    assert check.gd_step(_gd, verbose=False, timeout=1e300).passed
    assert check.mass_step(_mass, verbose=False, timeout=1e300).passed


def test_a_function_defined_in_a_notebook_namespace_is_checked_without_pickling():
    ns = {"__name__": "__main__", "np": np}
    exec("offset = 0.0\ndef gd_step(x, g, eta):\n    return x - eta * g + offset\n", ns)
    assert check.gd_step(ns["gd_step"], verbose=False).passed


def test_the_references_are_not_part_of_the_check_namespace():
    assert not [n for n in dir(check) if n.startswith("reference_")]
    assert "function" in check.__all__ and not any("reference" in n for n in check.__all__)


def test_answers_wrong_only_at_the_edges_of_the_valid_range_fail():
    def hb_if(cond):
        def fn(x, x_prev, g, eta, beta):
            out = _hb(x, x_prev, g, eta, beta)
            return out + 1e-3 if cond(x, eta, beta) else out
        return fn

    edges = {
        "eta above the stability limit": lambda x, eta, beta: eta > 2 * (1 + beta),
        "beta above 0.999": lambda x, eta, beta: beta > 0.999,
        "d above 50": lambda x, eta, beta: x.shape[-1] > 50,
        "batches of 5+ rows": lambda x, eta, beta: x.ndim == 2 and x.shape[0] >= 5,
    }
    for what, cond in edges.items():
        assert not check.heavy_ball_step(hb_if(cond), verbose=False).passed, what
    for seed in range(3):                       # any seed holds every edge
        for what, cond in edges.items():
            r = check.heavy_ball_step(hb_if(cond), seed=seed, verbose=False)
            assert not r.passed, (what, seed)

    def deep_if(cond):
        def fn(weights, X, Y, scale):
            out = _layer_gradients(weights, X, Y, scale)
            return [g + 1e-3 for g in out] if cond(weights, X) else out
        return fn

    assert not check.deep_linear_gradients(deep_if(lambda w, X: len(w) > 6), verbose=False)
    assert not check.deep_linear_gradients(
        deep_if(lambda w, X: max(W.shape[0] for W in w) > 20), verbose=False)
    assert check.deep_linear_gradients(_layer_gradients, verbose=False)


def test_check_function_compares_numbers_and_tuples_with_hints():
    cases = [dict(a=2.0, b=3.0), dict(a=np.arange(3.0), b=0.5)]
    assert check.function(lambda a, b: a * b, lambda a, b: a * b, cases, verbose=False)
    r = check.function(lambda a, b: a + b, lambda a, b: a * b, cases, verbose=False,
                       hints=[("added instead of multiplied", lambda a, b: a + b)])
    assert not r.passed and "hint: added instead of multiplied" in r.message
    r = check.function(lambda a, b: (a, b), lambda a, b: (a, b, a), cases, verbose=False)
    assert not r.passed and "3 values" in r.message
    with pytest.raises(ValueError, match="cases"):
        check.function(lambda a: a, lambda a: a, [], verbose=False)


# --------------------------------------------------------------------------------------------
# Issue 11, continued: the Chapter 5 and 6 checkers (deep_linear_gradients, mass_step)
# --------------------------------------------------------------------------------------------


def _layer_gradients(weights, X, Y, scale):
    """Chapter 5's solution, in NumPy."""
    P = [X]
    for W in weights[:-1]:
        P.append(W @ P[-1])
    U = scale * weights[-1] @ P[-1] - Y
    grads, S = [], scale * np.eye(Y.shape[0])
    for W, P_l in zip(weights[::-1], P[::-1]):
        grads.append(S.T @ U @ P_l.T)
        S = S @ W
    return grads[::-1]


def _mass(w, u, g, eta1, eta2, gamma):
    """Chapter 6's solution."""
    w_next = u - eta1 * g
    return w_next, (1 + gamma) * w_next - gamma * w + eta2 * g


def test_chapter_5_and_6_checkers_pass_correct_answers_with_the_same_lines(capsys):
    assert check.deep_linear_gradients(_layer_gradients).passed
    assert check.mass_step(_mass).passed
    assert check.mass_step(lambda *a: np.stack(_mass(*a))).passed      # a stacked pair too
    assert capsys.readouterr().out.splitlines() == [
        "deep_linear_gradients: all 20 random cases pass.",
        "mass_step: all 20 random cases pass.",
        "mass_step: all 20 random cases pass."]
    for seed in range(1, 6):        # and on other seeds (round-off stays within tolerance)
        assert check.deep_linear_gradients(_layer_gradients, seed=seed, verbose=False)
        assert check.mass_step(_mass, seed=seed, verbose=False)


def test_chapter_5_and_6_cases_cover_the_whole_valid_range():
    def wrong_for_deep(weights, X, Y, scale):
        out = _layer_gradients(weights, X, Y, scale)
        return out if len(weights) < 5 else [g + 1e-3 for g in out]

    def wrong_for_wide(weights, X, Y, scale):
        out = _layer_gradients(weights, X, Y, scale)
        return out if max(X.shape) < 6 else [g + 1e-3 for g in out]

    for fn in (wrong_for_deep, wrong_for_wide):
        assert not check.deep_linear_gradients(fn, verbose=False).passed, fn.__name__

    def wrong_for_large_gamma(w, u, g, eta1, eta2, gamma):
        return _mass(w, u, g, eta1, eta2, min(gamma, 0.95))

    def wrong_for_negative_eta2(w, u, g, eta1, eta2, gamma):
        return _mass(w, u, g, eta1, abs(eta2), gamma)

    def wrong_for_eta1_over_1(w, u, g, eta1, eta2, gamma):
        return _mass(w, u, g, min(eta1, 1.0), eta2, gamma)

    def wrong_for_batches(w, u, g, eta1, eta2, gamma):
        return _mass(w, u, g, eta1, eta2, gamma) if w.ndim == 1 else (w, u)

    def wrong_for_d_6(w, u, g, eta1, eta2, gamma):
        wn, un = _mass(w, u, g, eta1, eta2, gamma)
        return (wn, un) if w.shape[-1] < 6 else (wn, un + 1e-3)

    for fn in (wrong_for_large_gamma, wrong_for_negative_eta2, wrong_for_eta1_over_1,
               wrong_for_batches, wrong_for_d_6):
        assert not check.mass_step(fn, verbose=False).passed, fn.__name__


def test_chapter_5_and_6_checkers_cannot_be_fooled_by_patching():
    saved = (deep_linear.reference_deep_linear_gradients, mass.reference_mass_step, check._close,
             check._judge, check._ALL, check._ABS, np.allclose)

    def patch():
        deep_linear.reference_deep_linear_gradients = (
            lambda w, X, Y, a: [np.zeros_like(W) for W in w])
        mass.reference_mass_step = lambda w, u, g, *a: (np.zeros_like(w), np.zeros_like(u))
        check._close = lambda a, b, *args, **kw: True
        check._judge = lambda *a, **k: None
        check._ALL = lambda *a, **k: True
        check._ABS = lambda a: 0 * a
        np.allclose = lambda *a, **k: True

    def cheat_deep(weights, X, Y, scale):
        patch()
        return [np.zeros_like(W) for W in weights]

    def cheat_mass(w, u, g, eta1, eta2, gamma):
        patch()
        return np.zeros_like(w), np.zeros_like(u)

    results = []
    for checker, cheat in ((check.deep_linear_gradients, cheat_deep),
                           (check.mass_step, cheat_mass)):
        try:
            results.append(checker(cheat, verbose=False))
        finally:
            (deep_linear.reference_deep_linear_gradients, mass.reference_mass_step, check._close,
             check._judge, check._ALL, check._ABS, np.allclose) = saved
    r5, r6 = results
    assert not r5.passed and r5.case == 1
    assert not r6.passed and r6.case == 1


def test_chapter_5_and_6_checkers_stop_a_function_that_never_returns():
    import time

    def endless(*args):
        while True:
            time.sleep(0.01)

    for checker in (check.deep_linear_gradients, check.mass_step):
        t0 = time.perf_counter()
        r = checker(endless, verbose=False, timeout=0.5)
        assert time.perf_counter() - t0 < 5
        assert not r.passed and r.case == 1
        assert "did not return within 0.5 seconds" in r.message


def test_chapter_5_and_6_checkers_fail_clearly_on_a_non_array_return():
    for ret, words in [(None, "returned None"), (3.0, "returned a float"),
                       ("grads", "returned a str"), ({}, "returned a dict")]:
        r = check.deep_linear_gradients(lambda *a, ret=ret: ret, verbose=False)
        assert not r.passed and words in r.message and "list of" in r.message, ret
        r = check.mass_step(lambda *a, ret=ret: ret, verbose=False)
        assert not r.passed and words in r.message and "(w_next, u_next)" in r.message, ret
    # parts that are not arrays, complex, or NaN
    r = check.deep_linear_gradients(
        lambda *a: [g.tolist() for g in _layer_gradients(*a)], verbose=False)
    assert not r.passed and "returned a list, not an array" in r.message
    r = check.mass_step(lambda *a: (list(_mass(*a)[0]), _mass(*a)[1]), verbose=False)
    assert not r.passed and "w_next: your function returned a list, not an array" in r.message
    r = check.mass_step(lambda *a: (_mass(*a)[0], _mass(*a)[1] + 1e-3j), verbose=False)
    assert not r.passed and "u_next" in r.message and "complex" in r.message
    r = check.deep_linear_gradients(
        lambda *a: [g * np.nan for g in _layer_gradients(*a)], verbose=False)
    assert not r.passed and "NaN" in r.message
    r = check.deep_linear_gradients(lambda *a: _layer_gradients(*a)[:-1], verbose=False)
    assert not r.passed and "expected a list of" in r.message


def test_chapter_5_and_6_float32_answers_are_told_to_use_float64():
    r = check.deep_linear_gradients(
        lambda *a: [g.astype(np.float32) for g in _layer_gradients(*a)], verbose=False)
    assert not r.passed and "float32 precision only" in r.message and "float64" in r.message
    r = check.mass_step(
        lambda *a: tuple(torch.as_tensor(v, dtype=torch.float32) for v in _mass(*a)),
        verbose=False)
    assert not r.passed and "float32 precision only" in r.message
    lines = {ln.split(":", 1)[0]: ln.split(":", 1)[1].strip() for ln in r.message.splitlines()
             if ln.startswith(("expected:", "got:"))}
    assert lines["expected"] != lines["got"]


def test_chapter_5_and_6_checkers_keep_their_hints_and_in_place_check():
    r = check.deep_linear_gradients(
        lambda *a: [g / a[3] for g in _layer_gradients(*a)], verbose=False)
    assert not r.passed and "hint: off by the factor scale" in r.message

    def in_place(weights, X, Y, scale):
        out = _layer_gradients(weights, X, Y, scale)
        weights[0] *= 2
        return out

    r = check.deep_linear_gradients(in_place, verbose=False)
    assert not r.passed and "changed its input weights in place" in r.message
    r = check.mass_step(lambda w, u, g, e1, e2, gm: _mass(w, u, g, e1, -e2, gm), verbose=False)
    assert not r.passed and "hint: the compensation term has the wrong sign" in r.message


def _gone(pid: int) -> bool:
    """The process ``pid`` no longer runs (ended, or a zombie waiting for init)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork (Windows)")
def test_processes_the_function_starts_do_not_outlive_the_check(tmp_path):
    """A fork or a subprocess started by the reader's function (to keep working, or to tamper
    with files, after the check) is killed with the function's process group."""
    import os
    import subprocess
    import time

    pids = tmp_path / "pids"

    def spawns(x, g, eta):
        child = subprocess.Popen(["sleep", "60"])
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        with open(pids, "a") as f:
            f.write(f"{child.pid} {pid}\n")
        return x - eta * g

    r = check.gd_step(spawns, trials=3, verbose=False)
    assert r.passed
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 6
    deadline = time.monotonic() + 5
    while not all(_gone(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(p) for p in started), [p for p in started if not _gone(p)]


def test_an_answer_too_large_is_refused_unread():
    from momentum.check import _isolate

    def huge(x, g, eta):
        return np.zeros(_isolate.MAX_MESSAGE // 8 + 1024)

    # (a long deadline: packing 64 MiB can take seconds on a busy machine)
    r = check.gd_step(huge, trials=2, verbose=False, timeout=120)
    assert not r.passed and "more than an answer may take" in r.message
    r = check.function(huge, lambda x, g, eta: x, [dict(x=np.ones(2), g=np.ones(2), eta=0.1)],
                       verbose=False, timeout=120)
    assert not r.passed and "more than an answer may take" in r.message


def test_a_forged_message_cannot_make_the_checker_allocate():
    """The child's answer comes back as an .npz; one forged by the reader's function (writing
    to the pipe itself) with a compressed entry or an array header claiming gigabytes is
    refused before NumPy allocates (the checker reports the process as ended)."""
    import io
    import json
    import struct
    import zipfile

    from momentum.check import _isolate

    head = json.dumps({"outcome": "returned", "value": {"kind": "array", "index": 0},
                       "changed": []}).encode()
    ok = _isolate._pack(*({"outcome": "returned", "value": {"kind": "array", "index": 0},
                           "changed": []}, [np.arange(3.0)]))[8:]
    assert np.array_equal(_isolate._unpack(ok)[1]["a0"], np.arange(3.0))
    # a compressed entry (a few KB that would expand to 800 MB)
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "<f8", "fortran_order": False,
                                                "shape": (10 ** 8,)})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("a0.npy", "w", force_zip64=True) as f:
            f.write(npy.getvalue())
            for _ in range(100):
                f.write(bytes(8 * 10 ** 6))
    with pytest.raises(ValueError, match="compressed"):
        _isolate._unpack(struct.pack("<I", len(head)) + head + buf.getvalue())
    # an uncompressed entry whose header claims 10^12 numbers
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        npy = io.BytesIO()
        np.lib.format.write_array_header_1_0(npy, {"descr": "<f8", "fortran_order": False,
                                                    "shape": (10 ** 12,)})
        zf.writestr("a0.npy", npy.getvalue() + bytes(64))
    with pytest.raises(ValueError, match="claims more data"):
        _isolate._unpack(struct.pack("<I", len(head)) + head + buf.getvalue())

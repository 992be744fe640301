"""The n-step worst case over a spectrum (theory.spectral_worst_case) and PEPit's worst cases
(momentum.pep)."""

import numpy as np
import pytest

from momentum import theory

MU, L = 0.1, 1.0


def _tunings():
    out = []
    for m in ("gd", "heavy_ball", "nesterov"):
        t = theory.tuning(m, MU, L)
        out.append((m, t.eta, 0.0 if m == "gd" else t.beta))
    return out


@pytest.mark.parametrize("method,eta,beta", _tunings())
def test_polynomials_match_matrix_powers(method, eta, beta):
    lam = np.array([MU, 0.37, L])
    P = theory.step_polynomials(method, lam, eta, beta, 7)
    for j, v in enumerate(lam):
        T = theory.iteration_matrix(method, v, eta, beta)
        for k in range(8):
            assert np.isclose(P[k, j], (np.linalg.matrix_power(T, k) @ [1.0, 1.0])[0])


def test_worst_case_gd_closed_form():
    eta = 1.5 / L
    r = theory.worst_case_on_spectrum("gd", MU, L, eta, steps=6)
    rho = max(abs(1 - eta * MU), abs(1 - eta * L))
    np.testing.assert_allclose(r, rho ** np.arange(7), rtol=1e-10)


@pytest.mark.parametrize("method,eta,beta", _tunings())
def test_worst_case_tends_to_the_rate(method, eta, beta):
    r = theory.worst_case_on_spectrum(method, MU, L, eta, beta, steps=400)
    rate = theory.rate_on_spectrum(method, np.linspace(MU, L, 2001), eta, beta)
    assert r[0] == 1.0
    assert abs(r[-1] ** (1 / 400) - rate) < 0.01


def test_worst_case_is_a_max_over_the_interval():
    t = theory.tuning("heavy_ball", MU, L)
    r = theory.worst_case_on_spectrum("heavy_ball", MU, L, t.eta, t.beta, steps=5)
    lam = np.random.default_rng(0).uniform(MU, L, 5000)
    P = np.abs(theory.step_polynomials("heavy_ball", lam, t.eta, t.beta, 5))
    assert np.all(P.max(1) <= r + 1e-12)


def test_worst_case_invalid():
    with pytest.raises(ValueError):
        theory.worst_case_on_spectrum("gd", 1.0, 0.5, 1.0, steps=3)
    with pytest.raises(ValueError):
        theory.worst_case_on_spectrum("heavy_ball", MU, L, 1.0, 1.2, steps=3)
    with pytest.raises(ValueError):
        theory.step_polynomials("adam", 0.5, 1.0, 0.5, 3)


pepit = pytest.importorskip("PEPit")
from momentum import pep  # noqa: E402


@pytest.mark.parametrize("method,eta,beta", _tunings())
@pytest.mark.parametrize("steps", [1, 2, 4])
def test_pep_on_quadratics_equals_the_spectrum(method, eta, beta, steps):
    lib = theory.worst_case_on_spectrum(method, MU, L, eta, beta, steps=steps)[steps]
    worst = pep.pep_worst_case(method, MU, L, eta, beta, steps=steps,
                               function_class="quadratic")
    assert worst == pytest.approx(lib, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("method,eta,beta", _tunings())
def test_general_class_is_at_least_the_quadratic_one(method, eta, beta):
    lib = theory.worst_case_on_spectrum(method, MU, L, eta, beta, steps=3)[3]
    worst = pep.pep_worst_case(method, MU, L, eta, beta, steps=3)
    assert worst >= lib * (1 - 1e-4)


def test_heavy_ball_worse_beyond_quadratics():
    t = theory.heavy_ball_tuning(MU, L)
    lib = theory.worst_case_on_spectrum("heavy_ball", MU, L, t.eta, t.beta, steps=5)[5]
    worst = pep.pep_worst_case("heavy_ball", MU, L, t.eta, t.beta, steps=5)
    assert worst > 2 * lib


def test_pep_invalid():
    with pytest.raises(ValueError):
        pep.pep_worst_case("adam", MU, L, 1.0, steps=2)
    with pytest.raises(ValueError):
        pep.pep_worst_case("gd", MU, L, 1.0, 0.5, steps=2)
    with pytest.raises(ValueError):
        pep.pep_worst_case("gd", MU, L, 1.0, steps=2, function_class="convex")
    with pytest.raises(ValueError):
        pep.pep_worst_case("gd", MU, L, -1.0, steps=2)


def test_a_solver_stopped_early_falls_back_instead_of_returning_a_wrong_value():
    # Clarabel with 2 iterations reports "optimal_inaccurate" with a value far off (4.6 for
    # 6.3 here): the worst case comes from the fallback settings instead, and is right
    t = theory.tuning("heavy_ball", 0.01, 1.0)
    good = pep.pep_worst_case("heavy_ball", 0.01, 1.0, t.eta, t.beta, steps=3)
    forced = pep.pep_worst_case("heavy_ball", 0.01, 1.0, t.eta, t.beta, steps=3,
                                solver_options={"max_iter": 2})
    assert forced == pytest.approx(good, rel=1e-3)
    lib = theory.worst_case_on_spectrum("heavy_ball", 0.01, 1.0, t.eta, t.beta, steps=3)[3]
    assert forced >= lib * (1 - 1e-3)


def test_no_solver_succeeding_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(pep, "FALLBACKS", ())
    t = theory.tuning("heavy_ball", 0.01, 1.0)
    with pytest.raises(pep.PEPSolverError, match=r"steps=3 .*kappa=100.*max_iter"):
        pep.pep_worst_case("heavy_ball", 0.01, 1.0, t.eta, t.beta, steps=3,
                           solver_options={"max_iter": 2})
    with pytest.raises(pep.PEPSolverError, match="NOSUCHSOLVER"):
        pep.pep_worst_case("gd", 0.1, 1.0, 1.0, steps=2, solver="NOSUCHSOLVER")

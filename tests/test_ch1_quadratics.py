"""Library pieces Chapter 1 relies on: the printed source of Nesterov's method, times_ten."""

import inspect

import pytest

from momentum import optimizers, plotting


def test_nesterov_source_is_its_loop_and_fits_the_page():
    # Chapter 1 prints inspect.getsource(optimizers.nesterov) as it is: the page is 88 wide
    src = inspect.getsource(optimizers.nesterov)
    assert max(len(line) for line in src.splitlines()) <= 88
    assert "x_next = y - eta * g" in src
    assert "x, y = x_next, x_next + beta * (x_next - x)" in src


@pytest.mark.parametrize("v, digits, text", [
    (0.29, 1, r"2.9 \times 10^{-1}"),
    (1.0e-12, 1, r"1.0 \times 10^{-12}"),
    (-34567.0, 2, r"-3.46 \times 10^{4}"),
    (5.0, 0, r"5 \times 10^{0}"),
])
def test_times_ten_writes_mantissa_and_exponent(v, digits, text):
    assert plotting.times_ten(v, digits) == text
    mantissa, exponent = text.split(r" \times 10^")
    assert float(mantissa) * 10 ** int(exponent.strip("{}")) == pytest.approx(v, rel=10**-digits)


@pytest.mark.parametrize("v, digits, name", [
    (float("nan"), 1, "v"), (float("inf"), 1, "v"), (1.0, -1, "digits"), (1.0, 1.5, "digits"),
])
def test_times_ten_rejects_bad_input(v, digits, name):
    with pytest.raises(ValueError, match=name):
        plotting.times_ten(v, digits)

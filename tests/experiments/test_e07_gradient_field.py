import pytest


def test_numerical_gradient_at_the_three_points(run_quick):
    numbers = run_quick("gradient-field")["numbers"]
    assert numbers["points"] == [[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]]
    for got, want in zip(numbers["gradients"], [[6, 8], [0, 4], [6, 0]], strict=True):
        assert got == pytest.approx(want, abs=1e-6)
    assert numbers["max_abs_error_vs_2x"] < 1e-6

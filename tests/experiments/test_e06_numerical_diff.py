import pytest


def test_slopes_partials_and_the_rounding_pitfall(run_quick):
    numbers = run_quick("numerical-diff")["numbers"]
    assert numbers["slope_numerical"] == pytest.approx([0.2, 0.3], abs=1e-6)
    assert numbers["df_dx0_at_3_4"] == pytest.approx(6.0, abs=1e-6)
    assert numbers["df_dx1_at_3_4"] == pytest.approx(8.0, abs=1e-6)
    assert all(f > 100 * c for f, c in zip(numbers["slope_error_forward"],
                                           numbers["slope_error_central"], strict=True))
    assert numbers["float32_of_1e-50"] == 0.0
    assert numbers["forward_diff_h_1e-50_at_5"] == 0.0

import pytest


def test_naive_softmax_is_nan_and_the_stable_one_is_finite(run_quick):
    numbers = run_quick("softmax-overflow")["numbers"]
    assert numbers["naive"] == ["nan", "nan", "nan"]
    assert numbers["naive_all_nan"] is True
    assert any("overflow" in text for text in numbers["naive_warnings"])
    assert numbers["stable_all_finite"] is True
    assert sum(numbers["stable"]) == pytest.approx(1.0)
    assert numbers["stable"] == pytest.approx([9.9995e-01, 4.5398e-05, 2.0611e-09], rel=1e-4)

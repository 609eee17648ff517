import pytest


def test_loss_values_of_the_course(run_quick):
    numbers = run_quick("loss-functions")["numbers"]
    assert numbers["mse_right"] == pytest.approx(0.0195)
    assert numbers["sse_right"] == pytest.approx(0.0975)
    assert numbers["cross_entropy_right"] == pytest.approx(0.5108, abs=1e-4)
    assert numbers["mse_wrong"] == pytest.approx(0.1195)
    assert numbers["sse_wrong"] == pytest.approx(0.5975)
    assert numbers["cross_entropy_wrong"] == pytest.approx(2.3026, abs=1e-4)

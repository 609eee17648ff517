import pytest


def test_three_layer_network_gives_the_books_output(run_quick):
    numbers = run_quick("three-layer-forward")["numbers"]
    assert numbers["y"] == pytest.approx([0.3168, 0.6963], abs=1e-4)
    assert numbers["a1"] == pytest.approx([0.3, 0.7, 1.1])
    assert len(numbers["z1"]) == 3 and len(numbers["z2"]) == 2

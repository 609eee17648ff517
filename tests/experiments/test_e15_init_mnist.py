import pytest


def test_std_001_does_not_learn_and_he_learns_fastest(needs_mnist, run_quick):
    record = run_quick("init-mnist")
    final = record["numbers"]["final_mean_loss"]
    assert set(final) == {"std=0.01", "Xavier", "He"}
    # std 0.01: the loss stays at ln(10) = 2.30, chance level for 10 classes.
    assert final["std=0.01"] == pytest.approx(2.30, abs=0.02)
    assert record["numbers"]["first_loss"]["std=0.01"] == pytest.approx(2.30, abs=0.02)
    # He is clearly ahead of Xavier, which is ahead of std 0.01.
    assert final["He"] < 0.7 * final["Xavier"]
    assert final["Xavier"] < final["std=0.01"]

import numpy as np
import pytest

from dlscratch.experiments.e21_accuracy_techniques import AUGMENT, augment


def test_quick_run_is_well_formed(run_quick, needs_mnist):
    record = run_quick("accuracy-techniques")
    numbers, params = record["numbers"], record["params"]
    acc = numbers["test_acc"]
    assert set(acc) == {"baseline", "augmentation", "lr decay", "ensemble"}
    assert all(0.0 <= a <= 1.0 for a in acc.values())
    for name, gain in numbers["gain_over_baseline"].items():
        assert gain == pytest.approx(acc[name] - acc["baseline"])
    members = numbers["ensemble_member_acc"]
    assert len(members) == params["ensemble_size"] == 3
    # 5 trainings: kept small so this stays under 15% of `experiment all --quick`
    assert (params["epochs"], params["train_size"], params["eval_limit_per_epoch"]) == (2, 600,
                                                                                        200)
    assert members[0] == acc["baseline"]  # the baseline is the first member
    assert numbers["trainings"] == 2 + len(members)
    assert numbers["ensemble_gain_over_mean_member"] == pytest.approx(
        acc["ensemble"] - np.mean(members))
    assert all(len(c) == params["epochs"] + 1 for c in numbers["test_acc_per_epoch"].values())


def test_augment_uses_the_documented_settings():
    x = np.zeros((3, 1, 28, 28), dtype=np.float32)
    x[:, 0, 10:18, 12:16] = 1.0
    y = augment(x, np.random.default_rng(0))
    assert y.shape == x.shape and y.dtype == np.float32
    assert AUGMENT == {"max_shift": 2, "max_angle": 10}
    assert not np.array_equal(x, y)

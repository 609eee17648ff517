import numpy as np


def test_learning_rate_decides_converge_diverge_or_stall(run_quick):
    numbers = run_quick("gradient-descent")["numbers"]
    assert np.linalg.norm(numbers["final_lr_0.1"]) < 1e-3
    assert numbers["norm_lr_10"] > 1e6
    assert np.linalg.norm(np.subtract(numbers["final_lr_1e-10"], [-3.0, 4.0])) < 1e-6

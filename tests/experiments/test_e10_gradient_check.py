def test_backprop_matches_the_numerical_gradient(run_quick, needs_mnist):
    numbers = run_quick("gradient-check")["numbers"]
    assert set(numbers["mean_abs_diff"]) == {"W1", "b1", "W2", "b2"}
    assert all(d < 1e-6 for d in numbers["mean_abs_diff"].values())
    assert all(e < 1e-3 for e in numbers["gradient_check_max_relative_error"].values())

def test_quick_training_learns_and_backprop_is_much_faster(run_quick, needs_mnist):
    record = run_quick("train-two-layer")
    numbers = record["numbers"]
    assert record["params"]["sampling"] == "replacement"
    assert numbers["final_train_acc"] > 0.6
    assert numbers["final_test_acc"] > 0.6
    assert numbers["loss_mean_last_100"] < 0.7 * numbers["loss_mean_first_100"]
    assert numbers["entries_timed"] < numbers["parameters"] == 39760
    assert numbers["numerical_over_backprop"] > 100

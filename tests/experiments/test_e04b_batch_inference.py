def test_batches_give_the_same_predictions_faster(run_quick, needs_mnist):
    numbers = run_quick("batch-inference")["numbers"]
    assert numbers["prediction_mismatches"] == 0
    assert numbers["accuracy_one_by_one"] == numbers["accuracy_batch"]
    assert numbers["accuracy_batch"] > 0.7
    assert numbers["speedup"] > 1

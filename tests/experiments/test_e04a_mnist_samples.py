def test_mnist_shapes_range_and_label_counts(run_quick, needs_mnist):
    numbers = run_quick("mnist-samples")["numbers"]
    assert numbers["x_train_shape"] == [60000, 784]
    assert numbers["x_test_shape"] == [10000, 784]
    assert numbers["raw_dtype"] == "uint8" and numbers["raw_range"] == [0, 255]
    assert numbers["normalized_dtype"] == "float32"
    assert numbers["normalized_range"] == [0.0, 1.0]
    assert numbers["train_label_counts"] == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                             5851, 5949]
    assert sum(numbers["test_label_counts"]) == 10000

def test_weight_decay_and_dropout_shrink_the_train_test_gap(needs_mnist, run_quick):
    record = run_quick("overfitting")
    numbers = record["numbers"]
    gap = numbers["mean_gap_last_10_epochs"]
    train = numbers["final_train_acc"]
    assert record["params"]["train_size"] == 300
    # Without regularisation the net fits its 300 images far better than the test images.
    assert train["plain"] > 0.85
    assert gap["plain"] > 0.2
    # Weight decay and dropout both shrink that gap (the dropout net also learns more slowly).
    assert gap["weight decay 0.1"] < gap["plain"] - 0.05
    assert gap["dropout 0.2"] < gap["plain"] - 0.05
    assert train["dropout 0.2"] > 0.25  # it does learn: well above chance (0.1)

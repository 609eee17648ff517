def test_batchnorm_learns_at_small_weight_scales(needs_mnist, run_quick):
    record = run_quick("batchnorm")
    numbers = record["numbers"]
    scales = numbers["weight_scales"]
    bn, plain = numbers["final_train_acc_bn"], numbers["final_train_acc_plain"]
    assert len(scales) == len(bn) == len(plain) == 4
    small = [i for i, w in enumerate(scales) if w <= 0.01]
    assert len(small) >= 2
    for i in small:
        # Without batch norm nothing is learned (chance level); with it, clearly more.
        assert plain[i] < 0.2
        assert bn[i] > plain[i] + 0.2
    # With batch norm the net ends higher at every scale.
    assert all(b > p for b, p in zip(bn, plain, strict=True))
    assert not any(numbers["diverged_bn"])

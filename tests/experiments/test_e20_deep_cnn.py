import numpy as np

from dlscratch.experiments.e20_deep_cnn import predict_with_float16_weights
from dlscratch.nets import DeepConvNet


def test_quick_run_is_well_formed(run_quick, needs_mnist):
    numbers = run_quick("deep-cnn")["numbers"]
    n, wrong = numbers["test_size"], numbers["misclassified_count"]
    assert 0.0 <= numbers["test_acc"] <= 1.0 and 0.0 <= numbers["test_acc_float16_weights"] <= 1.0
    assert wrong == round((1 - numbers["test_acc"]) * n)
    assert len(numbers["misclassified_index"]) == len(numbers["misclassified_true"]) == wrong
    assert all(t != p for t, p in zip(numbers["misclassified_true"],
                                      numbers["misclassified_pred"], strict=True))
    assert numbers["misclassified_shown"] == min(40, wrong)
    assert abs(numbers["float16_acc_change"]) <= 0.01
    assert numbers["predictions_changed_by_float16"] <= 0.01 * n
    assert numbers["weight_bytes_float32"] == 2 * numbers["weight_bytes_float16"]
    assert numbers["float16_max_rel_rounding_normal_range"] <= 2.0 ** -11


def test_float16_weights_round_and_are_restored():
    net = DeepConvNet(seed=0)
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    before = {k: p.copy() for k, p in net.params.items()}
    y32 = net.predict(x)
    y16 = predict_with_float16_weights(net, x)
    assert y16.dtype == np.float32
    assert not np.array_equal(y16, y32)
    np.testing.assert_allclose(y16, y32, rtol=0.02, atol=1e-3)
    for key, p in net.params.items():
        assert np.array_equal(p, before[key])

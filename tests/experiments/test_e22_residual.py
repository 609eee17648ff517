import numpy as np

from dlscratch.experiments.e22_residual import FULL, QUICK, build
from dlscratch.gradient import gradient_check
from dlscratch.layers import Affine, Convolution, Pooling, Relu, Residual
from dlscratch.nets import Sequential


def test_residual_trains_where_the_plain_net_stalls(run_quick, needs_mnist):
    numbers = run_quick("residual")["numbers"]
    loss, acc = numbers["final_loss"], numbers["test_acc"]
    assert loss["plain"] > 2.25  # stuck at ln 10 = 2.30
    assert loss["residual"] < loss["plain"] - 1.0
    assert acc["residual"] > 0.5 and acc["plain"] < 0.25
    grad = numbers["first_conv_grad_norm_at_init"]
    assert grad["residual"] > 1e6 * grad["plain"]
    assert len(numbers["conv_grad_norms_at_init"]["plain"]) == 11


def test_plain_and_residual_nets_start_from_the_same_weights():
    plain, residual = build(False, seed=3), build(True, seed=3)
    assert len(plain.params) == len(residual.params)
    for a, b in zip(plain.params.values(), residual.params.values(), strict=True):
        assert np.array_equal(a, b)
    assert sum(isinstance(layer, Residual) for layer in residual.stack.layers) == 5


def test_residual_block_gradient_check_float64():
    rng = np.random.default_rng(0)

    def conv(cin, cout):
        return Convolution.create(cin, cout, 3, pad=1, weight_init_std="he", rng=rng,
                                  dtype=np.float64)

    net = Sequential([conv(1, 3), Relu(),
                      Residual([conv(3, 3), Relu(), conv(3, 3)]), Relu(),
                      Pooling(2, 2, stride=2),
                      Affine.create(3 * 3 * 3, 4, "he", rng, dtype=np.float64)])
    x = rng.standard_normal((5, 1, 6, 6))
    t = rng.integers(0, 4, 5)
    errors = gradient_check(net, x, t, max_entries=None)
    assert {"Residual1.W1", "Residual1.b1", "Residual1.W2", "Residual1.b2"} <= errors.keys()
    assert max(errors.values()) < 1e-4, errors


def test_quick_setting_keeps_residual_a_small_share_of_the_quick_run():
    """With 16 channels, 80 iterations of 32 and evaluations on 300 images, residual took about
    a fifth to half of `experiment all --quick` (6.1 of 29 CPU seconds, 1 thread). Training
    costs ~ iterations x batch x channels^2 (less in practice: small convs have fixed costs).
    The quick setting keeps the depth (the point) and cuts that to under a fifth: 2.5 of 21.5
    CPU seconds, under 15% of the run. Asserted on the settings, not on a clock."""
    def cost(s):
        return s["iterations"] * s["batch_size"] * s["channels"] ** 2

    old = {"iterations": 80, "batch_size": 32, "channels": 16}
    assert cost(QUICK) * 5 <= cost(old)
    assert QUICK["eval_limit_per_epoch"] <= 200 and QUICK["test_size"] <= 300
    assert QUICK["iterations"] >= 3 * QUICK["final_loss_over_last"]  # a curve, not a point
    assert FULL == {"channels": 16, "batch_size": 100, "iterations": 800, "train_size": 60000,
                    "test_size": 10000, "eval_limit_per_epoch": 1000,
                    "final_loss_over_last": 100}  # the course's setting is unchanged
    assert len(build(True, seed=0, channels=QUICK["channels"]).params) == len(
        build(True, seed=0).params)  # the same depth: 11 conv layers and the affine

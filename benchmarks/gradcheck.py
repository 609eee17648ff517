"""Guards for speed work: float64 gradient checks and float32 dtype checks of whole networks.

    python -m benchmarks.gradcheck

1. Every benchmarked network (and small nets through the layers' other code paths: conv
   stride 2, padding >= filter size, non-square filters, overlapping pooling, batch norm per
   channel and per activation) is built in
   float64 and its backprop gradients are compared with central differences
   (`dlscratch.gradient.gradient_check`, 100 sampled entries per parameter).
2. In float32, a training step (forward, backward, Adam and SGD updates) must keep every layer
   output, gradient, parameter and optimizer state float32: no silent upcast.
Exits 1 if any check fails.
"""

from __future__ import annotations

import sys

import numpy as np

from dlscratch.gradient import gradient_check
from dlscratch.layers import Affine, BatchNormalization, Convolution, Pooling, Relu
from dlscratch.nets import DeepConvNet, MultiLayerNet, Sequential, SimpleConvNet, TwoLayerNet
from dlscratch.optim import get_optimizer

TOL = 1e-6
WORKLOAD_NETS = ("TwoLayerNet", "MultiLayerNet", "SimpleConvNet", "DeepConvNet")


def variant_net(dtype, seed=0):
    """Small conv net through every conv/pool code path: stride 1 (flipped-filter dx), stride 2,
    a non-square filter and padding >= filter size (col2im dx), overlapping 3x3/2 pooling."""
    rng = np.random.default_rng(seed)

    def conv(c, fn, fh, fw, stride, pad):
        return Convolution(rng.normal(0, 0.5, (fn, c, fh, fw)).astype(dtype),
                           rng.normal(0, 0.1, fn).astype(dtype), stride, pad)

    return Sequential([                     # (N, 2, 9, 11)
        conv(2, 3, 3, 3, 1, 1), Relu(),     # (N, 3, 9, 11)
        conv(3, 4, 3, 3, 2, 1),             # (N, 4, 5, 6)
        conv(4, 3, 2, 3, 1, 0), Relu(),     # (N, 3, 4, 4)
        conv(3, 4, 2, 2, 1, 2),             # (N, 4, 7, 7)
        conv(4, 3, 3, 3, 1, 0),             # (N, 3, 5, 5)
        Pooling(3, 3, stride=2, pad=1),     # (N, 3, 3, 3)
        Affine(rng.normal(0, 0.3, (27, 5)).astype(dtype), np.zeros(5, dtype)),
    ])


def batchnorm_net(dtype, seed=0):
    """Conv -> per-channel batch norm -> ReLU -> pool -> affine -> per-activation batch norm."""
    rng = np.random.default_rng(seed)
    return Sequential([
        Convolution.create(2, 4, 3, pad=1, weight_init_std="he", rng=rng, dtype=dtype),
        BatchNormalization.create(4, dtype=dtype), Relu(), Pooling(2, 2, 2),
        Affine.create(4 * 3 * 3, 6, "he", rng, dtype),
        BatchNormalization.create(6, dtype=dtype), Relu(),
        Affine.create(6, 5, "he", rng, dtype),
    ])


NETS = {
    "TwoLayerNet": (lambda d: TwoLayerNet(784, 50, 10, weight_init_std=0.1, dtype=d, seed=0),
                    (4, 784)),
    "MultiLayerNet": (lambda d: MultiLayerNet(784, [100] * 5, 10, weight_init_std="he",
                                              dtype=d, seed=0), (4, 784)),
    "SimpleConvNet": (lambda d: SimpleConvNet(weight_init_std=0.1, dtype=d, seed=0),
                      (3, 1, 28, 28)),
    "DeepConvNet": (lambda d: DeepConvNet(dtype=d, seed=0), (3, 1, 28, 28)),
    "conv variants": (variant_net, (3, 2, 9, 11)),
    "batch norm": (batchnorm_net, (4, 2, 6, 6)),
}


def data(shape, dtype, classes=10, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random(shape).astype(dtype)
    return x, rng.integers(0, classes, shape[0])


def check_gradients() -> bool:
    ok = True
    for name, (build, shape) in NETS.items():
        net = build(np.float64)
        classes = 10 if name in WORKLOAD_NETS else 5
        x, t = data(shape, np.float64, classes)
        errors = gradient_check(net, x, t)
        worst = max(errors, key=errors.get)
        good = errors[worst] < TOL
        ok &= good
        print(f"  {name:<15} max rel error {errors[worst]:.1e} ({worst})"
              f"{'' if good else '  FAIL'}")
    return ok


def check_float32() -> bool:
    ok = True
    for name, (build, shape) in NETS.items():
        classes = 10 if name in WORKLOAD_NETS else 5
        x, t = data(shape, np.float32, classes)
        bad = []
        for opt_name in ("adam", "sgd"):
            net = build(np.float32)
            for layer in net.stack.layers:
                layer.forward = _checked(layer, layer.forward, bad)
            opt = get_optimizer(opt_name)
            for _ in range(2):
                grads = net.gradient(x, t)
                bad += [f"grad {k} {g.dtype}" for k, g in grads.items() if g.dtype != np.float32]
                opt.update(net.params, grads)
            bad += [f"param {k} {p.dtype}" for k, p in net.params.items() if p.dtype != np.float32]
            bad += [f"{opt_name} state {s}/{k}" for s, table in opt.state.items()
                    for k, a in table.items() if a.dtype != np.float32]
            if net.predict(x, batch_size=2).dtype != np.float32:
                bad.append("predict")
        ok &= not bad
        print(f"  {name:<15} {'float32 throughout' if not bad else 'UPCAST: ' + ', '.join(bad)}")
    return ok


def _checked(layer, forward, bad):
    def wrapped(x, train_flg=True):
        out = forward(x, train_flg)
        if out.dtype != np.float32:
            bad.append(f"{layer.name} output {out.dtype}")
        return out
    return wrapped


def main() -> int:
    print("float64 gradient checks (backprop vs central differences):")
    ok = check_gradients()
    print("float32 training steps:")
    ok &= check_float32()
    print("all good" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

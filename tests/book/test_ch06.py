"""Chapter 6 through `dlscratch book`: the optimizer paths on f(x, y) = x**2/20 + y**2, the
book's Trainer output and schedule, and every public name of `common/` and `dataset/mnist.py`.

The optimizer paths' end points are the reference values of BOOK-API.md §6 (the book's code run
on NumPy 2.4); the Trainer's lines and counts follow the schedule the book's Trainer states.
"""

from __future__ import annotations

import re

from ._helpers import needs_mnist

OPTIMIZER_PATHS = """\
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    import matplotlib.pyplot as plt
    from collections import OrderedDict
    from common.optimizer import *


    def f(x, y):
        return x**2 / 20.0 + y**2


    def df(x, y):
        return x / 10.0, 2.0*y

    init_pos = (-7.0, 2.0)
    params = {}
    params['x'], params['y'] = init_pos[0], init_pos[1]
    grads = {}
    grads['x'], grads['y'] = 0, 0

    optimizers = OrderedDict()
    optimizers["SGD"] = SGD(lr=0.95)
    optimizers["Momentum"] = Momentum(lr=0.1)
    optimizers["AdaGrad"] = AdaGrad(lr=1.5)
    optimizers["Adam"] = Adam(lr=0.3)
    optimizers["Nesterov"] = Nesterov(lr=0.1)
    optimizers["RMSprop"] = RMSprop(lr=0.1)

    idx = 1
    for key in optimizers:
        optimizer = optimizers[key]
        x_history = []
        y_history = []
        params['x'], params['y'] = init_pos[0], init_pos[1]

        for i in range(30):
            x_history.append(params['x'])
            y_history.append(params['y'])
            grads['x'], grads['y'] = df(params['x'], params['y'])
            optimizer.update(params, grads)

        print(key, repr(float(params['x'])), repr(float(params['y'])))

        x = np.arange(-10, 10, 0.01)
        y = np.arange(-5, 5, 0.01)
        X, Y = np.meshgrid(x, y)
        Z = f(X, Y)
        mask = Z > 7
        Z[mask] = 0

        plt.subplot(3, 2, idx)
        idx += 1
        plt.plot(x_history, y_history, 'o-', color="red")
        plt.contour(X, Y, Z)
        plt.ylim(-10, 10)
        plt.xlim(-10, 10)
        plt.plot(0, 0, '+')
        plt.title(key)
        plt.xlabel("x")
        plt.ylabel("y")

    print("state:", type(optimizers["Momentum"].v).__name__, SGD().lr, Adam().lr,
          Adam().beta1, Adam().beta2, RMSprop().decay_rate, Momentum().momentum)
    plt.show()
"""

# BOOK-API.md §6: the book's optimizers, 30 updates from (-7, 2)
BOOK_PATHS = {
    "SGD": (-0.3503929957523197, 0.0847823165504322),
    "Momentum": (0.896413858493733, 0.08808560171506971),
    "AdaGrad": (-0.12016232231416045, 2.486389893984459e-17),
    "Adam": (0.13600685239498186, 0.31824537553721943),
}


def _nesterov_and_rmsprop():
    """The book's Nesterov (this repository's order) and RMSprop rules, written out here on
    plain floats: an independent reference for the two paths BOOK-API.md does not list."""
    out = {}
    x, y, vx, vy, m, lr = -7.0, 2.0, 0.0, 0.0, 0.9, 0.1
    for _ in range(30):
        gx, gy = x / 10.0, 2.0 * y
        vx, vy = vx * m - lr * gx, vy * m - lr * gy
        x += m * m * vx - (1 + m) * lr * gx
        y += m * m * vy - (1 + m) * lr * gy
    out["Nesterov"] = (x, y)
    x, y, hx, hy, d = -7.0, 2.0, 0.0, 0.0, 0.99
    for _ in range(30):
        gx, gy = x / 10.0, 2.0 * y
        hx, hy = hx * d + (1 - d) * gx * gx, hy * d + (1 - d) * gy * gy
        x -= lr * gx / (hx ** 0.5 + 1e-7)
        y -= lr * gy / (hy ** 0.5 + 1e-7)
    out["RMSprop"] = (x, y)
    return out


def test_optimizer_paths_on_a_dict_of_floats(book):
    book.write("ch06/optimizer_compare_naive.py", OPTIMIZER_PATHS)
    proc = book.run("ch06/optimizer_compare_naive.py")
    ends = {}
    for line in proc.stdout.splitlines()[:6]:
        name, x, y = line.split()
        ends[name] = (float(x), float(y))
    for name, (x, y) in {**BOOK_PATHS, **_nesterov_and_rmsprop()}.items():
        assert abs(ends[name][0] - x) <= 1e-12 * max(1.0, abs(x)), name
        assert abs(ends[name][1] - y) <= 1e-12 * max(1.0, abs(y)), name
    assert proc.stdout.splitlines()[6] == "state: dict 0.01 0.001 0.9 0.999 0.99 0.9"
    # no display: plt.show() saved the figure instead of blocking
    saved = sorted(book.figures.glob("optimizer_compare_naive-*.png"))
    assert [p.name for p in saved] == ["optimizer_compare_naive-1.png"]
    assert saved[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure saved to {saved[0]}" in proc.stderr


TRAINER = """\
    import os, sys
    sys.path.append(os.path.dirname(os.path.abspath(__file__)) + "/..")
    import numpy as np
    from dataset.mnist import load_mnist
    from common.multi_layer_net_extend import MultiLayerNetExtend
    from common.trainer import Trainer

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    x_train, t_train = x_train[:300], t_train[:300]
    x_test, t_test = x_test[:500], t_test[:500]

    def run(seed, verbose):
        np.random.seed(seed)
        network = MultiLayerNetExtend(input_size=784, hidden_size_list=[50, 50], output_size=10,
                                      use_dropout=True, dropout_ration=0.2, use_batchnorm=True)
        trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=2,
                          mini_batch_size=100, optimizer='sgd', optimizer_param={'lr': 0.01},
                          verbose=verbose)
        trainer.train()
        return trainer

    trainer = run(1, True)
    print("lists:", len(trainer.train_loss_list), len(trainer.train_acc_list),
          len(trainer.test_acc_list))
    print("iter_per_epoch:", repr(trainer.iter_per_epoch), trainer.max_iter, trainer.current_epoch)
    print("layers:", list(trainer.network.layers))
    again = run(1, False)
    other = run(2, False)
    print("same seed, same run:", again.train_loss_list == trainer.train_loss_list)
    print("other seed, other run:", other.train_loss_list != trainer.train_loss_list)
"""


@needs_mnist
def test_trainer_prints_the_books_lines_on_the_books_schedule(book):
    """300 samples, batch 100: iter_per_epoch 3.0, 6 updates; accuracy after the first update
    (epoch 1) and after the fourth (epoch 2); each loss line follows its update."""
    book.write("ch06/train_small.py", TRAINER)
    out = book.lines("ch06/train_small.py")
    number = r"\d+(\.\d+)?(e-?\d+)?"
    loss = re.compile(rf"train loss:{number}")
    epoch = re.compile(rf"=== epoch:(\d), train acc:{number}, test acc:{number} ===")
    kinds = ["loss" if loss.fullmatch(line) else "epoch" if epoch.fullmatch(line) else line
             for line in out[:10]]
    assert kinds == ["loss", "epoch", "loss", "loss", "loss", "epoch", "loss", "loss",
                     "=============== Final Test Accuracy ===============", out[9]]
    assert [epoch.fullmatch(out[i]).group(1) for i in (1, 5)] == ["1", "2"]
    assert re.fullmatch(rf"test acc:{number}", out[9])
    assert out[10:] == [
        "lists: 6 2 2",
        "iter_per_epoch: 3.0 6 2",
        "layers: ['Affine1', 'BatchNorm1', 'Activation_function1', 'Dropout1', 'Affine2', "
        "'BatchNorm2', 'Activation_function2', 'Dropout2', 'Affine3']",
        "same seed, same run: True",
        "other seed, other run: True",
    ]

"""Chapters 7-8 through `dlscratch book`: SimpleConvNet and DeepConvNet as the book builds them,
their gradient check, a small training run with the Trainer, save/load, and the book's pickled
weights read on the fly through the restricted unpickler."""

from __future__ import annotations

import re

import numpy as np

from ._helpers import needs_mnist
from .pickles import book_pickle, malicious_pickle

GRADIENT_CHECK = """\
    import numpy as np
    from simple_convnet import SimpleConvNet
    from dlscratch.gradient import numerical_gradient as fine_gradient

    np.random.seed(0)
    network = SimpleConvNet(input_dim=(1,10, 10),
                            conv_param = {'filter_num':10, 'filter_size':3, 'pad':0, 'stride':1},
                            hidden_size=10, output_size=10, weight_init_std=0.01)

    X = np.random.rand(100).reshape((1, 1, 10, 10))
    T = np.array([1]).reshape((1,1))

    grad_num = network.numerical_gradient(X, T)
    grad = network.gradient(X, T)

    for key, val in grad_num.items():
        fine = fine_gradient(lambda _: network.loss(X, T), network.params[key], h=1e-7)
        print(key, np.abs(grad_num[key] - grad[key]).mean(), np.abs(grad[key]).mean(),
              np.abs(fine - grad[key]).mean())
    print("W2", network.params["W2"].shape, list(network.layers), type(network.last_layer).__name__)
"""


def test_simple_convnet_gradient_check_with_column_labels(book):
    """ch07/gradient_check.py (no sys.path line; labels of shape (1, 1)), plus a finer check.

    With weights of 0.01, the book's h = 1e-4 moves some ReLU inputs and pooling maxima across
    their kinks, so its check differs from backprop by up to a few percent of the gradient here
    (1e-6 absolute for W1); with h = 1e-7 the differences are ~1e-9. A wrong gradient would be
    off by about its own size at either h."""
    book.write("ch07/gradient_check.py", GRADIENT_CHECK)
    out = book.lines("ch07/gradient_check.py")
    assert [line.split()[0] for line in out[:6]] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for line in out[:6]:
        book_h, size, fine_h = map(float, line.split()[1:])
        assert book_h < 0.2 * size and fine_h < 1e-7 and fine_h < 1e-4 * size, line
    assert out[6] == ("W2 (160, 10) ['Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2'] "
                      "SoftmaxWithLoss")


TRAIN_CONVNET = """\
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    from dataset.mnist import load_mnist
    from simple_convnet import SimpleConvNet
    from common.trainer import Trainer

    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
    x_train, t_train = x_train[:200], t_train[:200]
    x_test, t_test = x_test[:300], t_test[:300]

    np.random.seed(0)
    network = SimpleConvNet(input_dim=(1,28,28),
                            conv_param = {'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                            hidden_size=100, output_size=10, weight_init_std=0.01)
    np.random.seed(0)
    draws = [0.01 * np.random.randn(30, 1, 5, 5), 0.01 * np.random.randn(4320, 100),
             0.01 * np.random.randn(100, 10)]
    print("book's draws:", all(np.array_equal(network.params["W%d" % (i + 1)], d)
                               for i, d in enumerate(draws)))

    trainer = Trainer(network, x_train, t_train, x_test, t_test,
                      epochs=1, mini_batch_size=100,
                      optimizer='Adam', optimizer_param={'lr': 0.001},
                      evaluate_sample_num_per_epoch=100)
    trainer.train()

    network.save_params("params.pkl")
    print("Saved Network Parameters!")

    restored = SimpleConvNet()
    restored.load_params("params.pkl")
    print("restored:", all(np.array_equal(restored.params[k], v) for k, v in network.params.items()),
          restored.layers["Affine2"].W is restored.params["W3"],
          np.array_equal(restored.predict(x_test[:5]), network.predict(x_test[:5])))
    print("accuracy counts whole batches only:", network.accuracy(x_test[:150], t_test[:150])
          == np.sum(np.argmax(network.predict(x_test[:100]), axis=1) == t_test[:100]) / 150)
    print("files:", sorted(f for f in os.listdir(".") if f.startswith("params")))
"""  # noqa: E501 - a script in the book's style


@needs_mnist
def test_train_convnet_saves_and_loads_npz(book):
    book.write("ch07/train_convnet.py", TRAIN_CONVNET)
    out = book.lines("ch07/train_convnet.py")
    assert out[0] == "book's draws: True"
    assert re.fullmatch(r"train loss:\S+", out[1])
    assert re.fullmatch(r"=== epoch:1, train acc:\S+, test acc:\S+ ===", out[2])
    assert re.fullmatch(r"train loss:\S+", out[3])
    assert out[4] == "=============== Final Test Accuracy ==============="
    assert re.fullmatch(r"test acc:0\.\d+", out[5])
    assert out[6:] == ["Saved Network Parameters!", "restored: True True True",
                       "accuracy counts whole batches only: True", "files: ['params.npz']"]
    with np.load(book.root / "ch07" / "params.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "W3", "b1", "b2", "b3"]
        assert npz["W2"].shape == (4320, 100) and npz["W2"].dtype == np.float64


APPLY_FILTER = """\
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    from simple_convnet import SimpleConvNet
    from common.layers import Convolution

    network = SimpleConvNet(input_dim=(1,28,28),
                            conv_param = {'filter_num':30, 'filter_size':5, 'pad':0, 'stride':1},
                            hidden_size=100, output_size=10, weight_init_std=0.01)
    network.load_params("params.pkl")
    print("W1 sum:", repr(float(network.params["W1"].sum())))
    img = np.linspace(0, 1, 333 * 250, dtype=np.float32).reshape(1, 1, 333, 250)
    w = network.params['W1'][1].reshape(1, 1, 5, 5)
    out = Convolution(w, 0).forward(img)
    print("out:", out.shape)
"""


def _book_params(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    shapes = {"b2": (100,), "W3": (100, 10), "W2": (4320, 100), "b1": (30,), "b3": (10,),
              "W1": (30, 1, 5, 5)}  # BOOK-API.md §12: ch07/params.pkl's keys, in pickle order
    return {k: rng.standard_normal(s) for k, s in shapes.items()}


def test_load_params_reads_the_books_pickle_through_the_restricted_path(book):
    params = _book_params(3)
    (book.root / "ch07").mkdir(parents=True)
    (book.root / "ch07" / "params.pkl").write_bytes(book_pickle(params, 3, "numpy.core"))
    book.write("ch07/apply_filter.py", APPLY_FILTER)
    proc = book.run("ch07/apply_filter.py")
    assert proc.stdout.splitlines() == [f"W1 sum: {float(params['W1'].sum())!r}",
                                        "out: (1, 1, 329, 246)"]
    assert "params.pkl: read through the restricted unpickler" in proc.stderr
    assert sorted(p.name for p in (book.root / "ch07").iterdir()) == ["apply_filter.py",
                                                                      "params.pkl"]


def test_a_hostile_params_pkl_stops_the_script_with_one_line(book):
    marker = book.root.parent / "PWNED"
    (book.root / "ch07").mkdir(parents=True)
    (book.root / "ch07" / "params.pkl").write_bytes(malicious_pickle(marker))
    script = book.write("ch07/apply_filter.py", APPLY_FILTER)
    proc = book.run("ch07/apply_filter.py", check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"dlscratch: error: {script}:10: ")
    assert "refused to unpickle: it names the global 'posix.system'" in proc.stderr
    assert not marker.exists()
    debug = book.run("ch07/apply_filter.py", options=("--debug",), check=False)
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.splitlines()[-1] == proc.stderr.strip()


DEEP_CONVNET = """\
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    from deep_convnet import DeepConvNet
    from common.layers import Convolution, Affine, Dropout, Pooling

    np.random.seed(2)
    network = DeepConvNet()
    np.random.seed(2)
    fan_in = [1*9, 16*9, 16*9, 32*9, 32*9, 64*9, 64*4*4, 50]
    shapes = [(16, 1, 3, 3), (16, 16, 3, 3), (32, 16, 3, 3), (32, 32, 3, 3), (64, 32, 3, 3),
              (64, 64, 3, 3), (1024, 50), (50, 10)]
    ok = True
    for i, (n, shape) in enumerate(zip(fan_in, shapes)):
        ok = ok and np.array_equal(network.params["W%d" % (i + 1)], np.sqrt(2.0 / n) * np.random.randn(*shape))
    print("He draws:", ok, list(network.params)[:4])
    print("layers:", len(network.layers), [type(network.layers[i]).__name__ for i in (0, 4, 15, 17, 18, 19)])

    x = np.random.rand(3, 1, 28, 28)
    t = np.array([1, 2, 3])
    grads = network.gradient(x, t)
    print("grads:", all(grads[k].shape == network.params[k].shape for k in network.params), len(grads))
    h = x
    for layer in network.layers[:19]:
        h = layer.forward(h, False) if isinstance(layer, Dropout) else layer.forward(h)
    print("last dropout halves:", np.allclose(network.predict(x, train_flg=False), 0.5 * h))

    network.save_params("deep_convnet_params.pkl")
    again = DeepConvNet()
    again.load_params("deep_convnet_params.pkl")
    print("round trip:", np.array_equal(again.predict(x), network.predict(x)),
          again.layers[18].W is again.params["W8"])
    for key in ("W1", "W7"):
        network.params[key][...] = network.params[key].astype(np.float16)  # half_float_network
    print("in place:", network.layers[0].W.dtype, network.layers[0].W is network.params["W1"])
"""  # noqa: E501 - a script in the book's style


def test_deep_convnet_is_the_books(book):
    book.write("ch08/deep.py", DEEP_CONVNET)
    out = book.lines("ch08/deep.py")
    assert out == [
        "He draws: True ['W1', 'b1', 'W2', 'b2']",
        "layers: 20 ['Convolution', 'Pooling', 'Affine', 'Dropout', 'Affine', 'Dropout']",
        "grads: True 16",
        "last dropout halves: True",
        "round trip: True True",
        "in place: float64 True",
    ]
    assert (book.root / "ch08" / "deep_convnet_params.npz").is_file()

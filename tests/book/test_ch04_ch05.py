"""Chapters 4-5 through `dlscratch book`: the shopping graph, the gradient check at the book's
size, and which `two_layer_net` a chapter folder gets.

Expected numbers are the book's own printed lines (BOOK-API.md §13: `price: 220`, ...), or
derived here from the book's stated formulas; none is read off dlscratch's output.
"""

from __future__ import annotations

import re

import pytest

from dlscratch.data import FILE_NAMES

from ._helpers import MNIST_ROOT, needs_mnist

BUY_APPLE = """\
    import sys, os
    sys.path.append(os.pardir)
    from layer_naive import *

    apple = 100
    apple_num = 2
    tax = 1.1

    mul_apple_layer = MulLayer()
    mul_tax_layer = MulLayer()

    apple_price = mul_apple_layer.forward(apple, apple_num)
    price = mul_tax_layer.forward(apple_price, tax)

    dprice = 1
    dapple_price, dtax = mul_tax_layer.backward(dprice)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    print("price:", int(price))
    print("dApple:", dapple)
    print("dApple_num:", int(dapple_num))
    print("dTax:", dtax)
"""

BUY_APPLE_ORANGE = """\
    import sys, os
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from layer_naive import *

    apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    mul_apple_layer = MulLayer()
    mul_orange_layer = MulLayer()
    add_apple_orange_layer = AddLayer()
    mul_tax_layer = MulLayer()
    print("before forward:", mul_apple_layer.x, mul_apple_layer.y)

    apple_price = mul_apple_layer.forward(apple, apple_num)
    orange_price = mul_orange_layer.forward(orange, orange_num)
    all_price = add_apple_orange_layer.forward(apple_price, orange_price)
    price = mul_tax_layer.forward(all_price, tax)

    dprice = 1
    dall_price, dtax = mul_tax_layer.backward(dprice)
    dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
    dorange, dorange_num = mul_orange_layer.backward(dorange_price)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    print("price:", int(price))
    print("dApple:", dapple)
    print("dApple_num:", int(dapple_num))
    print("dOrange:", dorange)
    print("dOrange_num:", int(dorange_num))
    print("dTax:", dtax)
"""


def test_shopping_numbers_are_the_books(book):
    book.write("ch05/buy_apple.py", BUY_APPLE)
    book.write("ch05/buy_apple_orange.py", BUY_APPLE_ORANGE)
    assert book.lines("ch05/buy_apple.py") == [
        "price: 220", "dApple: 2.2", "dApple_num: 110", "dTax: 200"]
    assert book.lines("ch05/buy_apple_orange.py") == [
        "before forward: None None",
        "price: 715", "dApple: 2.2", "dApple_num: 110", "dOrange: 3.3000000000000003",
        "dOrange_num: 165", "dTax: 650"]


GRADIENT_CHECK = """\
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    from dataset.mnist import load_mnist
    from two_layer_net import TwoLayerNet

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    np.random.seed(0)  # a fixed draw: an unlucky one puts a ReLU kink inside the step h
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

    x_batch = x_train[:3]
    t_batch = t_train[:3]

    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)

    for key in grad_numerical.keys():
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        print(key + ":" + str(diff))
    print("dtypes:", sorted({str(v.dtype) for v in network.params.values()}))
    print("layers:", list(network.layers), type(network.lastLayer).__name__)
"""


@needs_mnist
def test_gradient_check_at_the_books_size_in_float64(book):
    """ch05/gradient_check.py: 784-50-10, 3 samples; float64 puts every difference far below
    1e-6 (dlscratch's float32 networks print about 1e-4, which looks like broken backprop)."""
    book.write("ch05/gradient_check.py", GRADIENT_CHECK)
    out = book.lines("ch05/gradient_check.py")
    diffs = dict(line.split(":", 1) for line in out[:4])
    assert list(diffs) == ["W1", "b1", "W2", "b2"]
    for key, value in diffs.items():
        assert 0 <= float(value) < 1e-6, (key, value)
    assert out[4] == "dtypes: ['float64']"
    assert out[5] == "layers: ['Affine1', 'Relu1', 'Affine2'] SoftmaxWithLoss"


WHICH_NET = """\
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    from two_layer_net import TwoLayerNet

    np.random.seed(3)
    net = TwoLayerNet(input_size=4, hidden_size=5, output_size=3)
    np.random.seed(3)
    W1 = 0.01 * np.random.randn(4, 5)
    W2 = 0.01 * np.random.randn(5, 3)
    print("weights are the book's draws:", np.array_equal(net.params["W1"], W1),
          np.array_equal(net.params["W2"], W2))
    print("has layers:", hasattr(net, "layers"))
    x = np.random.rand(6, 4)
    t = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    y = net.predict(x)
    print("rows sum to 1:", bool(np.allclose(y.sum(axis=1), 1.0)))
    grad = net.gradient(x, t)
    num = net.numerical_gradient(x, t)
    print("max diff:", max(float(np.abs(grad[k] - num[k]).max()) for k in grad))
    W1 = np.zeros((4, 5))
    net.params["W1"] = W1  # a plain dict: the assignment stays
    print("assigned:", net.params["W1"] is W1)
    # with W1 = 0 and b1 = 0 every hidden unit is sigmoid(0) = 0.5 (or relu(0) = 0)
    hidden = 0.5 if not hasattr(net, "layers") else 0.0
    scores = hidden * net.params["W2"].sum(axis=0) + net.params["b2"]
    p = np.exp(scores) / np.exp(scores).sum()
    expected = -np.log(p[[0, 1, 2, 0, 1, 2]] + 1e-7).mean()
    print("loss uses the assigned W1:", bool(np.isclose(net.loss(x, t), expected, rtol=0, atol=1e-6)))
"""  # noqa: E501 - a script in the book's style


def test_two_layer_net_is_the_chapters_own(book):
    """`two_layer_net` is chapter 4's sigmoid network under ch04/ (probabilities out, no
    layers, params read on every call) and chapter 5's layered one under ch05/."""
    book.write("ch04/which_net.py", WHICH_NET)
    book.write("ch05/which_net.py", WHICH_NET)
    ch04 = book.lines("ch04/which_net.py")
    ch05 = book.lines("ch05/which_net.py")
    assert ch04[0] == ch05[0] == "weights are the book's draws: True True"
    assert ch04[1:3] == ["has layers: False", "rows sum to 1: True"]
    assert ch05[1:3] == ["has layers: True", "rows sum to 1: False"]
    for out in (ch04, ch05):
        assert float(re.fullmatch(r"max diff: (\S+)", out[3]).group(1)) < 1e-6
        assert out[4] == "assigned: True"
    # chapter 4's network reads params on every call; chapter 5's layers keep the arrays they
    # were built with, as in the book (an assignment does not reach them; in-place updates do)
    assert ch04[5] == "loss uses the assigned W1: True"
    assert ch05[5] == "loss uses the assigned W1: False"


def test_a_script_outside_a_chapter_folder_gets_no_two_layer_net(book):
    book.write("mine/uses_net.py", "from two_layer_net import TwoLayerNet\n")
    proc = book.run("mine/uses_net.py", check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "uses_net.py:1: ModuleNotFoundError: No module named 'two_layer_net'" in proc.stderr
    ok = book.run("mine/uses_net.py", options=("--chapter", "ch05"))
    assert ok.returncode == 0


@pytest.mark.parametrize("args", [("a", "--b", "3"), ()])
def test_the_script_gets_its_own_arguments_and_folder(book, args):
    book.write("ch05/argv.py", """\
        import os, sys
        print(sys.argv[1:])
        print(os.getcwd() == os.path.dirname(os.path.abspath(__file__)))
        print(sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
        print(__name__)
    """)
    assert book.lines("ch05/argv.py", *args) == [str(list(args)), "True", "True", "__main__"]


def test_a_missing_script_is_one_line(book):
    proc = book.run("ch05/nowhere.py", check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"dlscratch: error: {book.root / 'ch05' / 'nowhere.py'}: "
                           "No such file\n")


@needs_mnist
def test_the_books_own_dataset_folder_is_used_when_dlscratch_has_no_data(book):
    """No $DLSCRATCH_DATA, an empty user cache: the four .gz files in the checkout's dataset/
    folder (as the book ships them) are read, and nothing is written there."""
    for name in FILE_NAMES:
        (book.root / "dataset" / f"{name}.gz").symlink_to(MNIST_ROOT / "mnist" / f"{name}.gz")
    before = sorted(p.name for p in (book.root / "dataset").iterdir())
    book.write("ch05/labels.py", """\
        import sys, os
        sys.path.append(os.pardir)
        from dataset.mnist import load_mnist
        (x_train, t_train), (x_test, t_test) = load_mnist()
        print(list(t_train[:5]), x_test.shape)
    """)
    proc = book.run("ch05/labels.py", env={"DLSCRATCH_DATA": None})
    assert proc.stdout == "[np.uint8(5), np.uint8(0), np.uint8(4), np.uint8(1), np.uint8(9)] " \
                          "(10000, 784)\n"
    assert sorted(p.name for p in (book.root / "dataset").iterdir()) == before
    assert not (book.root.parent / "cache").exists()  # nothing was downloaded

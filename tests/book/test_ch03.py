"""Chapter 3's scripts unpickle `sample_weight.pkl` themselves (`pickle.load`); under
`dlscratch book` that call is the restricted unpickler, so the book's file loads and a doctored
one cannot run code."""

from __future__ import annotations

import numpy as np

from ._helpers import needs_mnist
from .pickles import book_pickle, malicious_pickle

NEURALNET_MNIST = """\
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    import pickle
    from dataset.mnist import load_mnist
    from common.functions import sigmoid, softmax


    def get_data():
        (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True, one_hot_label=False)
        return x_test, t_test


    def init_network():
        with open(os.path.join(os.path.dirname(__file__), "sample_weight.pkl"), 'rb') as f:
            network = pickle.load(f)
        return network


    def predict(network, x):
        W1, W2, W3 = network['W1'], network['W2'], network['W3']
        b1, b2, b3 = network['b1'], network['b2'], network['b3']
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        z2 = sigmoid(a2)
        a3 = np.dot(z2, W3) + b3
        y = softmax(a3)
        return y


    x, t = get_data()
    network = init_network()
    accuracy_cnt = 0
    batch_size = 100
    for i in range(0, len(x), batch_size):
        y_batch = predict(network, x[i:i+batch_size])
        p = np.argmax(y_batch, axis=1)
        accuracy_cnt += np.sum(p == t[i:i+batch_size])

    print("Accuracy:" + str(float(accuracy_cnt) / len(x)))
"""  # noqa: E501 - a script in the book's style


def _sample_weight() -> dict:
    """Weights shaped as sample_weight.pkl's (BOOK-API.md §12): float32, W Fortran-ordered."""
    rng = np.random.default_rng(5)
    shapes = {"b2": (100,), "W1": (784, 50), "b1": (50,), "W2": (50, 100), "W3": (100, 10),
              "b3": (10,)}
    arrays = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    return {k: np.asfortranarray(v) if k.startswith("W") else v for k, v in arrays.items()}


@needs_mnist
def test_a_script_that_unpickles_its_weights_gets_the_restricted_loader(book):
    from dlscratch.data import load_mnist

    weights = _sample_weight()
    (book.root / "ch03").mkdir(parents=True)
    (book.root / "ch03" / "sample_weight.pkl").write_bytes(book_pickle(weights, 3))
    book.write("ch03/neuralnet_mnist_batch.py", NEURALNET_MNIST)
    # the expected accuracy, from the same weights by plain NumPy here
    _, (x, t) = load_mnist()
    h = 1 / (1 + np.exp(-(x @ weights["W1"] + weights["b1"])))
    h = 1 / (1 + np.exp(-(h @ weights["W2"] + weights["b2"])))
    expected = np.mean(np.argmax(h @ weights["W3"] + weights["b3"], axis=1) == t)
    out = book.lines("ch03/neuralnet_mnist_batch.py")
    assert out == [f"Accuracy:{expected}"]


@needs_mnist
def test_a_doctored_sample_weight_pkl_cannot_run_code(book):
    marker = book.root.parent / "PWNED"
    (book.root / "ch03").mkdir(parents=True)
    (book.root / "ch03" / "sample_weight.pkl").write_bytes(malicious_pickle(marker))
    script = book.write("ch03/neuralnet_mnist_batch.py", NEURALNET_MNIST)
    proc = book.run("ch03/neuralnet_mnist_batch.py", check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (f"dlscratch: error: {script}:16: RefusedGlobal: refused to "
                           "unpickle: it names the global 'posix.system', and only NumPy "
                           "arrays, dtypes, dicts, lists and numbers are allowed\n")
    assert not marker.exists()

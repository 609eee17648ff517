"""Every public name of the book's `common/` and `dataset/mnist.py`, used as the book's scripts
use them, in one script run through `dlscratch book`.

The script prints `<name>: True/False` per check. Expected values are the numbers the book
prints (chapter 3-4 examples: softmax([0.3, 2.9, 4.0]), the loss examples 0.0975 / 0.5108,
im2col's (9, 75) / (90, 75), the gradient (6, 8) of x0**2 + x1**2 at (3, 4), ...) or are
computed in the script from first principles (a convolution by loops, the adjoint identity of
im2col/col2im, the book's stated random draws); none is read back from dlscratch.
"""

from __future__ import annotations

from ._helpers import needs_mnist

EVERY_NAME = """\
    import sys, os
    sys.path.append(os.pardir)
    from common.functions import *
    from common.gradient import numerical_gradient, numerical_gradient_2d
    from common.layers import *
    from common.optimizer import *
    from common.util import smooth_curve, shuffle_dataset, conv_output_size, im2col, col2im
    from common.trainer import Trainer
    from common.multi_layer_net import MultiLayerNet
    from common.multi_layer_net_extend import MultiLayerNetExtend
    from dataset.mnist import load_mnist
    import dataset.mnist as mnist_module

    def check(name, ok):
        print(name + ":", bool(ok))

    # -- common.functions (np came with the star import) --------------------------------------
    x = np.array([-1.0, 1.0, 2.0])
    check("identity_function", identity_function(x) is x)
    check("step_function", list(step_function(x)) == [0, 1, 1])
    check("sigmoid", np.allclose(sigmoid(x), [0.26894142, 0.73105858, 0.88079708]))
    check("sigmoid_grad", np.allclose(sigmoid_grad(np.array([0.0, 2.0])),
                                      [0.25, 0.88079708 * (1 - 0.88079708)]))
    check("relu", list(relu(x)) == [0.0, 1.0, 2.0])
    check("relu_grad", list(relu_grad(np.array([-1.0, 0.0, 2.0]))) == [0.0, 1.0, 1.0])
    check("softmax", np.allclose(softmax(np.array([0.3, 2.9, 4.0])),
                                 [0.01821127, 0.24519181, 0.73659691]))
    check("softmax_2d", np.allclose(softmax(np.array([[0.3, 2.9, 4.0], [1.0, 1.0, 1.0]]))[1], 1/3))
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    y7 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    check("mean_squared_error", np.isclose(mean_squared_error(y, t), 0.0975)
          and np.isclose(mean_squared_error(y7, t), 0.5975))
    check("cross_entropy_error", np.isclose(cross_entropy_error(y, t), 0.510825457099338)
          and np.isclose(cross_entropy_error(y7, t), 2.302584092994546)
          and np.isclose(cross_entropy_error(y, np.array(2)), 0.510825457099338))
    batch = np.array([y, y7])
    check("cross_entropy_error_labels",
          np.isclose(cross_entropy_error(batch, np.array([2, 2])), (0.510825457099338 + 2.302584092994546) / 2)
          and np.isclose(cross_entropy_error(batch, np.array([[2], [2]])), cross_entropy_error(batch, np.array([2, 2]))))
    scores = np.array([[0.3, 2.9, 4.0]])
    check("softmax_loss", np.isclose(softmax_loss(scores, np.array([2])), -np.log(0.73659691)))

    # -- common.gradient --------------------------------------------------------------------
    def function_2(x):
        return np.sum(x**2) if x.ndim == 1 else np.sum(x**2, axis=1)
    point = np.array([3.0, 4.0])
    g = numerical_gradient(function_2, point)
    check("numerical_gradient", np.allclose(g, [6.0, 8.0]) and list(point) == [3.0, 4.0])
    W = np.array([[0.0, 2.0, 1.0], [3.0, 0.0, -1.0]])
    check("numerical_gradient_nd", np.allclose(numerical_gradient(lambda w: np.sum(w**3), W), 3 * W**2, atol=1e-6))
    X = np.array([[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]])
    check("numerical_gradient_2d", np.allclose(numerical_gradient_2d(function_2, X), 2 * X)
          and np.allclose(numerical_gradient_2d(function_2, point), [6.0, 8.0]))

    # -- common.util --------------------------------------------------------------------------
    check("conv_output_size", conv_output_size(28, 5) == 24.0 and type(conv_output_size(28, 5)) is float
          and conv_output_size(7, 3, stride=2, pad=1) == 4.0)
    x1 = np.random.rand(1, 3, 7, 7).astype(np.float32)
    x2 = np.random.rand(10, 3, 7, 7)
    col1 = im2col(x1, 5, 5, stride=1, pad=0)
    check("im2col", col1.shape == (9, 75) and im2col(x2, 5, 5, stride=1, pad=0).shape == (90, 75)
          and col1.dtype == np.float64 and np.allclose(col1[0], x1[0, :, :5, :5].reshape(-1)))
    c = np.random.rand(*im2col(x2, 3, 3, 2, 1).shape)
    lhs = np.sum(im2col(x2, 3, 3, 2, 1) * c)
    rhs = np.sum(x2 * col2im(c, x2.shape, 3, 3, 2, 1))
    check("col2im", np.isclose(lhs, rhs) and col2im(c, x2.shape, 3, 3, 2, 1).shape == x2.shape)
    check("smooth_curve", len(smooth_curve(list(range(30)))) == 30
          and np.allclose(smooth_curve(np.full(20, 3.0)), 3.0)
          and np.allclose(smooth_curve(np.arange(30.0))[5:25], np.arange(5.0, 25.0)))
    xs, ts = np.arange(12.0).reshape(6, 2), np.arange(6)
    np.random.seed(4)
    xs2, ts2 = shuffle_dataset(xs, ts)
    np.random.seed(4)
    perm = np.random.permutation(6)
    check("shuffle_dataset", np.array_equal(xs2, xs[perm]) and np.array_equal(ts2, ts[perm])
          and np.array_equal(xs2[:, 0] / 2, ts2))

    # -- common.layers ------------------------------------------------------------------------
    relu_layer = Relu()
    out = relu_layer.forward(np.array([[1.0, -0.5], [-2.0, 3.0]]))
    dout = np.ones((2, 2))
    dx = relu_layer.backward(dout)
    check("Relu", out.tolist() == [[1.0, 0.0], [0.0, 3.0]] and relu_layer.mask.tolist()
          == [[False, True], [True, False]] and dx is dout and dx.tolist() == [[1, 0], [0, 1]])
    sig = Sigmoid()
    s = sig.forward(np.array([0.0]))
    check("Sigmoid", s[0] == 0.5 and sig.backward(np.array([1.0]))[0] == 0.25 and sig.out is s)
    Wa, ba = np.random.randn(12, 4), np.random.randn(4)
    aff = Affine(Wa, ba)
    xa = np.random.randn(5, 3, 2, 2)
    ya = aff.forward(xa)
    da = aff.backward(np.ones((5, 4)))
    check("Affine", aff.W is Wa and aff.b is ba and np.allclose(ya, xa.reshape(5, 12) @ Wa + ba)
          and da.shape == xa.shape and np.allclose(aff.dW, xa.reshape(5, 12).T @ np.ones((5, 4)))
          and np.allclose(aff.db, 5.0) and aff.original_x_shape == xa.shape)
    swl = SoftmaxWithLoss()
    s_scores = np.array([[0.3, 2.9, 4.0], [1.0, 2.0, 3.0]])
    loss_idx = swl.forward(s_scores, np.array([2, 0]))
    d_idx = swl.backward()
    loss_col = SoftmaxWithLoss().forward(s_scores, np.array([[2], [0]]))
    loss_hot = SoftmaxWithLoss().forward(s_scores, np.eye(3)[[2, 0]])
    p = np.exp(s_scores) / np.exp(s_scores).sum(axis=1, keepdims=True)
    check("SoftmaxWithLoss", np.isclose(loss_idx, -(np.log(p[0, 2]) + np.log(p[1, 0])) / 2)
          and np.isclose(loss_col, loss_idx) and np.isclose(loss_hot, loss_idx)
          and np.allclose(d_idx, (p - np.eye(3)[[2, 0]]) / 2) and np.allclose(swl.y, p))
    np.random.seed(5)
    drop = Dropout(0.3)
    xd = np.random.rand(4, 6) + 1.0
    np.random.seed(6)
    yd = drop.forward(xd)
    np.random.seed(6)
    mask = np.random.rand(4, 6) > 0.3
    check("Dropout", np.array_equal(drop.mask, mask) and np.array_equal(yd, xd * mask)
          and np.allclose(drop.forward(xd, train_flg=False), xd * 0.7)
          and np.array_equal(drop.backward(np.ones((4, 6))), mask * 1.0))
    gamma, beta = np.ones(3), np.zeros(3)
    bn = BatchNormalization(gamma, beta)
    xb = np.random.randn(8, 3) * 2 + 5
    yb = bn.forward(xb, train_flg=True)
    mu, var = xb.mean(axis=0), xb.var(axis=0)
    check("BatchNormalization", np.allclose(yb, (xb - mu) / np.sqrt(var + 1e-6))
          and np.allclose(bn.running_mean, 0.1 * mu) and np.allclose(bn.running_var, 0.1 * var)
          and bn.gamma is gamma and bn.momentum == 0.9
          and bn.backward(np.ones((8, 3))).shape == (8, 3) and np.allclose(bn.dbeta, 8.0))
    xc = np.random.rand(2, 2, 6, 5)
    Wc = np.random.randn(3, 2, 3, 3)
    bc = np.random.randn(3)
    conv = Convolution(Wc, bc, stride=1, pad=1)
    yc = conv.forward(xc)
    xp = np.pad(xc, ((0, 0), (0, 0), (1, 1), (1, 1)))
    direct = np.zeros((2, 3, 6, 5))
    for n in range(2):
        for f in range(3):
            for i in range(6):
                for j in range(5):
                    direct[n, f, i, j] = np.sum(Wc[f] * xp[n, :, i:i + 3, j:j + 3]) + bc[f]
    filt = Convolution(Wc[0].reshape(1, 2, 3, 3)[:, :1], 0)
    check("Convolution", np.allclose(yc, direct) and conv.backward(np.ones_like(yc)).shape == xc.shape
          and conv.dW.shape == Wc.shape and np.allclose(conv.db, 2 * 6 * 5)
          and filt.forward(xc[:, :1]).shape == (2, 1, 4, 3))
    xq = np.arange(32.0).reshape(1, 2, 4, 4)
    pool = Pooling(pool_h=2, pool_w=2, stride=2)
    yq = pool.forward(xq)
    dq = pool.backward(np.ones((1, 2, 2, 2)))
    check("Pooling", yq.tolist() == [[[[5, 7], [13, 15]], [[21, 23], [29, 31]]]]
          and dq.sum() == 8 and dq[0, 0, 1, 1] == 1 and dq[0, 0, 0, 0] == 0)

    # -- common.optimizer (all six, by name through the Trainer below, and directly) --------
    params = {"W": np.array([1.0, -2.0])}
    ok = True
    for opt in (SGD(), Momentum(), Nesterov(), AdaGrad(), RMSprop(), Adam()):
        before = params["W"]
        opt.update(params, {"W": np.array([0.5, -0.5])})
        ok = ok and params["W"] is before
    check("optimizers_in_place", ok and params["W"][0] < 1.0)

    # -- dataset.mnist --------------------------------------------------------------------------
    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=True, normalize=False)
    check("load_mnist_raw", x_train.shape == (60000, 784) and x_train.dtype == np.uint8
          and t_train.dtype == np.uint8 and list(t_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
          and list(t_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9] and x_test.shape == (10000, 784))
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=False, one_hot_label=True)
    check("load_mnist", x_train.shape == (60000, 1, 28, 28) and x_train.dtype == np.float32
          and x_train.max() == 1.0 and t_train.shape == (60000, 10) and t_train.dtype == np.float64
          and t_train[0, 5] == 1.0 and t_train.sum() == 60000 and x_train.flags.writeable)
    check("mnist_globals", mnist_module.img_size == 784 and mnist_module.img_dim == (1, 28, 28)
          and mnist_module.train_num == 60000 and mnist_module.test_num == 10000
          and mnist_module.key_file["train_img"] == "train-images-idx3-ubyte.gz")
    raw = mnist_module._convert_numpy()
    check("mnist_convert_numpy", raw["train_img"].shape == (60000, 784)
          and raw["test_label"].dtype == np.uint8 and list(raw["test_label"][:3]) == [7, 2, 1]
          and np.array_equal(mnist_module._change_one_hot_label(raw["test_label"][:2]),
                             [[0, 0, 0, 0, 0, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]]))

    # -- common.multi_layer_net / multi_layer_net_extend ------------------------------------
    x_small = x_train[:3].reshape(3, -1)
    t_small = t_train[:3]
    np.random.seed(7)
    net = MultiLayerNet(input_size=784, hidden_size_list=[10, 8], output_size=10,
                        activation='sigmoid', weight_init_std='xavier', weight_decay_lambda=0.1)
    np.random.seed(7)
    W1 = np.sqrt(1.0 / 784) * np.random.randn(784, 10)
    W2 = np.sqrt(1.0 / 10) * np.random.randn(10, 8)
    check("MultiLayerNet_init", np.array_equal(net.params["W1"], W1)
          and np.array_equal(net.params["W2"], W2) and list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
          and list(net.layers) == ["Affine1", "Activation_function1", "Affine2", "Activation_function2", "Affine3"]
          and net.layers["Affine1"].W is net.params["W1"] and net.hidden_layer_num == 2)
    decay = 0.5 * 0.1 * sum(np.sum(net.params["W%d" % i] ** 2) for i in (1, 2, 3))
    check("MultiLayerNet_loss", np.isclose(net.loss(x_small, t_small),
                                           net.last_layer.forward(net.predict(x_small), t_small) + decay))
    num, grad = net.numerical_gradient(x_small, t_small), net.gradient(x_small, t_small)
    check("MultiLayerNet_gradient", list(grad) == list(num)
          and max(np.abs(grad[k] - num[k]).max() for k in grad) < 1e-6)
    check("MultiLayerNet_accuracy", net.accuracy(x_small, t_small) in (0.0, 1 / 3, 2 / 3, 1.0))

    bn_net = MultiLayerNetExtend(input_size=784, hidden_size_list=[10, 10], output_size=10,
                                 use_batchnorm=True)
    num, grad = bn_net.numerical_gradient(x_small, t_small), bn_net.gradient(x_small, t_small)
    check("MultiLayerNetExtend_gradient", list(grad) == ["W1", "b1", "gamma1", "beta1", "W2", "b2",
                                                         "gamma2", "beta2", "W3", "b3"]
          and max(np.abs(grad[k] - num[k]).max() for k in grad) < 1e-6)
    check("MultiLayerNetExtend_params", list(bn_net.params) == ["W1", "b1", "W2", "b2", "W3", "b3",
                                                                "gamma1", "beta1", "gamma2", "beta2"]
          and bn_net.use_batchnorm and not bn_net.use_dropout)

    # -- common.trainer: every optimizer name the book's Trainer knows ------------------------
    names = ["sgd", "SGD", "momentum", "nesterov", "adagrad", "rmsprpo", "rmsprop", "adam", "Adam"]
    classes = [type(Trainer(net, x_small, t_small, x_small, t_small, optimizer=n, verbose=False).optimizer).__name__
               for n in names]
    check("Trainer_optimizers", classes == ["SGD", "SGD", "Momentum", "Nesterov", "AdaGrad",
                                            "RMSprop", "RMSprop", "Adam", "Adam"])
    tr = Trainer(net, x_small, t_small, x_small, t_small, epochs=1, mini_batch_size=100, verbose=False)
    check("Trainer_small_set", tr.iter_per_epoch == 1 and tr.max_iter == 1)
"""  # noqa: E501 - a script in the book's style

NAMES = [
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad",
    "softmax", "softmax_2d", "mean_squared_error", "cross_entropy_error",
    "cross_entropy_error_labels", "softmax_loss", "numerical_gradient", "numerical_gradient_nd",
    "numerical_gradient_2d", "conv_output_size", "im2col", "col2im", "smooth_curve",
    "shuffle_dataset", "Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout",
    "BatchNormalization", "Convolution", "Pooling", "optimizers_in_place", "load_mnist_raw",
    "load_mnist", "mnist_globals", "mnist_convert_numpy", "MultiLayerNet_init",
    "MultiLayerNet_loss", "MultiLayerNet_gradient", "MultiLayerNet_accuracy",
    "MultiLayerNetExtend_gradient", "MultiLayerNetExtend_params", "Trainer_optimizers",
    "Trainer_small_set",
]


@needs_mnist
def test_every_public_name_behaves_as_the_book_states(book):
    book.write("ch06/every_name.py", EVERY_NAME)
    out = book.lines("ch06/every_name.py")
    assert [line.split(":")[0] for line in out] == NAMES
    assert [line for line in out if not line.endswith(": True")] == []

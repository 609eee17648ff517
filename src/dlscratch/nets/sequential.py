"""Sequential: a network that is a stack of layers followed by a loss layer.

    net = Sequential([Affine.create(784, 50, "he"), Relu(), Affine.create(50, 10, "he")])
    grads = net.gradient(x, t)        # forward in training mode, then backward
    optimizer.update(net.params, grads)

The course's networks (TwoLayerNet, MultiLayerNet, SimpleConvNet, DeepConvNet) are Sequentials
built by their constructors, with the book's parameter names (W1, b1, ...).
"""

from __future__ import annotations

import numpy as np

from dlscratch.gradient import numerical_gradient
from dlscratch.layers import Layer, LayerStack, SoftmaxWithLoss
from dlscratch.nets import data_parallel


class Sequential:
    """layers -> loss layer, with optional L2 weight decay (the book's convention).

    Weight decay adds 0.5 * lambda * sum ||W||^2 over every weight matrix and filter (parameters
    named W; not biases, not gamma/beta) to the loss, and lambda * W to each dW.
    """

    def __init__(self, layers: list[Layer], loss: Layer | None = None,
                 weight_decay_lambda: float = 0.0):
        self.stack = LayerStack(layers)
        self.last_layer = SoftmaxWithLoss() if loss is None else loss
        if not np.isfinite(weight_decay_lambda) or weight_decay_lambda < 0:
            raise ValueError(f"weight_decay_lambda must be >= 0, got {weight_decay_lambda!r}")
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.config = None  # constructor arguments, for the course's networks
        self.last_loss = None

    @property
    def layers(self) -> dict[str, Layer]:
        """Layers by name, in order (the book's `net.layers`)."""
        return {layer.name: layer for layer in self.stack.layers}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.stack.params

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return self.stack.buffers

    @property
    def dtype(self):
        params = self.params
        return next(iter(params.values())).dtype if params else np.dtype(np.float32)

    def predict(self, x, train_flg=False, batch_size=None):
        """Scores (N, K) before softmax. With `batch_size`, evaluated in chunks of that size.
        In inference mode with several threads, each chunk is cut into one part per thread
        (`dlscratch.nets.data_parallel`); training mode is never split here, since a caller
        may run backward through the layers next."""
        x = np.asarray(x, dtype=self.dtype)
        if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        size = len(x) if batch_size is None else int(batch_size)
        chunks = [slice(i, min(i + size, len(x))) for i in range(0, len(x), max(size, 1))]
        parts = None if train_flg else data_parallel.batch_split(self.stack, x, chunks, False)
        if parts is not None:
            return data_parallel.forward(self.stack, x, train_flg, parts)
        if len(chunks) <= 1:
            return self.stack.forward(x, train_flg)
        return np.concatenate([self.stack.forward(x[s], train_flg) for s in chunks])

    def loss(self, x, t, train_flg=False):
        """Mean loss over the batch, plus the weight-decay term."""
        return self.last_layer.forward(self.predict(x, train_flg), t) + self._decay_loss()

    def _decay_loss(self) -> float:
        if not self.weight_decay_lambda:
            return 0.0
        squares = sum(float(np.sum(np.square(layer.W, dtype=np.float64)))
                      for _, layer, attr in self.stack.param_refs if attr == "W")
        return 0.5 * self.weight_decay_lambda * squares

    def gradient(self, x, t) -> dict[str, np.ndarray]:
        """Backprop: forward in training mode, then backward; the loss is kept in `last_loss`.
        With several threads the batch may be split among them (`dlscratch.nets.data_parallel`);
        the layers' dW, db, ... are set either way."""
        x, t = np.asarray(x, dtype=self.dtype), np.asarray(t)
        if len(x) != len(t):
            raise ValueError(f"gradient: {len(x)} samples but {len(t)} labels "
                             f"(x {x.shape}, t {t.shape})")
        parts = data_parallel.batch_split(self.stack, x, [slice(0, len(x))], True,
                                          self.last_layer)
        if parts is None:
            self.last_loss = self.loss(x, t, train_flg=True)
            self.stack.backward(self.last_layer.backward(1.0), need_dx=False)
        else:
            loss, grads = data_parallel.gradient(self.stack, self.last_layer, x, t, parts)
            self.last_loss = loss + self._decay_loss()
            for key, layer, attr in self.stack.param_refs:
                setattr(layer, "d" + attr, grads[key])
        grads = self.stack.grads
        if self.weight_decay_lambda:
            lam = self.weight_decay_lambda
            for key, layer, attr in self.stack.param_refs:
                if attr == "W":
                    grads[key] = grads[key] + lam * layer.W
        return grads

    def numerical_gradient(self, x, t) -> dict[str, np.ndarray]:
        """The slow, sure gradient: central differences of `loss` for every parameter entry."""
        return {k: numerical_gradient(lambda _: self.loss(x, t, train_flg=True), p)
                for k, p in self.params.items()}

    def accuracy(self, x, t, batch_size=1000) -> float:
        """Fraction of samples whose largest score is the label (indices or one-hot)."""
        t = np.asarray(t)
        if t.ndim != 1:
            t = t.argmax(axis=1)
        if len(x) == 0:
            return float("nan")
        y = self.predict(x, train_flg=False, batch_size=batch_size).argmax(axis=1)
        return float(np.mean(y == t))

    def get_rng_state(self) -> list[dict]:
        return [layer.rng.bit_generator.state for layer in self.stack.random_layers()]

    def set_rng_state(self, states: list[dict]) -> None:
        layers = self.stack.random_layers()
        if len(states) != len(layers):
            raise ValueError(f"expected {len(layers)} RNG states, got {len(states)}")
        for layer, state in zip(layers, states, strict=True):
            layer.rng.bit_generator.state = state

    def first_nonfinite(self, x) -> str | None:
        """The first layer whose parameters or output hold NaN/Inf on x (None: all finite)."""
        for key, p in self.params.items():
            if not np.all(np.isfinite(p)):
                owner = next(layer.name for k, layer, _ in self.stack.param_refs if k == key)
                return f"{owner} (parameter {key})"
        out = np.asarray(x, dtype=self.dtype)
        for layer in self.stack.layers:
            out = layer.forward(out, train_flg=False)
            if not np.all(np.isfinite(out)):
                return f"{layer.name} (output)"
        return None

    def summary(self, input_shape: tuple[int, ...]) -> str:
        """A table of layers, output shapes and parameter counts for one input of input_shape."""
        out = np.zeros((1, *input_shape), dtype=self.dtype)
        lines = [f"{'layer':<22}{'output':<22}{'params':>10}"]
        total = 0
        for layer in self.stack.layers:
            out = layer.forward(out, train_flg=False)
            count = sum(p.size for p in layer.params.values())
            total += count
            lines.append(f"{layer.name:<22}{str(out.shape[1:]):<22}{count:>10,}")
        lines.append(f"{'total':<44}{total:>10,}")
        return "\n".join(lines)

    def __repr__(self):
        body = "\n".join(f"  {layer!r}," for layer in self.stack.layers)
        return f"{type(self).__name__}([\n{body}\n], loss={self.last_layer!r})"

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
from dlscratch.metrics import accuracy


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
        """The first parameter's dtype (float32 for a network without parameters)."""
        refs = self.stack.param_refs
        return getattr(refs[0][1], refs[0][2]).dtype if refs else np.dtype(np.float32)

    def predict(self, x, train_flg=False, batch_size=None):
        """Scores (N, K) before softmax: x through every layer in order. With `batch_size`,
        x is sent through in chunks of that size (less memory for a big x)."""
        x = np.asarray(x, dtype=self.dtype)
        if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if batch_size is not None and len(x) > batch_size:
            return np.concatenate([self.predict(x[i:i + batch_size], train_flg)
                                   for i in range(0, len(x), int(batch_size))])
        for layer in self.stack.layers:
            x = layer.forward(x, train_flg)
        return x

    def loss(self, x, t, train_flg=False):
        """Mean loss over the batch, plus the weight-decay term."""
        return self.last_layer.forward(self.predict(x, train_flg), t) + self.decay_loss()

    def decay_loss(self) -> float:
        """0.5 * lambda * sum of ||W||^2 over the weight arrays (0 without weight decay)."""
        if not self.weight_decay_lambda:
            return 0.0
        squares = sum(float(np.sum(np.square(layer.W, dtype=np.float64)))
                      for _, layer, attr in self.stack.param_refs if attr == "W")
        return 0.5 * self.weight_decay_lambda * squares

    def gradient(self, x, t) -> dict[str, np.ndarray]:
        """Backprop, as the book writes it: forward (the loss is kept in `last_loss`), then
        backward from dL/dL = 1 through the loss layer and the layers in reverse; collect."""
        x, t = np.asarray(x, dtype=self.dtype), np.asarray(t)
        if len(x) != len(t):
            raise ValueError(f"gradient: {len(x)} samples but {len(t)} labels "
                             f"(x {x.shape}, t {t.shape})")
        self.last_loss = self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1.0)
        self.stack.backward(dout)
        return self.collect_grads()

    def collect_grads(self) -> dict[str, np.ndarray]:
        """The layers' dW, db, ... by parameter key, with lambda * W added for weight decay."""
        grads = self.stack.grads
        if self.weight_decay_lambda:
            for key, layer, attr in self.stack.param_refs:
                if attr == "W":
                    grads[key] = grads[key] + self.weight_decay_lambda * layer.W
        return grads

    def numerical_gradient(self, x, t) -> dict[str, np.ndarray]:
        """The slow, sure gradient: central differences of `loss` for every parameter entry."""
        return {k: numerical_gradient(lambda _: self.loss(x, t, train_flg=True), p)
                for k, p in self.params.items()}

    def accuracy(self, x, t, batch_size=1000) -> float:
        """Fraction of samples whose largest score is the label (indices or one-hot)."""
        return accuracy(self.predict(x, batch_size=batch_size), t)

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

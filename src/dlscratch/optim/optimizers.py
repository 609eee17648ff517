"""Parameter updates of chapter 6, exactly as the course writes them.

Every optimizer updates `params[key]` in place from `grads[key]` (dicts of arrays with the same
keys), keeping any per-parameter state (velocity, squared-gradient sums, moments) by key.
A value that is a plain number (`{'x': -7.0, 'y': 2.0}`, chapter 6's optimizer paths) is
replaced by its updated value, a NumPy float64.
"""

from __future__ import annotations

import numpy as np

from dlscratch import kernels


class Optimizer:
    """Base class: `update` walks the keys and calls `_update_one` - the single hook."""

    hyper_names: tuple[str, ...] = ("lr",)
    state_names: tuple[str, ...] = ()  # per-key arrays, e.g. ("v",)

    def __init__(self, lr):
        self.lr = _positive("lr", lr)
        self.state: dict[str, dict[str, np.ndarray]] = {name: {} for name in self.state_names}
        self.iter = 0

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.iter += 1
        for key, param in params.items():
            if key not in grads:
                raise KeyError(f"{type(self).__name__}: no gradient for parameter {key!r}")
            grad = grads[key]
            number = not isinstance(param, np.ndarray)
            if number:  # a Python float (the book's optimizer paths): update a 0-d array
                param, grad = np.array(param, dtype=np.float64), np.asarray(grad, np.float64)
            if grad.shape != param.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient of {key!r} has shape {grad.shape}, "
                    f"parameter has {param.shape}"
                )
            slots = {}
            for name in self.state_names:
                table = self.state[name]
                if key not in table:
                    table[key] = np.zeros_like(param)
                slots[name] = table[key]
            self._update_one(param, grad, **slots)
            if number:
                params[key] = param[()]  # a NumPy float64, as the book's optimizers leave it

    def _update_one(self, param, grad, **slots) -> None:
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.hyper_names}

    def state_dict(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-ready scalars, arrays) - everything needed to continue exactly."""
        arrays = {f"{name}/{key}": arr for name, table in self.state.items()
                  for key, arr in table.items()}
        return {"type": type(self).__name__, "iter": self.iter, **self.hyperparameters()}, arrays

    def load_state_dict(self, scalars: dict, arrays: dict[str, np.ndarray]) -> None:
        if scalars.get("type") != type(self).__name__:
            raise ValueError(
                f"optimizer state is for {scalars.get('type')!r}, not {type(self).__name__}"
            )
        self.iter = int(scalars["iter"])
        for name in self.hyper_names:
            setattr(self, name, float(scalars[name]))
        self.state = {name: {} for name in self.state_names}
        for path, arr in arrays.items():
            name, key = path.split("/", 1)
            self.state[name][key] = np.array(arr)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """W <- W - lr * dW."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def _update_one(self, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """v <- momentum * v - lr * dW;  W <- W + v."""

    hyper_names = ("lr", "momentum")
    state_names = ("v",)

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr)
        self.momentum = _fraction("momentum", momentum)

    def _update_one(self, param, grad, v):
        v *= self.momentum
        v -= self.lr * grad
        param += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the book's form (Sutskever et al. 2013):
    v <- m*v - lr*dW;  W <- W + m*m*v - (1 + m)*lr*dW."""

    def _update_one(self, param, grad, v):
        m = self.momentum
        v *= m
        v -= self.lr * grad
        param += m * m * v
        param -= (1 + m) * self.lr * grad


class AdaGrad(Optimizer):
    """h <- h + dW*dW;  W <- W - lr * dW / (sqrt(h) + 1e-7)."""

    state_names = ("h",)

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def _update_one(self, param, grad, h):
        h += grad * grad
        param -= self.lr * grad / (np.sqrt(h) + 1e-7)


class RMSprop(Optimizer):
    """h <- decay*h + (1 - decay)*dW*dW;  W <- W - lr * dW / (sqrt(h) + 1e-7)."""

    hyper_names = ("lr", "decay_rate")
    state_names = ("h",)

    def __init__(self, lr=0.01, decay_rate=0.99):
        super().__init__(lr)
        self.decay_rate = _fraction("decay_rate", decay_rate)

    def _update_one(self, param, grad, h):
        h *= self.decay_rate
        h += (1 - self.decay_rate) * grad * grad
        param -= self.lr * grad / (np.sqrt(h) + 1e-7)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction folded into the step size:
    m <- m + (1-b1)(dW - m);  v <- v + (1-b2)(dW^2 - v);
    W <- W - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + 1e-7)."""

    hyper_names = ("lr", "beta1", "beta2")
    state_names = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__(lr)
        self.beta1 = _fraction("beta1", beta1)
        self.beta2 = _fraction("beta2", beta2)

    def _update_one(self, param, grad, m, v):
        t = self.iter
        # A Python float, so a float32 parameter is not upcast to float64.
        lr_t = float(self.lr * np.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t))
        kernels.adam_update(param, grad, m, v, lr_t, self.beta1, self.beta2)


OPTIMIZERS = {cls.__name__.lower(): cls
              for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam)}


def get_optimizer(name: str, **kwargs) -> Optimizer:
    """An optimizer by (case-insensitive) name: sgd, momentum, nesterov, adagrad, rmsprop, adam."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}: use one of {sorted(OPTIMIZERS)}") from None
    try:
        return cls(**kwargs)
    except TypeError:
        raise ValueError(f"{cls.__name__} takes {', '.join(cls.hyper_names)}, got "
                         f"{', '.join(kwargs) or 'nothing'}") from None


def _positive(name, value) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _fraction(name, value) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value

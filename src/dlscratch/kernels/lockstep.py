"""The parts of a batch side by side, layer by layer: data parallelism for batch norm.

Batch norm in training normalises with the whole batch's mean and variance, so its parts
cannot run one after the other. They go through the layers together, and at each batch-norm
layer they exchange sums over their rows (n rows in the batch):

    forward:   mu = (sum_p sum_rows(x_p)) / n,   var = (sum_p sum_rows((x_p - mu)^2)) / n
    backward:  dbeta = sum_p sum_rows(dout_p),   dgamma = sum_p sum_rows(dout_p * xn_p)

`exchange(partials)` returns those totals: the partial sums of all the batch's parts added in
part order - by `local_exchange` when one process runs every part, through the parent when
worker processes run some (`process_pool`). So the result is the same whoever runs which part.
A part keeps its own share of dgamma and dbeta as its gradients, which add up to the batch's
as every other layer's do. Every other layer runs as in `replicas.part_gradient`.
"""

from __future__ import annotations

from dlscratch import kernels
from dlscratch.kernels.hints import input_grad_unused
from dlscratch.kernels.replicas import GivenDraws, first_skipping
from dlscratch.layers import BatchNormalization


def lockstep_gradient(stacks, loss_layers, x, t, parts, draws, exchange) -> list:
    """[(N_p / N * L_p, grads of part p)] for `parts` of the batch (x, t), each through its own
    replica (`stacks[i]`, `loss_layers[i]`), side by side."""
    n = len(x)
    for stack, part in zip(stacks, parts, strict=True):
        for layer, arrays in zip(stack.random_layers(), draws, strict=True):
            layer.rng = GivenDraws(arrays, part)
    hs = [x[part] for part in parts]
    depth = len(stacks[0].layers)
    for i in range(depth):
        layers = [stack.layers[i] for stack in stacks]
        if isinstance(layers[0], BatchNormalization):
            hs = _batchnorm_forward(layers, hs, n, exchange)
        else:
            hs = [layer.forward(h, True) for layer, h in zip(layers, hs, strict=True)]
    weights = [(part.stop - part.start) / n for part in parts]
    losses = [loss.forward(h, t[part]) * w
              for loss, h, part, w in zip(loss_layers, hs, parts, weights, strict=True)]
    douts = [loss.backward(w) for loss, w in zip(loss_layers, weights, strict=True)]
    for i in reversed(range(depth)):
        layers = [stack.layers[i] for stack in stacks]
        if isinstance(layers[0], BatchNormalization):
            douts = _batchnorm_backward(layers, douts, n, exchange)
            continue
        for j, (stack, layer) in enumerate(zip(stacks, layers, strict=True)):
            with input_grad_unused(first_skipping(stack)):
                douts[j] = layer.backward(douts[j])
    return [(loss, stack.grads) for loss, stack in zip(losses, stacks, strict=True)]


def local_exchange(partials):
    """The totals of the parts' partial sums, added in part order."""
    totals = [a.copy() for a in partials[0]]
    for sums in partials[1:]:
        for total, a in zip(totals, sums, strict=True):
            total += a
    return totals


def _rows(xs, hs, n) -> int:
    """Rows of the whole batch as batch norm sees them (N, or N*H*W per channel)."""
    return n * (len(xs[0]) // len(hs[0]))


def _batchnorm_forward(layers, hs, n, exchange):
    for layer, h in zip(layers, hs, strict=True):
        layer.input_shape = h.shape
    xs = [layer.as_rows(h) for layer, h in zip(layers, hs, strict=True)]
    rows = _rows(xs, hs, n)
    mu = exchange([[kernels.sum_rows(x)] for x in xs])[0] / rows
    xcs = [x - mu for x in xs]
    var = exchange([[kernels.sum_rows(xc * xc)] for xc in xcs])[0] / rows
    return [layer.from_rows(layer.normalize(xc, mu, var))
            for layer, xc in zip(layers, xcs, strict=True)]


def _batchnorm_backward(layers, douts, n, exchange):
    ds = [layer.as_rows(d) for layer, d in zip(layers, douts, strict=True)]
    rows = _rows(ds, douts, n)
    partials = [[kernels.sum_rows(d), kernels.sum_rows(d * layer.xn)]
                for layer, d in zip(layers, ds, strict=True)]
    dbeta, dgamma = exchange(partials)
    for layer, (part_dbeta, part_dgamma) in zip(layers, partials, strict=True):
        layer.dbeta, layer.dgamma = part_dbeta, part_dgamma
    return [layer.from_rows(layer.input_grad(d, dbeta, dgamma, rows))
            for layer, d in zip(layers, ds, strict=True)]

"""Data parallelism: a batch cut into one part per dlscratch thread, each part through the
whole network on its own thread.

With n > 1 threads (`dlscratch.parallel`) and layers that treat samples independently
(`Layer.independent_in_training` / `independent_in_inference`), a batch of N samples is cut
into n parts of N_p samples. Each thread runs its part through its own replica of the layers
(`Layer.replica`: parameters shared, cached activations not): one hand-over per batch instead
of one per layer, and every layer - ReLU, pooling, the loss - runs in parallel, not only the
matrix products. The result is the serial one up to float rounding:

    scores = the parts' scores, concatenated
    L = sum_p (N_p / N) L_p        (L_p: the mean loss over part p)
    dL/dW = sum_p dL_p/dW * N_p / N   - each part's backward starts from dL/dL_p = N_p / N

Splitting pays only when each part's operations are long next to the cost of passing work and
the GIL between threads (~0.1-0.3 ms per hand-over on a 2-core VM): a part's largest layer
output must hold at least MIN_PART_ELEMENTS values. That is true of convolution nets at
batch 100 (SimpleConvNet's conv1 output: 17,280 values per image); dense nets are not split,
their big products get BLAS's threads instead (`dlscratch.parallel.matmul`). A network with
batch normalisation or dropout is not split in training (batch statistics, random masks); its
convolutions and pooling split their own chunks instead.
"""

from __future__ import annotations

import numpy as np

from dlscratch.layers import Layer, LayerStack
from dlscratch.parallel import batch_parts, run_chunks, threads_here

# A batch is split only if each part's largest layer output has at least this many values.
MIN_PART_ELEMENTS = 1 << 19


def batch_split(stack: LayerStack, x: np.ndarray, train_flg: bool,
                loss_layer: Layer | None = None) -> list[slice] | None:
    """The parts of the batch x, one per thread, or None if it is not to be split: one thread,
    a layer that couples the samples, or parts too small to pay for the threads."""
    threads = threads_here()
    if threads == 1 or len(x) < threads:
        return None
    flag = "independent_in_training" if train_flg else "independent_in_inference"
    layers = stack.layers + ([loss_layer] if loss_layer is not None else [])
    if not all(getattr(layer, flag) for layer in layers):
        return None
    if len(x) // threads * stack.largest_output(x.shape[1:], x.dtype) < MIN_PART_ELEMENTS:
        return None
    return batch_parts(len(x))


def forward(stack: LayerStack, x: np.ndarray, train_flg: bool, parts: list[slice]) -> np.ndarray:
    """stack.forward(x, train_flg), each part of x on its own thread."""
    return np.concatenate(run_chunks(lambda s: stack.replica().forward(x[s], train_flg), parts))


def gradient(stack: LayerStack, loss_layer: Layer, x: np.ndarray, t: np.ndarray,
             parts: list[slice]) -> tuple[float, dict[str, np.ndarray]]:
    """(mean loss, {parameter key: dL/dparameter}) of the batch, each part on its own thread."""
    n = len(x)

    def part_gradient(s):
        layers, loss = stack.replica(), loss_layer.replica()
        value = loss.forward(layers.forward(x[s], True), t[s])
        layers.backward(loss.backward((s.stop - s.start) / n), need_dx=False)
        return value * (s.stop - s.start) / n, layers.grads

    results = run_chunks(part_gradient, parts)
    grads = {key: sum(part_grads[key] for _, part_grads in results) for key in results[0][1]}
    return sum(value for value, _ in results), grads

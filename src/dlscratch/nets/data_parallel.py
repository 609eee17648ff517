"""Data parallelism: a batch cut into parts, each part through the whole network on one of
dlscratch's threads.

With n > 1 threads (`dlscratch.parallel`) and layers that treat samples independently
(`Layer.independent_in_training` / `independent_in_inference`), a batch of N samples is cut
into n parts of N_p samples (`predict` cuts each of its chunks into n parts, and hands all
parts of all chunks to the threads at once). A thread runs a part through its own replica of
the layers (`Layer.replica`: parameters shared, cached activations not): one hand-over per
call instead of one per layer, and every layer - ReLU, pooling, the loss - runs in parallel,
not only the matrix products. The result is the serial one up to float rounding:

    scores = the parts' scores, concatenated
    L = sum_p (N_p / N) L_p        (L_p: the mean loss over part p)
    dL/dW = sum_p dL_p/dW * N_p / N   - each part's backward starts from dL/dL_p = N_p / N

Splitting pays only when the call has enough work to cover waking the threads and passing the
GIL between them (~0.5-1 ms per call on a 2-core VM). The work is estimated as the values read
and written: N x (input values + all layers' output values per sample), times 3 in training
(backward costs about twice the forward); a call is split if that is >= MIN_SPLIT_WORK
(measured on the course's networks, benchmarks/NOTES.md). SimpleConvNet training at batch 100:
12.0M (split); TwoLayerNet / MultiLayerNet training at batch 100 / 128: 0.27M / 0.69M (not
split: their big products get BLAS's threads instead, `dlscratch.parallel.matmul`); predicting
10,000 images: 9-18M for the dense nets (split). A network with batch normalisation or dropout
is not split in training (batch statistics, random masks); its convolutions and pooling split
their own chunks instead.
"""

from __future__ import annotations

import threading

import numpy as np

from dlscratch.layers import Layer, LayerStack
from dlscratch.parallel import batch_parts, run_chunks, threads_here

# A call is split only if its estimated work (values read and written, see above) is this big.
MIN_SPLIT_WORK = 1 << 22


def batch_split(stack: LayerStack, x: np.ndarray, chunks: list[slice], train_flg: bool,
                loss_layer: Layer | None = None) -> list[slice] | None:
    """The chunks of x (slices covering it) each cut into one part per thread, or None if x is
    not to be split: one thread, a layer that couples the samples, or too little work."""
    threads = threads_here()
    if threads == 1 or len(x) < threads:
        return None
    flag = "independent_in_training" if train_flg else "independent_in_inference"
    layers = stack.layers + ([loss_layer] if loss_layer is not None else [])
    if not all(getattr(layer, flag) for layer in layers):
        return None
    try:
        values = x[0].size + stack.values_per_sample(x.shape[1:], x.dtype)
    except ValueError:  # x does not fit the network: the serial path says so, with x's shape
        return None
    if len(x) * values * (3 if train_flg else 1) < MIN_SPLIT_WORK:
        return None
    return [slice(chunk.start + part.start, chunk.start + part.stop)
            for chunk in chunks for part in batch_parts(chunk.stop - chunk.start)]


def forward(stack: LayerStack, x: np.ndarray, train_flg: bool, parts: list[slice]) -> np.ndarray:
    """stack.forward(x, train_flg), the parts of x (in order, covering it) on the threads."""
    replicas = {}  # thread id -> that thread's replica of the layers, for all its parts

    def part_forward(s):
        layers = replicas.get(threading.get_ident())
        if layers is None:
            layers = replicas[threading.get_ident()] = stack.replica()
        return layers.forward(x[s], train_flg)

    return np.concatenate(run_chunks(part_forward, parts))


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

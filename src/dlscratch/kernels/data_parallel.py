"""Data parallelism: a batch cut into parts, each part through the whole network on another
core - a worker process for a training step, a thread for inference.

    model = dlscratch.DataParallel(net)   # what the Trainer, evaluate and predict use
    grads = model.gradient(x, t)          # the same keys and arrays as net.gradient
    optimizer.update(model.params, grads)
    model.close()                         # stops the worker processes (also done at exit)

A part runs through its own replica of the layers (parameters shared, cached activations
not; each ReLU just before a max pooling runs after it, on the pooled values, with the same
results: `replicas.PooledRelu`): in a worker process (`process_pool`: started at the first
split step and kept) or on one of dlscratch's threads. With parts of N_p samples:

    scores = the parts' scores, concatenated
    L = sum_p (N_p / N) L_p         (L_p: the mean loss over part p)
    dL/dW = sum_p dL_p/dW * N_p / N - each part's backward starts from dL/dL_p = N_p / N

The parts' number and bounds depend only on the batch's shape, dropout's masks are drawn for
the whole batch before the parts run, and the sums run in part order, so the result is the
same bit for bit with 1, 2 or 3 threads or workers (it may differ from the bare network's last
bits: a product over fewer rows rounds differently). The worker count is the thread setting
minus one (the calling process takes a share); with one thread nothing is started.
Only layers whose samples do not interact are split (`SPLIT_IN_TRAINING`), and batch norm at
the network's top level, whose parts then run side by side exchanging their sums (`lockstep`,
`LOCKSTEP_IN_TRAINING`); and only calls with enough work (`MIN_SPLIT_WORK`, values read and written,
benchmarks/NOTES.md); other calls run the bare network, whose convolutions and pooling still
share their chunks among the threads. Either way the first layer skips dL/dx (no one reads the
gradient of the images).
"""

from __future__ import annotations

import copy
import threading

import numpy as np

from dlscratch.kernels.hints import input_grad_unused
from dlscratch.kernels.lockstep import local_exchange, lockstep_gradient
from dlscratch.kernels.pool import get_num_threads, run_chunks
from dlscratch.kernels.process_pool import ProcessPool
from dlscratch.kernels.replicas import (
    draw_for_batch,
    draw_shapes,
    first_skipping,
    part_gradient,
    replica,
)
from dlscratch.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Flatten,
    Pooling,
    Relu,
    Residual,
    Sigmoid,
    SoftmaxWithLoss,
)
from dlscratch.metrics import accuracy

# Layers whose output for a sample depends on that sample alone (dropout: its masks are drawn
# for the whole batch first), with no state updated in place
SPLIT_IN_TRAINING = (Affine, Flatten, Relu, Sigmoid, Convolution, Pooling, SoftmaxWithLoss,
                     Dropout)
SPLIT_IN_INFERENCE = (*SPLIT_IN_TRAINING, BatchNormalization)
# Layers that couple the samples in training, split with the parts in lockstep exchanging sums
# (`lockstep`): batch norm, at the top level of the network
LOCKSTEP_IN_TRAINING = (BatchNormalization,)
MIN_SPLIT_WORK = 1 << 22  # values read and written by a call (x 3 in training) to split it
PART_WORK = 1 << 23  # about this much work per part, 2 to 8 parts per chunk (an even count)
# Where the parts run (measured: benchmarks/NOTES.md, round 5b): a split training step on worker
# processes; a split inference on worker processes if each sample's work is at least this many
# times its input (which is copied to shared memory first), else on threads
PROCESSES_IN_TRAINING = True
PROCESS_INFERENCE_RATIO = 8


class DataParallel:
    """A network whose big batches are split among the threads (see the module docstring)."""

    def __init__(self, net):
        self.net = net
        self.last_loss = None
        self.last_parts = 0  # parts the last gradient call ran (1: the batch whole)
        self._values_per_sample = {}  # sample shape -> (output values of all layers, out shape)
        self._work = {}  # (train_flg, sample shape, layer ids) -> work per sample or None
        self._draws = {}  # (sample shape, layer ids) -> the random layers' draw shapes
        self._pool, self._pool_key = None, None

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.net.params

    def gradient(self, x, t) -> dict[str, np.ndarray]:
        """net.gradient(x, t): the grads by key; the layers' dW, db, ... are set too."""
        net = self.net
        x, t = np.asarray(x, dtype=net.dtype), np.asarray(t)
        parts = self.parts(x, [slice(0, len(x))], True) if len(x) == len(t) else None
        self.last_parts = 1 if parts is None else len(parts)
        if parts is None:
            with input_grad_unused(first_skipping(net.stack)):
                grads = net.gradient(x, t)
            self.last_loss = net.last_loss
            return grads
        results = self._part_results(x, t, parts)
        (loss, first), (second_loss, second) = results[:2]  # at least 2 parts
        loss += second_loss
        total = {key: np.add(g, second[key]) for key, g in first.items()}
        for part_loss, grads in results[2:]:
            loss += part_loss
            for key, g in grads.items():
                total[key] += g
        for key, layer, attr in net.stack.param_refs:
            setattr(layer, "d" + attr, total[key])
        net.last_loss = self.last_loss = loss + net.decay_loss()
        return net.collect_grads()

    def _part_results(self, x, t, parts) -> list:
        """[(N_p / N * L_p, grads of part p)] in part order, on worker processes or threads."""
        shapes = self._draw_shapes(x.shape[1:])
        workers = get_num_threads() - 1
        lockstep = self._lockstep_layers()
        if lockstep:
            return self._lockstep_results(x, t, parts, shapes, lockstep, workers)
        replicas = {}

        def own_part(part, draws):
            return part_gradient(*self._replica(replicas, with_loss=True), x, t, part, draws)

        if PROCESSES_IN_TRAINING and workers > 0:
            return self._process_pool(workers).train(x, t, parts, shapes, own_part)
        draws = draw_for_batch(self.net.stack, shapes, len(x))
        return run_chunks(lambda part: own_part(part, draws), parts)

    def _lockstep_results(self, x, t, parts, shapes, lockstep, workers) -> list:
        """As _part_results, the parts side by side (`lockstep`); batch norm's running averages
        are then those of the first part's replica (every replica computed the same)."""
        stacks = {}

        def own_parts(indices, draws, exchange):
            for i in indices:
                stacks[i] = replica(self.net.stack)
            losses = [copy.copy(self.net.last_layer) for _ in indices]
            return lockstep_gradient([stacks[i] for i in indices], losses, x, t,
                                     [parts[i] for i in indices], draws, exchange)

        if PROCESSES_IN_TRAINING and workers > 0:
            results = self._process_pool(workers).train(x, t, parts, shapes, own_parts,
                                                        lockstep=lockstep)
        else:
            draws = draw_for_batch(self.net.stack, shapes, len(x))
            results = own_parts(range(len(parts)), draws, local_exchange)
        for i in lockstep:
            layer, first = self.net.stack.layers[i], stacks[0].layers[i]
            layer.running_mean, layer.running_var = first.running_mean, first.running_var
        return results

    def _lockstep_layers(self) -> list[int]:
        """Indices of the top-level layers that couple the samples in training."""
        return [i for i, layer in enumerate(self.net.stack.layers)
                if type(layer) in LOCKSTEP_IN_TRAINING]

    def _process_pool(self, workers: int) -> ProcessPool:
        """The worker processes, started at the first split call and kept (a new pool if the
        thread setting, the network's layers, their settings or its parameters' shapes and
        dtypes changed, or the last call failed)."""
        layers = [*self.net.stack.layers, self.net.last_layer]
        key = (workers, tuple(map(id, layers)), repr([layer.config() for layer in layers]),
               tuple((k, p.shape, p.dtype.str) for k, p in self.net.params.items()))
        if self._pool is None or self._pool_key != key or self._pool.workers != workers:
            self.close()
            self._pool, self._pool_key = ProcessPool(self.net, workers), key
        return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any (the Trainer does at the end of a run; they are
        also stopped at exit)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def predict(self, x, train_flg=False, batch_size=None) -> np.ndarray:
        """net.predict(x, train_flg, batch_size), the parts of every chunk on other cores."""
        x = np.asarray(x, dtype=self.net.dtype)
        size = len(x) if batch_size is None else batch_size
        chunks = [slice(i, min(i + size, len(x))) for i in range(0, len(x), max(int(size), 1))]
        parts = None if train_flg or batch_size is not None and (
            int(batch_size) != batch_size or batch_size < 1) else self.parts(x, chunks, False)
        if parts is None:
            return self.net.predict(x, train_flg, batch_size)
        replicas = {}

        def own_part(part):
            return self._replica(replicas)[0].forward(x[part], False)

        workers = get_num_threads() - 1
        sample = x.shape[1:]
        if workers > 0 and self._work_per_sample(False, sample) >= \
                PROCESS_INFERENCE_RATIO * int(np.prod(sample)):
            return self._process_pool(workers).predict(x, parts, self._out_shape(sample),
                                                       own_part)
        return np.concatenate(run_chunks(own_part, parts))

    def loss(self, x, t, train_flg=False) -> float:
        """net.loss(x, t, train_flg), the inference forward split among the threads."""
        if train_flg:
            return self.net.loss(x, t, True)
        return self.net.last_layer.forward(self.predict(x), t) + self.net.decay_loss()

    def accuracy(self, x, t, batch_size=1000) -> float:
        """net.accuracy(x, t, batch_size)."""
        return accuracy(self.predict(x, batch_size=batch_size), t)

    def parts(self, x, chunks, train_flg) -> list[slice] | None:
        """The chunks of x cut into parts, or None if this call is not to be split."""
        if len(x) < 2:
            return None
        per_sample = self._work_per_sample(train_flg, x.shape[1:])
        if per_sample is None or len(x) * per_sample < MIN_SPLIT_WORK:
            return None
        found = []
        for chunk in chunks:
            n = chunk.stop - chunk.start
            count = min(n, max(2, min(8, n * per_sample // PART_WORK) // 2 * 2))
            bounds = [chunk.start + n * i // count for i in range(count + 1)]
            found += [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        return found

    def _work_per_sample(self, train_flg, sample_shape) -> int | None:
        """Values read and written per sample (x3 in training), None if the layers may not be
        split; remembered per layer list and sample shape."""
        layers = [*self.net.stack.layers, self.net.last_layer]
        key = (train_flg, sample_shape, tuple(map(id, layers)))
        if key not in self._work:
            allowed = SPLIT_IN_TRAINING if train_flg else SPLIT_IN_INFERENCE
            work = None
            top = (*allowed, *LOCKSTEP_IN_TRAINING) if train_flg else allowed
            if all(type(layer) in top or _splittable(layer, allowed) for layer in layers):
                try:
                    work = (int(np.prod(sample_shape)) + self._values(sample_shape)) * (
                        3 if train_flg else 1)
                except ValueError:  # x does not fit the network: the bare network says so
                    work = None
            self._work[key] = work
        return self._work[key]

    def _draw_shapes(self, sample_shape) -> list:
        """The random layers' draws per sample in a training forward (`replicas.draw_shapes`)."""
        key = (sample_shape, tuple(map(id, self.net.stack.layers)))
        if key not in self._draws:
            self._draws[key] = draw_shapes(self.net.stack, sample_shape, self.net.dtype)
        return self._draws[key]

    def _replica(self, replicas: dict, with_loss=False):
        """This thread's (replica of the layers, copy of the loss layer), made once per call:
        a thread reuses it for all its parts (each part's gradients are new arrays)."""
        mine = replicas.get(threading.get_ident())
        if mine is None:
            loss = copy.copy(self.net.last_layer) if with_loss else None
            mine = replicas[threading.get_ident()] = (replica(self.net.stack, fuse=True), loss)
        return mine

    def _values(self, sample_shape) -> int:
        """Output values of all layers together for one sample (run once per sample shape)."""
        return self._dry_run(sample_shape)[0]

    def _out_shape(self, sample_shape) -> tuple:
        """The network's output shape for one sample."""
        return self._dry_run(sample_shape)[1]

    def _dry_run(self, sample_shape) -> tuple[int, tuple]:
        """(output values of all layers, the last output's shape) for one sample."""
        if sample_shape not in self._values_per_sample:
            out, total = np.zeros((1, *sample_shape), self.net.dtype), 0
            for layer in replica(self.net.stack).layers:
                out = layer.forward(out, train_flg=False)
                total += out.size
            self._values_per_sample[sample_shape] = (total, out.shape[1:])
        return self._values_per_sample[sample_shape]

    def __getattr__(self, name):  # everything else is the network's (layers, config, ...)
        if name == "net":
            raise AttributeError(name)
        return getattr(self.net, name)


def split_predict(net, x, batch_size=None) -> np.ndarray:
    """net.predict(x, batch_size=batch_size), each chunk's parts on the threads (DataParallel);
    the signature Ensemble.member_probabilities takes as `run`."""
    return DataParallel(net).predict(x, batch_size=batch_size)


def _splittable(layer, allowed) -> bool:
    if isinstance(layer, Residual):
        return all(_splittable(inner, allowed) for inner in layer.stack.layers)
    return type(layer) in allowed

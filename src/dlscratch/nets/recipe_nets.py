"""The networks of the training recipes (`dlscratch train --list-recipes`): plain Sequentials of
the course's layers, He-initialised, for 28x28 single-channel images and 10 classes.

fast-cnn:   conv5x5(16)-ReLU-pool, conv5x5(32)-ReLU-pool, affine(128)-ReLU, affine(10)
bn-cnn:     conv5x5(24)-BN-ReLU-pool, conv5x5(48)-BN-ReLU-pool, affine(128)-BN-ReLU,
            dropout (inverted), affine(10)
record-cnn: VGG-style (chapter 8): [conv3x3(32)-BN-ReLU] x2, pool, [conv3x3(64)-BN-ReLU] x2, pool,
            affine(256)-BN-ReLU, dropout (inverted), affine(10)

Every 'same' convolution keeps the image size (pad = size // 2); each 2x2 pooling halves it:
28 -> 14 -> 7.
"""

from __future__ import annotations

import numpy as np

from dlscratch.layers import Affine, BatchNormalization, Convolution, Dropout, Pooling, Relu
from dlscratch.nets.sequential import Sequential


def conv_block(c_in: int, c_out: int, size: int, rng, batchnorm: bool, dtype) -> list:
    """conv(size x size, 'same')[-BN]-ReLU."""
    layers = [Convolution.create(c_in, c_out, size, pad=size // 2, weight_init_std="he",
                                 rng=rng, dtype=dtype)]
    if batchnorm:
        layers.append(BatchNormalization.create(c_out, dtype=dtype))
    return [*layers, Relu()]


def fast_cnn(hidden: int = 128, dtype=np.float32, seed: int | None = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential([
        *conv_block(1, 16, 5, rng, False, dtype), Pooling(2, 2),
        *conv_block(16, 32, 5, rng, False, dtype), Pooling(2, 2),
        Affine.create(32 * 7 * 7, hidden, "he", rng, dtype), Relu(),
        Affine.create(hidden, 10, "he", rng, dtype),
    ])


def bn_cnn(hidden: int = 128, dropout: float = 0.25, dtype=np.float32,
           seed: int | None = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential([
        *conv_block(1, 24, 5, rng, True, dtype), Pooling(2, 2),
        *conv_block(24, 48, 5, rng, True, dtype), Pooling(2, 2),
        Affine.create(48 * 7 * 7, hidden, "he", rng, dtype),
        BatchNormalization.create(hidden, dtype=dtype), Relu(),
        Dropout(dropout, inverted=True, seed=seed),
        Affine.create(hidden, 10, "he", rng, dtype),
    ])


def record_cnn(hidden: int = 256, dropout: float = 0.4, dtype=np.float32,
               seed: int | None = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential([
        *conv_block(1, 32, 3, rng, True, dtype), *conv_block(32, 32, 3, rng, True, dtype),
        Pooling(2, 2),
        *conv_block(32, 64, 3, rng, True, dtype), *conv_block(64, 64, 3, rng, True, dtype),
        Pooling(2, 2),
        Affine.create(64 * 7 * 7, hidden, "he", rng, dtype),
        BatchNormalization.create(hidden, dtype=dtype), Relu(),
        Dropout(dropout, inverted=True, seed=seed),
        Affine.create(hidden, 10, "he", rng, dtype),
    ])

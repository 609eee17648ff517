"""Helpers shared by the CNN experiments (19-22): MNIST as images, one cached training run, and
a grid of small images.

    (x_train, t_train), (x_test, t_test) = mnist_images(ctx, train_size=1000, test_size=500)
    net, history = train_cnn(ctx, lambda: SimpleConvNet(seed=0), x_train, t_train,
                             x_test, t_test, epochs=20, seed=0)
    image_grid(fig_or_subfig, images, rows=3, cols=10, titles=[...])
"""

from __future__ import annotations

import numpy as np

from dlscratch.experiments.base import Context
from dlscratch.experiments.cache import matching_cli_run, train_or_load
from dlscratch.io.serialize import architecture
from dlscratch.train import Trainer


def mnist_images(ctx: Context, train_size: int | None = None, test_size: int | None = None):
    """MNIST as (N, 1, 28, 28) float32 images in [0, 1]: the first train_size / test_size of
    each split (None: all of it)."""
    (x_train, t_train), (x_test, t_test) = ctx.mnist(flatten=False)
    return ((x_train[:train_size], t_train[:train_size]),
            (x_test[:test_size], t_test[:test_size]))


def train_cnn(ctx: Context, make_net, x_train, t_train, x_test, t_test, *, epochs: int,
              seed: int, batch_size: int = 100, optimizer: str = "Adam",
              optimizer_param: dict | None = None, schedule=None, augment=None,
              augment_settings: dict | None = None, eval_limit: int | None = 1000):
    """Train `make_net()` with the Trainer; (net, history).

    In full mode the result is cached under the exact settings (architecture and initial
    weights' seed included), so two experiments that train the same network share one run.
    `seed` drives the mini-batch order and the augmentation; `augment_settings` names the
    augmentation in the cache key (augment functions are not JSON).
    """
    optimizer_param = optimizer_param or {"lr": 0.001}
    net = make_net()
    settings = {"architecture": architecture(net), "train_size": len(x_train),
                "test_size": len(x_test), "epochs": epochs, "batch_size": batch_size,
                "optimizer": optimizer, "optimizer_param": optimizer_param,
                "schedule": None if schedule is None else schedule.config(),
                "augment": augment_settings if augment is not None else None,
                "seed": seed, "eval_limit": eval_limit}

    def build_and_train():
        trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=epochs,
                          mini_batch_size=batch_size, optimizer=optimizer,
                          optimizer_param=optimizer_param, schedule=schedule, augment=augment,
                          evaluate_sample_num_per_epoch=eval_limit, seed=seed)
        return net, trainer.train()

    if not ctx.quick and (reused := matching_cli_run(ctx, net, settings)) is not None:
        return reused
    return train_or_load(ctx, settings, build_and_train)


def image_grid(fig, images, rows: int, cols: int, titles=None, cmap="gray_r", fontsize=8):
    """Draw up to rows*cols 2-D images on `fig` (a Figure or SubFigure), each scaled to its own
    range; titles (optional) above each. Unused cells stay blank."""
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(images):
            ax.axis("off")
            continue
        ax.imshow(np.asarray(images[i]), cmap=cmap, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=fontsize, pad=2)
    return axes

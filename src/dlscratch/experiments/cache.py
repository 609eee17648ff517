"""Train-or-reuse: full-mode experiments share trained networks keyed by their exact settings."""

from __future__ import annotations

import json

from dlscratch.experiments.base import Context
from dlscratch.io.serialize import load, save


def train_or_load(ctx: Context, settings: dict, build_and_train):
    """(net, history): from the cache when these exact settings were trained before.

    build_and_train() -> (net, history) runs only on a cache miss; the result is then saved as
    a model file plus a JSON history beside it.
    """
    path = ctx.cache_path("model", settings)
    if path is not None and path.exists() and path.with_suffix(".json").exists():
        ctx.log(f"  reusing the trained model {path}")
        return load(path), json.loads(path.with_suffix(".json").read_text())
    net, history = build_and_train()
    if path is not None:
        save(net, path)
        path.with_suffix(".json").write_text(json.dumps(history))
    return net, history

"""Train-or-reuse: full-mode experiments share trained networks keyed by their exact settings.

Two sources are reused: the experiment cache (models an experiment trained before), and runs of
`dlscratch train` named with `dlscratch experiment ... --reuse-run DIR` whose recorded settings
are the same training (same network and seed, optimizer, batch size, epochs, full MNIST).
"""

from __future__ import annotations

import json
from pathlib import Path

from dlscratch.experiments.base import Context
from dlscratch.io.serialize import architecture, load, save
from dlscratch.train.run_config import RunConfig


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


def matching_cli_run(ctx: Context, net, settings: dict):
    """(net, history) from a `dlscratch train` run in ctx.reuse_runs that trained exactly the
    training `settings` describe (see common_cnn.train_cnn), else None. The run's config.json
    is read as a RunConfig (config.json files of earlier versions too)."""
    wanted = architecture(net)
    for run_dir in ctx.reuse_runs:
        run_dir = Path(run_dir)
        try:
            cli = RunConfig.read(run_dir / "config.json")
            history = json.loads((run_dir / "history.json").read_text())
            model = load(run_dir / "model.npz")
            last_iteration = history["iteration"][-1]
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
        same = (architecture(model) == wanted and cli.dataset == "mnist"
                and (cli.limit or 60000) == settings["train_size"] and not cli.val_fraction
                and cli.epochs == settings["epochs"] and cli.iterations is None
                and cli.batch_size == settings["batch_size"]
                and cli.optimizer == settings["optimizer"].lower() and cli.momentum is None
                and {"lr": cli.lr} == settings["optimizer_param"]
                and cli.seed == settings["seed"] and cli.sampling == "shuffle"
                and cli.schedule == "constant" and settings["schedule"] is None
                and not cli.augment and settings["augment"] is None
                and last_iteration == round(settings["train_size"] // cli.batch_size * cli.epochs))
        if same:
            ctx.log(f"  reusing the run {run_dir} (dlscratch train, same settings)")
            return model, history
    return None

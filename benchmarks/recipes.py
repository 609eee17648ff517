"""Time to accuracy: the package's training recipes `fast` and `accurate`
(dlscratch.train.recipes, `dlscratch train --list-recipes`), run on several seeds.

    python -m benchmarks.recipes --recipe fast --seeds 0 1 2  # test accuracy + wall time
    python -m benchmarks.recipes --recipe accurate --seeds 0 --validate  # on a validation split
    python -m benchmarks.recipes --recipe fast --threads 1   # same result, on one thread

Both recipes are fixed in advance and of fixed length. They were designed with --validate, which
trains on 55,000 training images and measures 5,000 held-out training images; the test set is
used only for the reported numbers. Wall time counts the training loop (batches, forward,
backward, updates, augmentation), not the final evaluation. Each batch is split among the
threads (batch norm's parts exchange their sums); the result is the same at any thread count
(dlscratch's default: the usable cores).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import dlscratch
from dlscratch.data import load_mnist, train_val_split
from dlscratch.data.augment import augmenter
from dlscratch.io.atomic import atomic_write_text
from dlscratch.kernels.allocator import keep_freed_memory
from dlscratch.train import Trainer
from dlscratch.train.recipes import recipe_config

# what each recipe must reach (mean test accuracy over the seeds) within its budget
GOALS = {"fast": {"target": 0.990, "budget_s": 60},
         "accurate": {"target": 0.995, "budget_s": 600}}


def run_recipe(name: str, seed: int, validate: bool, progress: bool = False) -> dict:
    """Train recipe `name` with seed on the current dlscratch thread count; test accuracy."""
    config = recipe_config(name, seed=seed)
    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
    if validate:
        (x_train, t_train), (x_test, t_test) = train_val_split(x_train, t_train, 5000 / 60000,
                                                               seed=1234)
    net = config.build_model()
    trainer = Trainer(net, x_train, t_train, epochs=config.epochs,
                      mini_batch_size=config.batch_size, optimizer=config.optimizer,
                      optimizer_param={"lr": config.lr}, seed=seed,
                      schedule={"name": config.schedule, "total": config.epochs,
                                "warmup": config.warmup},
                      augment=augmenter(config), evaluate_initial=False,
                      evaluate_sample_num_per_epoch=1, progress=progress)
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    accuracy = net.accuracy(x_test, t_test, batch_size=500)
    return {"recipe": name, "seed": seed, "split": "validation" if validate else "test",
            "threads": dlscratch.get_num_threads(), "accuracy": accuracy,
            "train_wall_s": round(wall, 1),
            "images_per_s": round(trainer.max_iter * config.batch_size / wall, 1)}


def run_recipes(names, seeds, validate=False, progress=False, threads=None) -> list[dict]:
    """Each recipe on each seed (on `threads` threads if given, else dlscratch's default: the
    result is the same at any count); a line per run and per recipe; the results as dicts."""
    results = []
    for name in names:
        goal = GOALS[name]
        threads_before = dlscratch.get_num_threads()
        dlscratch.set_num_threads(threads or threads_before)
        runs = []
        try:
            for seed in seeds:
                r = run_recipe(name, seed, validate, progress)
                runs.append(r)
                print(f"{name:<9} seed {seed}, {r['threads']} thread(s): {r['split']} accuracy "
                      f"{r['accuracy']:.4f}, "
                      f"training {r['train_wall_s']:.1f} s ({r['images_per_s']:.0f} img/s)",
                      flush=True)
        finally:
            dlscratch.set_num_threads(threads_before)
        mean_acc = float(np.mean([r["accuracy"] for r in runs]))
        max_wall = max(r["train_wall_s"] for r in runs)
        ok = mean_acc >= goal["target"] and max_wall <= goal["budget_s"]
        print(f"{name:<9} mean accuracy {mean_acc:.4f} (target {goal['target']}), "
              f"longest training {max_wall:.1f} s (budget {goal['budget_s']} s): "
              f"{'MET' if ok else 'NOT MET'}", flush=True)
        results.append({"recipe": name, "runs": runs, "mean_accuracy": mean_acc,
                        "max_train_wall_s": max_wall, "target": goal["target"],
                        "budget_s": goal["budget_s"], "met": ok})
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=sorted(GOALS), action="append")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--validate", action="store_true",
                        help="hold out 5,000 training images instead of using the test set")
    parser.add_argument("--out", default="benchmarks/results/recipes.json")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="dlscratch threads (default: dlscratch's, the usable cores)")
    args = parser.parse_args(argv)
    keep_freed_memory()
    results = run_recipes(args.recipe or sorted(GOALS), args.seeds, args.validate,
                          args.progress, args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`dlscratch train --members K` (the record recipe): an ensemble of K networks, trained one
after the other into OUT/member-1, ..., OUT/member-K (each a run folder of its own), with seeds
SEED, SEED+1, ...; OUT/ensemble.json lists the finished members in training order with the
seconds each trained and the CPU it ran on, so the folder is a model for `evaluate`, `predict`
and `serve` at every point. No test image is scored while training (the members' histories hold
the training and validation accuracies only); the ensemble's test accuracy is measured once, at
the end - or, in a run with a validation split (--holdout: a design run), its validation
accuracy and never the test set. `--resume` keeps the finished members and continues the member
that was cut short from its checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlscratch.cli import failures
from dlscratch.cli.train_run import RUN_FILES, load_checked_data, train_one
from dlscratch.errors import RunError
from dlscratch.io.atomic import atomic_write_text
from dlscratch.io.ensemble_file import ENSEMBLE_FILE, read_ensemble, write_ensemble
from dlscratch.kernels.pool import cpu_model
from dlscratch.train.run_config import RunConfig
from dlscratch.train.run_lock import open_run_folder


def member_folder(out: Path, k: int) -> Path:
    return out / f"member-{k}"


def train_members(args, config: RunConfig, out: Path, session: dict) -> int:
    """The ensemble run, in its locked folder."""
    started = [k for k in range(1, config.members + 1) if any(
        (member_folder(out, k) / name).exists() for name in ("checkpoint.npz", "model.npz"))]
    if not args.resume and (started or (out / ENSEMBLE_FILE).exists()):
        raise RunError(f"{out} already holds a run: add --resume to continue it, or choose "
                       "another --out")
    done = finished_members(out) if args.resume else []
    if args.resume and not started:
        raise RunError(f"--resume: {out} has no member with a checkpoint (the run stopped "
                       "before its first epoch ended): start it again without --resume")
    atomic_write_text(out / "config.json", config.to_json())
    train, _, val = load_checked_data(config)
    data = (train, (None, None), val)  # the test set waits for the end
    if config.augment:
        draw_augmentations(config, train[0], out)
    training = [entry for _, entry in done]
    session["members_done"] = len(done)
    for k in range(len(done) + 1, config.members + 1):
        folder = member_folder(out, k)
        member = config.replace(members=1, seed=config.seed + k - 1)
        session["member"] = f"{k} of {config.members}"
        print(f"member {k} of {config.members} (seed {member.seed})", flush=True)
        with open_run_folder(folder, RUN_FILES):
            resume = args.resume and (folder / "checkpoint.npz").exists()
            trainer = train_one(member, data, folder, resume, args.quiet, session)
        training.append({"seed": member.seed, "train_s": round(trainer.elapsed_s, 1),
                         "cpu": cpu_model()})
        write_ensemble(out, [f"member-{i}/model.npz" for i in range(1, k + 1)], training)
        session["members_done"] = k
    return report(args, out, training)


def finished_members(out: Path) -> list[tuple[Path, dict]]:
    """(model file, training record) of each member ensemble.json lists (none without it)."""
    if not (out / ENSEMBLE_FILE).exists():
        return []
    record = read_ensemble(out)
    return list(zip(record["members"], record.get("training") or [{}] * len(record["members"]),
                    strict=True))


def report(args, out: Path, training: list[dict]) -> int:
    """The ensemble's test accuracy (the one time the test set is used) and its training time;
    a run with a validation split (a design run) scores that instead and never the test set."""
    from dlscratch.cli.model_inputs import load_model, member_probabilities
    from dlscratch.cli.train_run import load_data

    config = RunConfig.read(out / "config.json")
    ensemble = load_model(out)
    seconds = sum(entry.get("train_s", 0.0) for entry in training)
    if args.quiet is False:
        print(f"wrote {out}/: {ENSEMBLE_FILE}, config.json and member-1 ... member-"
              f"{len(training)}; training took {seconds:,.0f} s in all")
    _, test, val = load_data(config)
    name, (x, t) = ("validation", val) if val[0] is not None else ("test", test)
    failures.doing(f"measuring the ensemble's {name} accuracy")
    probs = member_probabilities(ensemble, x, batch_size=1000)
    if name == "validation":
        from dlscratch.nets.ensemble import first_k_accuracy

        print("first k members together: " +
              " ".join(f"{a:.4f}" for a in first_k_accuracy(probs, t)))
    print(f"{name} accuracy: {np.mean(probs.mean(axis=0).argmax(axis=1) == t):.4f}")
    return 0


def draw_augmentations(config: RunConfig, x_train, out: Path) -> None:
    """OUT/augmentations.png: eight training images, then the run's augmentation split into its
    parts (shifts, rotations and zooms; the elastic distortion alone) and whole, each drawn
    from its own fixed seed."""
    from dlscratch.data.augment import augment_batch
    from dlscratch.image_plots import plot_augmentations

    images = x_train[:8].reshape(8, 1, 28, 28)
    settings = config.augment_settings()
    affine = {**settings, "elastic_alpha": 0.0}
    elastic = {**settings, "max_shift": 0, "max_angle": 0, "max_scale": 0}
    rows, labels = [], []
    for name, kwargs in (("shift, rotate, zoom", affine), ("elastic", elastic),
                         ("both", settings)):
        if name == "elastic" and not settings["elastic_alpha"]:
            continue
        rows.append(augment_batch(images, np.random.default_rng(0), **kwargs)[:, 0])
        labels.append(name)
    plot_augmentations(images[:, 0], rows, labels, out / "augmentations.png",
                       f"augmentation of {config.model}'s training images")

"""Trainer: mini-batch gradient descent as the course describes it, with the tools a real run needs.

    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                      optimizer="Adam", optimizer_param={"lr": 0.001})
    history = trainer.train()

Each iteration: draw a mini-batch, compute the gradient by backprop, update the parameters.
Sampling is in shuffled epochs by default (each epoch a new permutation, cut into
N // batch_size batches; the few samples left over sit out that epoch); `sampling="replacement"`
draws every batch independently with replacement, as the book's code does.
After every epoch: accuracies (on at most `evaluate_sample_num_per_epoch` samples), history,
an atomic checkpoint, early stopping. A NaN/Inf loss - or a NaN/Inf weight at the end of an
epoch, before it is evaluated or saved - stops the run with `TrainingDiverged`, naming the layer
where non-finite values first appear; the last checkpoint stays intact.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from dlscratch.io.serialize import ModelFileError, architecture, load_state, state_arrays
from dlscratch.optim import get_optimizer, get_schedule
from dlscratch.train.checkpoint import read_checkpoint, write_checkpoint
from dlscratch.train.history import new_history


class TrainingDiverged(RuntimeError):
    """The loss became NaN or Inf."""


class Trainer:
    def __init__(self, network, x_train, t_train, x_test=None, t_test=None, epochs=20,
                 mini_batch_size=100, optimizer="SGD", optimizer_param=None,
                 evaluate_sample_num_per_epoch=None, verbose=False, *, iterations=None,
                 x_val=None, t_val=None, sampling="shuffle", schedule=None, seed=0,
                 checkpoint_path=None, early_stopping_patience=None, augment=None,
                 progress=False, evaluate_initial=True):
        if len(x_train) != len(t_train) or len(x_train) == 0:
            raise ValueError(f"x_train and t_train must have the same non-zero length, got "
                             f"{len(x_train)} and {len(t_train)}")
        if sampling not in ("shuffle", "replacement"):
            raise ValueError(f"sampling must be 'shuffle' or 'replacement', got {sampling!r}")
        if int(mini_batch_size) < 1:
            raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size!r}")
        for name, x, t in (("test", x_test, t_test), ("val", x_val, t_val)):
            if (x is None) != (t is None):
                raise ValueError(f"pass both x_{name} and t_{name}, or neither")
            if x is not None and (len(x) != len(t) or len(x) == 0):
                raise ValueError(f"x_{name} and t_{name} must have the same non-zero length, "
                                 f"got {len(x)} and {len(t)}")
        if early_stopping_patience is not None:
            if x_val is None:
                raise ValueError("early stopping watches validation accuracy: pass x_val and t_val")
            if int(early_stopping_patience) < 1:
                raise ValueError(f"early_stopping_patience must be >= 1 (epochs), got "
                                 f"{early_stopping_patience!r}")
        if evaluate_sample_num_per_epoch is not None and int(evaluate_sample_num_per_epoch) < 1:
            raise ValueError(f"evaluate_sample_num_per_epoch must be >= 1 or None, got "
                             f"{evaluate_sample_num_per_epoch!r}")
        self.network = network
        self.x_train, self.t_train = x_train, t_train
        self.eval_sets = {name: (x, t) for name, x, t in
                          (("train", x_train, t_train), ("test", x_test, t_test),
                           ("val", x_val, t_val)) if x is not None}
        self.batch_size = min(int(mini_batch_size), len(x_train))
        self.iter_per_epoch = max(len(x_train) // self.batch_size, 1)
        if iterations is None:
            if epochs is None or not 0 < epochs < math.inf:
                raise ValueError(f"epochs must be a finite number > 0, got {epochs!r}")
            iterations = max(1, int(round(epochs * self.iter_per_epoch)))  # at least one update
        elif int(iterations) < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations!r}")
        self.max_iter = int(iterations)
        self.optimizer = (get_optimizer(optimizer, **(optimizer_param or {}))
                          if isinstance(optimizer, str) else optimizer)
        self.base_lr = self.optimizer.lr
        self.schedule = get_schedule(schedule) if not callable(schedule) else schedule
        self.sampling, self.seed = sampling, seed
        self.rng = np.random.default_rng(seed)
        self.eval_limit = evaluate_sample_num_per_epoch
        self.checkpoint_path = None if checkpoint_path is None else Path(checkpoint_path)
        self.patience = early_stopping_patience
        self.augment = augment
        self.verbose, self.progress = verbose, progress
        self.evaluate_initial = evaluate_initial
        self.history = new_history()
        self.iteration = 0
        self.best = None  # (val_acc, epoch, arrays) with early stopping
        self.stopped_early = False
        self._order = None  # the current epoch's permutation
        self._elapsed = 0.0

    # -- the loop --------------------------------------------------------------------------
    def train(self) -> dict:
        """Run to `iterations` (or the epochs' worth); return the history."""
        start = time.perf_counter() - self._elapsed
        if self.iteration == 0 and self.evaluate_initial and not self.history["epoch"]:
            self._evaluate(start, epoch_loss=None)
            self._early_stopping()  # the initial weights are a candidate for "best" too
        bar = self._progress_bar()
        while self.iteration < self.max_iter and not self.stopped_early:
            self._step()
            if bar is not None:
                bar.set_postfix(loss=f"{self.history['loss'][-1]:.4f}", **self._last_accs(),
                                refresh=False)  # drawn by update(), at most 10 times a second
                bar.update(1)
            epoch_done = self.iteration % self.iter_per_epoch == 0
            if epoch_done or self.iteration == self.max_iter:
                self._check_state()  # never evaluate, keep as best or checkpoint blown-up weights
                n = self.iteration % self.iter_per_epoch or self.iter_per_epoch
                self._evaluate(start, epoch_loss=float(np.mean(self.history["loss"][-n:])))
                self._early_stopping()
                self._elapsed = time.perf_counter() - start
                if self.checkpoint_path is not None:
                    self.save_checkpoint(self.checkpoint_path)
        if bar is not None:
            bar.close()
        if self.best is not None and self.patience is not None:
            load_state(self.network, self.best[2], "best weights")
        self._elapsed = time.perf_counter() - start
        return self.history

    def _step(self):
        idx = self._next_batch()
        x, t = self.x_train[idx], self.t_train[idx]
        if self.augment is not None:
            x = self.augment(x, self.rng)
        lr = self.base_lr * self.schedule(self.iteration / self.iter_per_epoch)
        self.optimizer.lr = lr
        grads = self.network.gradient(x, t)
        loss = self.network.last_loss
        if not math.isfinite(loss):
            where = self.network.first_nonfinite(x) or "the loss layer"
            raise self._diverged(f"loss became {loss}", self.iteration + 1, where)
        self.optimizer.update(self.network.params, grads)
        self.iteration += 1
        self.history["loss"].append(loss)
        self.history["lr"].append(lr)

    def _diverged(self, what: str, iteration: int, where: str) -> TrainingDiverged:
        kept = (f"the last good checkpoint is {self.checkpoint_path}"
                if self.checkpoint_path is not None and self.checkpoint_path.exists()
                else "no checkpoint was written yet")
        return TrainingDiverged(
            f"{what} at iteration {iteration} (epoch {(iteration - 1) // self.iter_per_epoch + 1});"
            f" non-finite values first appear in {where}; {kept}. Try a smaller learning rate "
            f"(now {self.optimizer.lr:g})."
        )

    def _check_state(self) -> None:
        """TrainingDiverged if a parameter or buffer holds NaN/Inf (the last update blew up)."""
        stack = getattr(self.network, "stack", None)
        refs = ([(key, layer.name, kind) for kind, table in
                 (("parameter", stack.param_refs), ("buffer", stack.buffer_refs))
                 for key, layer, _ in table] if stack is not None else
                [(key, key, "array") for key in state_arrays(self.network)])
        arrays = state_arrays(self.network)
        for key, owner, kind in refs:
            if not np.all(np.isfinite(arrays[key])):
                raise self._diverged("the weights became non-finite", self.iteration,
                                     f"{owner} ({kind} {key})")

    def _next_batch(self) -> np.ndarray:
        n, b = len(self.x_train), self.batch_size
        if self.sampling == "replacement":
            return self.rng.choice(n, b)
        pos = self.iteration % self.iter_per_epoch
        if pos == 0 or self._order is None:
            self._order = self.rng.permutation(n)
        return self._order[pos * b:(pos + 1) * b]

    # -- evaluation and early stopping ------------------------------------------------------
    def _evaluate(self, start, epoch_loss):
        h = self.history
        h["epoch"].append(round(self.iteration / self.iter_per_epoch, 4))
        h["iteration"].append(self.iteration)
        h["epoch_loss"].append(epoch_loss)
        for name in ("train", "test", "val"):
            acc = None
            if name in self.eval_sets:
                x, t = self.eval_sets[name]
                if self.eval_limit:
                    x, t = x[:self.eval_limit], t[:self.eval_limit]
                acc = self.network.accuracy(x, t)
            h[f"{name}_acc"].append(acc)
        h["elapsed_s"].append(round(time.perf_counter() - start, 3))
        if self.verbose:
            accs = ", ".join(f"{k} {v}" for k, v in self._last_accs().items())
            print(f"epoch {h['epoch'][-1]:g} (iteration {self.iteration}): {accs}")

    def _last_accs(self) -> dict[str, str]:
        return {f"{name}_acc": f"{self.history[f'{name}_acc'][-1]:.4f}"
                for name in ("train", "test", "val")
                if self.history[f"{name}_acc"] and self.history[f"{name}_acc"][-1] is not None}

    def _early_stopping(self):
        if self.patience is None:
            return
        acc, epoch = self.history["val_acc"][-1], self.history["epoch"][-1]
        if self.best is None or acc > self.best[0]:
            self.best = (acc, epoch, {k: v.copy() for k, v in state_arrays(self.network).items()})
        elif epoch - self.best[1] >= self.patience:
            self.stopped_early = True

    def _progress_bar(self):
        if not self.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=self.max_iter, initial=self.iteration, unit="it", dynamic_ncols=True,
                    desc="train")

    # -- checkpoint and resume -------------------------------------------------------------
    def settings(self) -> dict:
        """What must match for a resumed run to continue the same run."""
        return {"batch_size": self.batch_size, "iter_per_epoch": self.iter_per_epoch,
                "max_iter": self.max_iter, "sampling": self.sampling, "seed": self.seed,
                "base_lr": self.base_lr, "optimizer": type(self.optimizer).__name__,
                "schedule": _schedule_id(self.schedule),
                "train_size": len(self.x_train), "patience": self.patience}

    def save_checkpoint(self, path) -> None:
        opt_scalars, opt_arrays = self.optimizer.state_dict()
        meta = {"architecture": architecture(self.network), "settings": self.settings(),
                "optimizer": opt_scalars, "iteration": self.iteration,
                "rng": self.rng.bit_generator.state,
                "order": None if self._order is None else self._order.tolist(),
                "network_rng": self.network.get_rng_state(), "history": self.history,
                "elapsed_s": self._elapsed, "stopped_early": self.stopped_early,
                "best": None if self.best is None else list(self.best[:2])}
        groups = {"net": state_arrays(self.network), "opt": opt_arrays}
        if self.best is not None:
            groups["best"] = self.best[2]
        write_checkpoint(path, meta, groups)

    def resume(self, path) -> None:
        """Restore the state saved by `save_checkpoint`; `train()` then continues from there."""
        meta, groups = read_checkpoint(path)
        try:
            saved, mine = meta["settings"], self.settings()
        except (KeyError, TypeError):
            raise ModelFileError(f"{path}: not a training checkpoint (no settings)") from None
        changed = {k: (saved.get(k), v) for k, v in mine.items()
                   if k != "max_iter" and saved.get(k) != v}
        if changed:
            detail = ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}"
                               for k, (a, b) in changed.items())
            raise ValueError(f"{path}: cannot resume a different run ({detail})")
        if _comparable(architecture(self.network)) != _comparable(meta.get("architecture")):
            raise ValueError(f"{path}: cannot resume a different run (the network differs: "
                             f"checkpoint {_describe(meta.get('architecture'))} vs now "
                             f"{_describe(architecture(self.network))})")
        try:  # read everything first: a checkpoint that fails half-way changes nothing
            opt_scalars, iteration = meta["optimizer"], int(meta["iteration"])
            rng_state, order, network_rng = meta["rng"], meta["order"], meta["network_rng"]
            history, elapsed = meta["history"], float(meta["elapsed_s"])
            stopped_early = bool(meta["stopped_early"])
            best = (None if meta["best"] is None
                    else (meta["best"][0], meta["best"][1], groups["best"]))
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise ModelFileError(f"{path}: incomplete checkpoint (missing or bad {exc})") from None
        load_state(self.network, groups.get("net", {}), str(path))
        self.optimizer.load_state_dict(opt_scalars, groups.get("opt", {}))
        self.iteration = iteration
        self.rng.bit_generator.state = rng_state
        self._order = None if order is None else np.array(order, dtype=np.int64)
        self.network.set_rng_state(network_rng)
        self.history, self._elapsed = history, elapsed
        self.stopped_early, self.best = stopped_early, best


def _comparable(arch):
    """An architecture as JSON gives it back, without the initialisation seed (the weights are
    loaded from the checkpoint, so the seed they were drawn with does not matter)."""
    arch = json.loads(json.dumps(arch))
    if isinstance(arch, dict) and isinstance(arch.get("config"), dict):
        arch["config"].pop("seed", None)
    return arch


def _schedule_id(schedule) -> dict | str:
    """A schedule's config, or for a plain function its qualified name (a repr holds an address,
    which would differ between the interrupted and the resumed process)."""
    if hasattr(schedule, "config"):
        return schedule.config()
    return f"{getattr(schedule, '__module__', '?')}.{getattr(schedule, '__qualname__', '?')}"


def _describe(arch) -> str:
    if not isinstance(arch, dict):
        return "unknown"
    layers = "-".join(str(spec.get("type")) for spec in arch.get("layers", []))
    return f"{arch.get('model')}{arch.get('config') or ''} [{layers}]"

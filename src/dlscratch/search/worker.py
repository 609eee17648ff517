"""A search worker: take queued trials of the study and run them until every index is done.

    run_worker(job)                                  # in this process
    python -m dlscratch.search.worker '<job JSON>'   # what `--workers N` starts N times

Each round: mark FAIL the trials whose heartbeat stopped, queue the indices that have no live
trial (study.queue_missing), stop if every index k < trials is COMPLETE, wait a moment if no
trial is queued (others are running the rest: one of them may still die), else run one trial
through Optuna's `optimize` (which takes the first queued trial, keeps its heartbeat while it
runs, and records it COMPLETE, or FAIL on an error or Ctrl-C); the trial is taken under the
study's QueueLock, released as soon as it is ours. The trial records its index,
seed, curves, and the host, process and thread count that ran it. A worker started by the
command stops after its trial when that command is gone (killed with kill -9).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import asdict, dataclass

from dlscratch.search.settings import SearchSettings
from dlscratch.search.space import draw_values
from dlscratch.search.trial import load_search_data, run_trial

POLL_S = 0.5


@dataclass
class WorkerJob:
    storage: str             # the study's URL
    study: str               # its name
    settings: dict           # SearchSettings.to_dict()
    trials: int              # N: indices 0..N-1
    heartbeat: int           # seconds between heartbeats
    data_dir: str | None = None
    threads: int | None = None   # dlscratch threads in this worker
    worker: int = 1          # its number, for messages
    parent: int | None = None    # the command that started it: stop when it is gone

    def to_json(self) -> str:
        return json.dumps(asdict(self))


_signals = {"in_trial": False, "pending": None}


@contextlib.contextmanager
def trial_interrupts():
    """While active (main thread only), Ctrl-C, SIGTERM or SIGHUP interrupt a trial that is
    training (Optuna records it FAIL) and otherwise wait for the next point where the worker
    may stop (`stop_if_asked`): a signal never cuts Optuna's own bookkeeping - taking a trial,
    recording its result - in half, which would leave a trial RUNNING until its heartbeat is
    found stale. A second signal is ignored."""
    from dlscratch.cli.failures import CAUGHT_SIGNALS, Interrupted

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if _signals["pending"] is None:
            _signals["pending"] = signum
            if _signals["in_trial"]:
                raise Interrupted(signum)

    previous = {}
    _signals.update(in_trial=False, pending=None)
    try:
        for signum in CAUGHT_SIGNALS:
            if signal.getsignal(signum) != signal.SIG_IGN:
                previous[signum] = signal.signal(signum, handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def stop_if_asked() -> None:
    from dlscratch.cli.failures import Interrupted

    if _signals["pending"] is not None:
        raise Interrupted(_signals["pending"])


@contextlib.contextmanager
def training():
    """The part of a trial that a signal interrupts at once."""
    stop_if_asked()
    _signals["in_trial"] = True
    try:
        yield
    finally:
        _signals["in_trial"] = False


def run_worker(job: WorkerJob, on_round=None) -> int:
    """Run trials until the study is done; the number this worker completed. `on_round()` is
    called after each round (the command prints the finished trials there). Signals: see
    `trial_interrupts` (the caller activates it)."""
    from dlscratch.search import study as st

    optuna = st.optuna_module()
    settings = SearchSettings.from_dict(job.settings, job.data_dir)
    storage = st.open_storage(job.storage, job.heartbeat)
    study = st.load_study(storage, job.study, job.storage)
    data = load_search_data(settings.base)
    completed = 0

    taking = st.QueueLock(job.storage, job.study)

    def objective(trial):
        taking.release()  # the trial is ours (RUNNING): others may take the next one
        index = trial.user_attrs.get("index")
        if index is None:  # another worker took the last queued trial first
            raise optuna.TrialPruned("not a queued trial")
        if st.is_duplicate(study, trial.number, index):
            trial.set_user_attr("duplicate", True)
            raise optuna.TrialPruned(f"index {index} is run by another trial")
        values = {p.name: suggest(trial, p) for p in settings.space}
        seed = draw_values(settings.space, settings.seed, index)[1][0]
        from dlscratch import kernels

        for key, value in (("seed", seed), ("host", socket.gethostname()), ("pid", os.getpid()),
                           ("threads", kernels.get_num_threads())):
            trial.set_user_attr(key, value)
        with training():
            result = run_trial(settings.trial_config(values, seed), data)
        trial.set_user_attr("val_acc", result["val_acc"])
        trial.set_user_attr("train_acc", result["train_acc"])
        if result["diverged"]:
            trial.set_user_attr("diverged", result["diverged"])
        return result["value"]

    while job.parent is None or os.getppid() == job.parent:  # a killed command: stop too
        stop_if_asked()
        st.fail_stale(study)
        st.queue_missing(study, settings, job.trials, job.storage)
        if len(st.done_indices(study, job.trials)) == job.trials:
            return completed
        taking.acquire()  # Optuna takes the first queued trial under it; objective releases
        if not st.has_waiting(study, job.trials):  # the others run the rest (one may die)
            taking.release()
            time.sleep(POLL_S)
            continue
        before = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        try:
            study.optimize(objective, n_trials=1, gc_after_trial=False)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # this trial was marked stale and queued again while it ran: the retry counts
        finally:
            taking.release()
        after = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        completed += after > before
        if on_round is not None:
            on_round()
    return completed


def suggest(trial, param):
    """The trial's value of `param` (the queued one, or the sampler's)."""
    if param.choices is not None:
        return trial.suggest_categorical(param.name, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(param.name, int(param.low), int(param.high), log=param.log)
    return trial.suggest_float(param.name, float(param.low), float(param.high), log=param.log)


def main(argv: list[str] | None = None) -> int:
    """`python -m dlscratch.search.worker JOB_JSON`: run a worker; errors in one line."""
    from dlscratch.cli import failures
    from dlscratch.kernels.allocator import keep_freed_memory

    argv = sys.argv[1:] if argv is None else argv
    job = WorkerJob(**json.loads(argv[0]))
    keep_freed_memory()
    if job.threads is not None:
        from dlscratch import kernels

        kernels.set_num_threads(job.threads)
    try:
        with trial_interrupts():
            run_worker(job)
        return 0
    except KeyboardInterrupt as exc:
        return failures.as_interrupted(exc).status
    except Exception as exc:  # one line for the command to show; the trial is marked FAIL
        print(f"{failures.one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

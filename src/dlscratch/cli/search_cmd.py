"""`dlscratch search`: the course's hyperparameter search on Optuna, resumable, on many workers.

    dlscratch search --model multi-layer --hidden 100 100 100 100 100 100 --optimizer sgd \\
        --limit 500 --epochs 50 --param lr=1e-6:1e-2:log --param weight_decay=1e-8:1e-4:log \\
        --trials 100 --workers 2 --out runs/search

Trial k's values come from (--seed, k) with the random sampler (the default, the course's), so
a trial's values and validation accuracy do not depend on how many workers or machines ran it;
`--sampler tpe` lets Optuna's TPE propose them (not reproducible when run in parallel). The
study lives in OUT/search.db (SQLite) unless --storage names a database (PostgreSQL:
postgresql+psycopg://user:password@host/db) that commands on several machines share. Running
the same command again continues the study; --trials is its total. Each finished trial is
printed as it ends; at the end (and with --report DIR) OUT/STUDY/ receives curves.png,
scatter.png, trials.csv, narrowed.json and best.json (`dlscratch train --config best.json`).
--narrow runs the next round, STUDY-r2 (-r3, ...), in the ranges the best trials of STUDY span.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlscratch.cli import failures
from dlscratch.cli.train_flags import FIELDS, add_run_flags, check_batch, check_flags
from dlscratch.search.errors import SearchError

COURSE_PARAMS = ("lr=1e-6:1e-2:log", "weight_decay=1e-8:1e-4:log")
STOP_WAIT_S = 30  # how long the workers get to stop after Ctrl-C before they are killed


def add_parser(sub):
    p = sub.add_parser("search", help="hyperparameter search (Optuna): resumable, many workers",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_flags(p)
    a = p.add_argument
    a("--param", action="append", metavar="NAME=SPEC",
      help="a searched setting: lr=1e-6:1e-2:log (float, log-uniform), dropout=0:0.5, "
           "hidden=50:200 (integer: every hidden layer, as many as --hidden gives), "
           "activation=relu,sigmoid (choices); repeat the flag; "
           f"default: the course's {' '.join(COURSE_PARAMS)}")
    a("--trials", type=_positive, default=20, help="the study's number of trials (default 20)")
    a("--sampler", choices=("random", "tpe"), default="random",
      help="random (the course's, default; reproducible) or tpe (Optuna's TPE)")
    a("--workers", type=_positive, default=1,
      help="processes on this machine, each with max(1, cores // N) threads (default 1)")
    a("--out", default="runs/search", help="folder for search.db and the reports "
                                           "(default runs/search)")
    a("--study", default="search", help="the study's name (default search)")
    a("--storage", metavar="URL", help="the study's database (default: sqlite OUT/search.db)")
    a("--heartbeat", type=_positive, default=30,
      help="seconds between a running trial's heartbeats; a trial silent for twice that is "
           "failed and run again (default 30)")
    a("--narrow", action="store_true",
      help="run the next round: study STUDY-r2 in the ranges of STUDY's best 5 trials")
    a("--report", metavar="DIR", help="only write the report of the study in DIR (its "
                                      "search.db, or --storage) and print it")
    a("--quiet", action="store_true", help="no table of finished trials")
    p.set_defaults(run=run, model="multi-layer", val_fraction=0.2)


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def run(args) -> int:
    from dlscratch.search import study as st

    out = Path(args.report or args.out)
    url = args.storage or f"sqlite:///{(out / 'search.db').resolve()}"
    if args.report:
        if args.storage is None and not (out / "search.db").is_file():
            raise SearchError(f"--report {out}: no search.db there (a search writes it into "
                              "its --out)")
        return report_only(args, out, url)
    settings = search_settings(args)
    failures.doing(f"opening the storage {st.shown_url(url)}")
    if args.storage is None:
        _make_folder(out)
    name = args.study
    storage = st.open_storage(url)
    if args.narrow:
        settings, name = narrowed_round(storage, name, url, settings)
    study = st.open_study(storage, name, settings, url)
    failures.doing(f"loading {settings.base.dataset}")
    _check_data(settings)
    st.queue_missing(study, settings, args.trials, url)
    done = len(st.done_indices(study, args.trials))
    print(f"study {name} in {st.shown_url(url)}: {done} of {args.trials} trials done; "
          f"{args.workers} worker{'s' if args.workers > 1 else ''}")
    from dlscratch.search.worker import WorkerJob

    job = WorkerJob(url, name, settings.to_dict(), args.trials, args.heartbeat,
                    settings.base.data_dir, worker_threads(args))
    table = Table(study, args.trials, quiet=args.quiet)
    problem = None
    with failures.signals_interrupt():
        try:
            if args.workers == 1:
                from dlscratch import kernels
                from dlscratch.search.worker import run_worker, trial_interrupts

                kernels.set_num_threads(job.threads)
                failures.doing("searching")
                with trial_interrupts():
                    run_worker(job, on_round=table.update)
            else:
                problem = run_workers(job, args.workers, table)
        except KeyboardInterrupt as exc:
            stop = failures.as_interrupted(exc)
            done = len(st.done_indices(study, args.trials))
            stop.message = (f"interrupted by {stop.signal_name}: {done} of {args.trials} trials "
                            "done (a trial cut short is run again): run the same command again "
                            "to continue")
            raise stop from None
    table.update()
    return finish(study, settings, out / name, args.trials, problem)


def search_settings(args):
    """The SearchSettings the flags give (the course's ranges without --param)."""
    from dlscratch.cli.train_flags import flags_in_errors
    from dlscratch.search.settings import SearchSettings
    from dlscratch.search.space import parse_param
    from dlscratch.train.run_config import RunConfig

    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name, None) is not None}
    with flags_in_errors():
        base = RunConfig(**given)
    check_flags(base)
    texts = args.param or [p for p in COURSE_PARAMS
                           if not p.startswith("weight_decay") or base.model == "multi-layer"]
    space = tuple(parse_param(text) for text in texts)
    for param in space:  # --hidden beside --param hidden=...: how many layers, not how wide
        if param.name in given and param.name != "hidden":
            raise SearchError(f"--{param.name.replace('_', '-')} is given as a flag and as "
                              f"--param {param.spec()}: give one")
    return SearchSettings(base, space, args.sampler)


def narrowed_round(storage, name: str, url: str, settings):
    """--narrow: the next round's settings (STUDY's best trials' ranges) and name."""
    from dlscratch.search import study as st
    from dlscratch.search.report import finished, next_ranges
    from dlscratch.search.settings import SearchSettings

    previous = st.load_study(storage, name, url)
    record = previous.user_attrs[st.SETTINGS_ATTR]
    if differences := settings.differences(record):
        raise SearchError(f"--narrow: this command's settings differ from study {name!r}'s "
                          f"({'; '.join(differences)}): give the command of that round, plus "
                          "--narrow")
    saved = SearchSettings.from_dict(record, settings.base.data_dir)
    ranked = finished(previous)
    if not ranked:
        raise SearchError(f"--narrow: study {name!r} has no finished trial to narrow from")
    stem, _, number = name.rpartition("-r")
    following = f"{stem}-r{int(number) + 1}" if stem and number.isdigit() else f"{name}-r2"
    return SearchSettings(saved.base.replace(data_dir=settings.base.data_dir),
                          next_ranges(saved, ranked), saved.sampler), following


def worker_threads(args) -> int:
    """Each worker's dlscratch threads: --threads, else max(1, cores // workers)."""
    if args.threads is not None:
        return args.threads
    from dlscratch.kernels.pool import usable_cores

    return max(1, usable_cores() // args.workers)


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SearchError(f"--out {out}: cannot create it ({exc.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise SearchError(f"--out {out}: not writable")


def _check_data(settings) -> None:
    """The data loads and every batch size fits the training set (before any worker starts)."""
    from dlscratch.search.trial import load_search_data

    data = load_search_data(settings.base)
    sizes = [settings.base.batch_size] + [
        v for p in settings.space if p.name == "batch_size"
        for v in (p.choices if p.choices is not None else (p.high,))]
    check_batch(settings.base.replace(batch_size=max(sizes)), data)


class Table:
    """The live table: one line per trial that finished since the last update."""

    def __init__(self, study, total: int, quiet: bool = False):
        from dlscratch.search.report import finished

        self.study, self.total, self.quiet = study, total, quiet
        self.shown = {r["index"] for r in finished(study, total)}

    def update(self) -> None:
        from dlscratch.search.report import finished, row

        records = finished(self.study, self.total)
        new = sorted((r for r in records if r["index"] not in self.shown),
                     key=lambda r: r["number"])
        for r in new:
            self.shown.add(r["index"])
            if not self.quiet:
                print(row(r, len(self.shown), self.total), flush=True)


def run_workers(job, n: int, table: Table) -> str | None:
    """Start n worker processes on the study and wait for them, printing finished trials;
    how the first one that failed ended, if any. A worker that dies (kill -9) is reported at
    once; the others run its trial again once its heartbeat has stopped. Ctrl-C / SIGTERM stop
    them all."""
    env = dict(os.environ, DLSCRATCH_NUM_THREADS=str(job.threads))
    job.parent = os.getpid()
    with tempfile.TemporaryDirectory(prefix="dlscratch-search-") as logs, \
            contextlib.ExitStack() as files:
        procs = []
        for i in range(1, n + 1):
            job.worker = i
            log = files.enter_context(open(Path(logs) / f"worker{i}.err", "w+"))
            procs.append((i, subprocess.Popen(
                [sys.executable, "-m", "dlscratch.search.worker", job.to_json()],
                env=env, stdout=subprocess.DEVNULL, stderr=log), log))
        failures.doing("searching")
        try:
            reported = set()
            while True:
                running = [p.poll() is None for _, p, _ in procs]  # every one, each round
                table.update()
                for i, p, log in procs:
                    if p.returncode and i not in reported:
                        reported.add(i)
                        print(f"worker {i} (pid {p.pid}) {_how_it_ended(p.returncode, log)}"
                              f"{'; the others go on' if any(running) else ''}",
                              file=sys.stderr, flush=True)
                if not any(running):
                    break
                time.sleep(0.5)
        except KeyboardInterrupt as exc:
            _stop(procs, failures.as_interrupted(exc).signum)
            raise
        errors = [f"worker {i}: {_how_it_ended(p.returncode, log)}"
                  for i, p, log in procs if p.returncode]
        return errors[0] if errors else None


def _how_it_ended(code: int, log) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    line = _last_line(log) if log is not None else ""
    return f"stopped with status {code}{': ' + line if line else ''}"


def _last_line(log) -> str:
    log.flush()
    log.seek(0)
    lines = [line.strip() for line in log.read().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _stop(procs, signum: int) -> None:
    """Pass the signal on (a Ctrl-C in a terminal reached them already), wait, then kill."""
    for _, p, _ in procs:
        if p.poll() is None:
            p.send_signal(signum)
    deadline = time.monotonic() + STOP_WAIT_S
    for _, p, _ in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def finish(study, settings, folder: Path, total: int, problem: str | None = None) -> int:
    """After the search: the report files and lines; an error if indices are still missing
    (naming the first failed worker's `problem`, if any)."""
    from dlscratch.search import study as st
    from dlscratch.search.report import write_report

    done = len(st.done_indices(study, total))
    failures.doing(f"writing the report into {folder}")
    report = write_report(study, settings, folder, total)
    for line in report["lines"]:
        print(line)
    if report["files"]:
        print(f"wrote {folder}/: {' '.join(report['files'])}")
    if done < total:
        raise SearchError(f"{problem + ' - ' if problem else ''}study {study.study_name}: "
                          f"{done} of {total} trials done; run the same command again to "
                          "continue")
    print(f"study {study.study_name}: {done} of {total} trials done")
    return 0


def report_only(args, out: Path, url: str) -> int:
    from dlscratch.search import study as st
    from dlscratch.search.report import write_report
    from dlscratch.search.settings import SearchSettings

    storage = st.open_storage(url)
    study = st.load_study(storage, args.study, url)
    settings = SearchSettings.from_dict(study.user_attrs[st.SETTINGS_ATTR], args.data_dir)
    report = write_report(study, settings, out / args.study)
    for line in report["lines"]:
        print(line)
    if report["files"]:
        print(f"wrote {out / args.study}/: {' '.join(report['files'])}")
    return 0

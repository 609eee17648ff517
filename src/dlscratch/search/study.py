"""The Optuna side of a search: the storage, the study, its queue of trial indices.

Every trial of a study carries its index k (0 <= k < N) as the user attribute "index". The queue
holds one WAITING trial per index that has no COMPLETE, RUNNING or WAITING trial: with the random
sampler its values are drawn from (seed, k) (space.draw_values) and fixed in the queued trial;
with TPE the queued trial is empty and TPE fills it when it runs (a retried index gets its failed
trial's values back). Optuna hands each WAITING trial to exactly one worker (its state changes
to RUNNING in one update). The study is done when every index has a COMPLETE trial.

Queueing, and taking a queued trial, happen under a lock (an advisory lock in PostgreSQL, a
file lock beside a SQLite file: QueueLock), so two machines starting at once do not queue an
index twice, and two processes never take the same trial; should a duplicate happen anyway
(another kind of database), a worker that takes an index that is COMPLETE, or that has a
lower-numbered queued or running trial, prunes its own trial instead of running it
(`is_duplicate`).

Heartbeats: each running trial's worker records one every `heartbeat` seconds; a RUNNING trial
without one for 2 x `heartbeat` seconds (its worker was killed) is marked FAIL by the next worker
that looks (`fail_stale`), and its index is queued again.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
import warnings
from pathlib import Path

from dlscratch.search.errors import SearchError
from dlscratch.search.settings import SearchSettings
from dlscratch.search.space import draw_values

SETTINGS_ATTR = "dlscratch_search"
CONNECT_TIMEOUT_S = 10


def optuna_module():
    """Optuna, quiet: no per-trial log lines (a failed trial's traceback included: the
    command says what failed in one line), no warnings about experimental features."""
    try:
        import optuna
    except ImportError:
        raise SearchError("dlscratch search needs Optuna: pip install 'dlscratch[search]'"
                          ) from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", module="optuna")
    return optuna


def shown_url(url: str) -> str:
    """The URL with its password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: shown as given, it holds no parsable password
        return url


def open_storage(url: str, heartbeat: int | None = None):
    """Optuna's RDBStorage on `url` (sqlite:///..., postgresql+psycopg://...); SearchError in
    one line when the URL is malformed, its driver missing or the server unreachable."""
    optuna = optuna_module()
    import sqlalchemy.exc

    where = f"--storage {shown_url(url)}"
    if url.startswith("sqlite"):
        engine = {"connect_args": {"timeout": 120}}
    else:
        engine = {"pool_pre_ping": True}
        if url.startswith("postgresql"):
            engine["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    options = {} if heartbeat is None else {"heartbeat_interval": heartbeat,
                                            "grace_period": 2 * heartbeat}
    try:
        for attempt in range(3):
            try:
                return optuna.storages.RDBStorage(url, engine_kwargs=engine, **options)
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError,
                    sqlalchemy.exc.OperationalError) as exc:
                # another process is creating the same tables this instant: a duplicate
                # version row, or in SQLite "table ... already exists" (an OperationalError, as
                # are errors not to retry, such as "unable to open database file")
                racing = not isinstance(exc, sqlalchemy.exc.OperationalError) or \
                    "already exists" in str(exc)
                if attempt == 2 or not racing:
                    raise
                time.sleep(0.5 * (attempt + 1))
    except sqlalchemy.exc.ArgumentError:
        raise SearchError(f"{where}: not a database URL (e.g. sqlite:///runs/search.db or "
                          "postgresql+psycopg://user:password@host:5432/db)") from None
    except (ImportError, sqlalchemy.exc.NoSuchModuleError) as exc:
        raise SearchError(f"{where}: no driver for this database ({exc}); for PostgreSQL: pip "
                          "install 'dlscratch[search]'") from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise SearchError(f"{where}: cannot open the storage: "
                          f"{reason[0] if reason else type(exc).__name__}") from None


def open_study(storage, name: str, settings: SearchSettings, url: str):
    """The study `name` (made if new), with `settings` recorded in it; SearchError if it was
    made with other settings, naming each difference."""
    optuna = optuna_module()
    if settings.sampler == "random":
        sampler = optuna.samplers.RandomSampler(seed=settings.seed)
    else:  # seeded from the system: workers with the same seed would propose the same values
        sampler = optuna.samplers.TPESampler()
    study = optuna.create_study(storage=storage, study_name=name, sampler=sampler,
                                direction="maximize", load_if_exists=True)
    saved = study.user_attrs.get(SETTINGS_ATTR)
    if saved is None:
        study.set_user_attr(SETTINGS_ATTR, settings.to_dict())
    elif differences := settings.differences(saved):
        raise SearchError(f"study {name!r} in {shown_url(url)} was created with other settings "
                          f"({'; '.join(differences)}): run it with its own settings, or "
                          "choose another --study or --out")
    return study


def load_study(storage, name: str, url: str):
    """An existing study and its SearchSettings' record; SearchError if there is none."""
    optuna = optuna_module()
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        known = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise SearchError(f"no study {name!r} in {shown_url(url)}"
                          f"{'; it holds ' + ', '.join(known) if known else ''}") from None
    if SETTINGS_ATTR not in study.user_attrs:
        raise SearchError(f"study {name!r} in {shown_url(url)} was not made by dlscratch search")
    return study


# -- the queue ---------------------------------------------------------------------------------


def trials_of(study, index: int | None = None) -> list:
    """The study's trials that carry an index (that index only, if given), by number."""
    trials = [t for t in study.get_trials(deepcopy=False) if "index" in t.user_attrs]
    return [t for t in trials if index is None or t.user_attrs["index"] == index]


def done_indices(study, n: int) -> set[int]:
    from optuna.trial import TrialState

    return {t.user_attrs["index"] for t in trials_of(study)
            if t.state == TrialState.COMPLETE and t.user_attrs["index"] < n}


def queue_missing(study, settings: SearchSettings, n: int, url: str) -> int:
    """Queue every index k < n that has no COMPLETE, RUNNING or WAITING trial; the count."""
    from optuna.trial import TrialState

    live = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
    with queue_lock(url, study.study_name):
        by_index: dict[int, list] = {}
        for t in trials_of(study):
            by_index.setdefault(t.user_attrs["index"], []).append(t)
        missing = [k for k in range(n) if not any(t.state in live for t in by_index.get(k, []))]
        for k in missing:
            study.enqueue_trial(queued_values(settings, k, by_index.get(k, [])),
                                user_attrs={"index": k})
    return len(missing)


def queued_values(settings: SearchSettings, index: int, earlier: list) -> dict:
    """Random: the values drawn from (seed, index). TPE: the last failed trial's values (a
    retry), else none (TPE proposes them)."""
    if settings.sampler == "random":
        return draw_values(settings.space, settings.seed, index)[0]
    names = {p.name for p in settings.space}
    for t in reversed(earlier):
        if set(t.params) == names:
            return dict(t.params)
    return {}


def is_duplicate(study, number: int, index: int) -> bool:
    """Whether the trial `number` must not run index `index`: it is done, or another trial of
    it came first (a lower number, queued or running)."""
    from optuna.trial import TrialState

    for t in trials_of(study, index):
        if t.number == number:
            continue
        if t.state == TrialState.COMPLETE or (
                t.number < number and t.state in (TrialState.WAITING, TrialState.RUNNING)):
            return True
    return False


def has_waiting(study, n: int) -> bool:
    from optuna.trial import TrialState

    return any(t.state == TrialState.WAITING and t.user_attrs["index"] < n
               for t in trials_of(study))


def fail_stale(study) -> None:
    """Mark FAIL every RUNNING trial whose heartbeat stopped (its worker is gone)."""
    optuna = optuna_module()
    optuna.storages.fail_stale_trials(study)


class QueueLock:
    """One process at a time queues trials or takes a queued one: an advisory lock in
    PostgreSQL, a file lock beside a SQLite file (shared only by this machine's processes);
    other databases: none (is_duplicate copes). SQLite needs it to take a trial: it ignores
    Optuna's SELECT ... FOR UPDATE, so two processes could take the same WAITING trial.
    `release()` may be called more than once."""

    def __init__(self, url: str, study_name: str):
        self.url = url
        self.key = int.from_bytes(
            hashlib.sha256(f"dlscratch-search:{study_name}".encode()).digest()[:8], "big",
            signed=True)
        self._held = None  # the open file or (engine, connection) while held

    def acquire(self) -> None:
        if self.url.startswith("postgresql"):
            import sqlalchemy

            engine = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool,
                                              connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
            connection = engine.connect()
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            self._held = (engine, connection)
        elif self.url.startswith("sqlite:///") and self.url != "sqlite:///:memory:":
            handle = open(Path(self.url[len("sqlite:///"):]).with_suffix(".lock"), "a")  # noqa: SIM115
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._held = handle

    def release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        if isinstance(held, tuple):  # closing the session ends its advisory lock
            engine, connection = held
            connection.close()
            engine.dispose()
        else:
            fcntl.flock(held, fcntl.LOCK_UN)
            held.close()

    def __enter__(self) -> QueueLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def queue_lock(url: str, study_name: str) -> QueueLock:
    return QueueLock(url, study_name)


__all__ = ["SETTINGS_ATTR", "QueueLock", "done_indices", "fail_stale", "has_waiting",
           "is_duplicate", "load_study", "open_storage", "open_study", "queue_missing",
           "shown_url", "trials_of"]

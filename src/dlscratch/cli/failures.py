"""How a command fails: one line on stderr, never a traceback (unless --debug).

- `one_line(exc)`: the message `dlscratch: error: ...` prints, on one line; an OSError says
  its path and reason without the `[Errno N]` (`runs/a: Permission denied`).
- `doing("loading the data")`: what the command is doing now, so that running out of memory
  can say when it happened (`out of memory while loading the data`).
- `signals_interrupt()`: while it is active, SIGINT, SIGTERM and SIGHUP raise `Interrupted` in
  the main thread, as Ctrl-C does, so a `kill` unwinds the same way: atomic writes remove
  their temporary files, the run lock is released, and the command ends with a message and
  the usual status 128 + signal number (130 for Ctrl-C, 143 for SIGTERM). Only the first
  signal raises: a second one while the first is being cleaned up is ignored.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Iterator

CAUGHT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                       if hasattr(signal, name))  # no SIGHUP on Windows
_state = {"doing": "starting"}


class Interrupted(KeyboardInterrupt):
    """The command was stopped by a signal (Ctrl-C is SIGINT). `status` is 128 + its number;
    `message` what main prints after `dlscratch: ` (set by the command that knows more)."""

    def __init__(self, signum: int = signal.SIGINT, message: str | None = None):
        super().__init__(message or "interrupted")
        self.signum = int(signum)
        self.message = message or f"interrupted by {self.signal_name}"

    @property
    def signal_name(self) -> str:
        return "Ctrl-C (SIGINT)" if self.signum == signal.SIGINT else \
            signal.Signals(self.signum).name

    @property
    def status(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return self.message


def as_interrupted(exc: KeyboardInterrupt) -> Interrupted:
    """A plain KeyboardInterrupt (Ctrl-C outside signals_interrupt) as an Interrupted."""
    return exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP raise Interrupted while the block runs (main thread only; in
    another thread, nothing changes; a signal ignored by the parent, as nohup ignores SIGHUP,
    stays ignored); the previous handlers come back after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = []

    def handler(signum, frame):
        if not raised:
            raised.append(signum)
            raise Interrupted(signum)

    previous = {}
    try:
        for signum in CAUGHT_SIGNALS:
            if signal.getsignal(signum) != signal.SIG_IGN:  # nohup's SIGHUP stays ignored
                previous[signum] = signal.signal(signum, handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def doing(what: str) -> None:
    """Record what the command is doing now (for an out-of-memory message)."""
    _state["doing"] = what


def now_doing() -> str:
    return _state["doing"]


def one_line(exc: BaseException) -> str:
    """The exception's message on one line (an OSError: 'path: reason')."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 else exc.filename
        text = f"{target}: {exc.strerror}"
    elif isinstance(exc, OSError) and exc.strerror and len(exc.args) == 2:
        text = exc.strerror  # OSError(errno, message): the message without "[Errno N]"
    else:
        text = getattr(exc, "cli_message", None) or str(exc)  # the command line's wording
    if isinstance(exc, MemoryError):
        text = f"out of memory while {now_doing()}{f' ({text})' if text else ''}"
    text = re.sub(r"\s*\n\s*", " ", text.strip())
    return text or type(exc).__name__


__all__ = ["Interrupted", "as_interrupted", "doing", "now_doing", "one_line",
           "signals_interrupt"]

"""`dlscratch` entry point: parse the sub-command, run it, turn errors into one clear line.

Every failure ends as `dlscratch: error: <one line>` on stderr and a non-zero status, never a
traceback: 2 for a wrong command line, 1 for a wrong value, file, folder or data, for running
out of memory (`out of memory while building the network`) and for an unexpected error (a bug:
its type is named); 128 + the signal's number when stopped by a signal (130 for Ctrl-C, 143 for
SIGTERM). `--debug` (before or after the sub-command) prints the traceback above that line.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from dlscratch import __version__, kernels
from dlscratch.cli import (
    book_cmd,
    convert_weights_cmd,
    evaluate_cmd,
    experiment_cmd,
    failures,
    info_cmd,
    predict_cmd,
    search_cmd,
    serve_cmd,
    train_cmd,
)
from dlscratch.kernels.allocator import keep_freed_memory

COMMANDS = (train_cmd, evaluate_cmd, predict_cmd, info_cmd, experiment_cmd, book_cmd,
            convert_weights_cmd, search_cmd, serve_cmd)
MAX_THREADS = 1024  # far more than any machine's cores; more threads only cost memory


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage block
        raise CliError(f"{message} (see '{self.prog} --help')")


DEBUG_HELP = "on an error, print the traceback above the one-line message"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="dlscratch",
                    description="Deep learning from scratch in NumPy: train, evaluate, predict "
                                "and reproduce the course's experiments.")
    parser.add_argument("--version", action="version", version=f"dlscratch {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    for command_parser in sub.choices.values():
        command_parser.add_argument(
            "--threads", type=thread_count, default=None,
            help="dlscratch threads: big batches split among them, else the convolutions' and "
                 "max pooling's chunks; results do not depend on it (default: the cores this "
                 f"process may use, at most {MAX_THREADS}; $DLSCRATCH_NUM_THREADS overrides)")
        # SUPPRESS: a sub-command's default must not overwrite `dlscratch --debug train`'s True
        command_parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                    help=DEBUG_HELP)
    return parser


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def thread_count(text: str) -> int:
    n = positive_int(text)
    if n > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_THREADS} threads, got {text!r}")
    return n


def main(argv: list[str] | None = None) -> int:
    from dlscratch.errors import DlscratchError
    from dlscratch.train import TrainingDiverged

    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv  # also when the command line itself is wrong
    failures.doing("starting")
    try:
        args = build_parser().parse_args(argv)
        keep_freed_memory()
        if args.threads is not None:
            kernels.set_num_threads(args.threads)
        return args.run(args) or 0
    except CliError as exc:
        return _fail(exc, debug, 2)
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except KeyboardInterrupt as exc:  # Ctrl-C, or a signal the command turned into one
        stop = failures.as_interrupted(exc)
        if debug:
            traceback.print_exc()
        print(f"dlscratch: {stop}", file=sys.stderr)
        return stop.status
    except (DlscratchError, TrainingDiverged, ValueError, OSError, MemoryError) as exc:
        return _fail(exc, debug, 1)
    except Exception as exc:  # a bug: still one line, with a way to see more
        hint = "" if debug else "; run again with --debug for the traceback"
        return _fail(exc, debug, 1, prefix=f"unexpected {type(exc).__name__}: ", hint=hint)


def _fail(exc: BaseException, debug: bool, status: int, prefix: str = "", hint: str = "") -> int:
    if debug:
        traceback.print_exc()
    print(f"dlscratch: error: {prefix}{failures.one_line(exc)}{hint}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""`dlscratch` entry point: parse the sub-command, run it, turn errors into one clear line."""

from __future__ import annotations

import argparse
import sys

from dlscratch import __version__, kernels
from dlscratch.cli import evaluate_cmd, experiment_cmd, info_cmd, predict_cmd, train_cmd
from dlscratch.kernels.allocator import keep_freed_memory

COMMANDS = (train_cmd, evaluate_cmd, predict_cmd, info_cmd, experiment_cmd)


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage block
        raise CliError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="dlscratch",
                    description="Deep learning from scratch in NumPy: train, evaluate, predict "
                                "and reproduce the course's experiments.")
    parser.add_argument("--version", action="version", version=f"dlscratch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    for command_parser in sub.choices.values():
        command_parser.add_argument(
            "--threads", type=positive_int, default=None,
            help="dlscratch threads: big batches split among them, else the convolutions' and "
                 "max pooling's chunks; results do not depend on it (default: the cores this "
                 "process may use; $DLSCRATCH_NUM_THREADS overrides)")
    return parser


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    from dlscratch.data import DataError
    from dlscratch.errors import ModelFileError
    from dlscratch.train import TrainingDiverged

    try:
        args = build_parser().parse_args(argv)
        keep_freed_memory()
        if args.threads is not None:
            kernels.set_num_threads(args.threads)
        return args.run(args) or 0
    except CliError as exc:
        print(f"dlscratch: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except (DataError, ModelFileError, TrainingDiverged, ValueError, OSError) as exc:
        print(f"dlscratch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dlscratch: interrupted (a training run continues with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`dlscratch book SCRIPT.py [args]`: run one of the book's own scripts unchanged on dlscratch.

The script's imports of the book's `common.*`, `dataset.mnist` and chapter-local modules are
served by `dlscratch.book` (see `dlscratch.book.runner`). The script prints what it prints; if
it fails, the command ends with one line naming the script's file and line (`--debug` for the
traceback), and with the script's own status when it calls `sys.exit`.
"""

from __future__ import annotations

import argparse

from dlscratch.cli import failures
from dlscratch.errors import DlscratchError


class ScriptFailed(DlscratchError):
    """The script raised: one line, `<file>:<line>: <what happened>`."""


def add_parser(sub):
    p = sub.add_parser(
        "book", help="run one of the book's scripts (ch03-ch08) unchanged on dlscratch",
        description="Run a script of the book's companion code (e.g. ch05/gradient_check.py) "
                    "from its own folder, with the book's common/, dataset/mnist.py and "
                    "chapter modules served by dlscratch.book. Options go before the script; "
                    "everything after it is the script's.")
    p.add_argument("--data-dir", help="folder holding mnist/ (default: $DLSCRATCH_DATA, else "
                                      "the user cache, else the book's dataset/ folder)")
    p.add_argument("--figures", metavar="DIR",
                   help="plt.show() saves the figures here as PNG instead of opening windows "
                        "(default without a display: ./book-figures)")
    p.add_argument("--chapter", metavar="chNN",
                   help="serve this chapter's modules (two_layer_net is ch04's or ch05's); "
                        "default: the script's folder name")
    p.add_argument("script", help="the book's script, e.g. deep-learning-from-scratch/ch05/"
                                  "gradient_check.py")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    p.set_defaults(run=run)


def run(args) -> int:
    from dlscratch.book.runner import ScriptError, run_script

    if args.chapter is not None and args.chapter not in ("ch04", "ch05", "ch07", "ch08"):
        raise ValueError(f"--chapter must be ch04, ch05, ch07 or ch08, got {args.chapter!r}")
    failures.doing(f"running {args.script}")
    try:
        return run_script(args.script, args.args, data_dir=args.data_dir,
                          figures=args.figures, chapter=args.chapter)
    except ScriptError as exc:
        raise ScriptFailed(f"{exc.where}: {_describe(exc.error)}") from exc.error


def _describe(error: BaseException) -> str:
    text = failures.one_line(error)
    return text if isinstance(error, DlscratchError) else f"{type(error).__name__}: {text}"

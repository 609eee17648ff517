"""Run one of the book's scripts unchanged on dlscratch (`dlscratch book SCRIPT.py [args]`).

    run_script("deep-learning-from-scratch/ch05/gradient_check.py", [])

The script runs as `python SCRIPT.py` would run it from its own folder (that folder is the
current directory and `sys.path[0]`, `__name__ == "__main__"`, `sys.argv` is the script and its
arguments), with one difference: `BookFinder`, placed first on `sys.meta_path`, serves the
book's shared modules from `dlscratch.book` whatever the script appends to `sys.path`:

    common, common.functions, common.gradient, common.layers, common.optimizer, common.util,
    common.trainer, common.multi_layer_net, common.multi_layer_net_extend,
    dataset, dataset.mnist,
    and the chapter-local modules of the script's chapter folder: two_layer_net (ch04: the
    sigmoid network; ch05: the layered one), layer_naive (ch05), simple_convnet (ch07),
    deep_convnet (ch08).

The module served *is* the dlscratch module (`common.layers.Relu is
dlscratch.book.common.layers.Relu`). `plt.show()` saves the open figures as PNG files into a
folder instead of opening windows when there is no display (or when a folder is asked for).
Nothing in the book's checkout is read as code or changed, apart from what the script itself
writes (`save_params('params.pkl')` writes `params.npz` beside it). While the script runs,
`pickle.load` / `pickle.loads` are the restricted unpickler of `dlscratch.book.weights` (NumPy
arrays, dtypes, dicts, lists and numbers only), so a script that unpickles the book's weights
itself (`ch03/neuralnet_mnist.py`) cannot be made to run code by a doctored file.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import pickle
import re
import runpy
import sys
from pathlib import Path

from dlscratch.book import SETTINGS, weights

BOOK = "dlscratch.book"
COMMON = ("functions", "gradient", "layers", "optimizer", "util", "trainer", "multi_layer_net",
          "multi_layer_net_extend")
SHARED = {"common": f"{BOOK}.common", "dataset": f"{BOOK}.dataset",
          "dataset.mnist": f"{BOOK}.dataset.mnist",
          **{f"common.{m}": f"{BOOK}.common.{m}" for m in COMMON}}
CHAPTER_LOCAL = {
    "ch04": {"two_layer_net": f"{BOOK}.ch04.two_layer_net"},
    "ch05": {"two_layer_net": f"{BOOK}.ch05.two_layer_net",
             "layer_naive": f"{BOOK}.ch05.layer_naive"},
    "ch07": {"simple_convnet": f"{BOOK}.ch07.simple_convnet"},
    "ch08": {"deep_convnet": f"{BOOK}.ch08.deep_convnet"},
}
# For a script outside the chapter folders: the chapter-local names that are not ambiguous.
UNAMBIGUOUS = {name: target for chapter in ("ch05", "ch07", "ch08")
               for name, target in CHAPTER_LOCAL[chapter].items() if name != "two_layer_net"}


class ScriptError(Exception):
    """The script stopped with an exception: `where` is its file and line, `error` the
    exception (the traceback is kept as its cause)."""

    def __init__(self, where: str, error: BaseException):
        super().__init__(where)
        self.where, self.error = where, error


def modules_for(chapter: str | None) -> dict[str, str]:
    """Book module name -> dlscratch module, for a script in folder `chapter` (e.g. 'ch05')."""
    local = CHAPTER_LOCAL.get(chapter or "", UNAMBIGUOUS)
    return {**SHARED, **local}


class _Alias(importlib.abc.Loader):
    """Serves an already importable module under another name: the same module object."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.original_spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self.original_spec  # the import system set the alias's spec on it


class _AfterExec(importlib.abc.Loader):
    """Runs `then(module)` once the wrapped loader has executed the module."""

    def __init__(self, loader, then):
        self.loader, self.then = loader, then

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.then(module)


class BookFinder(importlib.abc.MetaPathFinder):
    """First on `sys.meta_path`: the book's module names -> dlscratch.book; and, if asked,
    a hook that patches `matplotlib.pyplot` once it is imported."""

    def __init__(self, modules: dict[str, str], on_pyplot=None):
        self.modules, self.on_pyplot = modules, on_pyplot

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.modules:
            is_package = "." not in fullname and fullname in ("common", "dataset")
            return importlib.util.spec_from_loader(fullname, _Alias(self.modules[fullname]),
                                                   is_package=is_package)
        if fullname == "matplotlib.pyplot" and self.on_pyplot is not None:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None and spec.loader is not None:
                    spec.loader = _AfterExec(spec.loader, self.on_pyplot)
                    return spec
        return None


def has_display() -> bool:
    """Whether figures can open in windows: not on Linux without $DISPLAY / $WAYLAND_DISPLAY,
    nor with a non-interactive backend chosen by $MPLBACKEND (agg, pdf, ...)."""
    backend = os.environ.get("MPLBACKEND", "").lower()
    if backend in ("agg", "pdf", "pgf", "ps", "svg", "cairo", "template"):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class FigureSaver:
    """Replaces `plt.show()`: every open figure is saved as `<folder>/<script>-<k>.png`
    (k counts from 1 over the run) and closed; a line on stderr names each file."""

    def __init__(self, folder: Path, stem: str):
        self.folder, self.stem, self.count = folder, stem, 0

    def patch(self, pyplot) -> None:
        def show(*args, **kwargs):
            self.folder.mkdir(parents=True, exist_ok=True)
            for num in pyplot.get_fignums():
                self.count += 1
                path = self.folder / f"{self.stem}-{self.count}.png"
                pyplot.figure(num).savefig(path)
                pyplot.close(num)
                print(f"dlscratch book: figure saved to {path}", file=sys.stderr)

        pyplot.show = show


def run_script(script, args=(), *, data_dir=None, figures=None, chapter=None) -> int:
    """Run the book's `script` with `args`; the exit status (0, or the script's sys.exit).

    data_dir: dlscratch's data folder for `dataset.mnist`; figures: the folder `plt.show()`
    saves into (default: `book-figures/` in the current folder when there is no display, else
    figures open as usual); chapter: which chapter-local modules to serve (default: the
    script's folder name, e.g. 'ch05'). A failure in the script raises ScriptError.
    """
    script = Path(script).resolve()
    if not script.is_file():
        raise FileNotFoundError(2, "No such file", str(script))
    folder = script.parent
    chapter = chapter or (folder.name if re.fullmatch(r"ch\d\d", folder.name) else None)
    saver = None
    if figures is not None or not has_display():
        os.environ["MPLBACKEND"] = "Agg"  # no window, whatever backend was chosen
        saver = FigureSaver(Path(figures or "book-figures").resolve(), script.stem)
    finder = BookFinder(modules_for(chapter), saver.patch if saver else None)

    before = (SETTINGS.book_root, SETTINGS.chapter_dir, SETTINGS.data_dir, SETTINGS.read_pickles)
    saved_argv, saved_path, saved_cwd = sys.argv[:], sys.path[:], os.getcwd()
    saved_pickle = pickle.load, pickle.loads
    try:
        SETTINGS.book_root, SETTINGS.chapter_dir = folder.parent, folder
        SETTINGS.data_dir = None if data_dir is None else Path(data_dir).resolve()
        SETTINGS.read_pickles = True
        pickle.load, pickle.loads = weights.restricted_load, weights.restricted_loads
        sys.meta_path.insert(0, finder)
        sys.argv = [str(script), *args]
        sys.path.insert(0, str(folder))
        os.chdir(folder)
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return _exit_status(exc.code)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        raise ScriptError(_where(exc, script), exc) from exc
    finally:
        os.chdir(saved_cwd)
        sys.argv, sys.path[:] = saved_argv, saved_path
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        pickle.load, pickle.loads = saved_pickle
        (SETTINGS.book_root, SETTINGS.chapter_dir, SETTINGS.data_dir,
         SETTINGS.read_pickles) = before
    return 0


def _exit_status(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"), as Python prints it
    return 1


def _where(exc: BaseException, script: Path) -> str:
    """'SCRIPT:LINE' of the deepest frame in the book's checkout (the script or a module
    beside it), else of the script's own call."""
    root = script.parent.parent
    where = str(script)
    tb = exc.__traceback__
    while tb is not None:
        filename = Path(tb.tb_frame.f_code.co_filename)
        if filename == script or root in filename.parents:
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where

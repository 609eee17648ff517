"""The book's own code, run on dlscratch: `dlscratch.book` mirrors the modules of the companion
repository of Saito Koki's *Deep Learning from Scratch* one for one.

    dlscratch.book.common.functions / gradient / layers / optimizer / util / trainer /
                          multi_layer_net / multi_layer_net_extend
    dlscratch.book.dataset.mnist
    dlscratch.book.ch04.two_layer_net   (the sigmoid network with its hand-written gradient)
    dlscratch.book.ch05.two_layer_net, dlscratch.book.ch05.layer_naive
    dlscratch.book.ch07.simple_convnet, dlscratch.book.ch08.deep_convnet

Names, signatures, attributes, defaults and printed lines are the book's, and so are its
habits where they differ from the rest of dlscratch: float64 networks, NumPy's global random
state (after `np.random.seed(s)` the initial weights are the book's `np.random.randn` draws, in
its order, and dropout masks come from `np.random.rand`), mini-batches drawn with replacement,
`params` a plain dict shared by reference with the layers. Every layer, optimizer and formula is
dlscratch's own (`dlscratch.layers`, `dlscratch.optim`, `dlscratch.functions`, ...), wrapped
by thin adapters; nothing of the book's code is copied here.

`dlscratch book SCRIPT.py` runs one of the book's scripts unchanged with these modules served
under the book's names (`dlscratch.book.runner`). Weights are `.npz` files; the book's `.pkl`
files are read only through a restricted unpickler (`dlscratch.book.weights`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Settings:
    """What `dlscratch book` tells the modules about the script being run.

    book_root: the book's checkout (the folder holding ch01..ch08, common/, dataset/), if known;
    chapter_dir: the script's chapter folder, where the book's chapter-local modules live;
    data_dir: dlscratch's data folder (`--data-dir`), else $DLSCRATCH_DATA / the user cache;
    read_pickles: let `load_params('x.pkl')` read a book's pickle through the restricted
    unpickler (on for `dlscratch book`, off for Python code, which converts explicitly with
    `dlscratch convert-weights`).
    """

    book_root: Path | None = None
    chapter_dir: Path | None = None
    data_dir: Path | None = None
    read_pickles: bool = False


SETTINGS = Settings()

"""The book's `common/optimizer.py`: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam.

These are dlscratch's optimizers (`dlscratch.optim`), whose updates are the book's formulas
(Nesterov in the Korean repository's order: velocity first). `update(params, grads)` changes
arrays in place, so the layers see the change, and replaces plain numbers (the optimizer-path
scripts' `{'x': -7.0, 'y': 2.0}`) by their updated NumPy float64 values.

The book's per-key state dicts are readable under its names (`v`, `h`, `m`: None before the
first update). `from common.optimizer import *` also exports `np`, which
`ch06/optimizer_compare_mnist.py` relies on.
"""

import numpy as np  # noqa: F401 - exported: the book's scripts get `np` from the star import

from dlscratch import optim as _optim


class _BookState:
    """The book's names for dlscratch's per-key state: `opt.v` is `opt.state['v']` (or None)."""

    def _slot(self, name):
        table = self.state.get(name)
        return table if table else None

    v = property(lambda self: self._slot("v"))
    h = property(lambda self: self._slot("h"))
    m = property(lambda self: self._slot("m"))


def _book(cls):
    """dlscratch's optimizer `cls` with the book's state names, under its own name here."""
    return type(cls.__name__, (_BookState, cls), {"__doc__": cls.__doc__, "__module__": __name__})


SGD = _book(_optim.SGD)
Momentum = _book(_optim.Momentum)
Nesterov = _book(_optim.Nesterov)
AdaGrad = _book(_optim.AdaGrad)
RMSprop = _book(_optim.RMSprop)
Adam = _book(_optim.Adam)

"""train_val_split: sizes, disjoint and complete, seeded, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.data import train_val_split


def make(n=50):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return x, np.arange(n)


def test_sizes_disjoint_complete():
    x, t = make(50)
    (xtr, ttr), (xv, tv) = train_val_split(x, t, val_fraction=0.2, seed=3)
    assert len(xtr) == len(ttr) == 40 and len(xv) == len(tv) == 10
    assert set(ttr).isdisjoint(tv)
    assert sorted(np.concatenate([ttr, tv])) == list(range(50))
    np.testing.assert_array_equal(xtr[:, 0], ttr * 3)  # rows stay paired with labels
    np.testing.assert_array_equal(xv[:, 0], tv * 3)


def test_shuffled_and_seeded():
    x, t = make(100)
    a = train_val_split(x, t, 0.3, seed=7)
    b = train_val_split(x, t, 0.3, seed=7)
    c = train_val_split(x, t, 0.3, seed=8)
    np.testing.assert_array_equal(a[1][1], b[1][1])
    np.testing.assert_array_equal(a[0][0], b[0][0])
    assert not np.array_equal(a[1][1], c[1][1])
    assert not np.array_equal(a[0][1], np.sort(a[0][1]))


def test_outputs_are_copies():
    x, t = make(10)
    (xtr, _), _ = train_val_split(x, t, 0.5)
    xtr[...] = -1
    assert x.min() == 0


@pytest.mark.parametrize("fraction", [0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), True, "0.2", None])
def test_bad_fraction(fraction):
    x, t = make(10)
    with pytest.raises(ValueError, match=r"val_fraction must be a number in \(0, 1\), got") as e:
        train_val_split(x, t, fraction)
    assert repr(fraction) in str(e.value)


def test_fraction_leaving_an_empty_part():
    x, t = make(3)
    with pytest.raises(ValueError, match="val_fraction=0.1 of 3 samples gives 0 validation"):
        train_val_split(x, t, 0.1)


def test_length_mismatch():
    x, t = make(10)
    with pytest.raises(ValueError, match=r"len\(x\)=10, len\(t\)=9"):
        train_val_split(x, t[:9])

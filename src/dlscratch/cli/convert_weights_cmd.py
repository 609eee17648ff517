"""`dlscratch convert-weights FILE.pkl OUT.npz`: the book's pickled weights as an .npz.

The pickle is read by a restricted unpickler (`dlscratch.book.weights`): NumPy arrays, dtypes,
dicts, lists and numbers only. A pickle that names any other global (`os.system`, say) is
refused with one line naming it, and nothing is written.
"""

from __future__ import annotations

from dlscratch.cli import failures


def add_parser(sub):
    p = sub.add_parser(
        "convert-weights", help="convert the book's .pkl weights to .npz (no code is run)",
        description="Read a weight pickle of the book (params.pkl, deep_convnet_params.pkl, "
                    "sample_weight.pkl: a dict of name -> array) with a restricted unpickler "
                    "and write its arrays to an .npz that load_params reads.")
    p.add_argument("pickle", help="the book's .pkl file")
    p.add_argument("out", help="the .npz to write")
    p.set_defaults(run=run)


def run(args) -> int:
    from dlscratch.book.weights import read_pickle_weights, write_npz

    failures.doing(f"reading {args.pickle}")
    arrays = read_pickle_weights(args.pickle)
    failures.doing(f"writing {args.out}")
    write_npz(args.out, arrays)
    shapes = ", ".join(f"{k} {tuple(v.shape)} {v.dtype}" for k, v in arrays.items())
    print(f"{args.out}: {len(arrays)} arrays from {args.pickle}: {shapes}")
    return 0

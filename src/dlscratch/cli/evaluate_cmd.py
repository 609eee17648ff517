"""`dlscratch evaluate PATH`: accuracy, per-class accuracy, the confusion matrix and the test
images the model gets wrong; for an ensemble also the accuracy of its first 1, 2, ..., K
members together and of each member alone.

PATH: a model file, a run folder (its model.npz) or an ensemble folder (its ensemble.json).
Writes confusion.png and misclassified.png beside the model (or into --out).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlscratch.cli import failures
from dlscratch.cli.model_inputs import dataset_of, load_model, member_probabilities, wants_images


def add_parser(sub):
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix, "
                                        "misclassified images",
                       description=__doc__)
    p.add_argument("model", help="a model.npz written by 'dlscratch train' or dlscratch.save, a "
                                 "run folder, or an ensemble folder (ensemble.json)")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"),
                   help="default: the dataset the model was trained on (config.json), else mnist")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    p.add_argument("--out", help="folder for the figures (default: the model's folder)")
    p.set_defaults(run=run)


def run(args) -> int:
    from dlscratch.cli.predict_cmd import predict_or_explain
    from dlscratch.data import class_names, load_dataset
    from dlscratch.image_plots import plot_misclassified
    from dlscratch.metrics import confusion_matrix, per_class_accuracy
    from dlscratch.plots import plot_confusion

    failures.doing(f"loading the model {args.model}")
    net = load_model(args.model)
    dataset = dataset_of(args.model, args.dataset)
    failures.doing(f"loading {dataset}")
    _, (x_test, t_test) = load_dataset(dataset, flatten=not wants_images(net),
                                       data_dir=args.data_dir)
    names = class_names(dataset)
    failures.doing("evaluating the model")
    scores = predict_or_explain(net, x_test[:1], args.model)  # the input and classes fit?
    if scores.shape[1] != len(names):
        raise ValueError(f"{args.model}: the network has {scores.shape[1]} outputs, "
                         f"{dataset} has {len(names)} classes")
    probs = member_probabilities(net, x_test, batch_size=1000)  # (M, N, K)
    pred = probs.mean(axis=0).argmax(axis=1)
    matrix = confusion_matrix(t_test, pred, len(names))
    wrong = int(np.sum(pred != t_test))
    print(f"{dataset} test set, {len(t_test)} images")
    print(f"accuracy: {np.mean(pred == t_test):.4f}")
    print(f"errors: {wrong} (test error {100 * wrong / len(t_test):.2f}%)")
    if hasattr(net, "members"):
        print(f"an ensemble of {len(probs)} members (the mean of their softmax outputs):")
        print_members(probs, t_test)
    print("per-class accuracy:")
    for name, acc in zip(names, per_class_accuracy(matrix), strict=True):
        print(f"  {name:<12} {acc:.4f}")
    print("confusion matrix (rows: true, columns: predicted):")
    print("      " + "".join(f"{j:>6}" for j in range(len(names))))
    for i, row in enumerate(matrix):
        print(f"{i:>6}" + "".join(f"{v:>6}" for v in row))
    model = Path(args.model)
    out = Path(args.out) if args.out else (model if model.is_dir() else model.parent)
    path = plot_confusion(matrix, names, out / "confusion.png", f"{dataset}: confusion matrix")
    print(f"wrote {path}")
    path = plot_misclassified(x_test, t_test, pred, names, out / "misclassified.png",
                              f"{dataset} test set")
    print(f"wrote {path}")
    return 0


def print_members(probs: np.ndarray, t: np.ndarray) -> None:
    """The accuracy of the first k members together (mean of their probabilities), k = 1..M,
    and of each member alone."""
    from dlscratch.nets.ensemble import first_k_accuracy, member_accuracy

    print("members   first k together   member k alone")
    for k, (together, alone) in enumerate(zip(first_k_accuracy(probs, t),
                                              member_accuracy(probs, t), strict=True)):
        print(f"{k + 1:>7}   {together:>16.4f}   {alone:>14.4f}")

"""`dlscratch evaluate MODEL.npz`: accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlscratch.cli import failures
from dlscratch.cli.model_inputs import dataset_of, load_model, wants_images


def add_parser(sub):
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix")
    p.add_argument("model", help="a model.npz written by 'dlscratch train' or dlscratch.save")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"),
                   help="default: the dataset the model was trained on (config.json), else mnist")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    p.add_argument("--out", help="folder for confusion.png (default: the model's folder)")
    p.set_defaults(run=run)


def run(args) -> int:
    from dlscratch.cli.predict_cmd import predict_or_explain
    from dlscratch.data import class_names, load_dataset
    from dlscratch.kernels.data_parallel import DataParallel
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
    pred = DataParallel(net).predict(x_test, batch_size=1000).argmax(axis=1)
    matrix = confusion_matrix(t_test, pred, len(names))
    print(f"{dataset} test set, {len(t_test)} images")
    print(f"accuracy: {np.mean(pred == t_test):.4f}")
    print("per-class accuracy:")
    for name, acc in zip(names, per_class_accuracy(matrix), strict=True):
        print(f"  {name:<12} {acc:.4f}")
    print("confusion matrix (rows: true, columns: predicted):")
    print("      " + "".join(f"{j:>6}" for j in range(len(names))))
    for i, row in enumerate(matrix):
        print(f"{i:>6}" + "".join(f"{v:>6}" for v in row))
    out = Path(args.out) if args.out else Path(args.model).parent
    path = plot_confusion(matrix, names, out / "confusion.png", f"{dataset}: confusion matrix")
    print(f"wrote {path}")
    return 0

"""`dlscratch predict MODEL IMAGE...`: classify PNG/JPEG images of single digits/garments.

One line per image, in the order given: the prediction on stdout, or for an image that cannot
be used, `dlscratch: error: <image>: <why>` on stderr; the other images are still classified,
and the exit status is 1 if any image failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from dlscratch.cli import failures
from dlscratch.cli.model_inputs import dataset_of, load_model, predict_scores, wants_images


def add_parser(sub):
    p = sub.add_parser("predict", help="classify images (PNG/JPEG), top-3 probabilities")
    p.add_argument("model", help="a model.npz")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"),
                   help="names the classes (default: from the model's config.json, else mnist)")
    p.set_defaults(run=run)


def read_images(paths: list[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """({path: (28, 28) image} for the readable ones, {path: why} for the others)."""
    from dlscratch.data.images import load_digit_image
    from dlscratch.errors import DlscratchError

    images, errors = {}, {}
    for path in paths:
        failures.doing(f"reading the image {path}")
        try:
            images[path] = load_digit_image(path)
        except (DlscratchError, ValueError, OSError, MemoryError) as exc:
            why = failures.one_line(exc)
            named = path in why or str(Path(path)) in why
            errors[path] = why if named else f"{path}: {why}"
    return images, errors


def predict_or_explain(net, x, model_path):
    """net.predict(x) (split among the threads), or a ValueError naming the model file when
    its input does not fit."""
    try:
        return predict_scores(net, x)
    except ValueError as exc:
        raise ValueError(f"{model_path}: the network does not take 28x28 images ({exc})") \
            from None


def run(args) -> int:
    from dlscratch.data import class_names
    from dlscratch.functions import softmax

    failures.doing(f"loading the model {args.model}")
    net = load_model(args.model)
    names = class_names(dataset_of(args.model, args.dataset))
    images, errors = read_images(args.images)
    probs = {}
    if images:
        failures.doing(f"classifying {len(images)} images")
        x = np.stack(list(images.values()))
        x = x[:, None] if wants_images(net) else x.reshape(len(x), -1)
        scores = predict_or_explain(net, x, args.model)
        probs = dict(zip(images, softmax(scores), strict=True))
    for path in args.images:
        if path in errors:
            print(f"dlscratch: error: {errors[path]}", file=sys.stderr, flush=True)
            continue
        p = probs[path]
        top = np.argsort(p)[::-1][:3]
        label = names.__getitem__ if len(p) == len(names) else str  # a model of other classes
        ranked = ", ".join(f"{label(k)} {p[k]:.3f}" for k in top)
        print(f"{path}: {label(top[0])}  (top 3: {ranked})", flush=True)
    return 1 if errors else 0

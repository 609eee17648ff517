"""`dlscratch predict MODEL IMAGE...`: classify PNG/JPEG images of single digits/garments."""

from __future__ import annotations

import numpy as np

from dlscratch.cli.model_inputs import dataset_of, wants_images


def add_parser(sub):
    p = sub.add_parser("predict", help="classify images (PNG/JPEG), top-3 probabilities")
    p.add_argument("model", help="a model.npz")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"),
                   help="names the classes (default: from the model's config.json, else mnist)")
    p.set_defaults(run=run)


def run(args) -> int:
    from dlscratch.data import class_names
    from dlscratch.data.images import load_digit_image
    from dlscratch.functions import softmax
    from dlscratch.io.serialize import load

    net = load(args.model)
    names = class_names(dataset_of(args.model, args.dataset))
    images = np.stack([load_digit_image(path) for path in args.images])
    x = images[:, None] if wants_images(net) else images.reshape(len(images), -1)
    probs = softmax(net.predict(x))
    for path, p in zip(args.images, probs, strict=True):
        top = np.argsort(p)[::-1][:3]
        ranked = ", ".join(f"{names[k]} {p[k]:.3f}" for k in top)
        print(f"{path}: {names[top[0]]}  (top 3: {ranked})")
    return 0

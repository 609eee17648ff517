"""One drawing through one model: what the page shows.

    result = classify(model, image)   # image: (28, 28) from load_digit_image
    result["probabilities"]           # 10 numbers summing to 1
    result["top"]                     # [{"class": 7, "label": "7", "probability": 0.98}, ...]
    result["input"]                   # the 28x28 image the network received (white on black)
    result["activations"]             # {"hidden": [...], "feature_maps": {...} or None}

The forward pass is `Sequential.predict`'s loop - `layer.forward(x, train_flg=False)` for
each layer in order, so every heavy step goes through the kernel wing as in `predict` - with
each layer's output kept on the way for the activations (the scores are the same numbers
`net.predict` gives: tests/serve/test_inference.py).
"""

from __future__ import annotations

import base64

import numpy as np

from dlscratch.functions import softmax
from dlscratch.layers import Convolution, Relu, Sigmoid

DIGITS = 3  # decimals of the input and hidden activations sent: plenty for a picture


def forward_with_outputs(net, x: np.ndarray) -> tuple[np.ndarray, list]:
    """(scores, [(layer, its output), ...]) for x through every layer (inference mode)."""
    x = np.asarray(x, dtype=net.dtype)
    outputs = []
    for layer in net.stack.layers:
        x = layer.forward(x, False)
        outputs.append((layer, x))
    return x, outputs


def classify(model, image: np.ndarray) -> dict:
    """The page's JSON for one (28, 28) image on a catalogue.LoadedModel. An ensemble's
    probabilities are the mean of its members' (as `Ensemble.probabilities`); its activations
    are its first member's."""
    x = image[None, None] if model.images else image.reshape(1, -1)
    with model.lock:  # the layers keep forward state: one request at a time per network
        runs = [forward_with_outputs(net, x) for net in getattr(model.net, "members",
                                                                 [model.net])]
        outputs = runs[0][1]
        hidden = [(layer.name, out[0].copy()) for layer, out in hidden_outputs(outputs)]
        maps = first_feature_maps(outputs)  # inside the lock: outputs may be reused buffers
    probs = np.mean([softmax(scores[0].astype(np.float64)) for scores, _ in runs], axis=0)
    best = np.argsort(probs)[::-1][:3]
    return {
        "model": model.entry.id,
        "probabilities": [float(p) for p in probs],
        "top": [{"class": int(k), "label": model.labels[k], "probability": float(probs[k])}
                for k in best],
        "input": rounded(image),
        "activations": {
            "hidden": [{"layer": name, "values": rounded(v)}
                       for name, v in hidden],
            "feature_maps": maps,
        },
    }


def rounded(values: np.ndarray) -> list:
    """Nested lists of DIGITS-decimal numbers (in float64: a float32 0.004 would print as
    0.004000000189989805)."""
    return np.round(np.asarray(values, dtype=np.float64), DIGITS).tolist()


def hidden_outputs(outputs: list) -> list:
    """The outputs of the activation layers between the dense layers: (N, units) arrays."""
    return [(layer, out) for layer, out in outputs[:-1]
            if isinstance(layer, (Relu, Sigmoid)) and out.ndim == 2]


def first_feature_maps(outputs: list) -> dict | None:
    """The first convolution's feature maps, after its activation when one follows it (what
    the next layer receives), as grey levels: {"layer", "shape": [C, H, W], "scale": the
    largest value, "levels": base64 of C*H*W bytes, row-major, level = 255 * value / scale
    (negative values at 0)}; None without a convolution. Bytes, not numbers: 17,280 values
    for SimpleConvNet, which as JSON numbers take longer to write than the network takes to
    run."""
    for i, (layer, out) in enumerate(outputs):
        if isinstance(layer, Convolution):
            name = layer.name
            if i + 1 < len(outputs) and isinstance(outputs[i + 1][0], (Relu, Sigmoid)):
                layer, out = outputs[i + 1]
                name = f"{name} -> {layer.name}"
            maps = np.asarray(out[0], dtype=np.float32)
            scale = float(maps.max(initial=0.0))
            levels = np.zeros(maps.shape, np.uint8) if scale <= 0 else \
                np.rint(np.clip(maps / scale, 0.0, 1.0) * 255).astype(np.uint8)
            return {"layer": name, "shape": list(maps.shape), "scale": scale,
                    "levels": base64.b64encode(levels.tobytes()).decode("ascii")}
    return None


def feature_map_values(maps: dict) -> np.ndarray:
    """(C, H, W) float32 values back from first_feature_maps' levels (to within scale/510)."""
    levels = np.frombuffer(base64.b64decode(maps["levels"]), dtype=np.uint8)
    return levels.reshape(maps["shape"]).astype(np.float32) * (maps["scale"] / 255.0)

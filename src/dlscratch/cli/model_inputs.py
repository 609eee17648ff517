"""What a saved model expects: its dataset (from the run's config.json) and its input layout."""

from __future__ import annotations

import json
from pathlib import Path

from dlscratch.layers import Convolution


def dataset_of(model_path: str | Path, explicit: str | None) -> str:
    """--dataset if given, else the dataset recorded beside the model by `train`, else mnist."""
    if explicit:
        return explicit
    config = Path(model_path).parent / "config.json"
    if config.exists():
        try:
            return json.loads(config.read_text())["settings"]["dataset"]
        except (ValueError, KeyError):
            pass
    return "mnist"


def wants_images(net) -> bool:
    """True if the network's first layer is a convolution ((N, 1, 28, 28) input)."""
    return isinstance(net.stack.layers[0], Convolution)

"""Training recipes: named RunConfigs, fixed in advance (`dlscratch train --recipe NAME`).

    config = recipe_config("accurate")                 # its RunConfig, recipe="accurate"
    config = recipe_config("accurate", epochs=1)       # with changes on top, as flags give

fast:     fast-cnn, Adam lr 0.002, batch 100, 2.5 epochs, cosine decay after 0.2 epoch of
          warm-up.
accurate: bn-cnn (batch norm, dropout 0.25), Adam lr 0.002, batch 100, 11 epochs, cosine decay
          after 0.5 epoch of warm-up, random shifts (+-2 px) and rotations (+-10 deg).
record:   an ensemble of 5 record-cnn networks (VGG-style 3x3 convolutions, batch norm, ReLU,
          He initialisation, dropout 0.4), each trained with Adam lr 0.002, batch 100,
          15 epochs, cosine decay after 0.5 epoch of warm-up, random shifts (+-2 px), rotations
          (+-10 deg), zooms (+-10%) and elastic distortions (alpha 20, sigma 4); predictions
          are the mean of the members' softmax probabilities.

fast and accurate were designed on a validation split (benchmarks.recipes --validate); record
is designed on the last 10,000 training images (--holdout 10000): benchmarks/NOTES.md.
"""

from __future__ import annotations

from dlscratch.train.run_config import RunConfig

RECIPES = {
    "fast": dict(model="fast-cnn", optimizer="adam", lr=0.002, batch_size=100, epochs=2.5,
                 schedule="cosine", warmup=0.2),
    "accurate": dict(model="bn-cnn", optimizer="adam", lr=0.002, batch_size=100, epochs=11,
                     schedule="cosine", warmup=0.5, augment=True),
    "record": dict(model="record-cnn", optimizer="adam", lr=0.002, batch_size=100, epochs=15,
                   schedule="cosine", warmup=0.5, augment=True, augment_scale=0.1,
                   elastic_alpha=20.0, elastic_sigma=4.0, members=5),
}
SUMMARIES = {  # one line each, for --list-recipes
    "fast": "a small CNN in 2.5 epochs: about 99.1% on MNIST in well under a minute",
    "accurate": "batch norm, dropout and augmentation, 11 epochs: about 99.5%",
    "record": "an ensemble of 5 VGG-style networks with elastic distortions: the course's "
              "leaderboard (<= 0.32% test error) is the aim",
}


def recipe_config(name: str, **changes) -> RunConfig:
    """The RunConfig of recipe `name` (recorded in its `recipe` field), with `changes` on top
    (RunConfig.replace: epochs clears iterations and the other way round)."""
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(map(repr, RECIPES))}, got {name!r}")
    return RunConfig(**RECIPES[name], recipe=name).replace(**changes)


def describe_recipes() -> str:
    """The recipes, a paragraph each: name, summary and its settings as `dlscratch train`
    flags."""
    blocks = []
    for name, settings in RECIPES.items():
        flags = []
        for field, value in settings.items():
            flag = "--" + field.replace("_", "-")
            flags.append(flag if value is True else f"{flag} {value:g}"
                         if isinstance(value, float) else f"{flag} {value}")
        blocks.append(f"{name}: {SUMMARIES[name]}\n  {' '.join(flags)}")
    return "\n".join(blocks)

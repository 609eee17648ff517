"""What a study is: the training settings every trial shares, the ranges, the sampler.

    settings = SearchSettings(base=RunConfig(model="multi-layer", epochs=5, limit=500,
                                             val_fraction=0.2, seed=0),
                              space=(parse_param("lr=1e-6:1e-2:log"),), sampler="random")
    config = settings.trial_config(values, seed)   # trial k's RunConfig

`base.seed` is the search's seed: it draws every trial's values and seeds (space.draw_values)
and splits the validation data off the training data (the same split for every trial);
`base.val_fraction` is that split's size. Saved with the study (`to_dict`), so that a second
command on the same study, on this machine or another, is refused if its settings differ
(`differences`), except the number of trials and where the data lives.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlscratch.search.errors import SearchError
from dlscratch.search.space import Param
from dlscratch.train.run_config import RunConfig

SAMPLERS = ("random", "tpe")
FORMAT, VERSION = "dlscratch-search", 1
DEFAULT_LAYERS = {"multi-layer": 5}  # hidden layers of a model when --hidden is not given


@dataclass(frozen=True)
class SearchSettings:
    base: RunConfig
    space: tuple[Param, ...]
    sampler: str = "random"

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise SearchError(f"--sampler must be one of {', '.join(SAMPLERS)}, "
                              f"got {self.sampler!r}")
        if not (self.base.val_fraction or self.base.holdout):
            raise SearchError("--val-fraction must be in (0, 1): a search scores its trials "
                              "on validation data held out of the training data")
        if self.base.members != 1:
            raise SearchError(f"--members {self.base.members}: a search trains one network per "
                              "trial (train an ensemble of the best settings afterwards)")
        names = [p.name for p in self.space]
        if not names:
            raise SearchError("no --param given: nothing to search")
        for name in names:
            if names.count(name) > 1:
                raise SearchError(f"--param {name} is given twice")
        for param in self.space:  # each end of each range must make a valid run
            ends = param.choices if param.choices is not None else (param.low, param.high)
            for value in ends:
                try:
                    self.trial_config({param.name: value}, self.base.seed)
                except ValueError as exc:
                    from dlscratch.cli.train_flags import flag_message

                    raise SearchError(f"--param {param.spec()}: {flag_message(str(exc))}"
                                      ) from None

    @property
    def seed(self) -> int:
        return self.base.seed

    def trial_config(self, values: dict, seed: int) -> RunConfig:
        """The RunConfig of a trial with these values and this seed (network init, batches,
        dropout). `hidden` sets every hidden layer to the same size."""
        changes = dict(values)
        if "hidden" in changes:
            layers = len(self.base.hidden) if self.base.hidden else \
                DEFAULT_LAYERS.get(self.base.model, 1)
            changes["hidden"] = (int(changes["hidden"]),) * layers
        return self.base.replace(**changes, seed=seed)

    def to_dict(self) -> dict:
        """The settings a study keeps (without data_dir: each machine has its own)."""
        base = self.base.to_dict()
        base.pop("data_dir")
        return {"format": FORMAT, "version": VERSION, "base": base,
                "space": [p.to_dict() for p in self.space], "sampler": self.sampler}

    @classmethod
    def from_dict(cls, d: dict, data_dir: str | None = None) -> SearchSettings:
        if not isinstance(d, dict) or d.get("format") != FORMAT or d.get("version") != VERSION:
            raise SearchError(f"not the settings of a dlscratch search (format {FORMAT!r} "
                              f"version {VERSION})")
        base = RunConfig.from_dict({**d["base"], "data_dir": data_dir})
        return cls(base, tuple(Param.from_dict(p) for p in d["space"]), d["sampler"])

    def differences(self, saved: dict) -> list[str]:
        """What differs from a study's saved settings, told in flags ('--epochs: saved 1 vs
        now 2'); empty when they agree."""
        mine = self.to_dict()
        if saved.get("format") != FORMAT or saved.get("version") != VERSION:
            return [f"the study was not made by this version of dlscratch search "
                    f"({saved.get('format')!r} version {saved.get('version')!r})"]
        out = []
        for name in sorted(set(mine["base"]) | set(saved.get("base", {}))):
            a, b = saved.get("base", {}).get(name), mine["base"].get(name)
            if a != b:
                out.append(f"--{name.replace('_', '-')}: saved {a} vs now {b}")
        specs = {p["name"]: Param.from_dict(p).spec() for p in saved.get("space", [])}
        now = {p.name: p.spec() for p in self.space}
        if list(specs.values()) != list(now.values()):
            out.append(f"--param: saved {' '.join(specs.values())} vs now "
                       f"{' '.join(now.values())}")
        if saved.get("sampler") != self.sampler:
            out.append(f"--sampler: saved {saved.get('sampler')} vs now {self.sampler}")
        return out


__all__ = ["SAMPLERS", "SearchSettings"]

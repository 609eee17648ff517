"""Training: the Trainer loop, its callbacks, the RunConfig of a run, checkpoints and history."""

from dlscratch.train.callbacks import (
    Callback,
    EarlyStopping,
    History,
    NaNGuard,
    ProgressBar,
    TrainingDiverged,
)
from dlscratch.train.checkpoint import Checkpoint
from dlscratch.train.history import save_history
from dlscratch.train.run_config import PRESETS, RunConfig
from dlscratch.train.trainer import Trainer

__all__ = ["PRESETS", "Callback", "Checkpoint", "EarlyStopping", "History", "NaNGuard",
           "ProgressBar", "RunConfig", "Trainer", "TrainingDiverged", "save_history"]

"""Training: the Trainer loop, checkpoints and history files."""

from dlscratch.train.history import save_history
from dlscratch.train.trainer import Trainer, TrainingDiverged

__all__ = ["Trainer", "TrainingDiverged", "save_history"]

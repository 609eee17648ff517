"""Optimizers (chapter 6) and learning-rate schedules."""

from dlscratch.optim.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    get_optimizer,
)
from dlscratch.optim.schedules import Constant, Cosine, StepDecay, get_schedule

__all__ = ["OPTIMIZERS", "SGD", "AdaGrad", "Adam", "Constant", "Cosine", "Momentum", "Nesterov",
           "Optimizer", "StepDecay", "get_schedule",
           "RMSprop", "get_optimizer"]

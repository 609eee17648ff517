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

__all__ = ["OPTIMIZERS", "SGD", "AdaGrad", "Adam", "Momentum", "Nesterov", "Optimizer",
           "RMSprop", "get_optimizer"]

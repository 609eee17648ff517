"""The experiments in course order. Each module's INFO names it; `get_experiment` finds one."""

from __future__ import annotations

import importlib

MODULES = (
    "e01_activations", "e02_softmax_overflow", "e03_three_layer_forward", "e04a_mnist_samples",
    "e04b_batch_inference", "e05_loss_functions", "e06_numerical_diff", "e07_gradient_field",
    "e08_gradient_descent", "e09_train_two_layer", "e10_gradient_check", "e11_shopping_graph",
    "e12_optimizer_paths", "e13_optimizer_mnist", "e14_init_activations", "e15_init_mnist",
    "e16_batchnorm", "e17_overfitting", "e18_hyperparameter_search", "e19_simple_cnn",
    "e20_deep_cnn", "e21_accuracy_techniques", "e21b_accuracy_record", "e22_residual",
    "e23_deeper_fewer_params", "e24_vgg", "e25_inception",
)


def _load_all():
    found = []
    for mod in MODULES:
        try:
            found.append(importlib.import_module(f"dlscratch.experiments.{mod}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"dlscratch.experiments.{mod}":
                raise
    return found


EXPERIMENTS = _load_all()


def names() -> list[str]:
    return [m.INFO.name for m in EXPERIMENTS]


def get_experiment(name: str):
    for module in EXPERIMENTS:
        if module.INFO.name == name:
            return module
    raise ValueError(f"unknown experiment {name!r}: choose from {', '.join(names())} or 'all'")

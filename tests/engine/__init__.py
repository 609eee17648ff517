"""Tests of the core engine (functions, layers, networks, optimizers, save/load)."""

"""Errors the library raises for bad files, one class per family, each naming file and problem."""


class ModelFileError(ValueError):
    """A model file that cannot be read, or does not match the network it should fill."""


__all__ = ["ModelFileError"]

"""Files: atomic writes and model serialisation (`.npz` + JSON, never pickle)."""

from dlscratch.io.atomic import atomic_write, atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text"]

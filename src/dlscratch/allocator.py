"""Moved to `dlscratch.kernels.allocator` (the allocator setting is a speed setting). This
alias warns."""

import warnings

from dlscratch.kernels.allocator import keep_freed_memory

warnings.warn("dlscratch.allocator moved: use dlscratch.kernels.allocator", DeprecationWarning,
              stacklevel=2)

__all__ = ["keep_freed_memory"]

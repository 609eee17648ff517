"""Moved: im2col / col2im live in `dlscratch.kernels` (the book's versions) and
conv_output_size in `dlscratch.layers.convolution`. This alias warns and will go."""

import warnings

from dlscratch.kernels import col2im, im2col
from dlscratch.layers.convolution import conv_output_size

warnings.warn("dlscratch.layers.im2col moved: use dlscratch.kernels.im2col / col2im and "
              "dlscratch.layers.conv_output_size", DeprecationWarning, stacklevel=2)

__all__ = ["col2im", "conv_output_size", "im2col"]

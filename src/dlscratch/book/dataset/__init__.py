"""The book's `dataset/` package: `dataset.mnist`."""

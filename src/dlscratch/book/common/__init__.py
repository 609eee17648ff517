"""The book's `common/` package (see `dlscratch.book`)."""

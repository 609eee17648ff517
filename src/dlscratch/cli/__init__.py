"""The `dlscratch` command line: train, evaluate, predict, info, experiment, book,
convert-weights, search and serve (one module per command, `*_cmd.py`, and the helpers they
share)."""

"""The `dlscratch` command line: train, evaluate, predict, info, experiment."""

"""Speed benchmarks of dlscratch against a PyTorch CPU reference.

    python -m benchmarks            # full run: table, per-layer breakdown, peak memory, JSON
    python -m benchmarks --quick    # a fast smoke run of the same sections
    python -m benchmarks --help     # select networks, repeats, threads, output path

See benchmarks/NOTES.md for what was measured and what each optimisation was worth.
"""

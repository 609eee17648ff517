"""The benchmark harness still runs end to end (a smoke run: speed is never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_the_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--no-torch", "--nets",
         "TwoLayerNet,SimpleConvNet", "--threads", "2", "--min-time", "0.05", "--repeats", "1",
         "--infer-images", "200", "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "TwoLayerNet" in r.stdout and "SimpleConvNet: per-layer median ms" in r.stdout
    report = json.loads(out.read_text())
    (run,) = report["runs"]
    assert run["threads"] == 2
    for name in ("TwoLayerNet", "SimpleConvNet"):
        for mode in ("train", "infer"):
            assert run["networks"][name][mode]["dlscratch"]["images_per_s"] > 0
            assert run["networks"][name][mode]["bare"]["images_per_s"] > 0
    machine = report["machine"]
    assert machine["dlscratch_kernels"] == "fast" and machine["dlscratch_threads"] >= 1
    assert machine["cpu_model"] and isinstance(machine["vector_extensions"], list)
    assert report["memory"]["peak_rss_mib"] > 0


def test_unknown_recipe_is_refused():
    r = subprocess.run([sys.executable, "-m", "benchmarks", "--recipes", "slow"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--recipes: choose from ['accurate', 'fast']" in r.stderr


def test_recipes_run_on_the_given_thread_count_and_restore_it(monkeypatch):
    # Results do not depend on the thread count, so a recipe has none of its own: it runs on
    # the caller's setting or on `threads`, and the caller's count is restored afterwards.
    import dlscratch
    from benchmarks import recipes

    seen = []

    def fake_run(name, seed, validate, progress=False):
        seen.append((name, dlscratch.get_num_threads()))
        return {"split": "test", "threads": dlscratch.get_num_threads(), "accuracy": 0.5,
                "train_wall_s": 1.0, "images_per_s": 1.0}

    monkeypatch.setattr(recipes, "run_recipe", fake_run)
    with dlscratch.threads(1):
        results = recipes.run_recipes(["fast", "accurate"], [0])
        assert seen == [("fast", 1), ("accurate", 1)]
        assert [r["met"] for r in results] == [False, False]  # accuracy 0.5 misses both
        recipes.run_recipes(["fast"], [0], threads=3)
        assert seen[-1] == ("fast", 3) and dlscratch.get_num_threads() == 1

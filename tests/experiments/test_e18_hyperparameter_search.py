import json

from tests.experiments.korean_text import assert_summary_korean

from dlscratch.experiments.base import Context
from dlscratch.experiments.runner import run_experiment


def test_random_search_is_the_same_with_one_or_two_workers(needs_mnist, tmp_path):
    records = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        run_experiment("hyperparameter-search", Context(quick=True, seed=0, out_dir=out,
                                                        workers=workers, log=lambda *a: None))
        assert (out / "hyperparameter-search.png").read_bytes()[:4] == b"\x89PNG"
        records.append(json.loads((out / "hyperparameter-search.json").read_text()))
    one, two = records
    assert {"params", "numbers", "seed"} <= one.keys()
    assert one["params"]["workers"] == 1 and two["params"]["workers"] == 2
    assert one["numbers"] == two["numbers"]
    assert_summary_korean(one)

    ranked = one["numbers"]["ranked"]
    assert len(ranked) == one["params"]["trials"] == 6
    assert one["params"]["train_size"] == 400 and one["params"]["val_size"] == 100
    for trial in ranked:
        assert 1e-6 <= trial["lr"] <= 1e-2
        assert 1e-8 <= trial["weight_decay"] <= 1e-4
    val = [trial["val_acc"] for trial in ranked]
    assert val == sorted(val, reverse=True)
    narrowed = one["numbers"]["narrowed_ranges_best_5"]
    best5 = ranked[:5]
    assert narrowed["lr"] == [min(t["lr"] for t in best5), max(t["lr"] for t in best5)]


def test_trial_settings_depend_only_on_seed_and_index():
    from dlscratch.experiments.e18_hyperparameter_search import draw_trial

    assert draw_trial(0, 3) == draw_trial(0, 3)
    assert draw_trial(0, 3) != draw_trial(0, 4)
    assert draw_trial(0, 3) != draw_trial(1, 3)

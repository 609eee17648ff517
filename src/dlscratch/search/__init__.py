"""Hyperparameter search, the course's recipe (하이퍼파라미터 최적화) as a tool on Optuna.

- `space`: the ranges (--param) and the drawing of trial k's values from (seed, k), shared with
  experiment 18;
- `settings`: what a study is (the training settings every trial shares, ranges, sampler);
- `study`: the Optuna side (storage, study, the queue of trial indices, heartbeats);
- `trial`: one trial (train a few epochs, score on validation data);
- `worker`: a process that runs queued trials until the study is done;
- `report`, `figures`: the table, the course's figures, narrowed ranges and best.json.

Optuna is an optional extra (`pip install 'dlscratch[search]'`); only `study`, `worker` and
`report` need it. The command is `dlscratch search` (cli/search_cmd.py).
"""

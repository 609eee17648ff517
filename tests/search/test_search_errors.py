"""Bad input to `dlscratch search` (and `train --config`) ends in one line naming the flag and
the problem, never a traceback, and starts nothing."""

from __future__ import annotations

import pytest

from dlscratch.cli.main import main


def fails(capsys, argv: list[str], status: int = 1) -> str:
    assert main(argv) == status
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("dlscratch: error: ") and "Traceback" not in captured.err
    return lines[0][len("dlscratch: error: "):]


@pytest.mark.parametrize("param, words", [
    ("lr", "--param lr: expected NAME=LOW:HIGH[:log] or NAME=A,B,C"),
    ("lr=1:2:3", "--param lr=1:2:3: expected lr=LOW:HIGH or lr=LOW:HIGH:log"),
    ("lr=1e-2:1e-2", "--param lr=1e-2:1e-2: the range is empty"),
    ("lr=1e-2:1e-4:log", "--param lr=1e-2:1e-4:log: the range is inverted (low 0.01 > high "
                         "0.0001)"),
    ("speed=1:2", "--param speed=1:2: unknown parameter 'speed'; one of lr, weight_decay"),
    ("dropout=0:1.5", "--param dropout=0:1.5: --dropout must be in [0, 1), got 1.5"),
    ("momentum=0.5:0.9", "--param momentum=0.5:0.9: --momentum is for --optimizer momentum or "
                         "nesterov, not adam"),
])
def test_bad_ranges(capsys, tmp_path, param, words):
    out = tmp_path / "out"
    message = fails(capsys, ["search", "--param", param, "--out", str(out)])
    assert message == words or message.startswith(words), message
    assert not out.exists()  # refused before anything was made


def test_a_searched_setting_given_as_a_flag_too(capsys, tmp_path):
    message = fails(capsys, ["search", "--lr", "0.1", "--param", "lr=1e-3:1e-1:log",
                             "--out", str(tmp_path)])
    assert message == "--lr is given as a flag and as --param lr=0.001:0.1:log: give one"


def test_the_same_param_twice(capsys, tmp_path):
    message = fails(capsys, ["search", "--param", "lr=1e-3:1e-1", "--param", "lr=1e-4:1e-2",
                             "--out", str(tmp_path)])
    assert message == "--param lr is given twice"


def test_no_validation_data(capsys, tmp_path):
    message = fails(capsys, ["search", "--val-fraction", "0", "--out", str(tmp_path)])
    assert message.startswith("--val-fraction must be in (0, 1)")


@pytest.mark.parametrize("url, words", [
    ("nonsense", "--storage nonsense: not a database URL"),
    # nothing listens on port 1 of the loopback: refused at once
    ("postgresql+psycopg://someone:secret@127.0.0.1:1/db",
     "--storage postgresql+psycopg://someone:***@127.0.0.1:1/db: cannot open the storage: "),
    ("sqlite:////no/such/folder/x.db", "--storage sqlite:////no/such/folder/x.db: cannot open "
                                       "the storage: unable to open database file"),
])
def test_unusable_storage(capsys, tmp_path, url, words, optuna):
    message = fails(capsys, ["search", "--storage", url, "--out", str(tmp_path)])
    assert message.startswith(words), message
    assert "secret" not in message


def test_report_of_a_folder_without_a_study(capsys, tmp_path, optuna):
    message = fails(capsys, ["search", "--report", str(tmp_path)])
    assert message == f"--report {tmp_path}: no search.db there (a search writes it into its " \
                      "--out)"
    assert not (tmp_path / "search.db").exists()


def test_report_of_an_unknown_study(capsys, tmp_path, optuna):
    optuna.create_study(study_name="other", storage=f"sqlite:///{tmp_path / 'search.db'}")
    message = fails(capsys, ["search", "--report", str(tmp_path), "--study", "nope"])
    assert message == f"no study 'nope' in sqlite:///{tmp_path / 'search.db'}; it holds other"


def test_bad_flag_values(capsys, tmp_path):
    assert "--workers: expected an integer >= 1, got '0'" in fails(
        capsys, ["search", "--workers", "0", "--out", str(tmp_path)], status=2)
    assert "--sampler: invalid choice: 'grid'" in fails(
        capsys, ["search", "--sampler", "grid", "--out", str(tmp_path)], status=2)


def test_train_config_errors(capsys, tmp_path):
    missing = tmp_path / "best.json"
    assert fails(capsys, ["train", "--config", str(missing), "--out", str(tmp_path / "r")]) == \
        f"{missing}: No such file or directory"
    missing.write_text("{not json")
    assert fails(capsys, ["train", "--config", str(missing), "--out", str(tmp_path / "r")]) \
        .startswith(f"{missing}: not JSON")
    assert fails(capsys, ["train", "--config", str(missing), "--resume", "--out",
                          str(tmp_path / "r")]) == \
        "--config cannot be used with --resume: a resumed run keeps the settings of its own " \
        "config.json"

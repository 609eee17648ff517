"""SIGTERM and SIGINT stop a training run as Ctrl-C does: one clear line, status 128 + the
signal's number, the last checkpoint valid, no temporary or lock file; the line promises
--resume only when there is a checkpoint to resume from."""

from __future__ import annotations

import re
import signal

import pytest


def test_sigterm_inside_a_checkpoint_write(kit, reference, tmp_path, cli):
    out = tmp_path / "run"
    writes = kit.Writes(out, "checkpoint.npz")
    run = kit.Run([*kit.RUN_ARGS, "--out", out], tmp_path / "p")
    run.wait_until(writes.inside(2), "checkpoint write 2")
    assert run.signal(signal.SIGTERM) == 143
    assert run.stderr == (f"dlscratch: interrupted by SIGTERM at iteration 24 of 60; the last "
                          f"checkpoint is {out / 'checkpoint.npz'}: continue with 'dlscratch "
                          f"train --resume --out {out}'\n")
    assert kit.checkpoint_iteration(out) == 12  # the write in progress was abandoned
    assert kit.listing(out) == ["checkpoint.npz", "config.json"]

    r = cli("train", "--resume", "--out", out)
    assert r.code == 0, r.err
    assert "resuming at iteration 12 of 60" in r.out
    assert kit.same_arrays(kit.model_arrays(out / "model.npz"), reference)
    assert kit.listing(out) == kit.OUTPUTS


def test_sigint_between_checkpoints(kit, tmp_path):
    out = tmp_path / "run"
    writes = kit.Writes(out, "checkpoint.npz")
    run = kit.Run([*kit.RUN_ARGS, "--out", out], tmp_path / "p")
    run.wait_until(writes.done(1), "the first checkpoint")
    assert run.signal(signal.SIGINT) == 130
    assert re.fullmatch(
        rf"dlscratch: interrupted by Ctrl-C \(SIGINT\) at iteration (1[2-9]|2[0-4]) of 60; the "
        rf"last checkpoint is {re.escape(str(out / 'checkpoint.npz'))}: continue with "
        rf"'dlscratch train --resume --out {re.escape(str(out))}'\n", run.stderr), run.stderr
    assert kit.checkpoint_iteration(out) in (12, 24)
    assert kit.listing(out) == ["checkpoint.npz", "config.json"]


def test_sigterm_before_the_first_checkpoint_promises_no_resume(kit, tmp_path):
    out = tmp_path / "run"
    writes = kit.Writes(out, "checkpoint.npz")
    run = kit.Run([*kit.RUN_ARGS, "--out", out], tmp_path / "p")
    run.wait_until(writes.inside(1), "checkpoint write 1")
    assert run.signal(signal.SIGTERM) == 143
    assert run.stderr == ("dlscratch: interrupted by SIGTERM at iteration 12 of 60, before the "
                          "first checkpoint: nothing to resume; run the same command again to "
                          "start over\n")
    assert kit.listing(out) == ["config.json"]


def test_sighup_while_the_data_loads(kit, tmp_path):
    """Stopped before the run wrote anything: the folder it made is removed again."""
    out = tmp_path / "run"
    run = kit.Run([*kit.RUN_ARGS, "--out", out], tmp_path / "p")
    run.wait_until(lambda: (out / ".dlscratch.lock").exists(), "the run lock")
    assert run.signal(signal.SIGHUP) == 129
    assert re.fullmatch(r"dlscratch: interrupted by SIGHUP( at iteration \d+ of 60)?, before the "
                        r"first checkpoint: nothing to resume; run the same command again to "
                        r"start over\n", run.stderr), run.stderr
    assert not out.exists() or kit.listing(out) in ([], ["config.json"])


def test_signals_interrupt_in_this_process():
    """The handler: the first signal raises, a second one during the clean-up is ignored, an
    ignored signal (nohup's SIGHUP) stays ignored, and the old handlers come back."""
    import os
    import time

    from dlscratch.cli.failures import Interrupted, signals_interrupt

    before = signal.getsignal(signal.SIGTERM)
    old_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with pytest.raises(Interrupted) as info:
            with signals_interrupt():
                os.kill(os.getpid(), signal.SIGHUP)  # ignored
                time.sleep(0.01)
                try:
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(1)
                finally:
                    os.kill(os.getpid(), signal.SIGINT)  # a second signal while unwinding
                    time.sleep(0.01)
        assert info.value.status == 143 and str(info.value) == "interrupted by SIGTERM"
        assert signal.getsignal(signal.SIGTERM) == before
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, old_hup)

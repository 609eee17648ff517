"""SIGKILL at five chosen moments, each followed by --resume in the same folder: the run ends
with the same model.npz, bit for bit, as an uninterrupted one, and no temporary or lock file
is left.

The five kills are chained through one run folder (each resume is the next victim), which
tests what five separate runs would and costs half the processes:

  1. inside checkpoint write 2 (iteration 24):       checkpoint 12 stays, its temp file left
  2. just after the next checkpoint is renamed (24):  killed mid-epoch
  3. inside the final checkpoint write (60):          checkpoint 48 stays
  4. inside the model.npz write:                      checkpoint 60 (finished) stays
  5. inside the curves.png write:                     model.npz already written
  then a last --resume completes.

A killed run leaves its lock file (with its PID) and a temporary file; the next run takes the
lock anyway (the kernel dropped the dead process's flock) and removes the temporary file.
"""

from __future__ import annotations

import signal

KILLED = -signal.SIGKILL


def test_sigkill_at_five_moments_then_resume_equals_a_straight_run(kit, reference, tmp_path):
    out = tmp_path / "run"
    resume = ("train", "--resume", "--quiet", "--out", out)

    # 1. inside the second checkpoint write
    writes = kit.Writes(out, "checkpoint.npz")
    run = kit.Run([*kit.RUN_ARGS, "--out", out], tmp_path / "p1")
    run.wait_until(writes.inside(2), "checkpoint write 2")
    assert run.signal(signal.SIGKILL) == KILLED
    assert kit.checkpoint_iteration(out) == 12
    assert len(kit.temps(out, "checkpoint.npz")) == 1  # the killed write's
    assert (out / ".dlscratch.lock").read_text().strip() == str(run.pid)

    # 2. mid-epoch, just after the resumed run's first checkpoint
    writes = kit.Writes(out, "checkpoint.npz")
    run = kit.Run(resume, tmp_path / "p2")
    run.wait_until(writes.done(1), "the first checkpoint of the resumed run")
    assert run.signal(signal.SIGKILL) == KILLED
    assert "resuming at iteration 12 of 60" in run.stdout
    assert kit.checkpoint_iteration(out) == 24
    assert kit.temps(out, "checkpoint.npz") == []  # the stale one was removed at the start

    # 3. inside the final checkpoint write
    writes = kit.Writes(out, "checkpoint.npz")
    run = kit.Run(resume, tmp_path / "p3")
    run.wait_until(writes.inside(3), "checkpoint write 3 of the resumed run (iteration 60)")
    assert run.signal(signal.SIGKILL) == KILLED
    assert "resuming at iteration 24 of 60" in run.stdout
    assert kit.checkpoint_iteration(out) == 48

    # 4. inside the model.npz write: training is over
    writes = kit.Writes(out, "model.npz")
    run = kit.Run(resume, tmp_path / "p4")
    run.wait_until(writes.inside(1), "the model.npz write")
    assert run.signal(signal.SIGKILL) == KILLED
    assert kit.checkpoint_iteration(out) == 60
    assert not (out / "model.npz").exists() and len(kit.temps(out, "model.npz")) == 1

    # 5. inside the curves.png write: model.npz is there
    writes = kit.Writes(out, "curves.png")
    run = kit.Run(resume, tmp_path / "p5")
    run.wait_until(writes.inside(1), "the curves.png write")
    assert run.signal(signal.SIGKILL) == KILLED
    assert "resuming at iteration 60 of 60" in run.stdout
    assert kit.same_arrays(kit.model_arrays(out / "model.npz"), reference)
    assert len(kit.temps(out, "curves.png")) == 1

    # and the last resume completes
    run = kit.Run(resume, tmp_path / "p6", slow=False)
    assert run.finish() == 0, run.stderr
    assert run.stdout.splitlines()[-1].startswith("test accuracy: ")
    assert kit.same_arrays(kit.model_arrays(out / "model.npz"), reference)
    assert kit.listing(out) == kit.OUTPUTS  # no temporary file, no lock file

"""Bad inputs for the `dlscratch` command line: does every one end in a clear error?

    python -m benchmarks.bad_inputs -o docs/results/bad-inputs.json
    python -m benchmarks.bad_inputs --family images --family models --jobs 1 --keep

Builds, in a temporary folder, about 200 bad inputs in seven families - flags, model files,
checkpoints, run configs (config.json), images, data folders and experiment records - runs the
real CLI on each in a subprocess (the `dlscratch` script beside this Python, else
`python -m dlscratch.cli.main`; the temporary folder is the working directory, so the commands
show relative paths) and classifies how each run ended:

- clear error: exit status != 0, and stderr is exactly one line starting with
  `dlscratch: error:` that names the thing at fault (the file's name, the flag, the variable);
- vague error: exit status != 0 without a traceback, but not that (the line does not name the
  thing, or stderr holds more or other lines);
- traceback: stderr holds "Traceback";
- accepted: exit status 0. Some inputs are legitimate edge cases (`expected: accepted`, e.g. a
  16-bit PNG); those are checked further (the output is what it should be) and counted apart
  from an acceptance of an input that should have been refused;
- killed/timeout: ended by a signal, or still running after --timeout seconds (killed).

Training cases are tiny runs (`--model two-layer --iterations 5 --limit 200 --eval-limit 100
--quiet`); MNIST is read from $DLSCRATCH_DATA (required). Every child runs with downloads made
impossible (http(s)_proxy pointing at a closed local port), its own XDG cache, one dlscratch
and BLAS thread (two children run side by side) and the probe's address-space cap (--max-mem,
so a bomb that got through fails instead of exhausting the machine); its peak resident memory
is recorded. The JSON lists every case: family, description, command, expected, exit code,
first stderr line, classification and a note.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import io
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import machine

FAMILIES = ("flags", "models", "checkpoints", "configs", "images", "data", "records")
TINY = {"model": "two-layer", "iterations": "5", "limit": "200", "eval_limit": "100",
        "quiet": True}
COLUMNS = ("clear error", "vague error", "traceback", "accepted as expected",
           "accepted unexpectedly", "killed/timeout")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, refused at once
DIGIT_DESC = "digit.png: a dark 7 on white paper"


# -- cases and outcomes ------------------------------------------------------------------------


@dataclass
class Case:
    family: str
    description: str
    argv: list[str]
    names: tuple[str, ...]  # a clear error's line contains at least one of these
    expected: str = "error"  # or "accepted"
    verify: Callable[[Outcome], str | None] | None = None  # exit 0: None if the output is right
    timeout: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    id: str = ""

    @property
    def command(self) -> str:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        return (env + " " if env else "") + shlex.join(["dlscratch", *self.argv])


@dataclass
class Outcome:
    case: Case
    code: int | None
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float
    timed_out: bool
    work: Path
    classification: str = ""
    note: str = ""

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def first_line(self) -> str:
        lines = self.lines
        return lines[0][:500] if lines else ""


def classify(out: Outcome) -> tuple[str, str]:
    """(classification, note) of one run; see the module docstring."""
    case, lines = out.case, out.lines
    if out.timed_out:
        return "killed/timeout", f"still running after {case.timeout:g} s: killed"
    if out.code is None or out.code < 0:
        return "killed/timeout", f"killed by signal {-(out.code or 0)}"
    if "Traceback" in out.stderr:
        return "traceback", f"{len(lines)} stderr lines; exit status {out.code}"
    if out.code == 0:
        notes = [f"stderr not empty ({len(lines)} lines)"] if lines else []
        if case.expected != "accepted":
            return "accepted unexpectedly", "; ".join(["should have been refused", *notes])
        problem = case.verify(out) if case.verify else None
        if problem:
            return "accepted unexpectedly", "; ".join([f"accepted, but {problem}", *notes])
        return "accepted as expected", "; ".join(notes)
    notes = [] if out.code in (1, 2) else [f"exit status {out.code}, not 1 or 2"]
    if case.expected == "accepted":
        notes.append("expected to be accepted")
    if len(lines) != 1:
        what = "no stderr output" if not lines else f"{len(lines)} stderr lines"
        return "vague error", "; ".join([what, *notes])
    if not lines[0].startswith("dlscratch: error:"):
        return "vague error", "; ".join(["the line does not start with 'dlscratch: error:'",
                                         *notes])
    if not any(name in lines[0] for name in case.names):
        named = " or ".join(repr(n) for n in case.names)
        return "vague error", "; ".join([f"does not name {named}", *notes])
    return "clear error", "; ".join(notes)


# -- running the CLI -----------------------------------------------------------------------------


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("dlscratch")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "dlscratch.cli.main"]


class Runner:
    def __init__(self, work: Path, env: dict[str, str], timeout: float):
        self.work, self.env, self.timeout = work, env, timeout
        self.cli = cli_command()

    def run(self, case: Case) -> Outcome:
        timeout = case.timeout or self.timeout
        case.timeout = timeout
        env = {**self.env, **case.env}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.monotonic()
            proc = subprocess.Popen([*self.cli, *case.argv], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, cwd=self.work, env=env,
                                    start_new_session=True)
            timed_out = False
            while True:  # os.wait4, not proc.wait: the child's own peak memory (ru_maxrss)
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > timeout:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.02)
            seconds = time.monotonic() - start
            proc.returncode = code = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            # the temporary folder's absolute path (in some messages) shown as <tmp>
            stdout = out.read().decode("utf-8", "replace").replace(str(self.work), "<tmp>")
            stderr = err.read().decode("utf-8", "replace").replace(str(self.work), "<tmp>")
        return Outcome(case, code, stdout, stderr, seconds, usage.ru_maxrss / 1024, timed_out,
                       self.work)


# -- small builders ------------------------------------------------------------------------------


def train_argv(out: str, **flags) -> list[str]:
    """`train` with the tiny settings, `flags` (name -> value; None drops it, True: a switch,
    a list: nargs values) changing them, and --out. A value starting with '-' is written
    --flag=value, so that argparse reads it as a value."""
    opts = {**TINY, **flags}
    argv = ["train"]
    for name, value in opts.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv += [flag, *map(str, value)]
        elif str(value).startswith("-"):
            argv.append(f"{flag}={value}")
        else:
            argv += [flag, str(value)]
    return [*argv, "--out", out]


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


def npy_header(shape, descr="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path: Path, members: list[tuple[str, bytes]] | dict[str, bytes],
              deflate: bool = False) -> None:
    items = members.items() if isinstance(members, dict) else members
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in items:
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, compress_type=method)


CENTRAL_FIELDS = {"usize": (24, "<I"), "csize": (20, "<I"), "method": (10, "<H")}


def patch_central(data: bytes, index: int, name: str, value: int) -> bytes:
    """Overwrite one field of member `index`'s entry in the zip's central directory."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        pos = zf.start_dir
    for _ in range(index):
        n, m, k = struct.unpack("<HHH", data[pos + 28:pos + 34])
        pos += 46 + n + m + k
    offset, fmt = CENTRAL_FIELDS[name]
    start = pos + offset
    return data[:start] + struct.pack(fmt, value) + data[start + struct.calcsize(fmt):]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height 8-bit grey, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (PNG_MAGIC + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def digit_image(size: int = 200, ink: int = 0, paper: int = 255, mode: str = "L"):
    """A 7 drawn off-centre (PIL image)."""
    from PIL import Image, ImageDraw

    img = Image.new(mode, (size, size), paper)
    draw = ImageDraw.Draw(img)
    s = size * 0.4
    draw.line([(30, 50), (30 + s, 50), (30 + s * 0.4, 50 + s * 1.5)], fill=ink,
              width=max(2, int(s / 8)))
    return img


def save_image(img, path: Path, **options) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **options)
    return path.read_bytes()


def stream_deflated_member(path: Path, members: dict[str, bytes], name: str, head: bytes,
                           zeros: int) -> None:
    """An .npz holding `members` (stored) and one deflated member `name`: head + zeros bytes."""
    with zipfile.ZipFile(path, "w") as zf:
        for key, data in members.items():
            if key != name:
                zf.writestr(zipfile.ZipInfo(key, (1980, 1, 1, 0, 0, 0)), data)
        info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        chunk = bytes(1 << 20)
        with zf.open(info, "w", force_zip64=True) as f:
            f.write(head)
            for _ in range(zeros >> 20):
                f.write(chunk)


def stdout_has(text: str) -> Callable[[Outcome], str | None]:
    def verify(out: Outcome) -> str | None:
        return None if text in out.stdout else f"stdout lacks {text!r}"
    return verify


# -- the probe -----------------------------------------------------------------------------------


class Probe:
    """Builds the bad inputs under `work` (the children's working directory) and the cases."""

    def __init__(self, work: Path, runner: Runner):
        self.work, self.runner = work, runner
        self.cases: list[Case] = []
        self.counts: Counter = Counter()

    def p(self, rel: str) -> Path:
        path = self.work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def add(self, family, description, argv, names, expected="error", verify=None,
            timeout=None, env=None) -> Case:
        self.counts[family] += 1
        case = Case(family, description, [str(a) for a in argv], tuple(names), expected,
                    verify, timeout, env or {}, f"{family}-{self.counts[family]:03d}")
        self.cases.append(case)
        return case

    def slot(self, family: str) -> str:
        """A fresh relative folder name for the next case of `family`."""
        return f"{family}/{self.counts[family] + 1:03d}"

    # -- shared inputs ---------------------------------------------------------------------------
    def build_base(self) -> None:
        """Two finished tiny runs (SGD, Adam) made by the CLI itself, and a digit image."""
        save_image(digit_image(), self.p("images/digit.png"))
        base = [("base/sgd", {}), ("base/adam", {"optimizer": "adam"})]
        with ThreadPoolExecutor(2) as pool:
            outs = list(pool.map(lambda item: self.runner.run(Case(
                "base", item[0], train_argv(item[0], **item[1]), ())), base))
        for out in outs:
            if out.code != 0 or not (self.work / out.case.description / "checkpoint.npz").is_file():
                sys.exit(f"bad_inputs: the base run failed: {out.case.command}\n{out.stderr}")
        self.model = self.work / "base/sgd/model.npz"
        self.members = zip_members(self.model)
        self.arch = json.loads(str(np.lib.format.read_array(
            io.BytesIO(self.members["__architecture__.npy"]))[()]))
        self.arrays = {k[:-4]: np.lib.format.read_array(io.BytesIO(v))
                       for k, v in self.members.items() if k != "__architecture__.npy"}

    def copy_run(self, src: str, dest: str) -> Path:
        target = self.work / dest
        shutil.copytree(self.work / src, target)
        return target

    # -- flags -------------------------------------------------------------------------------
    def flags(self) -> None:
        F = "flags"

        def t(description, names, expected="error", verify=None, **flags):
            out = f"runs/{self.slot(F)}"
            self.add(F, description, train_argv(out, **flags), names, expected, verify)

        for value in ("-0.1", "0", "nan", "inf", "abc", ""):
            t(f"train --lr {value!r}", ["--lr"], lr=value)
        t("train --lr 1e308 (finite, diverges at once)", ["--lr"], lr="1e308")
        for value in ("0", "-5", "2.5", "nan"):
            t(f"train --batch-size {value!r}", ["--batch-size"], batch_size=value)
        t("train --batch-size 10**12 (more than --limit)", ["--batch-size"],
          batch_size=str(10**12))
        for value in ("0", "-1", "nan", "inf", "1e9"):
            t(f"train --epochs {value!r}", ["--epochs"], epochs=value, iterations=None)
        t("train --epochs 0.0001 (documented: at least one update)", ["--epochs"], "accepted",
          stdout_has("test accuracy:"), epochs="0.0001", iterations=None)
        for value in ("0", "-3", "1.5", "99999999999"):
            t(f"train --iterations {value!r}", ["--iterations"], iterations=value)
        for value in (["0"], ["-1"], ["300000"]):
            t(f"train --hidden {value[0]}", ["--hidden"], hidden=value)
        t("train --hidden 10 20 with --model two-layer (one hidden layer)", ["--hidden"],
          hidden=["10", "20"])
        t("train --hidden with no value", ["--hidden"], hidden=[])
        t("train --model multi-layer --hidden 65536 65536 (4.3G weights)", ["--hidden"],
          model="multi-layer", hidden=["65536", "65536"])
        for value in ("1.0", "-0.5", "nan"):
            t(f"train --model multi-layer --dropout {value}", ["--dropout"],
              model="multi-layer", dropout=value)
        t("train --dropout 0.5 with --model two-layer (no dropout there)", ["--dropout"],
          dropout="0.5")
        for value in ("-1", "inf"):
            t(f"train --model multi-layer --weight-decay {value}", ["--weight-decay"],
              model="multi-layer", weight_decay=value)
        t("train --weight-decay 0.1 with --model two-layer", ["--weight-decay"],
          weight_decay="0.1")
        for value in ("1.0", "-0.1", "nan"):
            t(f"train --val-fraction {value}", ["--val-fraction"], val_fraction=value)
        t("train --val-fraction 0.999 --limit 200 (one image left, batch 100)",
          ["--val-fraction", "--batch-size"], val_fraction="0.999")
        for value in ("0", "-1"):
            t(f"train --patience {value} --val-fraction 0.1", ["--patience"], patience=value,
              val_fraction="0.1")
        t("train --patience 3 without --val-fraction", ["--patience", "--val-fraction"],
          patience="3")
        for value in ("0", "-1", "abc"):
            t(f"train --eval-limit {value}", ["--eval-limit"], eval_limit=value)
        for value in ("0", "-10", "1000000000"):
            t(f"train --limit {value}", ["--limit"], limit=value)
        t("train --limit 50 (smaller than the default batch of 100)",
          ["--limit", "--batch-size"], limit="50")
        for value in ("-1", "abc"):
            t(f"train --seed {value}", ["--seed"], seed=value)
        t("train --seed 2**200 (more than a model file keeps)", ["--seed"], seed=str(2**200))
        for value in ("0", "2000", "abc"):
            t(f"train --threads {value}", ["--threads"], threads=value)
        t("train --threads 1024 (the documented maximum)", ["--threads"], "accepted",
          stdout_has("test accuracy:"), threads="1024")
        for value in ("1.5", "-0.1", "nan"):
            t(f"train --optimizer momentum --momentum {value}", ["--momentum"],
              optimizer="momentum", momentum=value)
        t("train --momentum 0.9 with the sgd optimizer", ["--momentum"], momentum="0.9")
        t("train --schedule cosine --warmup -1", ["--warmup"], schedule="cosine", warmup="-1")
        t("train --schedule cosine --warmup 100 (longer than the 5-update run)", ["--warmup"],
          schedule="cosine", warmup="100")
        t("train --warmup 1 without --schedule cosine", ["--warmup"], warmup="1")
        for value in ("0", "-2", "inf"):
            t(f"train --schedule step --step-size {value}", ["--step-size"], schedule="step",
              step_size=value)
        for value in ("0", "1.5", "-1"):
            t(f"train --schedule step --gamma {value}", ["--gamma"], schedule="step",
              gamma=value)
        t("train --gamma 0.5 without --schedule step", ["--gamma"], gamma="0.5")
        for flag, value in (("model", "resnet"), ("optimizer", "lbfgs"), ("activation", "tanh"),
                            ("dtype", "float16"), ("schedule", "linear"),
                            ("dataset", "cifar10"), ("sampling", "none")):
            t(f"train --{flag} {value} (unknown choice)", [f"--{flag}"], **{flag: value})
        t("train --epochs 1 --iterations 5 (mutually exclusive)", ["--epochs", "--iterations"],
          epochs="1")
        t("train --batchnorm with --model two-layer", ["--batchnorm"], batchnorm=True)
        t("train --augment with --model two-layer", ["--augment"], augment=True)
        t("train --frobnicate (unknown flag)", ["--frobnicate"], frobnicate=True)
        regular = self.p("files/a-regular-file")
        regular.write_text("not a folder\n")
        self.add(F, "train --out naming a regular file", train_argv("files/a-regular-file"),
                 ["a-regular-file", "--out"])
        self.add(F, "train --out under a regular file",
                 train_argv("files/a-regular-file/run"), ["a-regular-file", "--out"])
        self.add(F, "train --resume --out on a missing folder",
                 ["train", "--resume", "--out", "runs/no-such-run", "--quiet"],
                 ["--resume", "no-such-run"])
        run = self.copy_run("base/sgd", f"runs/{self.slot(F)}")
        self.add(F, "train --resume with a changed --lr", ["train", "--resume", "--out",
                 run.relative_to(self.work), "--lr", "0.5", "--quiet"], ["--lr"])
        run = self.copy_run("base/sgd", f"runs/{self.slot(F)}")
        self.add(F, "train --resume with changed --batch-size and --hidden",
                 ["train", "--resume", "--out", run.relative_to(self.work), "--batch-size",
                  "50", "--hidden", "20", "--quiet"], ["--batch-size", "--hidden"])
        run = self.copy_run("base/sgd", f"runs/{self.slot(F)}")
        self.add(F, "train --resume --iterations 1 (before the checkpoint)",
                 ["train", "--resume", "--out", run.relative_to(self.work), "--iterations", "1",
                  "--quiet"], ["--iterations"])
        self.add(F, "dlscratch with no sub-command", [], ["command"])
        self.add(F, "dlscratch frobnicate (unknown sub-command)", ["frobnicate"],
                 ["frobnicate"])
        self.add(F, "evaluate with no model", ["evaluate"], ["model"])
        self.add(F, "evaluate --dataset cifar10", ["evaluate", "base/sgd/model.npz",
                 "--dataset", "cifar10"], ["--dataset"])
        self.add(F, "predict with no image", ["predict", "base/sgd/model.npz"], ["images"])
        self.add(F, "predict --threads -1", ["predict", "base/sgd/model.npz",
                 "images/digit.png", "--threads=-1"], ["--threads"])
        for value in ("0", "-1"):
            self.add(F, f"experiment activations --workers {value}",
                     ["experiment", "activations", f"--workers={value}", "--out",
                      f"exp/{self.slot(F)}"], ["--workers"])
        self.add(F, "experiment no-such-experiment", ["experiment", "no-such-experiment",
                 "--out", f"exp/{self.slot(F)}"], ["no-such-experiment"])
        self.add(F, "experiment activations --seed abc", ["experiment", "activations",
                 "--seed", "abc"], ["--seed"])
        self.add(F, "info --threads 0", ["info", "--threads", "0"], ["--threads"])
        self.add(F, "info --data-dir on a missing folder (info only reports it)",
                 ["info", "--data-dir", "no-such-folder"], ["--data-dir"], "accepted",
                 stdout_has("no-such-folder"))
        self.add(F, "info with DLSCRATCH_NUM_THREADS=abc", ["info"], ["DLSCRATCH_NUM_THREADS"],
                 env={"DLSCRATCH_NUM_THREADS": "abc"})
        self.add(F, "train with DLSCRATCH_NUM_THREADS=-2",
                 train_argv(f"runs/{self.slot(F)}"), ["DLSCRATCH_NUM_THREADS"],
                 env={"DLSCRATCH_NUM_THREADS": "-2"})
        self.add(F, "predict with DLSCRATCH_KERNELS=bogus",
                 ["predict", "base/sgd/model.npz", "images/digit.png"], ["DLSCRATCH_KERNELS"],
                 env={"DLSCRATCH_KERNELS": "bogus"})

    # -- model files -------------------------------------------------------------------------
    def models(self) -> None:
        F = "models"
        use_evaluate = [0]

        def case(description, rel, expected="error", command=None):
            name = Path(rel).name
            use_evaluate[0] += 1
            # every fourth with evaluate, the others with predict
            if command == "evaluate" or command is None and use_evaluate[0] % 4 == 0:
                argv = ["evaluate", rel, "--out", f"eval/{self.slot(F)}"]
                verify = stdout_has("accuracy:")
            else:
                argv = ["predict", rel, "images/digit.png"]
                verify = stdout_has("(top 3:")
            self.add(F, description, argv, [name], expected,
                     verify if expected == "accepted" else None)

        def raw(description, name, data: bytes, **kw):
            self.p(f"models/{name}").write_bytes(data)
            case(description, f"models/{name}", **kw)

        def members(description, name, change, deflate=False, **kw):
            m = dict(self.members)
            change(m)
            write_zip(self.p(f"models/{name}"), m, deflate)
            case(description, f"models/{name}", **kw)

        def arch(description, name, change, **kw):
            a = copy.deepcopy(self.arch)
            a = change(a) or a

            def put(m):
                m["__architecture__.npy"] = npy(np.array(json.dumps(a)))
            members(description, name, put, **kw)

        def array(description, name, key, value, **kw):
            members(description, name, lambda m: m.__setitem__(f"{key}.npy", npy(value)), **kw)

        def net(description, name, network, **kw):  # written by dlscratch.save
            from dlscratch import save

            save(network, self.p(f"models/{name}"))
            case(description, f"models/{name}", **kw)

        base = self.model.read_bytes()
        case("missing file", "models/missing.npz")
        raw("empty file", "empty.npz", b"")
        raw("a text file", "text.npz", b"this is not a model\n")
        raw("a PNG renamed .npz", "png.npz", (self.work / "images/digit.png").read_bytes())
        raw("truncated zip (first half)", "half.npz", base[:len(base) // 2])
        raw("truncated zip (last 30 bytes cut: no end of central directory)", "cut.npz",
            base[:-30])
        raw("a gzip file renamed .npz", "gzip.npz", gzip.compress(base))
        members("an object (pickle) array as W1", "pickle.npz",
                lambda m: m.__setitem__("W1.npy", npy(np.array([{"evil": 1}, None],
                                                               dtype=object))))
        members("W1 a pickle of a Python list, .npy header claims object dtype", "pickle2.npz",
                lambda m: m.__setitem__("W1.npy", npy(np.array([[1, 2], "x"], dtype=object))))
        arch("architecture JSON that is a list", "arch-list.npz", lambda a: [a])
        arch("architecture JSON that is a number", "arch-number.npz", lambda a: 42)

        def params_list(a):
            a["layers"][0]["params"] = [[784, 50], [50]]
        arch("layers[0].params a list, not an object", "params-list.npz", params_list)
        arch("format version 2", "version2.npz", lambda a: a.__setitem__("version", 2))
        arch("dtype int8 in the architecture", "dtype-int8.npz",
             lambda a: a.__setitem__("dtype", "int8"))
        arch("weight_decay_lambda -1", "wd-neg.npz",
             lambda a: a.__setitem__("weight_decay_lambda", -1))

        def unknown_layer(a):
            a["layers"][1]["type"] = "Frobnicate"
        arch("unknown layer type", "unknown-layer.npz", unknown_layer)

        def hidden_config(a):
            a["config"]["hidden_size"] = 300000
        arch("config.hidden_size 300000 (layers unchanged)", "hidden-config.npz", hidden_config)

        def hidden_all(a):
            a["config"]["hidden_size"] = 300000
            a["layers"][0]["params"] = {"W": [784, 300000], "b": [300000]}
            a["layers"][2]["params"] = {"W": [300000, 10], "b": [10]}
        arch("hidden_size 300000 in config and layer shapes (235M values)", "hidden-all.npz",
             hidden_all)
        for depth, tag, expected in ((17, "17 levels (one past the limit)", "error"),
                                     (120, "120 levels (JSON 360 deep)", "error"),
                                     (16, "16 levels (the limit)", "accepted")):
            a = self.nested(copy.deepcopy(self.arch), depth)
            write_zip(self.p(f"models/nested-{depth}.npz"), {
                "__architecture__.npy": npy(np.array(json.dumps(a))),
                "W1.npy": npy(self.arrays["W1"][:, :10].copy()),
                "b1.npy": npy(np.zeros(10, np.float32))})
            case(f"Sequential: Affine, then Relu in Residual blocks nested {tag}",
                 f"models/nested-{depth}.npz", expected)
        members("architecture record missing", "no-arch.npz",
                lambda m: m.pop("__architecture__.npy"))
        members("architecture record not JSON", "arch-not-json.npz",
                lambda m: m.__setitem__("__architecture__.npy", npy(np.array("{not json"))))
        members("architecture record a float array", "arch-float.npz",
                lambda m: m.__setitem__("__architecture__.npy", npy(np.zeros(3))))
        array("W1 an array of strings", "strings.npz", "W1", np.full((784, 50), "a"))
        array("W1 complex64", "complex.npz", "W1", self.arrays["W1"].astype(np.complex64))
        array("W1 int32", "int.npz", "W1", self.arrays["W1"].astype(np.int32))
        w = self.arrays["W1"].copy()
        w[3, 7] = np.nan
        array("a NaN weight in W1", "nan.npz", "W1", w)
        w = self.arrays["W2"].copy()
        w[1, 2] = -np.inf
        array("an -Inf weight in W2", "inf.npz", "W2", w)
        array("W1 float64 holding 1e300 (too large for the float32 model)", "huge-value.npz",
              "W1", self.arrays["W1"].astype(np.float64) * 0 + 1e300)
        array("W1 transposed (50, 784)", "transposed.npz", "W1", self.arrays["W1"].T.copy())
        array("b2 of 11 values", "b2-11.npz", "b2", np.zeros(11, np.float32))
        array("W1 Fortran-ordered (same values)", "fortran.npz", "W1",
              np.asfortranarray(self.arrays["W1"]), expected="accepted")
        members("an extra array W9", "extra.npz",
                lambda m: m.__setitem__("W9.npy", npy(np.ones(3, np.float32))))
        members("array b2 missing", "missing-b2.npz", lambda m: m.pop("b2.npy"))
        members("a member named ../W1.npy", "traversal.npz",
                lambda m: m.__setitem__("../W1.npy", m.pop("W1.npy")))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile's "Duplicate name"
            write_zip(self.p("models/duplicate.npz"), [*self.members.items(),
                                                       ("W1.npy", self.members["W1.npy"])])
        case("W1.npy twice in the archive", "models/duplicate.npz")
        members("W1's .npy header claims shape (100000, 100000), data unchanged",
                "huge-header.npz", lambda m: m.__setitem__(
                    "W1.npy", npy_header((100000, 100000)) + m["W1.npy"][128:]))
        names = list(self.members)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for key in names:
                zf.writestr(zipfile.ZipInfo(key, (1980, 1, 1, 0, 0, 0)), self.members[key])
        data = patch_central(buf.getvalue(), names.index("W1.npy"), "usize", 2**32 - 1)
        raw("zip directory claims W1.npy is 4 GiB (stored, 157 kB)", "usize-lie.npz", data)
        bomb = 256 << 20
        stream_deflated_member(self.p("models/bomb-header.npz"), self.members, "W1.npy",
                               npy_header((1, bomb // 4)), bomb)
        case("zip bomb: W1.npy deflated, inflates to 256 MiB (header claims it)",
             "models/bomb-header.npz")
        stream_deflated_member(self.p("models/bomb-tail.npz"), self.members, "W1.npy",
                               self.members["W1.npy"], bomb)
        case("zip bomb: a correct W1.npy followed by 256 MiB of zeros, deflated",
             "models/bomb-tail.npz")
        import dlscratch
        from dlscratch.layers import Affine, Relu, Residual
        from dlscratch.nets import Sequential

        rng = np.random.default_rng(0)
        net("TwoLayerNet with 100 inputs (images have 784)", "inputs-100.npz",
            dlscratch.TwoLayerNet(100, 20, 10, seed=0))
        net("TwoLayerNet with 784 outputs: predict names classes by number",
            "outputs-784.npz", dlscratch.TwoLayerNet(784, 20, 784, seed=0), expected="accepted")
        net("TwoLayerNet with 784 outputs, evaluated", "outputs-784-eval.npz",
            dlscratch.TwoLayerNet(784, 20, 784, seed=0), command="evaluate")
        net("TwoLayerNet with 3 outputs (fewer than 10 classes)", "outputs-3.npz",
            dlscratch.TwoLayerNet(784, 20, 3, seed=0), expected="accepted")
        net("SimpleConvNet for 3x32x32 images", "conv-3x32.npz",
            dlscratch.SimpleConvNet((3, 32, 32), hidden_size=20, seed=0))
        net("a Residual block whose Affine changes the shape (784 -> 10)", "residual-shape.npz",
            Sequential([Residual([Affine.create(784, 10, 0.01, rng)])]))
        net("a float16 TwoLayerNet", "float16.npz",
            dlscratch.TwoLayerNet(784, 20, 10, dtype=np.float16, seed=0), expected="accepted")
        bn = dlscratch.MultiLayerNetExtend(784, [20], 10, use_batchnorm=True, seed=0)
        next(v for k, v in bn.buffers.items() if k.startswith("running_var"))[0] = -1.0
        net("batch norm with a negative running variance", "negative-var.npz", bn)
        net("a single Relu layer: 784 outputs, predict names classes by number",
            "no-classifier.npz", Sequential([Relu()]), expected="accepted")
        self.p("models/a-folder.npz").mkdir()
        case("a folder named .npz", "models/a-folder.npz")
        os.mkfifo(self.p("models/fifo.npz"))
        case("a FIFO named .npz", "models/fifo.npz")
        self.cases[-1].timeout = 20

    def nested(self, a: dict, depth: int) -> dict:
        """A Sequential: Affine 784x10, then Relu inside `depth` nested Residual blocks."""
        affine = copy.deepcopy(a["layers"][0])
        affine["params"] = {"W": [784, 10], "b": [10]}
        inner = copy.deepcopy(a["layers"][1])  # the Relu
        for _ in range(depth):
            inner = {"type": "Residual", "config": {"layers": [inner]}, "params": {},
                     "buffers": {}}
        top = {k: v for k, v in a.items() if k != "config"}
        top.update(model="Sequential", layers=[affine, inner])
        return top

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoints(self) -> None:
        from dlscratch.train.checkpoint import read_checkpoint, write_checkpoint

        F = "checkpoints"

        def resume(description, change=None, base="sgd", expected="error", verify=None,
                   names=("checkpoint.npz",)):
            run = self.copy_run(f"base/{base}", f"ck/{self.slot(F)}")
            path = run / "checkpoint.npz"
            if change is not None:
                meta, groups = read_checkpoint(path)
                new = change(meta, groups, path)
                if new is not False:
                    write_checkpoint(path, meta, groups)
            self.add(F, description, ["train", "--resume", "--out", run.relative_to(self.work),
                                      "--iterations", "8", "--quiet"], names, expected, verify)

        def set_(key, value):
            def change(meta, groups, path):
                node = meta
                *parents, last = key.split(".")
                for part in parents:
                    node = node[part]
                node[last] = value
            return change

        def delete(key):
            def change(meta, groups, path):
                del meta[key]
            return change

        resume("the checkpoint unchanged (control: resumes)", expected="accepted",
               verify=stdout_has("resuming at iteration"))
        resume("iteration -1", set_("iteration", -1))
        resume("iteration 1000 (past the end of the run)", set_("iteration", 1000))
        resume("iteration 2**70", set_("iteration", 2**70))
        resume("iteration 2.5", set_("iteration", 2.5))
        resume("iteration '4' (a string)", set_("iteration", "4"))
        resume("order all zeros (not a permutation)", set_("order", [0] * 200))
        resume("order of 3 entries (200 training images)", set_("order", [0, 1, 2]))
        resume("order holding 10**6", set_("order", [10**6, *range(1, 200)]))
        resume("rng a string", set_("rng", "PCG64"))
        resume("rng.state.state a string", set_("rng.state.state", "abc"))
        resume("rng.state.inc -1", set_("rng.state.inc", -1))
        resume("rng.bit_generator MT19937", set_("rng.bit_generator", "MT19937"))
        resume("rng.has_uint32 2.5", set_("rng.has_uint32", 2.5))
        resume("network_rng an object", set_("network_rng", {"a": 1}))
        resume("history missing", delete("history"))
        resume("rng missing", delete("rng"))
        resume("an unknown key", set_("extra", 1))
        resume("history.loss holding a string", set_("history.loss", ["x"] * 5))
        resume("elapsed_s -5", set_("elapsed_s", -5))
        resume("settings.batch_size 10 (another run's checkpoint)",
               set_("settings.batch_size", 10))
        resume("the record nested 500 levels deep (elapsed_s)",
               set_("elapsed_s", json.loads("[" * 500 + "]" * 500)))

        def nan_net(meta, groups, path):
            groups["net"]["W1"][0, 0] = np.nan
        resume("NaN in net/W1", nan_net)

        def nan_moment(meta, groups, path):
            key = sorted(groups["opt"])[0]
            groups["opt"][key].flat[0] = np.nan
        resume("NaN in the Adam optimizer state (first moment array)", nan_moment, base="adam")
        resume("optimizer.lr NaN (Adam)", set_("optimizer.lr", float("nan")), base="adam")
        resume("optimizer.beta1 1.5 (Adam)", set_("optimizer.beta1", 1.5), base="adam")

        def raw(data):
            def change(meta, groups, path):
                path.write_bytes(data(path.read_bytes()))
                return False
            return change
        resume("the checkpoint truncated to half", raw(lambda b: b[:len(b) // 2]))
        resume("the checkpoint empty", raw(lambda b: b""))

        def folder(meta, groups, path):
            path.unlink()
            path.mkdir()
            return False
        resume("checkpoint.npz a folder", folder)

        def gone(meta, groups, path):
            path.unlink()
            return False
        resume("checkpoint.npz deleted (config.json kept)", gone,
               names=("checkpoint.npz", "--resume"))

    # -- run configs -----------------------------------------------------------------------
    def configs(self) -> None:
        F = "configs"
        saved = json.loads((self.work / "base/sgd/config.json").read_text())

        def resume(description, content: bytes | None, names=("config.json",), folder=False):
            run = self.copy_run("base/sgd", f"cfg/{self.slot(F)}")
            path = run / "config.json"
            path.unlink()
            if folder:
                path.mkdir()
            elif content is not None:
                path.write_bytes(content)
            self.add(F, f"--resume: {description}", ["train", "--resume", "--out",
                     run.relative_to(self.work), "--iterations", "8", "--quiet"], names)

        def settings(**changes) -> bytes:
            c = copy.deepcopy(saved)
            for key, value in changes.items():
                if value is KeyError:
                    del c["settings"][key]
                else:
                    c["settings"][key] = value
            return json.dumps(c).encode()

        resume("not JSON", b"{oops")
        resume("a JSON list", b"[1, 2]")
        resume("batch_size '100' (a string)", settings(batch_size="100"))
        resume("lr missing", settings(lr=KeyError))
        resume("lr 1e999 (JSON reads it as inf)",
               settings(lr=1).replace(b'"lr": 1', b'"lr": 1e999'))
        resume("batch_size 10**30", settings(batch_size=10**30))
        resume("hidden [0]", settings(hidden=[0]))
        resume("an unknown field 'colour'", settings(colour="blue"))
        resume("model 'resnet'", settings(model="resnet"))
        resume("not UTF-8 (binary bytes)", b"\xff\xfe\x00garbage\x80\x81")
        resume("2 MB of valid JSON (padded)", settings() + b" " * 2_000_000)
        resume("format 'something-else'", json.dumps({**saved, "format": "something-else"})
               .encode())
        resume("config.json a folder", None, folder=True)
        resume("config.json deleted (checkpoint kept)", None, names=("config.json", "--resume"))

        def beside(description, content: bytes | None, command="predict", extra=(),
                   expected="error", folder=False, verify=None):
            where = self.p(f"cfg/{self.slot(F)}/model.npz")
            shutil.copy(self.model, where)
            path = where.with_name("config.json")
            if folder:
                path.mkdir()
            elif content is not None:
                path.write_bytes(content)
            rel = where.relative_to(self.work)
            argv = (["predict", rel, "images/digit.png"] if command == "predict"
                    else ["evaluate", rel, "--out", rel.parent])
            self.add(F, f"beside the model ({command}): {description}", [*argv, *extra],
                     ["config.json"], expected, verify)

        beside("not JSON", b"{oops")
        beside("dataset 'cifar10'", settings(dataset="cifar10"))
        beside("a JSON list", b"[]", command="evaluate")
        beside("config.json a folder", None, folder=True)
        beside("epochs a string", settings(epochs="ten", iterations=None))
        beside("not JSON, but --dataset mnist given (not read)", b"{oops",
               extra=["--dataset", "mnist"], expected="accepted", verify=stdout_has("(top 3:"))
        beside("seed with 400 digits (validated like every config.json)", settings(seed=10**400))

    # -- images --------------------------------------------------------------------------------
    def images(self) -> None:
        from PIL import Image

        F = "images"
        digit = (self.work / "images/digit.png").read_bytes()

        def case(description, rel, expected="error", extra=(), timeout=None):
            verify = stdout_has("(top 3:") if expected == "accepted" else None
            self.add(F, description, ["predict", "base/sgd/model.npz", *extra, rel],
                     [Path(rel).name], expected, verify, timeout)

        def raw(description, name, data: bytes, **kw):
            self.p(f"images/{name}").write_bytes(data)
            case(description, f"images/{name}", **kw)

        def pil(description, name, img, expected="error", **options):
            save_image(img, self.p(f"images/{name}"), **options)
            case(description, f"images/{name}", expected)

        case("missing file", "images/missing.png")
        raw("a text file named .png", "text.png", b"hello\n")
        raw("an empty file", "empty.png", b"")
        raw("a truncated PNG (first 100 bytes)", "truncated.png", digit[:100])
        raw("a PNG cut after 70% of its bytes", "cut70.png", digit[:len(digit) * 7 // 10])
        raw("a 0x0 PNG (IHDR says 0 by 0)", "zero.png", png_header_only(0, 0))
        raw("IHDR claims 13000x13000 (169 megapixels)", "huge-13000.png",
            png_header_only(13000, 13000))
        raw("IHDR claims 7000x7000 (49 megapixels)", "huge-7000.png",
            png_header_only(7000, 7000))
        raw("IHDR claims 1x50,000,000", "huge-line.png", png_header_only(1, 50_000_000))
        bad_crc = bytearray(digit)
        bad_crc[20] ^= 0xFF  # inside IHDR's data: its CRC no longer matches
        raw("PNG with a wrong IHDR CRC", "bad-crc.png", bytes(bad_crc))
        ztxt = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (64 << 20), 9))
        raw("PNG with a zTXt chunk inflating to 64 MiB (text bomb)", "text-bomb.png",
            digit[:33] + ztxt + digit[33:])
        raw("an .npz passed as an image", "model.png", self.model.read_bytes())
        gray = np.asarray(digit_image(), dtype=np.uint16) * 257
        pil("16-bit greyscale PNG", "sixteen.png", Image.fromarray(gray), "accepted")
        rgba = digit_image(mode="RGBA", ink=(0, 0, 0, 255), paper=(255, 255, 255, 0))
        pil("RGBA PNG, transparent background", "rgba.png", rgba, "accepted")
        pil("palette PNG", "palette.png", digit_image().convert("P"), "accepted")
        pil("LA (grey + alpha) PNG", "la.png", digit_image().convert("LA"), "accepted")
        pil("1-bit PNG", "one-bit.png", digit_image().convert("1"), "accepted")
        pil("CMYK JPEG", "cmyk.jpg", digit_image().convert("CMYK"), "accepted")
        frames = [digit_image(), digit_image(ink=80)]
        save_image(frames[0], self.p("images/animated.gif"), save_all=True,
                   append_images=frames[1:])
        case("animated GIF (two frames)", "images/animated.gif", "accepted")
        pil("32-bit float TIFF, values 0..255", "float255.tiff",
            Image.fromarray(np.asarray(digit_image(), dtype=np.float32)), "accepted")
        pil("32-bit float TIFF, values in [0, 1] (a dark 7 on white)", "float01.tiff",
            Image.fromarray(np.asarray(digit_image(), dtype=np.float32) / 255))
        pil("a blank white image", "blank.png", Image.new("L", (64, 64), 255))
        pil("a 1x1 image", "one-pixel.png", Image.new("L", (1, 1), 0))
        jpeg = save_image(digit_image(), self.p("images/whole.jpg"), quality=90)
        raw("a truncated JPEG (first half)", "truncated.jpg", jpeg[:len(jpeg) // 2])
        self.p("images/a-folder.png").mkdir()
        case("a folder named .png", "images/a-folder.png")
        os.mkfifo(self.p("images/fifo.png"))
        case("a FIFO named .png", "images/fifo.png", timeout=20)
        self.add(F, "a good image and a missing one", ["predict", "base/sgd/model.npz",
                 "images/digit.png", "images/also-missing.png"], ["also-missing.png"])

    # -- data folders ----------------------------------------------------------------------------
    def data(self) -> None:
        from dlscratch.data import FILE_NAMES, write_idx
        from dlscratch.data.idx import encode_idx

        F = "data"
        train_images, train_labels, test_images, test_labels = FILE_NAMES
        rng = np.random.default_rng(0)
        good = {train_images: rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
                train_labels: (np.arange(300) % 10).astype(np.uint8),
                test_images: rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
                test_labels: (np.arange(100) % 10).astype(np.uint8)}

        def dataset(change=None, names=None, description="", expected="error", verify=None,
                    command="train", extra=None):
            root = f"data/{self.slot(F)}"
            folder = self.p(f"{root}/mnist/x").parent
            for file, array in good.items():
                write_idx(folder / f"{file}.gz", array)
            if change is not None:
                change(folder)
            if command == "train":
                argv = train_argv(f"runs/{self.slot(F)}", data_dir=root, **(extra or {}))
            else:
                argv = ["evaluate", "base/sgd/model.npz", "--data-dir", root, "--out", root]
            self.add(F, description, argv, names or [root], expected, verify)

        def replace(file, data: bytes, gz=True):
            def change(folder):
                (folder / f"{file}.gz").unlink()
                (folder / (f"{file}.gz" if gz else file)).write_bytes(data)
            return change

        def idx(array) -> bytes:
            return encode_idx(np.asarray(array))

        dataset(description="a valid 300/100-image fake MNIST (control)", expected="accepted",
                verify=stdout_has("test accuracy:"))
        self.p("data/empty/placeholder").write_text("")
        self.add(F, "--data-dir with no dataset files (download blocked)",
                 train_argv(f"runs/{self.slot(F)}", data_dir="data/empty"), ["data/empty"])
        self.add(F, "--data-dir on a missing folder (download blocked)",
                 train_argv(f"runs/{self.slot(F)}", data_dir="data/no-such-folder"),
                 ["data/no-such-folder"])
        self.p("data/a-file").write_text("not a folder\n")
        self.add(F, "--data-dir naming a regular file", train_argv(
            f"runs/{self.slot(F)}", data_dir="data/a-file"), ["data/a-file"])
        dataset(lambda d: (d / f"{train_labels}.gz").unlink(), [train_labels],
                "train labels missing (download blocked)")
        dataset(lambda d: (d / f"{train_images}.gz").write_bytes(
            (d / f"{train_images}.gz").read_bytes()[:5000]), [train_images],
            "train images .gz truncated")
        dataset(lambda d: (d / f"{train_images}.gz").write_bytes(b""), [train_images],
                "train images .gz empty")
        dataset(replace(train_images, b"\x08\x03" + idx(good[train_images])[2:], gz=False),
                [train_images], "train images raw with a wrong magic number")
        dataset(replace(train_images, idx(good[train_images])), [train_images],
                "train images named .gz but not gzip")

        def flip_crc(folder):
            path = folder / f"{test_images}.gz"
            data = bytearray(path.read_bytes())
            data[-6] ^= 0xFF  # the CRC-32 at the end of the gzip stream
            path.write_bytes(bytes(data))
        dataset(flip_crc, [test_images], "test images .gz with a wrong CRC")

        def flip_middle(folder):
            path = folder / f"{train_images}.gz"
            data = bytearray(path.read_bytes())
            for i in range(len(data) // 2, len(data) // 2 + 64):
                data[i] ^= 0x5A
            path.write_bytes(bytes(data))
        dataset(flip_middle, [train_images], "train images .gz with 64 garbled bytes inside")

        def bomb(folder):
            path = folder / f"{train_images}.gz"
            head = struct.pack(">BBBBIII", 0, 0, 8, 3, 60000, 28, 28)
            chunk = bytes(1 << 20)
            with gzip.open(path, "wb", compresslevel=6) as f:
                f.write(head)
                for _ in range((60000 * 784 >> 20) + 1 + 128):  # the data, then 128 MiB more
                    f.write(chunk)
        dataset(bomb, [train_images], "gzip bomb: header claims 60000x28x28, inflates 128 MiB "
                                      "beyond")
        dataset(replace(train_images, gzip.compress(
            struct.pack(">BBBBIII", 0, 0, 8, 3, 70000, 28, 28) + bytes(1000))), [train_images],
            "header claims 70000x28x28 (more than MNIST)")
        bad = good[train_labels].copy()
        bad[7] = 10
        dataset(replace(train_labels, gzip.compress(idx(bad))), [train_labels],
                "a train label of 10")
        bad = good[test_labels].copy()
        bad[3] = 255
        dataset(replace(test_labels, gzip.compress(idx(bad))), [test_labels],
                "a test label of 255 (evaluate)", command="evaluate")
        dataset(replace(train_labels, gzip.compress(idx(good[train_labels][:299]))),
                [train_labels, train_images], "299 train labels for 300 images")
        dataset(replace(test_images, gzip.compress(idx(np.zeros((100, 32, 32), np.uint8)))),
                [test_images], "test images 32x32", command="evaluate")
        dataset(replace(train_labels, gzip.compress(idx(good[train_labels].reshape(30, 10)))),
                [train_labels], "train labels 2-D (30, 10)")
        dataset(replace(train_images, gzip.compress(idx(good[train_images].astype(np.float32)))),
                [train_images], "train images float32 (type code 0x0D)")
        dataset(replace(train_images, gzip.compress(b"\x00\x00\x08\x00")), [train_images],
                "train images header with ndim 0")
        dataset(replace(train_images, gzip.compress(b"\x00\x00\x07\x03" + bytes(12))),
                [train_images], "train images with unknown type code 0x07")
        dataset(names=["--limit"], description="--limit 1000 with 300 training images",
                extra={"limit": "1000"})
        dataset(names=["fashion-mnist", "Fashion-MNIST"],
                description="--dataset fashion-mnist, only mnist/ there (download blocked)",
                extra={"dataset": "fashion-mnist"})

    # -- experiment records ----------------------------------------------------------------------
    def records(self) -> None:
        F = "records"
        valid = {"number": 1, "name": "activations", "title": "Activation functions",
                 "title_ko": "활성화 함수", "summary": "sigmoid(0) = 0.5", "quick": False,
                 "seed": 0, "elapsed_s": 0.05, "params": {"step": 0.1},
                 "numbers": {"x": [-1.0, 0.0, 1.0]}}

        def report(description, content: bytes | None = None, expected="error", verify=None,
                   folder=False, names=("activations.json",), out=None):
            root = out or f"rec/{self.slot(F)}"
            if out is None:
                path = self.p(f"{root}/activations.json")  # (the folder is made)
                if folder:
                    path.mkdir()
                elif content is not None:
                    path.write_bytes(content)
            self.add(F, description, ["experiment", "report", "--out", root], names, expected,
                     verify)

        def record(**changes) -> bytes:
            r = {**valid, **changes}
            for key in [k for k, v in changes.items() if v is KeyError]:
                del r[key]
            return json.dumps(r).encode()

        def html_lacks(text: str, also: str | None = None):
            def verify(out: Outcome) -> str | None:
                folder = out.work / out.case.argv[out.case.argv.index("--out") + 1]
                html = (folder / "report.html").read_text(encoding="utf-8", errors="replace") \
                    if (folder / "report.html").is_file() else None
                if html is None:
                    return "no report.html written"
                if text in html:
                    return f"report.html holds {text!r}"
                if also is not None and also not in html:
                    return f"report.html lacks {also!r}"
                return None
            return verify

        report("a valid record (control)", record(), "accepted", html_lacks("\0"))
        report("<script> in the name", record(name="<script>alert(1)</script>"), "accepted",
               html_lacks("<script>alert(1)"))
        report("<script> in title and summary", record(
            title="<script>alert(2)</script>", summary="<img src=x onerror=alert(3)>"),
            "accepted", html_lacks("<script>alert(2)", "&lt;script&gt;"))
        self.p("rec/outside.png").write_bytes((self.work / "images/digit.png").read_bytes())
        report("name '../../outside' (a PNG exists there)", record(name="../../outside"),
               "accepted", html_lacks("data:image/png", "not embedded"))
        report("name '/etc/passwd'", record(name="/etc/passwd"), "accepted",
               html_lacks("root:", "not embedded"))
        report("name holding a NUL character", record(name="a\0b"), "accepted",
               html_lacks("\0"))
        report("non-numeric seed 'zero'", record(seed="zero"))
        report("seed true", record(seed=True))
        report("elapsed_s a string", record(elapsed_s="fast"))
        report("field 'numbers' missing", record(numbers=KeyError))
        report("course_value key pointing to nothing", record(course_value={
            "key": ["nope"], "value": 1.0, "source": "book", "higher_is_better": True}))
        report("not JSON", b"{oops")
        report("a JSON list", b"[]")
        report("an empty file", b"")
        report("not UTF-8", b"\xff\xfe\x00garbage\x80")
        report("nested 100000 levels deep", b"[" * 100_000 + b"]" * 100_000)
        report("an integer of 5000 digits as seed",
               record(seed=0).replace(b'"seed": 0', b'"seed": ' + b"9" * 5000))
        report("activations.json a folder", folder=True)
        report("a folder with no records", names=("rec/",))
        report("--out on a missing folder", out="rec/no-such-folder",
               names=("no-such-folder",))


# -- main --------------------------------------------------------------------------------------


def table(outcomes: list[Outcome]) -> tuple[dict, str]:
    summary = {}
    for family in [*FAMILIES, "all"]:
        chosen = [o for o in outcomes if family in ("all", o.case.family)]
        if not chosen:
            continue
        counts = Counter(o.classification for o in chosen)
        row = {"count": len(chosen), **{c: counts.get(c, 0) for c in COLUMNS}}
        row["expected accepted, refused"] = sum(
            1 for o in chosen if o.case.expected == "accepted" and o.code not in (0, None))
        summary[family] = row
    heads = ["family", "count", *COLUMNS, "should accept, refused"]
    widths = [max(len(h), 6) for h in heads]
    lines = ["  ".join(h.rjust(w) if i else h.ljust(12) for i, (h, w) in
                       enumerate(zip(heads, widths, strict=True)))]
    for family, row in summary.items():
        cells = [family, row["count"], *(row[c] for c in COLUMNS),
                 row["expected accepted, refused"]]
        lines.append("  ".join(str(c).rjust(w) if i else str(c).ljust(12) for i, (c, w) in
                               enumerate(zip(cells, widths, strict=True))))
    return summary, "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bad_inputs",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", help="write the JSON here")
    parser.add_argument("--family", action="append", choices=FAMILIES,
                        help="only these families (repeatable; default all)")
    parser.add_argument("--jobs", type=int, default=2, help="CLI runs side by side (2)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds before a run is killed (120)")
    parser.add_argument("--max-mem", type=float, default=16.0,
                        help="address-space cap of every run, GiB (16)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    data = os.environ.get("DLSCRATCH_DATA")
    if not data or not (Path(data) / "mnist").is_dir():
        parser.error("set DLSCRATCH_DATA to a folder holding mnist/ (the training cases use it)")
    started = time.monotonic()
    cap = int(args.max_mem * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    work = Path(tempfile.mkdtemp(prefix="dlscratch-bad-inputs-"))
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("no_proxy", "all_proxy") and k != "DLSCRATCH_KERNELS"}
    env.update({"DLSCRATCH_DATA": str(Path(data).resolve()), "XDG_CACHE_HOME": str(work / "xdg"),
                "MPLBACKEND": "Agg", "DLSCRATCH_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1", "http_proxy": CLOSED_PORT_PROXY,
                "https_proxy": CLOSED_PORT_PROXY, "HTTP_PROXY": CLOSED_PORT_PROXY,
                "HTTPS_PROXY": CLOSED_PORT_PROXY, "PYTHONDONTWRITEBYTECODE": "1"})
    runner = Runner(work, env, args.timeout)
    probe = Probe(work, runner)
    try:
        probe.build_base()
        for family in args.family or FAMILIES:
            getattr(probe, family)()
        built = time.monotonic()
        print(f"{len(probe.cases)} cases built in {built - started:.0f} s under {work}; "
              f"running {args.jobs} at a time", flush=True)

        def run(case: Case) -> Outcome:
            out = runner.run(case)
            out.classification, out.note = classify(out)
            return out

        with ThreadPoolExecutor(args.jobs) as pool:
            # the slowest families first, so that the two workers finish together
            order = sorted(probe.cases, key=lambda c: c.family not in ("flags", "data"))
            outcomes = list(pool.map(run, order))
        outcomes.sort(key=lambda o: (FAMILIES.index(o.case.family), o.case.id))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    wall = time.monotonic() - started
    summary, text = table(outcomes)
    print()
    print(text)
    odd = [o for o in outcomes if o.classification not in ("clear error", "accepted as expected")
           or o.case.expected == "accepted" and o.code != 0]
    print(f"\n{len(odd)} cases not a clear error or an expected acceptance:")
    for o in odd:
        print(f"  [{o.case.id}] {o.classification}: {o.case.description}")
        print(f"      $ {o.case.command}")
        print(f"      exit {o.code}: {o.first_line or '(no stderr)'}"
              + (f"  ({o.note})" if o.note else ""))
    print(f"\nwall time {wall:.0f} s")
    if args.output:
        import dlscratch

        result = {
            "what": "bad inputs given to the dlscratch CLI, each run in a subprocess, and how "
                    "each ended (benchmarks/bad_inputs.py)",
            "command": shlex.join(["python", "-m", "benchmarks.bad_inputs",
                                   *(argv if argv is not None else sys.argv[1:])]),
            "dlscratch": dlscratch.__version__, "commit": machine.git_commit(),
            "python": platform.python_version(), "numpy": np.__version__,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "cli": shlex.join([Path(c).name for c in runner.cli]),
            "working_directory": "a temporary folder: the commands' relative paths lie there",
            "child_environment": {k: env[k] for k in (
                "DLSCRATCH_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MPLBACKEND", "https_proxy")},
            "address_space_cap_gib": args.max_mem, "timeout_s": args.timeout,
            "jobs": args.jobs, "wall_s": round(wall, 1),
            "classification": {
                "clear error": "exit != 0; stderr is one line 'dlscratch: error: ...' naming "
                               "the file, flag or variable at fault; no traceback",
                "vague error": "exit != 0, no traceback, but not one such line (see note)",
                "traceback": "stderr holds 'Traceback'",
                "accepted as expected": "exit 0 on a legitimate edge case, output checked",
                "accepted unexpectedly": "exit 0 on an input that should be refused, or on an "
                                         "edge case whose output is wrong (see note)",
                "killed/timeout": "ended by a signal, or killed after timeout_s"},
            "summary": summary,
            "cases": [{"id": o.case.id, "family": o.case.family,
                       "description": o.case.description, "command": o.case.command,
                       "expected": o.case.expected, "exit_code": o.code,
                       "stderr_first_line": o.first_line, "stderr_lines": len(o.lines),
                       "classification": o.classification, "note": o.note,
                       "seconds": round(o.seconds, 2), "peak_rss_mib": round(o.peak_rss_mib)}
                      for o in outcomes]}
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

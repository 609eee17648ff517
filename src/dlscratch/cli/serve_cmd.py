"""`dlscratch serve [MODEL.npz | RUN_DIR]`: a local web page to draw a digit on and watch the
network classify it while you draw (dlscratch.serve).

Without a model it serves the newest run under --runs (default runs/); with none there, it
first trains the default two-layer model into runs/two-layer (with its progress bar). It
listens on 127.0.0.1 (this machine only) unless --host says otherwise, prints its address,
and runs until Ctrl-C (or SIGTERM), which stops it with one line. It answers from as many
processes as dlscratch has threads (--threads; default the usable cores: serve.processes).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import sys
from pathlib import Path

from dlscratch.cli import failures
from dlscratch.errors import RunError

DEFAULT_RUN = "two-layer"  # the folder under --runs that a first `serve` trains into
DEFAULT_TRAINING = ("--model", "two-layer")  # `dlscratch train`'s flags for that run


def add_parser(sub):
    p = sub.add_parser("serve", help="a web page to draw digits on and watch the network",
                       description=__doc__)
    p.add_argument("model", nargs="?",
                   help="a model.npz, a run folder or an ensemble folder (default: the newest "
                        "run under --runs; with none, train the default two-layer model first)")
    p.add_argument("--runs", default="runs",
                   help="the folder of runs the page's model picker lists (default runs)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8000,
                   help="port (default 8000; 0: any free port, printed)")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"),
                   help="names the given model's classes (default: from its config.json)")
    p.set_defaults(run=run)


def port_number(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0..65535, got {text!r}")
    return int(text)


def model_file(given: str) -> Path:
    """MODEL.npz, RUN_DIR/model.npz, or an ensemble folder (with ensemble.json: its members
    are served as one model); RunError if there is none."""
    from dlscratch.io.ensemble_file import ENSEMBLE_FILE

    path = Path(given)
    if path.is_dir():
        if (path / ENSEMBLE_FILE).is_file():
            return path
        if not (path / "model.npz").is_file():
            raise RunError(f"{path}: this folder holds no model.npz or {ENSEMBLE_FILE} (a run "
                           "folder of 'dlscratch train' has one once the run has ended)")
        return path / "model.npz"
    if not path.exists():
        raise RunError(f"{path}: no such model file or run folder")
    return path


def train_default(runs: Path) -> Path:
    """Train the default two-layer model into RUNS/two-layer (as `dlscratch train` does, with
    its progress bar and its lines); its model.npz."""
    from dlscratch.cli import train_cmd

    out = runs / DEFAULT_RUN
    print(f"no model under {runs}/: training the default two-layer model into {out} first "
          "(about 20 s on 2 cores)", flush=True)
    parser = argparse.ArgumentParser(prog="dlscratch")
    train_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", *DEFAULT_TRAINING, "--out", str(out)])
    train_cmd.run(args)
    return out / "model.npz"


def choose_model(given: str | None, runs: Path) -> Path:
    """The model to start with: the one given, else the newest run under `runs`, else a
    default two-layer run trained now."""
    from dlscratch.serve.catalogue import newest_run

    if given is not None:
        return model_file(given)
    return newest_run(runs) or train_default(runs)


def exposure_warning(host: str, port: int) -> str | None:
    """The warning for a host other than this machine's loopback (None for loopback)."""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        local = False
    if local:
        return None
    return (f"warning: listening on {host}, not only on this machine: anyone who can reach it "
            f"on port {port} can use the page and the API")


def run(args) -> int:
    from dlscratch.kernels import get_num_threads, set_num_threads
    from dlscratch.serve import Catalogue, make_server
    from dlscratch.serve.processes import ServingHelpers

    runs = Path(args.runs)
    start = choose_model(args.model, runs)
    failures.doing(f"loading the model {start}")
    catalogue = Catalogue(runs, start, args.dataset)
    failures.doing(f"starting the server on {args.host} port {args.port}")
    try:
        server = make_server(catalogue, args.host, args.port)
    except OSError as exc:
        raise RunError(listen_error(exc, args.host, args.port)) from None
    processes = get_num_threads()  # --threads / DLSCRATCH_NUM_THREADS: the usable cores
    helpers = ServingHelpers.start(server, processes - 1, runs, start, args.dataset)
    set_num_threads(1)  # each process answers on one core
    with server, failures.signals_interrupt(), contextlib.closing(helpers):
        entries = catalogue.refresh()
        model = entries[0]
        if warning := exposure_warning(args.host, server.server_address[1]):
            print(f"dlscratch: {warning}", file=sys.stderr, flush=True)
        print(f"model: {model.id} ({model.kind}, {model.dataset}) from {model.path}; "
              f"{len(entries)} model{'s' if len(entries) > 1 else ''} in the picker", flush=True)
        print(f"serving at {server.url}  ({processes} process{'es' if processes > 1 else ''}; "
              "Ctrl-C stops)", flush=True)
        failures.doing("serving")
        try:
            server.serve_forever(poll_interval=0.25)
        except KeyboardInterrupt as exc:
            stop = failures.as_interrupted(exc)
            stop.message = f"{stop.signal_name}: stopped serving {server.url}"
            raise stop from None
    return 0


def listen_error(exc: OSError, host: str, port: int) -> str:
    """One line for a server that cannot listen: the port in use, a host not of this machine."""
    where = f"{host} port {port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"cannot listen on {where}: the port is in use (another server?); choose "
                "another --port, or --port 0 for any free one")
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot listen on {where}: permission denied (ports below 1024 need root)"
    return f"cannot listen on {where}: {failures.one_line(exc)}"

"""`dlscratch serve` under load: 8 clients at once, 400 predictions per model, on loopback.

    python -m benchmarks.serve_load                     # -o docs/results/serve/load.json
    python -m benchmarks.serve_load --runs runs         # the trained runs of a runs folder

The server is started as a user starts it (`dlscratch serve ... --port 0`, a process of its
own, on 127.0.0.1), with a runs folder holding a two-layer network (784-50-10, the default
model) and a SimpleConvNet (chapter 7). A network's speed does not depend on its weights, so
freshly initialised ones are used unless --runs names a folder of trained runs (every run in
it is measured). The drawings are MNIST test digits drawn dark on light paper, 280x280 PNGs
as the page sends them ($DLSCRATCH_DATA; without it, drawn strokes).

For each model: a few requests to load it (not counted), then `--repeats` load tests one after
another, each `--requests` predictions by `--clients` threads, each thread on its own
keep-alive connection, timing its requests from sending to the parsed JSON answer. Any answer
that is not a 200 with 10 probabilities summing to 1 is an error: the command then says so and
exits with status 1. The table shows the medians over the repeats of p50, p95, the largest
latency and the requests per second, and each repeat's p95; the targets (two-layer p95 < 30 ms,
simple CNN < 100 ms on 2 cores) are printed beside the median p95, not asserted: the machine
may be shared (the load average before and after is recorded).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks import machine

TARGETS_MS = {"two-layer": 30.0, "simple-cnn": 100.0}  # p95 on 2 cores (issue 15)


def fresh_runs(root: Path) -> Path:
    """A runs folder with an untrained two-layer network and SimpleConvNet, each with the
    config.json `dlscratch train` would write."""
    import dlscratch
    from dlscratch.train.run_config import RunConfig

    for kind in TARGETS_MS:
        out = root / kind
        out.mkdir(parents=True)
        config = RunConfig(model=kind)
        dlscratch.save(config.build_model(), out / "model.npz")
        (out / "config.json").write_text(config.to_json())
    return root


def drawings(count: int) -> tuple[list[bytes], str]:
    """`count` PNG drawings (280x280, dark on light) and where they come from."""
    from PIL import Image, ImageDraw

    pngs = []
    try:
        from dlscratch.data import load_mnist

        (_, _), (x, _) = load_mnist(normalize=False, flatten=False, download=False)
        digits, source = x.reshape(-1, 28, 28)[:count].astype(np.uint8), "MNIST test digits"
        for digit in digits:
            pngs.append(Image.fromarray(255 - digit).resize((280, 280), Image.BILINEAR))
    except Exception:  # no data here: strokes drawn at random
        rng, source = np.random.default_rng(0), "random strokes (no MNIST found)"
        for _ in range(count):
            image = Image.new("L", (280, 280), 255)
            points = [tuple(p) for p in rng.integers(40, 240, (4, 2)).tolist()]
            ImageDraw.Draw(image).line(points, fill=0, width=18)
            pngs.append(image)
    out = []
    for image in pngs:  # RGBA, opaque: what the page's canvas.toDataURL() sends
        buffer = io.BytesIO()
        image.convert("RGBA").save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out, source


def start_server(runs: Path, start: Path) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dlscratch.cli.main", "serve", str(start), "--runs", str(runs),
         "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in process.stdout:
        if line.startswith("serving at "):
            host, port = line.split()[2].removeprefix("http://").rstrip("/").rsplit(":", 1)
            return process, host, int(port)
    raise SystemExit(f"the server did not start: {process.stderr.read()}")


def ask(conn: http.client.HTTPConnection, body: bytes) -> tuple[float, str | None]:
    """(seconds, None) for a good answer, (seconds, what was wrong) otherwise."""
    began = time.perf_counter()
    conn.request("POST", "/api/predict", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    seconds = time.perf_counter() - began
    if response.status != 200:
        return seconds, f"{response.status}: {answer.get('error')}"
    p = answer.get("probabilities", [])
    if len(p) != 10 or abs(sum(p) - 1) > 1e-6:
        return seconds, f"bad probabilities {p}"
    return seconds, None


def load_test(host: str, port: int, bodies: list[bytes], clients: int, requests: int):
    """(latencies in ms, errors, wall seconds) of `requests` requests by `clients` threads."""
    latencies, errors, lock = [], [], threading.Lock()
    share = [requests // clients + (i < requests % clients) for i in range(clients)]
    start = threading.Barrier(clients + 1)

    def client(k: int):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        start.wait()
        for i in range(share[k]):
            try:
                seconds, error = ask(conn, bodies[(k * 97 + i) % len(bodies)])
            except (OSError, http.client.HTTPException, ValueError) as exc:
                seconds, error = float("nan"), f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            with lock:
                latencies.append(seconds * 1000)
                if error:
                    errors.append(error)
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return np.array(latencies), errors, time.perf_counter() - began


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serve_load",
                                description=__doc__.splitlines()[0])
    p.add_argument("--runs", help="a runs folder of trained models (default: fresh networks)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=400, help="predictions per model")
    p.add_argument("--repeats", type=int, default=5,
                   help="load tests per model, one after another; the table shows their "
                        "medians (a shared machine's other jobs move a single one)")
    p.add_argument("-o", "--output", default="docs/results/serve/load.json")
    args = p.parse_args(argv)

    pngs, source = drawings(100)
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(args.runs) if args.runs else fresh_runs(Path(tmp) / "runs")
        models = sorted(runs.glob("*/model.npz"))
        if not models:
            raise SystemExit(f"{runs}: no run folder with a model.npz")
        process, host, port = start_server(runs, models[0])
        report = {"machine": machine.describe(), "load_before": os.getloadavg(),
                  "time": time.strftime("%Y-%m-%d %H:%M:%S"), "drawings": source,
                  "clients": args.clients, "requests_per_model": args.requests,
                  "repeats": args.repeats,
                  "server": f"dlscratch serve on {host}:{port} (a process of its own, with "
                            "its default processes: one per usable core)",
                  "models": []}
        print(f"{'model':<20}{'kind':<13}{'requests':>9}{'errors':>8}{'p50 ms':>9}"
              f"{'p95 ms':>9}{'max ms':>9}{'req/s':>8}   target p95 (median of {args.repeats})")
        failed = False
        try:
            for path in models:
                model_id = path.parent.name
                kind = json.loads((path.parent / "config.json").read_text())["settings"]["model"] \
                    if (path.parent / "config.json").is_file() else "?"
                bodies = [json.dumps({"image": "data:image/png;base64," + base64.b64encode(
                    png).decode(), "model": model_id}).encode() for png in pngs]
                load_test(host, port, bodies[:args.clients], args.clients, args.clients)  # warm
                repeats = []
                for _ in range(args.repeats):
                    ms, errors, wall = load_test(host, port, bodies, args.clients, args.requests)
                    repeats.append({
                        "requests": len(ms), "errors": errors[:10], "error_count": len(errors),
                        "p50_ms": round(float(np.percentile(ms, 50)), 2),
                        "p95_ms": round(float(np.percentile(ms, 95)), 2),
                        "max_ms": round(float(np.nanmax(ms)), 2),
                        "requests_per_s": round(len(ms) / wall, 1)})
                    failed |= bool(errors)
                p50, p95, most, rate = (float(np.median([r[key] for r in repeats])) for key in
                                        ("p50_ms", "p95_ms", "max_ms", "requests_per_s"))
                errors = sum(r["error_count"] for r in repeats)
                target = TARGETS_MS.get(kind)
                met = "" if target is None else \
                    f"< {target:.0f} ms: {'met' if p95 < target else 'NOT met'}"
                spread = ", ".join(f"{r['p95_ms']:.1f}" for r in repeats)
                print(f"{model_id:<20}{kind:<13}{len(repeats) * args.requests:>9}{errors:>8}"
                      f"{p50:>9.1f}{p95:>9.1f}{most:>9.1f}{rate:>8.0f}   {met} "
                      f"(p95 of each: {spread})", flush=True)
                report["models"].append({
                    "id": model_id, "kind": kind, "repeats": repeats, "error_count": errors,
                    "median_p50_ms": round(p50, 2), "median_p95_ms": round(p95, 2),
                    "median_max_ms": round(most, 2), "median_requests_per_s": round(rate, 1),
                    "target_p95_ms": target})
        finally:
            process.terminate()
            process.communicate(timeout=30)
    report["load_after"] = os.getloadavg()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"drawings: {source}; load {report['load_before'][0]:.2f} -> "
          f"{report['load_after'][0]:.2f}; wrote {out}")
    if failed:
        print("ERRORS: some predictions failed (see 'errors' in the JSON)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

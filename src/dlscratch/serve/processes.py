"""Serving from several processes at once: a request mostly holds Python's GIL (decoding the
PNG, the MNIST-style preprocessing, writing the JSON), so the threads of one process take turns
on one core; N processes share the listening socket and answer side by side on N cores.

    helpers = ServingHelpers.start(server, 1, runs, start, dataset)   # 1 more process
    server.serve_forever()                                            # this one serves too
    helpers.close()

Each helper is a fresh interpreter (`python -m dlscratch.serve.processes`) given the socket's
file descriptor; it builds its own catalogue (models load on first use, in each process) and
serves until its parent is gone: it watches a pipe whose other end only the parent holds, so a
parent that ends in any way - Ctrl-C, SIGTERM, kill -9 - ends its helpers. The socket is put in
non-blocking mode, so that a process that wakes for a connection another one took goes back
to waiting. Every process runs its arithmetic on one thread: the cores are the processes'.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ServingHelpers:
    processes: list[subprocess.Popen]
    watch_fd: int  # the parent's end of the pipe: closing it ends the helpers

    @classmethod
    def start(cls, server, count: int, runs: Path, start: Path,
              dataset: str | None) -> ServingHelpers:
        """`count` more processes serving from server's socket (none for count 0)."""
        server.socket.setblocking(False)
        listen_fd = server.socket.fileno()
        read_end, write_end = os.pipe()
        env = {**os.environ, "DLSCRATCH_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        command = [sys.executable, "-m", "dlscratch.serve.processes", str(listen_fd),
                   str(read_end), str(runs), str(start), dataset or ""]
        try:
            processes = [subprocess.Popen(command, pass_fds=(listen_fd, read_end), env=env,
                                          stdin=subprocess.DEVNULL) for _ in range(count)]
        finally:
            os.close(read_end)
        return cls(processes, write_end)

    def close(self, timeout: float = 5.0) -> None:
        """End the helpers (they see the pipe close) and wait for them; kill a late one."""
        if self.watch_fd >= 0:
            os.close(self.watch_fd)
            self.watch_fd = -1
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: list[str]) -> int:
    """A helper: serve from the inherited socket until the parent's pipe closes."""
    import signal
    import socket

    from dlscratch.serve.app import DigitServer
    from dlscratch.serve.catalogue import Catalogue

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    listen_fd, watch_fd, runs, start, dataset = argv
    catalogue = Catalogue(Path(runs), Path(start), dataset or None)
    server = DigitServer.on_socket(socket.socket(fileno=int(listen_fd)), catalogue)

    def end_with_the_parent():
        while os.read(int(watch_fd), 1):  # nothing is ever written: EOF when the parent ends
            pass
        os._exit(0)

    threading.Thread(target=end_with_the_parent, daemon=True).start()
    server.serve_forever(poll_interval=0.25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

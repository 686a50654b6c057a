"""One running worker process: its pipes, the tail of its output, and how it died.

Used by :class:`practicum.grader.sandbox.backend.SandboxBackend`, which starts workers and
decides what a death means for the call.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from practicum.grader.sandbox.template import ForkedWorker


class WorkerOutput:
    """Drains the worker's stdout/stderr, keeping only the last ``limit`` bytes."""

    def __init__(self, fd: int, limit: int) -> None:
        self.fd = fd
        self.limit = limit
        self.total = 0
        self._chunks: collections.deque[bytes] = collections.deque()
        self._kept = 0
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        try:
            while True:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                with self._lock:
                    self.total += len(chunk)
                    self._chunks.append(chunk)
                    self._kept += len(chunk)
                    while self._kept - len(self._chunks[0]) >= self.limit:
                        self._kept -= len(self._chunks.popleft())
        finally:
            os.close(self.fd)

    def tail(self, size: int = 300) -> str:
        with self._lock:
            data = b"".join(self._chunks)[-size:]
        return data.decode("utf-8", errors="replace")


class WorkerProcess:
    """One running worker process and its pipes."""

    def __init__(
        self,
        process: subprocess.Popen | ForkedWorker,
        to_worker: int,
        from_worker: int,
        output: WorkerOutput,
    ) -> None:
        self.process = process
        self.to_worker = to_worker
        self.from_worker = from_worker
        self.output = output
        self.imported: set[str] = set()
        self.info: dict = {}

    def kill(self) -> None:
        if isinstance(self.process, subprocess.Popen):
            kill_started(self.process)
        else:  # a template's child: its pid is not ours, the template kills it
            self.process.kill()
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.output.thread.join(timeout=2)


def kill_started(process: subprocess.Popen) -> None:
    """SIGKILL to a process started in a session of its own, and to its process group."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.kill()
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


class WorkerDied(Exception):
    """The worker died or stopped answering (``reason`` says how)."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def killed_by(number: int) -> WorkerDied:
    """The worker was killed by signal ``number``: SIGXCPU is its CPU-time limit (a
    timeout), SIGKILL/SIGSEGV/SIGBUS/SIGABRT most often its memory limit."""
    name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
    if name == "SIGXCPU":
        return WorkerDied(f"was killed by {name} (its CPU-time limit)", "TimeoutError")
    kind = "MemoryError" if name in ("SIGKILL", "SIGSEGV", "SIGBUS", "SIGABRT") else "WorkerCrash"
    return WorkerDied(f"was killed by {name}", kind)

"""A pre-imported worker that forks a fresh sandboxed worker for each submission.

Starting a worker costs a TensorFlow import (about 4 s of CPU). A :class:`Template` pays
it once per grader process: it is a worker started in the same sandbox as any other
(bubblewrap, or a plain process in its own namespaces), which imports numpy and TensorFlow
without starting TensorFlow's runtime, never imports a submission, and forks a child for
each worker asked of it (``worker.py``'s ``serve_as_template``). Each child gets its own
folder (``spool/<n>/submission`` and ``spool/<n>/work``), pipes, environment and config, and
confines itself exactly as a worker started on its own: resource limits (its CPU time counts
from zero), its own unprivileged uid when the grader is root, Landlock limited to its own
folder, seccomp. The template is not dumpable, so a child cannot read or write its memory
through ``/proc``; a child's folder is deleted when its backend closes.

Isolation between students is that of separate processes forked from a state no
submission has touched: a student's module state, imports and files never reach the next
student (``tests/course/test_sandbox_template.py``). Used by :class:`.SandboxBackend` when
the grader's main thread can start the template (the template dies with the thread that
started it, as a worker does); otherwise, or when ``PRACTICUM_SANDBOX_TEMPLATE=0``, each
worker is started on its own.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

from practicum.grader.sandbox import launch
from practicum.grader.sandbox.bwrap import SANDBOX_ROOT, SYSTEM_READ, python_paths
from practicum.grader.sandbox.files import runtime_library
from practicum.grader.sandbox.worker_process import WorkerDied, kill_started

WORKER_SOURCE = launch.WORKER_SOURCE  # the script the template runs (a test replaces it)


class ForkedWorker:
    """A child of the template, handled like a ``subprocess.Popen``: ``poll``, ``wait``
    (``returncode`` is ``-signal`` for a death by signal) and ``kill``."""

    def __init__(self, template: Template, pid: int) -> None:
        self.template = template
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.template.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self.template.exit_code(self.pid, timeout=timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        self.returncode = code
        return code

    def kill(self) -> None:
        """Has the template kill the child, and waits (10 s at most) until it has ended."""
        if self.poll() is None:
            self.template.kill(self.pid)
            try:
                self.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


class Template:
    """One template process and its spool of children's folders.

    Args:
        mode: ``"bwrap"`` or ``"process"``.
        isolation: process mode's isolation (:func:`.modes.process_isolation`).
        tensorflow: whether the template imports TensorFlow (its children then only start
            its runtime).
    """

    def __init__(self, mode: str, isolation: dict, *, tensorflow: bool = True) -> None:
        self.mode = mode
        self.isolation = isolation
        self.scratch = launch.scripts_folder("practicum-template-", worker=WORKER_SOURCE)
        self.spool = self.scratch / "spool"
        self.spool.mkdir(mode=0o755)
        self.lib = runtime_library()
        self.root = SANDBOX_ROOT if mode == "bwrap" else str(self.scratch)
        self.lib_inside = f"{self.root}/lib" if mode == "bwrap" else self.lib
        self._exits: dict[int, int] = {}
        self._forked: list[int] = []
        self._changed = threading.Condition()
        self._lock = threading.Lock()  # one fork request at a time
        self._names = itertools.count(1)
        self.forks = 0  # children forked so far
        self._all_killed = False
        self.closed = False
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        config = {
            "template": True,
            "control_fd": theirs.fileno(),
            "tensorflow": tensorflow,
            "lib": self.lib_inside,
            "landlock": True,
            "expose": isolation.get("expose") if mode == "process" else [],
            "read_paths": [
                *SYSTEM_READ,
                *python_paths(),
                self.lib_inside,
                f"{self.root}/worker.py",
                f"{self.root}/wire.py",
                f"{self.root}/spool",
            ],
            "write_paths": [f"{self.root}/spool"],
        }
        command = launch.command(
            mode,
            self.scratch,
            isolation,
            config,
            root=self.root,
            mounts=[
                ("--ro-bind", self.lib, self.lib_inside),
                ("--bind", str(self.spool), f"{self.root}/spool"),
            ],
            chdir=f"{self.root}/spool",
        )
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                env=launch.environment(f"{self.root}/spool"),
                cwd=str(self.spool),
            )
        except OSError as error:
            ours.close()
            raise WorkerDied(
                f"the worker template could not be started ({error})", "WorkerCrash"
            ) from None
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # ------------------------------------------------------------ the control socket

    def _read(self) -> None:
        while True:
            try:
                data = self.control.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            try:
                message = json.loads(data)
                pid = int(message["pid"])
            except (ValueError, KeyError, TypeError):
                continue
            with self._changed:
                if message.get("op") == "forked":
                    self._forked.append(pid)
                elif message.get("op") == "killed_all":
                    self._all_killed = True
                elif message.get("op") == "exited":
                    self._exits[pid] = int(message.get("code", -9))
                self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def alive(self) -> bool:
        return not self.closed and self.process.poll() is None

    def exit_code(self, pid: int, timeout: float | None = 0) -> int | None:
        """``pid``'s exit code once it has ended (-9 when the template itself is gone)."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits or self.closed, timeout)
            if pid in self._exits:
                return self._exits[pid]
            return -signal.SIGKILL if self.closed else None

    def kill(self, pid: int) -> None:
        try:
            self.control.send(json.dumps({"op": "kill", "pid": pid}).encode())
        except OSError:
            pass

    def kill_all(self, timeout: float = 30) -> bool:
        """Kills every child and waits until they have ended; False if the template did
        not confirm it (then it is closed: a new one starts when next needed)."""
        with self._lock:
            with self._changed:
                self._all_killed = False
            try:
                self.control.send(json.dumps({"op": "kill_all"}).encode())
            except OSError:
                self.close()
                return False
            with self._changed:
                done = self._changed.wait_for(lambda: self._all_killed or self.closed, timeout)
        if not done or self.closed:
            self.close()
            return False
        for child in self.spool.iterdir():
            shutil.rmtree(child, ignore_errors=True)
        return True

    # ------------------------------------------------------------ children

    def folder(self) -> tuple[Path, str]:
        """A new child's folder in the spool: (its path here, its path in the sandbox)."""
        name = f"{next(self._names):06d}"
        path = self.spool / name
        path.mkdir(mode=0o755)
        return path, f"{self.root}/spool/{name}"

    def fork(self, config: dict, fds: tuple[int, int, int], timeout: float = 180) -> ForkedWorker:
        """A child running ``config`` (a worker's config, with ``env`` and ``cwd``) with the
        pipes ``fds`` (its requests, its replies, its output); ``timeout`` covers the
        template's own start (its TensorFlow import) when it is still under way."""
        with self._lock:
            if not self.alive():
                raise WorkerDied(
                    "could not be started: the worker template has ended", "WorkerCrash"
                )
            with self._changed:
                self._forked.clear()
            try:
                socket.send_fds(
                    self.control, [json.dumps({"op": "fork", "config": config}).encode()], fds
                )
            except OSError as error:
                raise WorkerDied(f"could not be started ({error})", "WorkerCrash") from None
            with self._changed:
                self._changed.wait_for(lambda: self._forked or self.closed, timeout)
                if not self._forked:
                    raise WorkerDied(
                        "could not be started: the worker template did not answer",
                        "WorkerCrash",
                    )
                self.forks += 1
                return ForkedWorker(self, self._forked.pop())

    def close(self) -> None:
        try:
            self.control.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.control.close()
        kill_started(self.process)
        shutil.rmtree(self.scratch, ignore_errors=True)


_TEMPLATES: dict[tuple, Template] = {}
_BROKEN: set[tuple] = set()  # templates that ended before forking anything: not tried again


def enabled() -> bool:
    return os.environ.get("PRACTICUM_SANDBOX_TEMPLATE", "1") != "0"


def shared(mode: str, isolation: dict, tensorflow: bool = True) -> Template | None:
    """This process's template for ``mode`` (with TensorFlow imported, or not: for workers
    of numpy-only tasks), started when first asked for by the main thread; None when
    templates are off or it cannot be started here (then the worker starts on its own)."""
    if not enabled():
        return None
    key = (mode, bool(isolation.get("namespace")), json.dumps(isolation.get("expose")), tensorflow)
    template = _TEMPLATES.get(key)
    if template is not None and template.alive():
        return template
    if template is not None and not template.forks:
        _BROKEN.add(key)  # it cannot work here: every worker starts on its own
    if key in _BROKEN or threading.current_thread() is not threading.main_thread():
        return None  # (a template started by another thread would die with it)
    if template is not None:
        template.close()
    try:
        template = Template(mode, isolation, tensorflow=tensorflow)
    except WorkerDied:
        _TEMPLATES.pop(key, None)
        return None
    _TEMPLATES[key] = template
    return template


def end_every_worker() -> None:
    """Between two students: no worker forked for the one can still run beside the next."""
    for key, template in list(_TEMPLATES.items()):
        if not template.kill_all():
            _TEMPLATES.pop(key, None)


def close_all() -> None:
    """Ends every template of this process (and so every worker forked from one)."""
    for template in _TEMPLATES.values():
        template.close()
    _TEMPLATES.clear()


atexit.register(close_all)

"""The trusted side of the sandbox: a :class:`Backend` whose calls run in a worker process.

:class:`SandboxBackend` implements the proxy's ``Backend`` protocol (``call`` and
``value_and_grad``). It copies the submission into a scratch directory, gets a worker (forked
from this process's worker template, :mod:`.template`, which has imported TensorFlow once;
or started on its own, inside bubblewrap when available, else as a plain subprocess), sends
it each call's inputs and rebuilds the outputs from plain data. Nothing the worker sends is
trusted: every message is checked (size, structure, types, numeric dtypes, array sizes)
and arrays are rebuilt as fresh base-class ``np.ndarray`` objects.

A call that times out, crashes the worker or exhausts its memory fails alone: the worker is
killed (SIGKILL to its whole process group) and restarted for the next call. A function that
timed out is not called again (its later calls fail at once with the first timeout's
message); one that crashed is called again once. A module whose import kills the worker
fails all its calls at once; after ``max_consecutive_failures`` crashes in a row the backend
stops restarting and fails the remaining calls quickly. On top of the per-call limit, each
task module of a submission has a **time budget**: the seconds it may lose to failed calls
and the restarts they cost; each call's limit is at most what is left of it, and once it is
spent the module's remaining calls fail at once. So a task whose every function loops costs
about ``time_budget`` seconds, however many tests call it, and a loop in one task never
costs another task its points.

One class of about 350 lines on purpose: starting a worker, the framing of its pipe,
the checks of every reply and the restart policy share one state (the current worker, its
failures so far), and each piece is short.

Example::

    with SandboxBackend(Path("submission"), mode="auto", call_timeout=30) as backend:
        candidate = Candidate(backend, label="submission")
        candidate.module("style_losses").gram_matrix(AsTensor(features))
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import select
import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from practicum.grader.running.feedback import without_framework_noise
from practicum.grader.running.proxy import CandidateError, MissingImplementation
from practicum.grader.sandbox import launch, template
from practicum.grader.sandbox.bwrap import SANDBOX_ROOT, SYSTEM_READ, python_paths
from practicum.grader.sandbox.files import runtime_library
from practicum.grader.sandbox.modes import (
    bwrap_problem,
    notice,
    process_isolation,
    process_problem,
    resolve_mode,
)
from practicum.grader.sandbox.wire import Budget, ProtocolError, decode, encode
from practicum.grader.sandbox.worker_process import (
    WorkerDied,
    WorkerOutput,
    WorkerProcess,
    killed_by,
)

_UIDS = itertools.count()  # each worker of this process its own uid (as root)


class WorkerFailure(MissingImplementation):
    """The worker timed out, crashed or ran out of memory during a call.

    A :class:`MissingImplementation` (a ``BaseException``), so that hypothesis stops at once
    instead of trying the call again and again.
    """


# --------------------------------------------------------------------------- plain data


def _text(value: Any, limit: int = 4000) -> str:
    if type(value) is not str:
        raise ProtocolError("expected a string")
    return value[:limit]


# --------------------------------------------------------------------------- the worker


class SandboxBackend:
    """Runs a submission's calls in a sandboxed worker process.

    Args:
        directory: the submission (a folder of task modules).
        mode: ``"bwrap"``, ``"process"`` or ``"auto"`` (bwrap when it works here).
        call_timeout: wall-time limit of one call, in seconds.
        start_timeout: wall-time limit for a worker to start (it imports TensorFlow).
        memory_mb: the worker's address-space limit (TensorFlow alone reserves ~2 GB).
        cpu_seconds: the worker's CPU-time limit over its life.
        max_consecutive_failures: crashes and timeouts in a row after which no new worker
            is started and the remaining calls fail at once.
        max_failures_per_function: crashes of one function after which its further calls
            fail at once (the other functions are still run); one timeout is enough.
        time_budget: the seconds each task module may lose to calls that time out or
            crash, and to the worker restarts they cause (``grading.toml``'s ``[sandbox]``).
        threads: TensorFlow's intra- and inter-op threads in the worker.
        max_reply_mb: the largest reply accepted from the worker.
        output_limit: how much of the worker's stdout/stderr is kept (the rest is dropped).
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        mode: str = "auto",
        call_timeout: float = 60,
        start_timeout: float = 180,
        memory_mb: int = 4096,
        cpu_seconds: int = 1800,
        max_consecutive_failures: int = 3,
        threads: int = 1,
        max_reply_mb: int = 256,
        output_limit: int = 64 * 1024,
        quiet: bool = False,
        max_failures_per_function: int = 2,
        time_budget: float = 45.0,
        tensorflow: bool = True,
        use_template: bool = True,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.mode = resolve_mode(mode)
        if self.mode == "off":
            raise ValueError("SandboxBackend needs mode bwrap, process or auto")
        self._isolation = (
            process_isolation()
            if self.mode == "process"
            else {"namespace": False, "expose": [], "drop": True, "problem": None}
        )
        self.call_timeout = call_timeout
        self.start_timeout = start_timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.max_consecutive_failures = max_consecutive_failures
        self.threads = threads
        self.tensorflow = tensorflow  # whether the worker imports TensorFlow at its start
        self.use_template = use_template and template.enabled()
        self.max_reply_bytes = max_reply_mb * 2**20
        self.output_limit = output_limit
        self._worker: WorkerProcess | None = None
        self._early: threading.Thread | None = None  # start_early's thread
        self._timeout = call_timeout
        self._timeout_note = ""  # why the current call's limit is shorter than call_timeout
        self._settings = {
            "mode": mode,
            "call_timeout": call_timeout,
            "start_timeout": start_timeout,
            "memory_mb": memory_mb,
            "cpu_seconds": cpu_seconds,
            "max_consecutive_failures": max_consecutive_failures,
            "threads": threads,
            "max_reply_mb": max_reply_mb,
            "output_limit": output_limit,
            "max_failures_per_function": max_failures_per_function,
            "time_budget": time_budget,
            "tensorflow": tensorflow,
            "use_template": use_template,
        }
        self._scratch: Path | None = None
        self._next_id = 1
        self._consecutive_failures = 0
        self._last_failure = ""
        self._broken_modules: dict[str, MissingImplementation] = {}
        self._function_failures: collections.Counter[str] = collections.Counter()
        self._timed_out: dict[str, str] = {}  # function -> its first timeout's message
        self.max_failures_per_function = max_failures_per_function
        self.time_budget = time_budget
        # per task module: seconds spent on its failed calls and the restarts after them
        self.lost_seconds: collections.Counter[str] = collections.Counter()
        self._lost_to = ""  # the module whose failure the next worker start follows
        self.starts = 0
        self.failures = 0
        self.info: dict = {}
        if not quiet:
            if self.mode == "process":
                reason = bwrap_problem() or "process mode was asked for"
                how = (
                    "as an unprivileged user in its own mount and PID namespace"
                    if self._isolation["namespace"]
                    else "as an unprivileged user"
                    if self._isolation["drop"] and os.getuid() == 0
                    else "as the grader's own user, in the host's PID namespace"
                )
                notice(
                    f"no bubblewrap sandbox ({reason}): submissions run in a separate "
                    f"process {how}, with resource limits (plus Landlock and seccomp where "
                    "the kernel has them)"
                )

    # ---------------------------------------------------------------- Backend protocol

    def call(
        self, module: str, function: str, args: tuple, kwargs: dict, timeout: float | None = None
    ) -> Any:
        """Runs ``module.function(*args, **kwargs)`` in the worker; ``timeout`` (seconds)
        replaces ``call_timeout`` for this call."""
        reply = self._request(
            module,
            {
                "op": "call",
                "module": module,
                "function": function,
                "args": encode(list(args)),
                "kwargs": encode(kwargs),
            },
            what=f"{module}.{function}",
            timeout=timeout,
        )
        return reply["value"]

    def value_and_grad(
        self, module: str, function: str, args: tuple, kwargs: dict, wrt: Sequence[int]
    ) -> tuple[Any, list[Any]]:
        reply = self._request(
            module,
            {
                "op": "grad",
                "module": module,
                "function": function,
                "args": encode(list(args)),
                "kwargs": encode(kwargs),
                "wrt": [int(index) for index in wrt],
            },
            what=f"the gradient of {module}.{function}",
        )
        grads = reply.get("grads")
        if type(grads) is not list or len(grads) != len(wrt):
            raise CandidateError(
                f"the gradient of {module}.{function} came back malformed", ["TypeError"]
            )
        return reply["value"], grads

    def fresh(self, **changes: Any) -> SandboxBackend:
        """A new backend on the same submission with the same settings but ``changes``: its
        own worker, which has run none of the submission's code yet."""
        return SandboxBackend(self.directory, **{**self._settings, **changes, "quiet": True})

    def calibrate(self, timeout: float = 180) -> float:
        """Seconds that :func:`practicum.challenge.calibration_workload` takes in a worker
        that has not imported any of the submission (so the submission cannot slow it
        down to buy itself a longer budget). Raises RuntimeError on a used worker."""
        worker = self._ensure_worker("the calibration")
        if worker.imported:
            raise RuntimeError("calibrate() needs a fresh worker: use backend.fresh()")
        try:
            reply = self._exchange(worker, {"op": "calibrate", "module": ""}, timeout=timeout)
        except WorkerDied as dead:
            raise self._failed(dead, "the calibration") from None
        value = reply.get("value")
        if reply["status"] != "ok" or type(value) is not float or not 0 < value < timeout:
            raise RuntimeError(f"the calibration failed: {reply.get('summary', value)}")
        return value

    # ---------------------------------------------------------------- life cycle

    def start_early(self) -> None:
        """Starts the first worker in a background thread, so that its TensorFlow import
        overlaps the grader's own work (collecting the tests, importing the reference);
        the first call waits for it. A start that fails there is tried again by that call,
        which reports it."""
        if self._worker is not None or self._early is not None:
            return
        # Processes are spawned by this thread: a worker or template dies with the thread
        # that started it (PR_SET_PDEATHSIG). A template's child is forked by the template,
        # so asking for it can wait in the background while the template imports TensorFlow.
        shared = self._shared_template()
        if shared is not None:
            self._early = threading.Thread(target=self._fork_quietly, args=(shared,))
        else:
            try:
                worker = self._spawn()
            except WorkerDied:
                return
            self._early = threading.Thread(target=self._greet_quietly, args=(worker,))
        self._early.daemon = True
        self._early.start()

    def _shared_template(self) -> template.Template | None:
        if not self.use_template:
            return None
        return template.shared(self.mode, self._isolation, tensorflow=self.tensorflow)

    def _fork_quietly(self, shared: template.Template) -> None:
        try:
            self._worker = self._greeted(self._fork(shared))
        except WorkerDied:
            self._worker = None

    def _greet_quietly(self, worker: WorkerProcess) -> None:
        try:
            self._worker = self._greeted(worker)
        except WorkerDied:
            self._worker = None

    def _wait_for_early_start(self) -> None:
        if self._early is not None:
            self._early.join()
            self._early = None

    def close(self) -> None:
        self._wait_for_early_start()
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        self._remove_scratch()

    def __enter__(self) -> SandboxBackend:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # ---------------------------------------------------------------- requests

    def _request(self, module: str, message: dict, what: str, timeout: float | None = None) -> dict:
        if not (self.directory / f"{module}.py").is_file():
            raise MissingImplementation(
                f"the submission has no module {module}.py: the tests for {module} cannot run",
                ["ModuleNotFoundError"],
            )
        if module in self._broken_modules:
            raise self._broken_modules[module]
        self._give_up_if_hopeless(what, module)
        key = f"{module}.{message.get('function')}"
        if key in self._timed_out:
            raise WorkerFailure(
                f"{what} was not run again: {self._timed_out[key]}",
                ["TimeoutError", "WorkerFailure"],
            )
        if self._function_failures[key] >= self.max_failures_per_function:
            raise WorkerFailure(
                f"{what} was not run: it already crashed "
                f"{self._function_failures[key]} times ({self._last_failure})",
                ["WorkerFailure"],
            )
        worker = self._ensure_worker(what)
        if module not in worker.imported:
            started = time.monotonic()
            try:
                reply = self._exchange(
                    worker, {"op": "import", "module": module}, *self._limit(None, module)
                )
            except WorkerDied as dead:
                self._lose(module, time.monotonic() - started)
                failure = self._failed(dead, f"importing {module}.py")
                broken = WorkerFailure(
                    f"{module}.py could not be imported: the worker {dead.reason} while "
                    f"importing it",
                    [dead.kind],
                    dead.reason,
                    failure.where,
                )
                self._broken_modules[module] = broken
                raise broken from None
            if reply["status"] != "ok":
                self._broken_modules[module] = self._error_from(reply)
                raise self._broken_modules[module]
            worker.imported.add(module)
        started = time.monotonic()
        try:
            reply = self._exchange(worker, message, *self._limit(timeout, module))
        except WorkerDied as dead:
            self._lose(module, time.monotonic() - started)
            self._function_failures[key] += 1
            failure = self._failed(dead, what)
            if dead.kind == "TimeoutError":
                self._timed_out[key] = failure.args[0]
            raise failure from None
        self._consecutive_failures = 0
        if reply["status"] != "ok":
            raise self._error_from(reply)
        return reply

    def _lose(self, module: str, seconds: float) -> None:
        self.lost_seconds[module] += seconds
        self._lost_to = module

    def _limit(self, timeout: float | None, module: str) -> tuple[float, str]:
        """A call's wall-time limit and why it is shorter than ``call_timeout``: ``timeout``
        if the caller set one (the challenge's budgets), else ``call_timeout``, at most what
        is left of the module's time budget."""
        if timeout is not None:
            return timeout, ""
        left = self.time_budget - self.lost_seconds[module]
        if left < self.call_timeout:
            return max(0.1, left), " (the rest of its module's time budget)"
        return self.call_timeout, ""

    def _give_up_if_hopeless(self, what: str, module: str) -> None:
        if self.lost_seconds[module] >= self.time_budget:
            raise WorkerFailure(
                f"{what} was not run: {module}.py already lost "
                f"{self.lost_seconds[module]:.0f} s to calls that timed out or crashed, its "
                f"whole time budget ({self.time_budget:g} s; last: {self._last_failure})",
                ["TimeoutError", "WorkerFailure"],
            )
        if self._consecutive_failures >= self.max_consecutive_failures:
            raise WorkerFailure(
                f"{what} was not run: the sandboxed worker failed "
                f"{self._consecutive_failures} times in a row (last: {self._last_failure})",
                ["WorkerFailure"],
            )

    def _failed(self, dead: WorkerDied, what: str) -> WorkerFailure:
        self.failures += 1
        self._consecutive_failures += 1
        self._last_failure = dead.reason
        tail = ""
        if self._worker is not None:
            tail = without_framework_noise(self._worker.output.tail(2000)).strip()[-300:]
            self._worker.kill()
            self._worker = None
        summary = f"{what} failed: the worker {dead.reason}"
        if dead.kind == "TimeoutError":
            summary += " (an infinite loop, or far too slow?)"
        elif dead.kind == "MemoryError":
            summary += " (it needs too much memory)"
        return WorkerFailure(
            summary,
            [dead.kind, "WorkerFailure"],
            dead.reason,
            f"last output: {tail}" if tail else "",
        )

    @staticmethod
    def _error_from(reply: dict) -> CandidateError | MissingImplementation:
        try:
            summary = _text(reply.get("summary"))
            message = _text(reply.get("message", ""))
            where = _text(reply.get("where", ""))
            names = reply.get("type_names", [])
            if type(names) is not list or len(names) > 32:
                raise ProtocolError("type_names must be a short list")
            names = [_text(name, 200) for name in names]
        except ProtocolError as error:
            return CandidateError(f"the worker sent a malformed error: {error}", ["TypeError"])
        kind = MissingImplementation if reply.get("status") == "missing" else CandidateError
        return kind(summary, names, message, where)

    # ---------------------------------------------------------------- the pipe

    def _exchange(
        self, worker: WorkerProcess, message: dict, timeout: float, timeout_note: str = ""
    ) -> dict:
        request_id = self._next_id
        self._next_id += 1
        payload = json.dumps({"id": request_id, **message}).encode()
        deadline = time.monotonic() + timeout
        self._timeout, self._timeout_note = timeout, timeout_note
        self._write(worker, struct.pack(">I", len(payload)) + payload, deadline)
        raw = self._read_message(worker, deadline)
        try:
            reply = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise WorkerDied(
                f"sent a message that is not JSON ({error})", "ProtocolError"
            ) from None
        if type(reply) is not dict or reply.get("id") != request_id:
            raise WorkerDied("sent a reply out of turn", "ProtocolError")
        status = reply.get("status")
        if status not in ("ok", "error", "missing"):
            raise WorkerDied(f"sent a reply with status {str(status)[:40]!r}", "ProtocolError")
        if status == "ok":
            budget = Budget(self.max_reply_bytes, 10_000_000)
            try:
                checked = {"status": "ok", "value": decode(reply.get("value"), budget)}
                if "grads" in reply:
                    checked["grads"] = decode(reply["grads"], budget)
            except ProtocolError as error:
                raise WorkerDied(f"sent an invalid reply ({error})", "ProtocolError") from None
            except RecursionError:
                raise WorkerDied("sent a reply nested too deeply", "ProtocolError") from None
            return checked
        return reply

    def _wait_until_ready(self, fd: int, event: int, deadline: float) -> None:
        """Waits until ``fd`` is ready for ``event`` (select.POLLIN/POLLOUT) or the call's
        time is up (then the worker counts as timed out)."""
        poller = select.poll()
        poller.register(fd, event)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerDied(
                    f"did not finish within {self._timeout:.3g} s{self._timeout_note}",
                    "TimeoutError",
                )
            if poller.poll(remaining * 1000):
                return

    def _write(self, worker: WorkerProcess, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait_until_ready(worker.to_worker, select.POLLOUT, deadline)
            try:
                written = os.write(worker.to_worker, view[:65536])
            except BlockingIOError:
                continue
            except OSError:  # BrokenPipeError included: the worker is gone
                raise self._death(worker) from None
            view = view[written:]

    def _read_exact(self, worker: WorkerProcess, size: int, deadline: float) -> bytes:
        chunks, missing = [], size
        while missing:
            self._wait_until_ready(worker.from_worker, select.POLLIN, deadline)
            try:
                chunk = os.read(worker.from_worker, min(missing, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise self._death(worker)
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _read_message(self, worker: WorkerProcess, deadline: float) -> bytes:
        (size,) = struct.unpack(">I", self._read_exact(worker, 4, deadline))
        if size > self.max_reply_bytes * 2 + 2**20:
            raise WorkerDied(f"sent a message of {size} bytes, more than allowed", "ProtocolError")
        return self._read_exact(worker, size, deadline)

    def _death(self, worker: WorkerProcess) -> WorkerDied:
        try:
            code = worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return WorkerDied("closed its pipe", "WorkerCrash")
        if code is not None and code < 0:
            return killed_by(-code)
        reaped = self.mode == "bwrap" or self._isolation["namespace"]
        if reaped and code is not None and code >= 128:
            # bubblewrap and the worker's own reaper (PID 1 of a namespace) report the
            # worker's death by signal as 128 + signal
            return killed_by(code - 128)
        return WorkerDied(f"exited with code {code} (sys.exit or os._exit?)", "WorkerCrash")

    # ---------------------------------------------------------------- starting

    def _ensure_worker(self, what: str) -> WorkerProcess:
        self._wait_for_early_start()
        if self._worker is not None and self._worker.process.poll() is None:
            return self._worker
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        started = time.monotonic()
        try:
            self._worker = self._start()
        except WorkerDied as dead:
            raise self._failed(dead, f"{what} (starting the sandboxed worker)") from None
        if self._lost_to:  # a start after a failure is time that failure cost
            self._lose(self._lost_to, time.monotonic() - started)
            self._lost_to = ""
        return self._worker

    def _prepare_scratch(self) -> Path:
        self._remove_scratch()
        scratch = launch.scripts_folder("practicum-sandbox-")
        launch.submission_folders(scratch, self.directory)
        self._scratch = scratch
        return scratch

    def _remove_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _worker_uid(self) -> int | None:
        if os.getuid() != 0:
            return None
        if self.mode == "process" and not self._isolation["drop"]:
            raise WorkerDied(f"was not started: {process_problem()}", "WorkerCrash")
        return 200_000 + (os.getpid() * 8 + next(_UIDS)) % 100_000

    def _start(self) -> WorkerProcess:
        return self._greeted(self._spawn())

    def _spawn(self) -> WorkerProcess:
        """A new worker process (not yet greeted): forked from this process's template
        when there is one (:mod:`.template`), else started on its own."""
        shared = self._shared_template()
        if shared is not None:
            try:
                return self._fork(shared)
            except WorkerDied:
                if shared.alive():
                    raise
        return self._spawn_alone()

    def _fork(self, shared: template.Template) -> WorkerProcess:
        self._remove_scratch()
        folder, inside = shared.folder()
        self._scratch = folder
        launch.submission_folders(folder, self.directory)
        self.starts += 1
        uid = self._chowned(folder)
        config = self._config(inside, shared.lib_inside, uid, scripts=shared.root)
        config["env"] = self._env(inside)
        config["cwd"] = f"{inside}/work"
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        theirs = (to_worker_r, from_worker_w, output_w)
        try:
            child = shared.fork(config, theirs, timeout=self.start_timeout)
        except WorkerDied:
            for fd in (*theirs, to_worker_w, from_worker_r, output_r):
                os.close(fd)
            raise
        for fd in theirs:
            os.close(fd)
        os.set_blocking(to_worker_w, False)
        return WorkerProcess(
            child, to_worker_w, from_worker_r, WorkerOutput(output_r, self.output_limit)
        )

    def _chowned(self, scratch: Path) -> int | None:
        """The new worker's uid (None: the grader's own), owner of its ``work`` folder."""
        uid = self._worker_uid()
        if uid is not None:
            for path in [scratch / "work", *sorted((scratch / "work").rglob("*"))]:
                os.chown(path, uid, uid)
        return uid

    def _config(self, root: str, lib: str, uid: int | None, scripts: str) -> dict:
        """The worker's config (``worker.py``): its submission and work folders under
        ``root``, the course's runtime helpers at ``lib``, its scripts in ``scripts``."""
        return {
            "submission": f"{root}/submission",
            "uid": uid,
            "threads": self.threads,
            "tensorflow": self.tensorflow,
            "lib": lib,
            "seccomp": True,
            "landlock": True,
            "read_paths": [
                *SYSTEM_READ,
                *python_paths(),
                lib,
                f"{root}/submission",
                f"{scripts}/worker.py",
                f"{scripts}/wire.py",
            ],
            "write_paths": [f"{root}/work"],
            "limits": {
                "as": self.memory_mb * 2**20,
                "cpu": self.cpu_seconds,
                "fsize": 64 * 2**20,
                "nofile": 512,
                "core": 0,
                "nproc": None if os.getuid() == 0 and uid is None else 4096,
            },
        }

    def _env(self, root: str) -> dict[str, str]:
        threads = str(self.threads)
        return launch.environment(
            f"{root}/work",
            TMPDIR=f"{root}/work",
            OMP_NUM_THREADS=threads,
            OPENBLAS_NUM_THREADS=threads,
            KERAS_HOME=f"{root}/work/.keras",
        )

    def _spawn_alone(self) -> WorkerProcess:
        scratch = self._prepare_scratch()
        self.starts += 1
        uid = self._chowned(scratch)
        library = runtime_library()
        root = SANDBOX_ROOT if self.mode == "bwrap" else str(scratch)
        lib = f"{root}/lib" if self.mode == "bwrap" else library
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        config = {
            "in_fd": to_worker_r,
            "out_fd": from_worker_w,
            **self._config(root, lib, uid, scripts=root),
            "expose": self._isolation["expose"],
            "reaper": self._isolation["namespace"],
        }
        command = launch.command(
            self.mode,
            scratch,
            self._isolation,
            config,
            root=root,
            mounts=[
                ("--ro-bind", library, lib),
                ("--ro-bind", str(scratch / "submission"), f"{root}/submission"),
                ("--bind", str(scratch / "work"), f"{root}/work"),
            ],
            chdir=f"{root}/work",
        )
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output_w,
                stderr=output_w,
                pass_fds=(to_worker_r, from_worker_w),
                start_new_session=True,
                env=self._env(root),
                cwd=str(scratch / "work"),
            )
        except OSError as error:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w, output_r, output_w):
                os.close(fd)
            raise WorkerDied(f"could not be started ({error})", "WorkerCrash") from None
        for fd in (to_worker_r, from_worker_w, output_w):
            os.close(fd)
        os.set_blocking(to_worker_w, False)
        return WorkerProcess(
            process, to_worker_w, from_worker_r, WorkerOutput(output_r, self.output_limit)
        )

    def _greeted(self, worker: WorkerProcess) -> WorkerProcess:
        """``worker`` once it says it is ready (it has imported TensorFlow and confined
        itself); raises WorkerDied if it does not in ``start_timeout``."""
        deadline = time.monotonic() + self.start_timeout
        try:
            raw = self._read_message(worker, deadline)
            ready = json.loads(raw)
        except WorkerDied as dead:
            tail = without_framework_noise(worker.output.tail(3000))
            worker.kill()
            if dead.kind == "TimeoutError":
                dead = WorkerDied(f"did not start within {self.start_timeout:g} s", "TimeoutError")
            raise WorkerDied(
                f"{dead.reason}; its output: {tail.strip()[-600:]}", dead.kind
            ) from None
        except ValueError:
            worker.kill()
            raise WorkerDied("sent a malformed greeting", "ProtocolError") from None
        if type(ready) is not dict or ready.get("status") != "ready":
            worker.kill()
            raise WorkerDied("sent a malformed greeting", "ProtocolError")
        worker.info = {key: ready.get(key) for key in ("landlock", "seccomp", "uid")}
        self.info = {"mode": self.mode, **worker.info}
        return worker

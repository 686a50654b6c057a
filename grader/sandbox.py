"""The trusted side of the sandbox: a :class:`Backend` whose calls run in a worker process.

:class:`SandboxBackend` implements the proxy's ``Backend`` protocol (``call`` and
``value_and_grad``). It copies the submission and ``worker.py`` into a scratch directory,
starts the worker (inside bubblewrap when available, else as a plain subprocess), sends it
each call's inputs and rebuilds the outputs from plain data. Nothing the worker sends is
trusted: every message is checked (size, structure, types, numeric dtypes, array sizes)
and arrays are rebuilt as fresh base-class ``np.ndarray`` objects.

A call that times out, crashes the worker or exhausts its memory fails alone: the worker is
killed (SIGKILL to its whole process group) and restarted for the next call. A module whose
import kills the worker fails all its calls at once; after ``max_consecutive_failures``
crashes in a row the backend stops restarting and fails the remaining calls quickly.

Example::

    with SandboxBackend(Path("submission"), mode="auto", call_timeout=30) as backend:
        candidate = Candidate(backend, label="submission")
        candidate.module("style_losses").gram_matrix(AsTensor(features))
"""

from __future__ import annotations

import base64
import binascii
import collections
import functools
import json
import os
import select
import shutil
import signal
import site
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from practicum.grader.proxy import AsTensor, CandidateError, MissingImplementation

WORKER_SOURCE = Path(__file__).with_name("worker.py")
NUMERIC_DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
})
MODES = ("bwrap", "process", "off")
SANDBOX_ROOT = "/sandbox"


class WorkerFailure(MissingImplementation):
    """The worker timed out, crashed or ran out of memory during a call.

    A :class:`MissingImplementation` (a ``BaseException``), so that hypothesis stops at once
    instead of trying the call again and again.
    """


class ProtocolError(Exception):
    """The worker sent something that is not a valid message."""


# --------------------------------------------------------------------------- availability


@functools.cache
def bwrap_problem() -> str | None:
    """``None`` when bubblewrap can start a sandboxed Python here, else the reason why not."""
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap (bwrap) is not installed"
    with tempfile.TemporaryDirectory(prefix="practicum-bwrap-probe-") as scratch:
        os.chmod(scratch, 0o755)
        Path(scratch, "worker.py").write_text("")
        command = _bwrap_command(Path(scratch)) + [sys.executable, "-I", "-c", "pass"]
        try:
            completed = subprocess.run(command, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bubblewrap does not start: {error}"
    if completed.returncode != 0:
        reason = completed.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap does not work here: {reason[-1] if reason else completed.returncode}"
    return None


UNSHARE = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]


@functools.cache
def namespace_problem() -> str | None:
    """``None`` when ``unshare`` can start a Python in a new mount and PID namespace here
    (process mode as root), else the reason why not."""
    if os.getuid() != 0:
        return "the grader is not root (process mode makes namespaces only as root)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = "import os; assert os.getpid() == 1 and os.listdir('/proc').count('1') == 1"
    try:
        completed = subprocess.run([*UNSHARE, "--", sys.executable, "-I", "-c", probe],
                                   capture_output=True, timeout=60, env={})
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unshare does not start: {error}"
    if completed.returncode != 0:
        reason = completed.stderr.decode(errors="replace").strip().splitlines()
        return f"unshare does not work here: {reason[-1] if reason else completed.returncode}"
    return None


def _hidden_folders(paths: list[str]) -> list[list] | None:
    """``[[folder, [path, ...]], ...]``: the topmost folders that other users cannot enter
    (e.g. ``/root``) above the interpreter's ``paths``; ``None`` when a path itself is
    private (then no mount can help), ``[]`` when every path is readable by all."""
    hidden: dict[str, list[str]] = {}
    for path in paths:
        current = Path(path)
        try:
            if current.stat().st_mode & 0o005 != 0o005:
                return None
            closed = [directory for directory in reversed(current.parents)
                      if not directory.stat().st_mode & 0o001]
        except OSError:
            return None
        if closed:
            if closed[0] == Path("/"):
                return None
            hidden.setdefault(str(closed[0]), []).append(path)
    return [[folder, inside] for folder, inside in sorted(hidden.items())]


@functools.cache
def process_isolation() -> dict:
    """How process mode isolates the worker on this machine.

    ``{"namespace": bool, "expose": [...], "drop": bool, "problem": str | None}``: a new
    mount and PID namespace (where ``unshare`` works, as root), the folders to open in it
    for the interpreter, whether the worker switches to an unprivileged uid, and, when
    process mode must refuse, why: it never runs a submission as root.
    """
    if os.getuid() != 0:
        return {"namespace": False, "expose": [], "drop": False, "problem": None}
    namespace = namespace_problem() is None
    hidden = _hidden_folders(_python_paths())
    if hidden == []:
        return {"namespace": namespace, "expose": [], "drop": True, "problem": None}
    if hidden is not None and namespace:
        return {"namespace": True, "expose": hidden, "drop": True, "problem": None}
    why = namespace_problem() if hidden is not None else "a folder of it is private"
    return {"namespace": False, "expose": [], "drop": False, "problem": (
        f"process mode would run submissions as root: the Python installation "
        f"({', '.join(_python_paths())}) cannot be read by an unprivileged user, and {why}. "
        "Install bubblewrap, or run the grader from a Python installation every user can "
        "read (e.g. a virtualenv made from /usr/bin/python3).")}


def process_problem() -> str | None:
    """``None`` when process mode can run here without root, else why it refuses."""
    return process_isolation()["problem"]


def available_modes() -> list[str]:
    return ((["bwrap"] if bwrap_problem() is None else [])
            + (["process"] if process_problem() is None else []) + ["off"])


def resolve_mode(mode: str) -> str:
    """``auto`` -> the strongest mode available (``bwrap``, else ``process``)."""
    if mode == "auto":
        mode = "bwrap" if bwrap_problem() is None else "process"
    if mode not in MODES:
        raise ValueError(f"Received: sandbox mode {mode!r}, expected one of auto, "
                         f"{', '.join(MODES)}")
    if mode == "bwrap" and bwrap_problem() is not None:
        raise RuntimeError(f"--sandbox bwrap: {bwrap_problem()}")
    if mode == "process" and process_problem() is not None:
        raise RuntimeError(f"--sandbox process: {process_problem()}")
    return mode


_NOTICES: set[str] = set()


def notice(text: str) -> None:
    """Prints a one-line notice once per process (on stderr)."""
    if text not in _NOTICES:
        _NOTICES.add(text)
        print(f"grader: {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- paths


def _python_paths() -> list[str]:
    """What the worker's Python needs to see: the installation, the environment, and its
    site-packages (read-only)."""
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            paths.add(value)
    for value in [*site.getsitepackages(), os.path.dirname(os.path.realpath(sys.executable)),
                  os.path.dirname(os.path.abspath(sys.executable))]:
        paths.add(value)
    real = {os.path.realpath(path) for path in paths if os.path.exists(path)}
    real |= {path for path in paths if os.path.exists(path)}
    return _outermost(real)


def _outermost(paths: set[str]) -> list[str]:
    chosen: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path == kept or path.startswith(kept.rstrip("/") + "/") for kept in chosen):
            chosen.append(path)
    return sorted(chosen)


ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts",
             "/etc/alternatives"]
SYSTEM_READ = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
               "/sys", *ETC_FILES]


def _bwrap_command(scratch: Path) -> list[str]:
    command = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if os.getuid() != 0:
        command.append("--unshare-user")
    command += ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            command += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            command += ["--ro-bind", name, name]
    for name in ETC_FILES:
        if os.path.exists(name):
            command += ["--ro-bind", name, name]
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    made: set[str] = {"/", "/usr", "/tmp", "/proc", "/dev", "/etc"}
    for path in [*_python_paths(), SANDBOX_ROOT]:
        parents = []
        parent = os.path.dirname(path)
        while parent not in made and parent != "/":
            parents.append(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(parents):
            command += ["--perms", "0755", "--dir", directory]
            made.add(directory)
        if path == SANDBOX_ROOT:
            continue
        if not path.startswith("/usr/"):
            command += ["--ro-bind", path, path]
        made.add(path)
    command += ["--perms", "0755", "--dir", SANDBOX_ROOT,
                "--ro-bind", str(scratch / "worker.py"), f"{SANDBOX_ROOT}/worker.py",
                "--chdir", "/"]
    return command


# --------------------------------------------------------------------------- plain data


def encode(value: Any, *, depth: int = 0) -> Any:
    """Arguments -> the JSON form the worker decodes (see ``worker.decode``)."""
    if depth > 64:
        raise ValueError("arguments nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return type(value)(value) if type(value) in (int, float) else value
    if isinstance(value, AsTensor):
        return {"__tensor__": _encode_array(np.asarray(value.array))}
    if isinstance(value, np.ndarray):
        return {"__array__": _encode_array(value)}
    if isinstance(value, np.generic):
        return {"__scalar__": _encode_array(np.asarray(value))}
    if isinstance(value, list):
        return [encode(item, depth=depth + 1) for item in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, depth=depth + 1) for item in value]}
    if isinstance(value, dict):
        return {"__dict__": [[str(key), encode(item, depth=depth + 1)]
                             for key, item in value.items()]}
    raise TypeError(f"cannot send a {type(value).__name__} to the sandbox")


def _encode_array(array: np.ndarray) -> dict:
    array = np.array(array, order="C", copy=True, subok=False)
    if array.dtype.name not in NUMERIC_DTYPES:
        raise TypeError(f"cannot send an array of dtype {array.dtype} to the sandbox")
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {"dtype": array.dtype.name, "shape": list(array.shape),
            "data": base64.b64encode(little.tobytes()).decode("ascii")}


class _Budget:
    def __init__(self, max_bytes: int, max_nodes: int) -> None:
        self.bytes = max_bytes
        self.nodes = max_nodes

    def spend(self, nodes: int = 1, data: int = 0) -> None:
        self.nodes -= nodes
        self.bytes -= data
        if self.nodes < 0 or self.bytes < 0:
            raise ProtocolError("the reply is too large")


def decode(value: Any, budget: _Budget, depth: int = 0) -> Any:
    """Rebuilds plain data from a worker's reply, checking everything."""
    budget.spend()
    if depth > 64:
        raise ProtocolError("the reply is nested too deeply")
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is str:
        budget.spend(data=len(value))
        return value
    if type(value) is list:
        return [decode(item, budget, depth + 1) for item in value]
    if type(value) is not dict or len(value) != 1:
        raise ProtocolError(f"unexpected value of type {type(value).__name__}")
    ((tag, content),) = value.items()
    if tag == "__array__":
        return decode_array(content, budget)
    if tag == "__dict__":
        if type(content) is not list:
            raise ProtocolError("a dict must be a list of pairs")
        result = {}
        for pair in content:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise ProtocolError("a dict entry must be a [str, value] pair")
            result[pair[0]] = decode(pair[1], budget, depth + 1)
        return result
    raise ProtocolError(f"unknown tag {tag[:40]!r}")


def decode_array(spec: Any, budget: _Budget) -> np.ndarray:
    if type(spec) is not dict or set(spec) != {"dtype", "shape", "data"}:
        raise ProtocolError("an array must have exactly dtype, shape and data")
    dtype_name, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if type(dtype_name) is not str or dtype_name not in NUMERIC_DTYPES:
        raise ProtocolError(f"dtype {str(dtype_name)[:40]!r} is not a numeric dtype")
    if (type(shape) is not list or len(shape) > 32
            or any(type(dim) is not int or dim < 0 for dim in shape)):
        raise ProtocolError("an array's shape must be a list of non-negative integers")
    if type(data) is not str:
        raise ProtocolError("an array's data must be base64 text")
    dtype = np.dtype(dtype_name).newbyteorder("<")
    count = 1
    for dim in shape:
        count *= dim
    expected = count * dtype.itemsize
    budget.spend(data=expected)
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise ProtocolError(f"an array's data is not base64: {error}") from None
    if len(raw) != expected:
        raise ProtocolError(f"an array of shape {shape} and dtype {dtype_name} needs "
                            f"{expected} bytes, got {len(raw)}")
    array = np.frombuffer(raw, dtype=dtype).astype(np.dtype(dtype_name), copy=True)
    return array.reshape(tuple(shape))


def _text(value: Any, limit: int = 4000) -> str:
    if type(value) is not str:
        raise ProtocolError("expected a string")
    return value[:limit]


# --------------------------------------------------------------------------- the worker


class _Output:
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


class _Worker:
    """One running worker process and its pipes."""

    def __init__(self, process: subprocess.Popen, to_worker: int, from_worker: int,
                 output: _Output) -> None:
        self.process = process
        self.to_worker = to_worker
        self.from_worker = from_worker
        self.output = output
        self.imported: set[str] = set()
        self.info: dict = {}

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.kill()
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.output.thread.join(timeout=2)


class _Dead(Exception):
    """The worker died or stopped answering (``reason`` says how)."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


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
        max_failures_per_function: crashes and timeouts of one function after which its
            further calls fail at once (the other functions are still run).
        threads: TensorFlow's intra- and inter-op threads in the worker.
        max_reply_mb: the largest reply accepted from the worker.
        output_limit: how much of the worker's stdout/stderr is kept (the rest is dropped).
    """

    def __init__(self, directory: Path | str, *, mode: str = "auto", call_timeout: float = 60,
                 start_timeout: float = 180, memory_mb: int = 4096, cpu_seconds: int = 1800,
                 max_consecutive_failures: int = 3, threads: int = 1, max_reply_mb: int = 256,
                 output_limit: int = 64 * 1024, quiet: bool = False,
                 max_failures_per_function: int = 2) -> None:
        self.directory = Path(directory).resolve()
        self.mode = resolve_mode(mode)
        if self.mode == "off":
            raise ValueError("SandboxBackend needs mode bwrap, process or auto")
        self._isolation = (process_isolation() if self.mode == "process" else
                           {"namespace": False, "expose": [], "drop": True, "problem": None})
        self.call_timeout = call_timeout
        self.start_timeout = start_timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.max_consecutive_failures = max_consecutive_failures
        self.threads = threads
        self.max_reply_bytes = max_reply_mb * 2**20
        self.output_limit = output_limit
        self._worker: _Worker | None = None
        self._scratch: Path | None = None
        self._next_id = 1
        self._consecutive_failures = 0
        self._last_failure = ""
        self._broken_modules: dict[str, MissingImplementation] = {}
        self._function_failures: collections.Counter[str] = collections.Counter()
        self.max_failures_per_function = max_failures_per_function
        self.starts = 0
        self.failures = 0
        self.info: dict = {}
        if not quiet:
            if self.mode == "process":
                reason = bwrap_problem() or "process mode was asked for"
                how = ("as an unprivileged user in its own mount and PID namespace"
                       if self._isolation["namespace"] else
                       "as an unprivileged user" if self._isolation["drop"] and os.getuid() == 0
                       else "as the grader's own user, in the host's PID namespace")
                notice(f"no bubblewrap sandbox ({reason}): submissions run in a separate "
                       f"process {how}, with resource limits (plus Landlock and seccomp where "
                       "the kernel has them)")

    # ---------------------------------------------------------------- Backend protocol

    def call(self, module: str, function: str, args: tuple, kwargs: dict) -> Any:
        reply = self._request(module, {"op": "call", "module": module, "function": function,
                                       "args": encode(list(args)), "kwargs": encode(kwargs)},
                              what=f"{module}.{function}")
        return reply["value"]

    def value_and_grad(self, module: str, function: str, args: tuple, kwargs: dict,
                       wrt: Sequence[int]) -> tuple[Any, list[Any]]:
        reply = self._request(module, {"op": "grad", "module": module, "function": function,
                                       "args": encode(list(args)), "kwargs": encode(kwargs),
                                       "wrt": [int(index) for index in wrt]},
                              what=f"the gradient of {module}.{function}")
        grads = reply.get("grads")
        if type(grads) is not list or len(grads) != len(wrt):
            raise CandidateError(f"the gradient of {module}.{function} came back malformed",
                                 ["TypeError"])
        return reply["value"], grads

    # ---------------------------------------------------------------- life cycle

    def close(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

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

    def _request(self, module: str, message: dict, what: str) -> dict:
        if not (self.directory / f"{module}.py").is_file():
            raise MissingImplementation(
                f"the submission has no module {module}.py: the tests for {module} cannot "
                "run", ["ModuleNotFoundError"])
        if module in self._broken_modules:
            raise self._broken_modules[module]
        self._give_up_if_hopeless(what)
        key = f"{module}.{message.get('function')}"
        if self._function_failures[key] >= self.max_failures_per_function:
            raise WorkerFailure(f"{what} was not run: it already crashed or timed out "
                                f"{self._function_failures[key]} times ({self._last_failure})",
                                ["WorkerFailure"])
        worker = self._ensure_worker(what)
        if module not in worker.imported:
            try:
                reply = self._exchange(worker, {"op": "import", "module": module},
                                       timeout=self.call_timeout)
            except _Dead as dead:
                failure = self._failed(dead, f"importing {module}.py")
                broken = WorkerFailure(
                    f"{module}.py could not be imported: the worker {dead.reason} while "
                    f"importing it", [dead.kind], dead.reason, failure.where)
                self._broken_modules[module] = broken
                raise broken from None
            if reply["status"] != "ok":
                self._broken_modules[module] = self._error_from(reply)
                raise self._broken_modules[module]
            worker.imported.add(module)
        try:
            reply = self._exchange(worker, message, timeout=self.call_timeout)
        except _Dead as dead:
            self._function_failures[key] += 1
            raise self._failed(dead, what) from None
        self._consecutive_failures = 0
        if reply["status"] != "ok":
            raise self._error_from(reply)
        return reply

    def _give_up_if_hopeless(self, what: str) -> None:
        if self._consecutive_failures >= self.max_consecutive_failures:
            raise WorkerFailure(
                f"{what} was not run: the sandboxed worker failed "
                f"{self._consecutive_failures} times in a row (last: {self._last_failure})",
                ["WorkerFailure"])

    def _failed(self, dead: _Dead, what: str) -> WorkerFailure:
        self.failures += 1
        self._consecutive_failures += 1
        self._last_failure = dead.reason
        tail = ""
        if self._worker is not None:
            tail = self._worker.output.tail(300).strip()
            self._worker.kill()
            self._worker = None
        summary = f"{what} failed: the worker {dead.reason}"
        if dead.kind == "TimeoutError":
            summary += " (an infinite loop, or far too slow?)"
        elif dead.kind == "MemoryError":
            summary += " (it needs too much memory)"
        return WorkerFailure(summary, [dead.kind, "WorkerFailure"], dead.reason,
                             f"last output: {tail}" if tail else "")

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

    def _exchange(self, worker: _Worker, message: dict, timeout: float) -> dict:
        request_id = self._next_id
        self._next_id += 1
        payload = json.dumps({"id": request_id, **message}).encode()
        deadline = time.monotonic() + timeout
        self._write(worker, struct.pack(">I", len(payload)) + payload, deadline)
        raw = self._read_message(worker, deadline)
        try:
            reply = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise _Dead(f"sent a message that is not JSON ({error})", "ProtocolError") from None
        if type(reply) is not dict or reply.get("id") != request_id:
            raise _Dead("sent a reply out of turn", "ProtocolError")
        status = reply.get("status")
        if status not in ("ok", "error", "missing"):
            raise _Dead(f"sent a reply with status {str(status)[:40]!r}", "ProtocolError")
        if status == "ok":
            budget = _Budget(self.max_reply_bytes, 10_000_000)
            try:
                checked = {"status": "ok", "value": decode(reply.get("value"), budget)}
                if "grads" in reply:
                    checked["grads"] = decode(reply["grads"], budget)
            except ProtocolError as error:
                raise _Dead(f"sent an invalid reply ({error})", "ProtocolError") from None
            except RecursionError:
                raise _Dead("sent a reply nested too deeply", "ProtocolError") from None
            return checked
        return reply

    def _write(self, worker: _Worker, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        poller = select.poll()
        poller.register(worker.to_worker, select.POLLOUT)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Dead(f"did not finish within {self.call_timeout:g} s", "TimeoutError")
            if not poller.poll(remaining * 1000):
                continue
            try:
                written = os.write(worker.to_worker, view[:65536])
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise self._death(worker) from None
            view = view[written:]

    def _read_exact(self, worker: _Worker, size: int, deadline: float) -> bytes:
        chunks, missing = [], size
        poller = select.poll()
        poller.register(worker.from_worker, select.POLLIN)
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Dead(f"did not finish within {self.call_timeout:g} s", "TimeoutError")
            if not poller.poll(remaining * 1000):
                continue
            try:
                chunk = os.read(worker.from_worker, min(missing, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise self._death(worker)
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _read_message(self, worker: _Worker, deadline: float) -> bytes:
        (size,) = struct.unpack(">I", self._read_exact(worker, 4, deadline))
        if size > self.max_reply_bytes * 2 + 2**20:
            raise _Dead(f"sent a message of {size} bytes, more than allowed", "ProtocolError")
        return self._read_exact(worker, size, deadline)

    def _death(self, worker: _Worker) -> _Dead:
        try:
            code = worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return _Dead("closed its pipe", "WorkerCrash")
        if code is not None and code < 0:
            return _killed_by(-code)
        reaped = self.mode == "bwrap" or self._isolation["namespace"]
        if reaped and code is not None and code >= 128:
            # bubblewrap and the worker's own reaper (PID 1 of a namespace) report the
            # worker's death by signal as 128 + signal
            return _killed_by(code - 128)
        return _Dead(f"exited with code {code} (sys.exit or os._exit?)", "WorkerCrash")

    # ---------------------------------------------------------------- starting

    def _ensure_worker(self, what: str) -> _Worker:
        if self._worker is not None and self._worker.process.poll() is None:
            return self._worker
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        try:
            self._worker = self._start()
        except _Dead as dead:
            raise self._failed(dead, f"{what} (starting the sandboxed worker)") from None
        return self._worker

    def _prepare_scratch(self) -> Path:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        scratch = Path(tempfile.mkdtemp(prefix="practicum-sandbox-"))
        os.chmod(scratch, 0o755)
        shutil.copyfile(WORKER_SOURCE, scratch / "worker.py")
        submission = scratch / "submission"
        submission.mkdir()
        _copy_submission(self.directory, submission)
        work = scratch / "work"
        work.mkdir()
        self._scratch = scratch
        return scratch

    def _worker_uid(self) -> int | None:
        if os.getuid() != 0:
            return None
        if self.mode == "process" and not self._isolation["drop"]:
            raise _Dead(f"was not started: {process_problem()}", "WorkerCrash")
        return 200_000 + (os.getpid() * 8 + self.starts) % 100_000

    def _start(self) -> _Worker:
        scratch = self._prepare_scratch()
        self.starts += 1
        uid = self._worker_uid()
        if uid is not None:
            for path in [scratch / "work", *sorted((scratch / "work").rglob("*"))]:
                os.chown(path, uid, uid)
        library = runtime_library()
        if self.mode == "bwrap":
            root = SANDBOX_ROOT
            lib = f"{root}/lib"
            prefix = _bwrap_command(scratch) + [
                "--ro-bind", library, lib,
                "--ro-bind", str(scratch / "submission"), f"{root}/submission",
                "--bind", str(scratch / "work"), f"{root}/work", "--chdir", f"{root}/work"]
        else:
            root = str(scratch)
            lib = library
            prefix = [*UNSHARE, "--"] if self._isolation["namespace"] else []
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        config = {
            "in_fd": to_worker_r, "out_fd": from_worker_w, "submission": f"{root}/submission",
            "uid": uid, "threads": self.threads, "lib": lib, "seccomp": True, "landlock": True,
            "expose": self._isolation["expose"], "reaper": self._isolation["namespace"],
            "read_paths": [*SYSTEM_READ, *_python_paths(), lib, f"{root}/submission",
                           f"{root}/worker.py"],
            "write_paths": [f"{root}/work"],
            "limits": {"as": self.memory_mb * 2**20, "cpu": self.cpu_seconds,
                       "fsize": 64 * 2**20, "nofile": 512, "core": 0,
                       "nproc": None if os.getuid() == 0 and uid is None else 4096},
        }
        env = {"PATH": "/usr/bin:/bin", "HOME": f"{root}/work", "TMPDIR": f"{root}/work",
               "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
               "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": str(self.threads),
               "OPENBLAS_NUM_THREADS": str(self.threads), "MPLBACKEND": "Agg",
               "KERAS_HOME": f"{root}/work/.keras", "PYTHONDONTWRITEBYTECODE": "1"}
        command = [*prefix, sys.executable, "-I", "-B", f"{root}/worker.py", json.dumps(config)]
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output_w, stderr=output_w,
                pass_fds=(to_worker_r, from_worker_w), start_new_session=True, env=env,
                cwd=str(scratch / "work"))
        except OSError as error:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w, output_r,
                       output_w):
                os.close(fd)
            raise _Dead(f"could not be started ({error})", "WorkerCrash") from None
        for fd in (to_worker_r, from_worker_w, output_w):
            os.close(fd)
        os.set_blocking(to_worker_w, False)
        worker = _Worker(process, to_worker_w, from_worker_r, _Output(output_r,
                                                                     self.output_limit))
        deadline = time.monotonic() + self.start_timeout
        try:
            raw = self._read_message(worker, deadline)
            ready = json.loads(raw)
        except _Dead as dead:
            tail = worker.output.tail(600)
            worker.kill()
            if dead.kind == "TimeoutError":
                dead = _Dead(f"did not start within {self.start_timeout:g} s", "TimeoutError")
            raise _Dead(f"{dead.reason}; its output: {tail.strip()[-600:]}", dead.kind) \
                from None
        except ValueError:
            worker.kill()
            raise _Dead("sent a malformed greeting", "ProtocolError") from None
        if type(ready) is not dict or ready.get("status") != "ready":
            worker.kill()
            raise _Dead("sent a malformed greeting", "ProtocolError")
        worker.info = {key: ready.get(key) for key in ("landlock", "seccomp", "uid")}
        self.info = {"mode": self.mode, **worker.info}
        return worker


def _killed_by(number: int) -> _Dead:
    """The worker was killed by signal ``number``: SIGXCPU is its CPU-time limit (a
    timeout), SIGKILL/SIGSEGV/SIGBUS/SIGABRT most often its memory limit."""
    name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
    if name == "SIGXCPU":
        return _Dead(f"was killed by {name} (its CPU-time limit)", "TimeoutError")
    kind = "MemoryError" if name in ("SIGKILL", "SIGSEGV", "SIGBUS", "SIGABRT") \
        else "WorkerCrash"
    return _Dead(f"was killed by {name}", kind)


@functools.cache
def runtime_library() -> str:
    """A copy of the course's runtime helpers that submissions may import (``practicum``,
    ``practicum.datasets``, ...), without the grader: made once per process, read-only
    to the worker. Returns the folder to put on the worker's ``sys.path``."""
    import atexit

    import practicum

    library = Path(tempfile.mkdtemp(prefix="practicum-runtime-"))
    atexit.register(shutil.rmtree, library, True)
    package = Path(practicum.__file__).resolve().parent
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "grader", "tests", "solutions",
                                  "exercises", ".git")
    shutil.copytree(package, library / "practicum", ignore=skip)
    try:
        import practicum.datasets as datasets

        source = Path(datasets.__file__).resolve().parent
        if source != package / "datasets":
            shutil.copytree(source, library / "practicum" / "datasets", ignore=skip,
                            dirs_exist_ok=True)
    except ImportError:
        pass
    for path in [library, *library.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return str(library)


def _copy_submission(source: Path, target: Path, max_bytes: int = 50 * 2**20) -> None:
    """Copies the regular files of a submission (no symlinks, no special files)."""
    budget = max_bytes
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part in ("__pycache__", ".git") for part in relative.parts):
            continue
        if path.is_symlink():
            continue
        if path.is_dir():
            (target / relative).mkdir(parents=True, exist_ok=True)
            continue
        if not path.is_file():
            continue
        size = path.stat().st_size
        if size > budget:
            continue
        budget -= size
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)
        os.chmod(target / relative, 0o644)
    for path in [target, *target.rglob("*")]:
        if path.is_dir():
            os.chmod(path, 0o755)

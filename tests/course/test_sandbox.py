"""The sandboxed backend: same plain data as in-process, isolation, limits, restarts.

One worker per mode serves most tests (a worker costs a TensorFlow import, ~5 s). The
bubblewrap tests skip, with the reason, where bubblewrap does not work (install it with
``apt-get install -y bubblewrap``).
"""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest

import practicum
from practicum.grader import sandbox
from practicum.grader.running.proxy import (
    AsTensor,
    Candidate,
    CandidateError,
    MissingImplementation,
)
from practicum.grader.sandbox import SandboxBackend, WorkerFailure
from practicum.grader.sandbox.wire import Budget, ProtocolError, decode, encode

PROBE = """
import os, socket, sys, time
import numpy as np
import tensorflow as tf

def echo(*args, **kwargs):
    return [list(args), kwargs]

def types(x, t, s, n):
    return [type(x).__name__, str(x.dtype), type(t).__name__, type(s).__name__,
            float(tf.reduce_sum(t)), n]

def square_sum(x):
    return tf.reduce_sum(x * x)

def fails(x):
    raise ValueError(f"Received: x={x}")

def todo():
    raise NotImplementedError("todo")

def noisy():
    print('{"id": 99, "status": "ok", "value": 1}' * 1000)
    os.write(1, b"\\x00\\x00\\x00\\x10garbage" * 1000)
    sys.stderr.write("PASSED " * 10000)
    return 42

def subclass():
    class Fake(np.ndarray):
        def __eq__(self, other):
            return True
    return np.zeros(3).view(Fake)

def objects():
    return np.array([object()], dtype=object)

def read(path):
    try:
        with open(path) as handle:
            return "read:" + handle.read(20)
    except OSError as error:
        return "denied:" + type(error).__name__

def listdir(path):
    try:
        return "listed:" + ",".join(sorted(os.listdir(path))[:50])
    except OSError as error:
        return "denied:" + type(error).__name__

def write(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "written"
    except OSError as error:
        return "denied:" + type(error).__name__

def connect(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return "connected"
    except OSError as error:
        return "denied:" + type(error).__name__

def fork():
    try:
        pid = os.fork()
    except OSError as error:
        return "denied:" + type(error).__name__
    if pid == 0:
        os._exit(0)
    return "forked"

def kill_parent():
    try:
        os.kill(os.getppid(), 9)
        return "killed"
    except OSError as error:
        return "denied:" + type(error).__name__

def crash():
    os._exit(3)

def loop():
    while True:
        pass

def memory():
    return np.ones(10**11)

def pid():
    return os.getpid()

def practicum_root():
    import practicum
    return [str(practicum.REPO_ROOT), hasattr(practicum, "grader")]
"""

MODES = ["process", "bwrap"]


def skip_unless(mode: str) -> None:
    if mode not in sandbox.available_modes():
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    folder = tmp_path_factory.mktemp("probe")
    (folder / "probe.py").write_text(PROBE)
    (folder / "broken.py").write_text("def f(:\n")
    return folder


@pytest.fixture(scope="module", params=MODES)
def probe(request, submission):
    skip_unless(request.param)
    backend = SandboxBackend(
        submission, mode=request.param, call_timeout=4, time_budget=1000, quiet=True
    )
    yield Candidate(backend, label=request.param).module("probe")
    backend.close()


def test_arguments_and_results_cross_as_plain_data(probe):
    args, kwargs = probe.echo(
        np.arange(6, dtype=np.int16).reshape(2, 3),
        (1, 2.5),
        None,
        True,
        "text",
        key=[np.float32(1.5), {"a": np.zeros((0, 2))}],
    )
    array, pair, none, flag, text = args
    assert type(array) is np.ndarray and array.dtype == np.int16 and array.shape == (2, 3)
    assert pair == [1, 2.5] and none is None and flag is True and text == "text"
    assert kwargs["key"][0] == 1.5 and kwargs["key"][1]["a"].shape == (0, 2)


def test_tensors_arrays_and_scalars_arrive_as_what_they_were(probe):
    kinds = probe.types(
        np.ones(3, np.float64), AsTensor(np.ones((2, 2), np.float32)), np.float32(2.0), 7
    )
    assert kinds == ["ndarray", "float64", "EagerTensor", "float32", 4.0, 7]


def test_results_and_gradients_match_the_in_process_backend(probe):
    value = probe.square_sum(AsTensor(np.array([1.0, 2.0], np.float32)))
    assert type(value) is np.ndarray and value.shape == () and float(value) == 5.0
    value, (grad,) = probe.value_and_grad("square_sum", np.array([1.0, 2.0]))
    assert float(value) == 5.0 and np.allclose(grad, [2.0, 4.0])


def test_exceptions_and_missing_code_cross_as_before(probe):
    with pytest.raises(CandidateError) as error:
        probe.fails(3)
    assert error.value.is_a("ValueError") and error.value.message == "Received: x=3"
    assert "probe.py" in error.value.where
    with pytest.raises(MissingImplementation, match="not implemented yet"):
        probe.todo()
    with pytest.raises(MissingImplementation, match=r"has no function nothing\(\)"):
        probe.nothing()


def test_a_missing_or_broken_module_is_named(probe):
    backend = probe._candidate.backend
    with pytest.raises(MissingImplementation, match="has no module absent.py"):
        backend.call("absent", "f", (), {})
    with pytest.raises(MissingImplementation, match="SyntaxError at line 1"):
        backend.call("broken", "f", (), {})


def test_prints_cannot_corrupt_the_protocol(probe):
    assert probe.noisy() == 42
    assert probe.echo(1) == [[1], {}]


def test_array_subclasses_and_objects_do_not_cross(probe):
    plain = probe.subclass()
    assert type(plain) is np.ndarray and not np.all(plain == np.ones(3))
    with pytest.raises(CandidateError, match="Python objects"):
        probe.objects()


def test_the_course_solutions_and_tests_are_not_visible(probe):
    for path in [
        practicum.REPO_ROOT / "solutions" / "style_losses.py",
        practicum.REPO_ROOT / "tests" / "hidden" / "test_style_losses.py",
        practicum.REPO_ROOT / "grader" / "proxy.py",
        "/etc/shadow",
    ]:
        assert probe.read(str(path)).startswith("denied:"), path
    assert probe.listdir(str(practicum.REPO_ROOT)).startswith("denied:")
    root, has_grader = probe.practicum_root()
    assert not has_grader and "solutions" not in probe.listdir(root)


def test_nothing_outside_the_scratch_directory_can_be_written(probe, tmp_path):
    target = tmp_path / "planted.txt"
    assert probe.write(str(target)).startswith("denied:")
    assert not target.exists()
    assert probe.write("scratch.txt") == "written"  # its own working directory


def test_no_network_no_processes_no_signals_to_the_grader(probe):
    for host in ("127.0.0.1", "1.1.1.1"):
        assert probe.connect(host, 80).startswith("denied:")
    assert probe.fork().startswith("denied:")
    assert probe.kill_parent().startswith("denied:")


def test_a_memory_bomb_fails_its_call_only(probe):
    with pytest.raises((CandidateError, WorkerFailure), match="MemoryError|memory"):
        probe.memory()
    assert probe.echo(1) == [[1], {}]


def test_a_timeout_or_crash_fails_the_call_and_the_worker_restarts(probe):
    backend = probe._candidate.backend
    probe.pid()
    starts = backend.starts
    started = time.monotonic()
    with pytest.raises(WorkerFailure, match="did not finish within 4 s"):
        probe.loop()
    assert time.monotonic() - started < 10
    probe.pid()
    assert backend.starts == starts + 1  # a new worker
    with pytest.raises(WorkerFailure, match="exited with code 3"):
        probe.crash()
    assert probe.echo(2) == [[2], {}]
    with pytest.raises(WorkerFailure, match="exited with code 3"):
        probe.crash()
    with pytest.raises(WorkerFailure, match="already crashed 2 times"):
        probe.crash()  # not run again: no third restart for it
    assert probe.echo(3) == [[3], {}]
    assert backend.info["seccomp"] is True
    starts, started = backend.starts, time.monotonic()
    with pytest.raises(WorkerFailure, match="not run again: .*did not finish within 4 s"):
        probe.loop()  # one timeout is enough: at once, with the first timeout's message
    assert time.monotonic() - started < 1 and backend.starts == starts


LOOPS = """
def first():
    while True:
        pass

def second():
    while True:
        pass

def quick():
    return 1
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_looping_module_spends_its_time_budget_and_no_more(tmp_path, mode):
    skip_unless(mode)
    (tmp_path / "loops.py").write_text(LOOPS)
    (tmp_path / "other.py").write_text("def quick():\n    return 2\n")
    with SandboxBackend(tmp_path, mode=mode, call_timeout=30, time_budget=3, quiet=True) as backend:
        candidate = Candidate(backend, label=mode)
        loops, other = candidate.module("loops"), candidate.module("other")
        assert loops.quick() == 1
        started = time.monotonic()
        with pytest.raises(WorkerFailure, match=r"within 3 s \(the rest of its module's time"):
            loops.first()  # its limit: the budget (3 s), not the call timeout (30 s)
        assert time.monotonic() - started < 10
        started = time.monotonic()
        for call in (loops.second, loops.quick):  # the budget is spent: at once, not run
            with pytest.raises(WorkerFailure, match="loops.py already lost .* whole time budget"):
                call()
        assert time.monotonic() - started < 1
        assert other.quick() == 2  # another task is not charged for it
        assert backend.lost_seconds["other"] == 0 and backend.lost_seconds["loops"] >= 3


NUMPY_TASK = """
import sys
import numpy as np

def tensorflow_loaded():
    return "tensorflow" in sys.modules

def total(x):
    return float(np.sum(x))

def total_in_tensorflow(x):
    import tensorflow as tf  # imported late, after the worker confined itself
    return float(tf.reduce_sum(tf.constant(x)).numpy())

def square_sum(x):
    import tensorflow as tf
    return tf.reduce_sum(x * x)
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_worker_for_numpy_tasks_starts_without_tensorflow_and_can_still_load_it(tmp_path, mode):
    skip_unless(mode)
    (tmp_path / "numeric.py").write_text(NUMPY_TASK)
    with SandboxBackend(tmp_path, mode=mode, tensorflow=False, quiet=True) as backend:
        numeric = Candidate(backend, label=mode).module("numeric")
        assert numeric.total(np.ones(3)) == 3.0
        assert numeric.tensorflow_loaded() is False  # nor by its worker template
        assert numeric.total_in_tensorflow(np.ones(4)) == 4.0
        value, (grad,) = numeric.value_and_grad("square_sum", np.array([1.0, 2.0]))
        assert float(value) == 5.0 and np.allclose(grad, [2.0, 4.0])
    with SandboxBackend(tmp_path, mode=mode, quiet=True) as backend:
        numeric = Candidate(backend, label=mode).module("numeric")
        assert numeric.tensorflow_loaded() is True  # a worker for TensorFlow tasks has it


def test_the_grader_starts_workers_without_tensorflow_only_for_numpy_tasks(tmp_path):
    from practicum.grader.running.pytest_plugin import needs_tensorflow

    solutions = practicum.REPO_ROOT / "solutions"
    assert not needs_tensorflow(solutions, {"metrics"}, trusted=True)
    assert needs_tensorflow(solutions, {"metrics", "conv"}, trusted=True)
    (tmp_path / "metrics.py").write_text("import numpy as np\n")
    assert not needs_tensorflow(tmp_path, {"metrics"}, trusted=False)
    (tmp_path / "metrics.py").write_text("t = __import__('tensor' 'flow')  # tensorflow\n")
    assert needs_tensorflow(tmp_path, {"metrics"}, trusted=False)  # mentioned is enough
    (tmp_path / "metrics.py").unlink()
    (tmp_path / "metrics.py").symlink_to(solutions / "conv.py")
    assert not needs_tensorflow(tmp_path, {"metrics"}, trusted=False)  # links not followed


def test_the_worker_reports_its_confinement(probe):
    probe.echo(0)
    info = probe._candidate.backend.info
    assert info["mode"] in ("bwrap", "process") and info["seccomp"] is True
    if info["mode"] == "bwrap":
        assert info["uid"] != 0 or practicum.REPO_ROOT.stat().st_uid != 0


# --------------------------------------------------------------------------- the protocol


def array_message(dtype="float32", shape=(2,), data=None):
    raw = np.zeros(shape, dtype=dtype).tobytes() if data is None else data
    return {
        "__array__": {"dtype": dtype, "shape": list(shape), "data": base64.b64encode(raw).decode()}
    }


def test_valid_replies_are_rebuilt_as_base_class_arrays():
    value = decode([array_message(), {"__dict__": [["k", 1.5]]}, True, None], Budget(2**20, 1000))
    assert type(value[0]) is np.ndarray and value[0].dtype == np.float32
    assert value[1] == {"k": 1.5} and value[2] is True and value[3] is None


@pytest.mark.parametrize(
    "message",
    [
        array_message(dtype="object"),
        array_message(dtype="<U3"),
        array_message(shape=(3,), data=b"\x00" * 4),
        {"__array__": {"dtype": "float32", "shape": [-1], "data": ""}},
        {"__array__": {"dtype": "float32", "shape": [1], "data": "!!!"}},
        {"__array__": {"dtype": "float32", "shape": [1], "data": "AAAA", "extra": 1}},
        {"__pickle__": "gASV"},
        {"a": 1, "b": 2},
        {"__dict__": [[1, 2]]},
    ],
)
def test_invalid_replies_are_refused(message):
    with pytest.raises(ProtocolError):
        decode(message, Budget(2**20, 1000))


def test_oversized_or_deep_replies_are_refused():
    with pytest.raises(ProtocolError, match="too large"):
        decode(array_message(shape=(1000,)), Budget(100, 1000))
    deep = 1.0
    for _ in range(80):
        deep = [deep]
    with pytest.raises(ProtocolError, match="deeply"):
        decode(deep, Budget(2**20, 1000))


def test_arguments_that_are_not_data_are_not_sent():
    with pytest.raises(TypeError):
        encode(object())
    with pytest.raises(TypeError):
        encode(np.array([object()]))
    assert encode((1, [2.0])) == {"__tuple__": [1, [2.0]]}


def test_the_modes_resolve_and_the_fallback_says_so(capsys, tmp_path):
    assert sandbox.resolve_mode("process") == "process"
    with pytest.raises(ValueError):
        sandbox.resolve_mode("docker")
    sandbox.modes._NOTICES.clear()
    SandboxBackend(tmp_path, mode="process").close()
    assert "no bubblewrap sandbox" in capsys.readouterr().err

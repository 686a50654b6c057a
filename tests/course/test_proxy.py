"""The proxy between tests and implementations: plain data out, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from practicum.grader.running.proxy import (
    AsTensor,
    Candidate,
    CandidateError,
    InProcessBackend,
    MissingImplementation,
    to_plain,
)


def submission(tmp_path, source: str | None, name: str = "task") -> Candidate:
    folder = tmp_path / "submission"
    folder.mkdir(parents=True, exist_ok=True)
    if source is not None:
        (folder / f"{name}.py").write_text(source)
    return Candidate(InProcessBackend(folder), label=str(folder))


def test_results_come_back_as_plain_numpy_data(tmp_path):
    candidate = submission(
        tmp_path,
        (
            "import numpy as np, tensorflow as tf\n"
            "def tensor(x): return tf.reduce_sum(x)\n"
            "def pair(): return (np.float32(1.5), [tf.ones(2), 3])\n"
        ),
    )
    value = candidate.call("task", "tensor", AsTensor(np.ones((2, 2), np.float32)))
    assert isinstance(value, np.ndarray) and float(value) == 4.0
    first, (array, number) = candidate.call("task", "pair")
    assert first == 1.5 and type(first) is float
    assert type(array) is np.ndarray and number == 3


def test_an_array_subclass_that_fakes_comparisons_loses_its_tricks():
    class AlwaysEqual(np.ndarray):
        def __eq__(self, other):
            return True

    plain = to_plain(np.zeros(3).view(AlwaysEqual))
    assert type(plain) is np.ndarray
    assert not np.all(plain == np.ones(3))


def test_an_object_that_is_not_data_is_refused():
    class Sneaky:
        def __eq__(self, other):
            return True

    with pytest.raises(CandidateError, match="is a Sneaky"):
        to_plain(Sneaky())


def test_a_missing_module_names_the_module(tmp_path):
    candidate = submission(tmp_path, None)
    with pytest.raises(MissingImplementation, match="has no module task.py"):
        candidate.call("task", "anything")


def test_a_missing_function_names_the_function(tmp_path):
    candidate = submission(tmp_path, "def other(): return 1\n")
    with pytest.raises(MissingImplementation, match=r"task.py has no function wanted\(\)"):
        candidate.call("task", "wanted")
    assert candidate.call("task", "other") == 1


def test_a_syntax_error_gives_the_line(tmp_path):
    candidate = submission(tmp_path, "x = 1\ndef broken(:\n    pass\n")
    with pytest.raises(MissingImplementation, match="SyntaxError at line 2"):
        candidate.call("task", "broken")


def test_exceptions_cross_as_type_names_and_message(tmp_path):
    candidate = submission(tmp_path, "def f(x):\n    raise ValueError(f'Received: x={x}')\n")
    with pytest.raises(CandidateError) as error:
        candidate.call("task", "f", 3)
    assert error.value.is_a("ValueError") and error.value.is_a("Exception")
    assert error.value.message == "Received: x=3"
    assert "task.py" in error.value.where


def test_not_implemented_stops_at_once(tmp_path):
    candidate = submission(tmp_path, "def f():\n    raise NotImplementedError('task.f')\n")
    with pytest.raises(MissingImplementation, match="not implemented yet"):
        candidate.call("task", "f")
    assert not issubclass(MissingImplementation, Exception)  # hypothesis does not retry it


def test_sys_exit_in_a_candidate_is_only_a_failed_call(tmp_path):
    candidate = submission(tmp_path, "import sys\ndef f():\n    sys.exit(0)\n")
    with pytest.raises(CandidateError, match="SystemExit"):
        candidate.call("task", "f")


def test_the_candidate_gets_copies_of_numpy_inputs(tmp_path):
    candidate = submission(tmp_path, "def f(x):\n    x[...] = 0\n    return x\n")
    original = np.ones(3)
    candidate.call("task", "f", original)
    assert np.all(original == 1)


def test_gradients_are_taken_in_the_candidate_and_returned_as_data(tmp_path):
    candidate = submission(
        tmp_path,
        (
            "import tensorflow as tf\n"
            "def f(x, ys): return tf.reduce_sum(x * x) + tf.reduce_sum(ys[0])\n"
            "def constant(x): return tf.constant(1.0)\n"
        ),
    )
    value, (grad_x, grad_ys) = candidate.value_and_grad(
        "task", "f", np.array([1.0, 2.0]), [np.ones(2), np.ones(3)], wrt=(0, 1)
    )
    assert float(value) == 7.0
    assert np.allclose(grad_x, [2.0, 4.0])
    assert np.allclose(grad_ys[0], 1.0) and grad_ys[1] is None
    _, (none,) = candidate.value_and_grad("task", "constant", np.ones(2))
    assert none is None


def test_two_implementations_of_one_module_load_side_by_side(tmp_path):
    one = submission(tmp_path / "a", "def f(): return 1\n")
    two = submission(tmp_path / "b", "def f(): return 2\n")
    assert (one.call("task", "f"), two.call("task", "f")) == (1, 2)


def test_sibling_modules_import_each_other_relatively(tmp_path):
    candidate = submission(tmp_path, "def base(): return 5\n", name="helper")
    (tmp_path / "submission" / "task.py").write_text(
        "from .helper import base\ndef f(): return base() + 1\n"
    )
    assert candidate.call("task", "f") == 6


def test_every_call_is_noted_with_whether_it_returned(tmp_path):
    candidate = submission(
        tmp_path,
        (
            "def ok(x): return x\n"
            "def refuses(x): raise ValueError('Received: x')\n"
            "def todo(x): raise NotImplementedError\n"
        ),
    )
    candidate.call("task", "ok", 1.0)
    with pytest.raises(CandidateError):
        candidate.module("task").refuses(1.0)
    with pytest.raises(MissingImplementation):
        candidate.call("task", "todo", 1.0)
    with pytest.raises(MissingImplementation):
        candidate.call("task", "absent")
    assert candidate.journal == [
        ("task", "ok", True),
        ("task", "refuses", False),
        ("task", "todo", False),
        ("task", "absent", False),
    ]

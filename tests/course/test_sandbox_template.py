"""The worker template: one TensorFlow import per grader process, and students kept apart.

Every sandboxed worker of a grader process is forked from one template
(:mod:`practicum.grader.sandbox.template`). These tests check what that must not cost:
each worker starts from a state no submission has touched, cannot reach another student's
folder or the template itself, and none outlives its student in ``grade-all``. Both sandbox
modes; the bubblewrap ones skip where bubblewrap does not work.
"""

from __future__ import annotations

import ast

import pytest

from practicum.grader import sandbox
from practicum.grader.sandbox import SandboxBackend, template

MODES = ["process", "bwrap"]

STUDENT = """
import os
SEEN = []

def remember(value):
    SEEN.append(value)
    os.environ["LEFT_BEHIND"] = "yes"
    open("notes.txt", "w").write(value)
    return [SEEN, os.environ.get("LEFT_BEHIND_BEFORE"), files()]

def first_look():
    return [SEEN, os.environ.get("LEFT_BEHIND"), files()]

def files():  # TensorFlow's own dot-folders aside
    return sorted(name for name in os.listdir(".") if not name.startswith("."))

def where():
    return os.getcwd()

def try_to_reach(folder, names):
    import signal
    found = {}
    for name in names:
        try:
            with open(os.path.join(folder, name)) as handle:
                found[name] = handle.read()[:40]
        except OSError as error:
            found[name] = type(error).__name__
    parent = os.getppid()
    for part in ("mem", "environ"):
        try:
            with open(f"/proc/{parent}/{part}", "rb") as handle:
                found[part] = len(handle.read(64))
        except OSError as error:
            found[part] = type(error).__name__
    try:
        os.kill(parent, signal.SIGKILL)
        found["kill"] = "sent"
    except OSError as error:
        found["kill"] = type(error).__name__
    return repr(found)
"""


def skip_unless(mode: str) -> None:
    if mode not in sandbox.available_modes():
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")
    if not template.enabled():
        pytest.skip("PRACTICUM_SANDBOX_TEMPLATE=0: every worker starts on its own")


@pytest.fixture
def students(tmp_path):
    folders = []
    for name in ("alice", "bob"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "student.py").write_text(STUDENT)
        folders.append(folder)
    return folders


def backend(folder, mode) -> SandboxBackend:
    return SandboxBackend(folder, mode=mode, call_timeout=20, quiet=True)


@pytest.mark.parametrize("mode", MODES)
def test_every_worker_is_forked_from_the_one_template_of_the_process(students, mode):
    skip_unless(mode)
    alice, bob = students
    with backend(alice, mode) as first, backend(bob, mode) as second:
        first.call("student", "where", (), {})
        second.call("student", "where", (), {})
        assert isinstance(first._worker.process, template.ForkedWorker)
        assert first._worker.process.template is second._worker.process.template
        if first.info["uid"] != 0:  # as root, each worker its own unprivileged uid
            assert first.info["uid"] != second.info["uid"]


@pytest.mark.parametrize("mode", MODES)
def test_a_forked_worker_starts_from_a_state_no_submission_has_touched(students, mode):
    """Module state, the environment and the files of one student's worker are not in the
    next worker, of the same student or of another."""
    skip_unless(mode)
    alice, bob = students
    with backend(alice, mode) as first:
        seen, before, files = first.call("student", "remember", ("alice",), {})
        assert (seen, before, files) == (["alice"], None, ["notes.txt"])
    for folder in (alice, bob):
        with backend(folder, mode) as later:
            assert later.call("student", "first_look", (), {}) == [[], None, []]


@pytest.mark.parametrize("mode", MODES)
def test_a_worker_cannot_read_another_students_folder_or_touch_the_template(students, mode):
    skip_unless(mode)
    alice, bob = students
    with backend(alice, mode) as first, backend(bob, mode) as second:
        first.call("student", "remember", ("alice's answer",), {})
        alices_work = first.call("student", "where", (), {})
        alices_folder = alices_work.rsplit("/", 1)[0]
        found = ast.literal_eval(
            second.call(
                "student",
                "try_to_reach",
                (alices_folder, ["submission/student.py", "work/notes.txt"]),
                {},
            )
        )
        if second.info["landlock"]:
            assert found["submission/student.py"] == "PermissionError", found
            assert found["work/notes.txt"] == "PermissionError", found
        assert found["mem"] == found["environ"] == "PermissionError", found
        assert found["kill"] == "PermissionError", found
        # the template is untouched: both workers still answer, and a new one starts
        assert first.call("student", "first_look", (), {})[0] == ["alice's answer"]
    with backend(bob, mode) as third:
        assert third.call("student", "first_look", (), {}) == [[], None, []]


@pytest.mark.parametrize("mode", MODES)
def test_no_worker_of_one_student_runs_beside_the_next_in_grade_all(students, mode):
    """What a warm grader does between two students (``template.end_every_worker``): a
    worker left running is killed, its folder removed; asked again, it starts afresh."""
    skip_unless(mode)
    alice, _ = students
    left_running = backend(alice, mode)
    left_running.call("student", "remember", ("alice",), {})
    child = left_running._worker.process
    folder = left_running._scratch
    template.end_every_worker()
    assert child.wait(timeout=10) == -9
    assert not folder.exists()
    assert left_running.call("student", "first_look", (), {}) == [[], None, []]
    left_running.close()


@pytest.mark.parametrize("mode", MODES)
def test_without_the_template_each_worker_starts_on_its_own(students, mode, monkeypatch):
    if mode not in sandbox.available_modes():
        pytest.skip(f"{mode} mode unavailable here: {sandbox.bwrap_problem()}")
    monkeypatch.setenv("PRACTICUM_SANDBOX_TEMPLATE", "0")
    alice, _ = students
    with backend(alice, mode) as alone:
        assert alone.call("student", "first_look", (), {}) == [[], None, []]
        assert not isinstance(alone._worker.process, template.ForkedWorker)


@pytest.mark.parametrize("mode", MODES)
def test_a_template_that_cannot_start_here_leaves_each_worker_to_start_on_its_own(
    students, mode, monkeypatch, tmp_path
):
    skip_unless(mode)
    broken = tmp_path / "broken_worker.py"
    broken.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setattr(template, "WORKER_SOURCE", broken)
    monkeypatch.setattr(template, "_TEMPLATES", {})
    monkeypatch.setattr(template, "_BROKEN", set())
    alice, bob = students
    for folder in (alice, bob):
        with backend(folder, mode) as alone:
            assert alone.call("student", "first_look", (), {}) == [[], None, []]
            assert not isinstance(alone._worker.process, template.ForkedWorker)
    assert len(template._BROKEN) == 1  # tried once, then not again
    template.close_all()  # the broken one's scratch folder

"""The worker never runs as root and never sees the grader's environment or processes.

The grader runs as a separate process with a random ``PRACTICUM_TEST_SECRET`` in the
environment it was started with (what ``/proc/<pid>/environ`` shows) and a random token in
its command line. The submission, ``tests/fixtures/adversarial/read_secrets``, reads
``/proc/<ppid>/environ``, every ``/proc/*/environ`` and ``/proc/*/cmdline``, its own
environment, ``/etc/shadow`` and its uid, and sends all of it back in return values and
exception messages. In both modes (process mode: an unprivileged uid in its own mount and
PID namespace; bubblewrap), none of the secret, the token or the uid 0 comes back, and the
reports ``grader grade --out`` writes hold no trace of the secret either.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import practicum
from practicum.grader import sandbox

SPY = Path(__file__).resolve().parents[1] / "fixtures" / "adversarial" / "read_secrets"
MODES = ["process", "bwrap"]
DRIVER = """
import json, sys
from practicum.grader.running.proxy import Candidate, CandidateError
from practicum.grader.sandbox import SandboxBackend

backend = SandboxBackend(sys.argv[1], mode=sys.argv[2], call_timeout=30, quiet=True)
module = Candidate(backend, label="spy").module("style_losses")
found = {"returned": module.content_loss(1.0, 2.0)}
try:
    module.gram_matrix(1.0)
except CandidateError as error:
    found["raised"] = f"{error.summary}\\n{error.message}"
found["info"] = backend.info
backend.close()
print(json.dumps(found))
"""


def skip_unless(mode: str) -> None:
    if mode not in sandbox.available_modes():
        reason = sandbox.bwrap_problem() if mode == "bwrap" else sandbox.process_problem()
        pytest.skip(f"{mode} mode unavailable here: {reason}")


@pytest.fixture(scope="module")
def planted() -> dict[str, str]:
    return {
        "secret": f"practicum-secret-{secrets.token_hex(16)}",
        "token": f"grader-token-{secrets.token_hex(8)}",
    }


@pytest.mark.parametrize("mode", MODES)
def test_the_worker_sees_neither_the_grader_environment_nor_its_processes(mode, planted):
    skip_unless(mode)
    env = {**os.environ, "PRACTICUM_TEST_SECRET": planted["secret"]}
    completed = subprocess.run(
        [sys.executable, "-c", DRIVER, str(SPY), mode, planted["token"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=practicum.REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    returned, raised = found["returned"], found["raised"]
    for text in (returned, raised, completed.stderr):
        assert planted["secret"] not in text
        assert planted["token"] not in text, "the grader's command line is visible"
    uid = int(re.search(r"uid=(\d+) ", returned).group(1))
    assert uid != 0 and found["info"]["uid"] != 0
    assert "/etc/shadow: <PermissionError>" in returned
    assert "PRACTICUM_TEST_SECRET" not in returned  # not even the name: a minimal environment
    visible = re.findall(r"^/proc/(\d+)/cmdline: (.*)$", returned, re.M)
    assert visible and all("worker.py" in line or line.startswith("<") for _, line in visible), (
        "processes other than the worker are visible: "
        f"{[line[:80] for _, line in visible if 'worker.py' not in line]}"
    )


@pytest.mark.parametrize("mode", MODES)
def test_the_reports_of_a_spying_submission_hold_no_secret(mode, planted, tmp_path):
    skip_unless(mode)
    submission = tmp_path / "spy"
    shutil.copytree(SPY, submission)
    out = tmp_path / "out"
    env = {**os.environ, "PRACTICUM_TEST_SECRET": planted["secret"]}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "grade",
            str(submission),
            "--out",
            str(out),
            "--task",
            "style_losses",
            "--sandbox",
            mode,
            "--timeout",
            "10",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=practicum.REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    written = sorted(path for path in out.rglob("*") if path.is_file())
    assert {path.name for path in written} >= {"report.md", "grade.json"}
    for text in [
        completed.stdout,
        completed.stderr,
        *(path.read_text(errors="replace") for path in written),
    ]:
        assert planted["secret"] not in text
    grade = json.loads((out / "grade.json").read_text())
    assert "uid=" in json.dumps(grade), "the spy's findings did not reach the report"
    assert sum(task["score"] for task in grade["tasks"]) == 0


def test_process_mode_never_runs_a_submission_as_root():
    """On this machine the interpreter may sit where only root can read it (a pyenv under
    /root): process mode then opens exactly those paths in a private mount namespace, or
    refuses with a reason; it never falls back to running the worker as root."""
    isolation = sandbox.process_isolation()
    if os.getuid() != 0:
        pytest.skip("the grader is not root: the worker runs as the grader's own user")
    if isolation["problem"] is not None:
        with pytest.raises(RuntimeError, match="would run submissions as root"):
            sandbox.resolve_mode("process")
        return
    assert isolation["drop"] is True
    if isolation["expose"]:
        assert isolation["namespace"] is True


def test_without_namespaces_process_mode_refuses_rather_than_run_as_root(tmp_path):
    """With no ``unshare`` to be found (PATH empty), a root grader whose interpreter other
    users cannot read has no safe process mode: ``grader grade`` says why and grades
    nothing; with a readable interpreter, the worker just runs as an unprivileged uid."""
    if os.getuid() != 0:
        pytest.skip("the grader is not root")
    submission = tmp_path / "spy"
    shutil.copytree(SPY, submission)
    env = {**os.environ, "PATH": str(tmp_path / "nothing")}
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "from practicum.grader import sandbox; "
            "import json; print(json.dumps(sandbox.process_isolation()))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=practicum.REPO_ROOT,
    )
    isolation = json.loads(check.stdout)
    assert isolation["namespace"] is False
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "practicum.grader.cli",
            "grade",
            str(submission),
            "--out",
            str(tmp_path / "out"),
            "--task",
            "style_losses",
            "--sandbox",
            "process",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=practicum.REPO_ROOT,
    )
    if isolation["problem"] is None:  # a Python installation every user can read
        assert isolation["drop"] is True and completed.returncode == 0
        return
    assert completed.returncode == 2
    assert "process mode would run submissions as root" in completed.stderr
    assert "Install bubblewrap" in completed.stderr
    assert not (tmp_path / "out" / "grade.json").exists()

"""A grader process kept across students: ``grade-all``'s warm start.

A fresh ``grader grade`` process per student pays for Python, pytest and TensorFlow each
time (about 4 s of a 10 s grade). With a sandbox, no student code runs in the grader's own
process (each student's code runs in that student's own fresh sandboxed worker, started by
the student's own pytest session), so one grader process can grade student after student:
:func:`serve` reads one request per line on stdin and answers each on ``reply_fd`` when that
student's reports and ``grade.json`` are written. :class:`WarmGrader` is the other end, in
``grade-all``: one per job, restarted after ``students_per_process`` students (so memory
cannot creep up over a class), after a crash, or after a student that took too long.

Only the trusted side lives here: the request names a folder that ``grade-all`` chose;
nothing of a submission decides what this process does except through its sandboxed worker.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from practicum.grader.grading import grade

STUDENTS_PER_PROCESS = 20


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    """``preexec_fn`` of the grading processes: SIGKILL when grade-all dies."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(reply_fd: int) -> int:
    """Grades each request read from stdin (a JSON object per line: the keyword arguments
    of :func:`.grade.grade_submission` plus ``submission``); answers ``{"ok": true}`` or
    ``{"ok": false, "error": ...}`` per line on ``reply_fd``."""
    from practicum.grader.sandbox import resolve_mode, template

    for line in sys.stdin:
        try:
            request = json.loads(line)
            if request.get("sandbox") not in ("auto", "bwrap", "process"):
                raise ValueError("a warm grader runs submissions in a sandbox only")
            request["sandbox"] = resolve_mode(request["sandbox"])
            if "root" in request:
                request["root"] = Path(request["root"])
            grade.grade_submission(request.pop("submission"), **request)
            reply = {"ok": True}
        except Exception as error:  # noqa: BLE001 - one student's failure, reported
            reply = {"ok": False, "error": "".join(traceback.format_exception(error))[-2000:]}
        template.end_every_worker()  # no worker of this student runs beside the next
        os.write(reply_fd, (json.dumps(reply) + "\n").encode())
    return 0


class WarmGrader:
    """One long-lived ``grader grade-server`` process and the pipe of its answers."""

    def __init__(self, students_per_process: int = STUDENTS_PER_PROCESS) -> None:
        self.students_per_process = students_per_process
        self.process: subprocess.Popen | None = None
        self.served = 0
        self.starts = 0
        self._replies = -1
        self._stderr = None

    def grade(self, request: dict, timeout: float) -> dict:
        """Grades one student; ``{"ok": False, "error": ...}`` if it failed, took more
        than ``timeout`` seconds (the process is then killed) or the process died."""
        if self.process is None or self.served >= self.students_per_process:
            self._restart()
        self.served += 1
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            return self._died()
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                self.close()
                return {"ok": False, "error": f"grading took more than {timeout:g} s"}
            chunk = os.read(self._replies, 65536)
            if not chunk:
                return self._died()
            line += chunk
        return json.loads(line)

    def _died(self) -> dict:
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read().decode(errors="replace")[-2000:]
        self.close()
        return {"ok": False, "error": f"the grader process died: {tail}"}

    def _restart(self) -> None:
        self.close()
        read_end, write_end = os.pipe()
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "practicum.grader.cli", "grade-server", str(write_end)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            pass_fds=(write_end,),
            start_new_session=True,
            preexec_fn=die_with_parent,
            cwd=Path.cwd(),
        )
        os.close(write_end)
        self._replies = read_end
        self.served = 0
        self.starts += 1

    def close(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process.stdin.close()
            self.process = None
        if self._replies >= 0:
            os.close(self._replies)
            self._replies = -1
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

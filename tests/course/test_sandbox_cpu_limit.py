"""A worker over its CPU-time limit is reported as a timeout, in both modes.

The worker's soft CPU limit sends SIGXCPU (a few seconds before the hard limit's SIGKILL);
bubblewrap and process mode's own reaper report a death by signal as ``128 + signal``,
and both must read SIGXCPU as "too slow", not as a crash or a memory error.
"""

from __future__ import annotations

import pytest

from practicum.grader import sandbox
from practicum.grader.running.proxy import Candidate
from practicum.grader.sandbox import SandboxBackend, WorkerFailure

BURN = """
def burn():
    total = 0
    while True:
        total += 1
"""


@pytest.mark.parametrize("mode", ["process", "bwrap"])
def test_the_cpu_time_limit_is_reported_as_a_timeout(mode, tmp_path):
    if mode not in sandbox.available_modes():
        pytest.skip(f"{mode} mode unavailable here")
    (tmp_path / "burner.py").write_text(BURN)
    # the TensorFlow import costs a few CPU seconds of the worker's limit
    backend = SandboxBackend(tmp_path, mode=mode, call_timeout=120, cpu_seconds=20, quiet=True)
    try:
        with pytest.raises(WorkerFailure, match="SIGXCPU") as failure:
            Candidate(backend, label=mode).module("burner").burn()
    finally:
        backend.close()
    assert failure.value.is_a("TimeoutError"), failure.value.type_names
    assert "far too slow" in failure.value.summary

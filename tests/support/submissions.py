"""Submissions as students make them, from the known implementations' fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import practicum

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def on_top_of_the_stub(task: str, *parts: str) -> str:
    """A submission as a student makes it: the released stub of ``task`` (its provided
    helpers included), then the student's functions (``parts``: later definitions replace
    the stub's), so a fixture never carries a stale copy of provided code."""
    stub = (practicum.REPO_ROOT / "exercises" / f"{task}.py").read_text()
    if re.search(r"^from \.", stub, flags=re.M):
        # the stub imports the student's other modules (e.g. style_losses), which the
        # folder graded here does not hold: the fixture is a whole module instead
        return "\n\n# --- the mistake ---\n".join(parts)
    body = [re.sub(r"^from __future__ import .*$", "", part, flags=re.M) for part in parts]
    return "\n\n# --- the student's functions ---\n".join([stub, *body])


def known(task: str, name: str, base: str | None = None) -> str:
    """The module a student hands in for fixture ``name`` of ``task``: an ``independent_*``
    implementation, or a ``wrong/`` one on top of its base (see tests/fixtures/README.md;
    ``base`` chooses another correct implementation to plant the mistake in)."""
    right = FIXTURES / task / f"{name}.py"
    if right.is_file():
        return on_top_of_the_stub(task, right.read_text())
    mistake = (FIXTURES / task / "wrong" / f"{name}.py").read_text()
    found = re.search(r"^# base: (.+)$", mistake, re.M)
    if base is None:
        base = (
            found.group(1).strip()
            if found
            else sorted(path.stem for path in (FIXTURES / task).glob("independent_*.py"))[0]
        )
    return on_top_of_the_stub(task, (FIXTURES / task / f"{base}.py").read_text(), mistake)

"""The same submissions get the same verdicts on every TensorFlow version (issue 7).

The suite already grades many fixed submissions: the reference solutions (every task test),
every known right and wrong implementation and the stubs
(``tests/course/test_known_implementations.py``), and the adversarial corpus
(``tests/course/test_adversarial.py``, plain-process sandbox). When ``$PRACTICUM_VERDICTS``
names a folder, those tests also store each test's outcome there (:func:`record`), one JSON
file per part, with the versions they ran on; the reference's outcomes come from
``pytest --grade-report $PRACTICUM_VERDICTS/reference.json``. Messages are left out: they
may quote numbers that differ in the last digits.

    python -m tests.support.verdicts clear DIR              empty DIR before a run
    python -m tests.support.verdicts compare DIR1 DIR2 ...  fail on any difference
    python -m tests.support.verdicts compare DIR1 DIR2 --subset DIR2
                                          DIR2 ran only some of the grading tests

``compare`` checks each folder (the reference passes every test, the stubs fail every test,
every part is there), prints every test whose outcome differs between the folders, or that
one folder lacks, and exits with 1 if there is any. A folder named with ``--subset`` comes
from a run of only some of the grading tests (CI's version check, when too little time is
left for a whole environment): the parts it lacks are named, not failed, and each part is
compared among the folders that have it; the reference part is never optional.

tox runs the suite with ``PRACTICUM_VERDICTS={toxworkdir}/verdict-files/<env>`` in each
TensorFlow environment and ``compare`` in its ``verdicts`` environment, which installs
nothing: this module imports only the standard library, and :func:`record` imports
TensorFlow only to name its version.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

ENV_VAR = "PRACTICUM_VERDICTS"
PARTS = ("reference", "known_implementations", "adversarial")

Verdicts = dict[str, dict[str, str]]  # submission -> {test node id: outcome}


def environment() -> dict[str, str]:
    import platform

    import keras
    import numpy
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def record(part: str, graded: dict[str, list[dict]]) -> Path | None:
    """Stores ``submission -> outcome rows`` (the grader's JSON rows) as ``part``, if
    ``$PRACTICUM_VERDICTS`` is set; returns the file written."""
    folder = os.environ.get(ENV_VAR)
    if not folder:
        return None
    verdicts = {
        label: {row["nodeid"]: row["outcome"] for row in rows} for label, rows in graded.items()
    }
    path = Path(folder) / f"{part}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"environment": environment(), "verdicts": verdicts}, indent=1, sort_keys=True)
    )
    return path


def load(folder: Path, subset: bool = False) -> tuple[dict[str, str], Verdicts, list[str]]:
    """One environment's ``(versions, verdicts, problems)``; a part named ``reference`` may
    be the plugin's ``--grade-report`` (a list of rows). With ``subset``, only the reference
    part must be there."""
    versions: dict[str, str] = {}
    verdicts: Verdicts = {}
    problems = []
    for part in PARTS:
        path = folder / f"{part}.json"
        if not path.is_file():
            if subset and part != "reference":
                print(f"verdicts: {folder.name}: ran a subset, without {part}")
            else:
                problems.append(f"{path} is missing (did that test run, and pass?)")
            continue
        data = json.loads(path.read_text())
        if isinstance(data, list):
            data = {"verdicts": {part: {row["nodeid"]: row["outcome"] for row in data}}}
        versions.update(data.get("environment", {}))
        for label, rows in data["verdicts"].items():
            verdicts[f"{part}/{label}" if label != part else part] = rows
    return versions, verdicts, problems + problems_with(verdicts)


def problems_with(verdicts: Verdicts) -> list[str]:
    """What must hold in every environment, whatever the others say."""
    problems = [f"{label}: no test ran" for label, rows in verdicts.items() if not rows]
    reference = verdicts.get("reference", {})
    stubs = verdicts.get("known_implementations/exercises", {})
    problems += [
        f"reference: {test} {outcome}"
        for test, outcome in sorted(reference.items())
        if outcome != "passed"
    ]
    problems += [
        f"stubs: {test} {outcome}" for test, outcome in sorted(stubs.items()) if outcome != "failed"
    ]
    if reference and stubs and set(reference) != set(stubs):
        problems.append("the stubs and the reference ran different tests")
    return problems


def part_of(label: str) -> str:
    return label.split("/", 1)[0]


def differences(
    environments: dict[str, Verdicts], subsets: frozenset[str] = frozenset()
) -> list[str]:
    """One line per (submission, test) whose outcome is not the same in every environment
    that ran its part (every environment but those in ``subsets`` runs every part)."""
    lines = []
    labels = sorted({label for verdicts in environments.values() for label in verdicts})
    ran = {name: {part_of(label) for label in verdicts} for name, verdicts in environments.items()}
    for label in labels:
        graded = {
            name: verdicts
            for name, verdicts in environments.items()
            if name not in subsets or part_of(label) in ran[name]
        }
        tests = sorted({test for verdicts in graded.values() for test in verdicts.get(label, {})})
        for test in tests:
            outcomes = {
                name: verdicts.get(label, {}).get(test, "missing")
                for name, verdicts in graded.items()
            }
            if len(set(outcomes.values())) > 1:
                shown = ", ".join(f"{name}: {outcome}" for name, outcome in outcomes.items())
                lines.append(f"{label}: {test}: {shown}")
    return lines


def compare(folders: list[Path], subsets: frozenset[str] = frozenset()) -> int:
    """Prints each environment's checks and every difference between them; returns the exit
    status. ``subsets``: the names of the folders that ran only some parts."""
    if len(folders) < 2:
        print("verdicts: give the folders of at least two environments", file=sys.stderr)
        return 1
    unknown = sorted(subsets - {folder.name for folder in folders})
    if unknown:
        print(f"verdicts: --subset names no folder compared: {unknown}", file=sys.stderr)
        return 1
    environments, failed = {}, False
    for folder in folders:
        versions, verdicts, problems = load(folder, subset=folder.name in subsets)
        for problem in problems:
            print(f"verdicts: {folder.name}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        environments[folder.name] = verdicts
        shown = ", ".join(f"{key} {value}" for key, value in sorted(versions.items()))
        print(
            f"{folder.name}: {sum(map(len, verdicts.values()))} verdicts of "
            f"{len(verdicts)} submissions ({shown})"
        )
    lines = differences(environments, subsets)
    for line in lines:
        print(f"DIFFERENT {line}")
    if lines:
        print(f"verdicts: {len(lines)} outcome(s) differ between environments")
    elif not failed:
        print(f"verdicts: identical in {len(environments)} environments")
    return 1 if lines or failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.verdicts", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("clear").add_argument("folder", type=Path)
    comparing = commands.add_parser("compare")
    comparing.add_argument("folders", type=Path, nargs="+")
    comparing.add_argument(
        "--subset",
        action="append",
        default=[],
        metavar="NAME",
        help="a compared folder's name whose run left out some parts (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.command == "clear":
        shutil.rmtree(args.folder, ignore_errors=True)
        args.folder.mkdir(parents=True)
        return 0
    return compare(args.folders, frozenset(Path(name).name for name in args.subset))


if __name__ == "__main__":
    sys.exit(main())

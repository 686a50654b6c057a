"""``grader gradescope build``: the autograder zip for Gradescope.

Gradescope unzips the autograder into ``/autograder/source``, runs ``setup.sh`` once to build
the image, then for every submission copies ``run_autograder`` to ``/autograder`` and runs
it, with the student's files in ``/autograder/submission``; it reads the grade from
``/autograder/results/results.json``.

The zip holds the course (``pyproject.toml``, ``practicum/``, ``grader/``, ``datasets/``,
``solutions/``, the public and hidden tests, ``grading.toml``), ``setup.sh`` (installs the
exact versions of ``requirements-gradescope.txt``, the environment the zip was built in, and
fails the build loudly if that fails; apt installs bubblewrap if it can) and
``run_autograder`` (grades a copy of the
submission with ``grader grade --out``, sandboxed with the strongest mode available there,
and copies ``results.json``; if grading itself fails, it still writes a valid
``results.json`` with score 0 and the reason).

For local testing, ``run_autograder`` honours ``AUTOGRADER_ROOT`` (instead of
``/autograder``), ``PRACTICUM_PYTHON`` (instead of ``python3``), ``PRACTICUM_SANDBOX`` and
``PRACTICUM_SANDBOX_TIMEOUT``.
"""

from __future__ import annotations

import shlex
import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path

import practicum

INCLUDE = [
    "pyproject.toml",
    "README.md",
    "grading.toml",
    "practicum",
    "grader",
    "datasets",
    "solutions",
    "tests/__init__.py",
    "tests/public",
    "tests/hidden",
    "tests/support",
]
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", ".git"}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, to build the grading image.
# It stops (and Gradescope shows the build as failed) if the course cannot be installed
# with the exact versions it was tested with (requirements-gradescope.txt).
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "$0")"
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip python3-venv
# The sandbox: bubblewrap where the container allows it (else the grader says so and runs
# each submission in a process sandbox with resource limits, seccomp and Landlock).
apt-get install -y --no-install-recommends bubblewrap \\
  || echo "WARNING: bubblewrap could not be installed: submissions run in the process sandbox"
FLAGS=""  # an externally managed Python (PEP 668) needs --break-system-packages
python3 -m pip install --upgrade pip || FLAGS="--break-system-packages"
python3 -m pip install $FLAGS -r requirements-gradescope.txt
python3 -m pip install $FLAGS --no-deps -e .
python3 -c "import practicum.grader.cli, tensorflow, keras; print('course installed')"
python3 -c "from practicum.grader import sandbox as s; print(s.bwrap_problem() or 'bwrap works')"
{prefetch}"""

# The CIFAR-10 challenge is graded on the full data: fetched once, into the Keras cache of
# the image (the grading itself runs offline).
PREFETCH_CIFAR = """\
python3 -c "from practicum.datasets import load_cifar10; load_cifar10(source='cache')" \\
  || python3 -c "from practicum.datasets import load_cifar10; load_cifar10(source='download')" \\
  || echo "WARNING: no CIFAR-10 download: the challenge is graded on the embedded sample"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. It never exits without a results.json.
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{PRACTICUM_PYTHON:-python3}}"
SANDBOX="${{PRACTICUM_SANDBOX:-auto}}"
TIMEOUT="${{PRACTICUM_SANDBOX_TIMEOUT:-60}}"
WORK="$(mktemp -d)"
mkdir -p "$ROOT/results"
# Grade a copy: nothing the submission does can change what was handed in.
cp -r "$ROOT/submission" "$WORK/submission" 2>/dev/null || mkdir -p "$WORK/submission"
SUBMISSION="$WORK/submission"
# A submission uploaded as one folder: grade that folder.
if [ -z "$(find "$SUBMISSION" -maxdepth 1 -type f \\( -name '*.py' -o -name '*.ipynb' \\))" ] \\
   && [ "$(find "$SUBMISSION" -mindepth 1 -maxdepth 1 -type d | wc -l)" = 1 ]; then
  SUBMISSION="$(find "$SUBMISSION" -mindepth 1 -maxdepth 1 -type d)"
fi
cd "$ROOT/source"
# When it was handed in (Gradescope's metadata, outside the submission), for [late]
WHEN="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("created_at", ""))' \\
  "$ROOT/submission_metadata.json" 2>/dev/null || true)"
"$PY" -m practicum.grader.cli grade "$SUBMISSION" --out "$WORK/out" --student submission \\
  --sandbox "$SANDBOX" --timeout "$TIMEOUT" --config "$ROOT/source/grading.toml"{tasks} \\
  ${{WHEN:+--submitted-at "$WHEN"}} > "$WORK/grader.log" 2>&1
STATUS=$?
if [ $STATUS -eq 0 ] && [ -f "$WORK/out/results.json" ]; then
  cp "$WORK/out/results.json" "$ROOT/results/results.json.tmp"
  mv "$ROOT/results/results.json.tmp" "$ROOT/results/results.json"
else
  "$PY" - "$ROOT/results/results.json" "$WORK/grader.log" <<'EOF'
import json, sys
log = open(sys.argv[2], errors="replace").read()[-3000:]
json.dump({{"score": 0.0, "output": "The autograder could not grade this submission; "
           "please tell the course staff.\\n" + log, "output_format": "text",
           "visibility": "visible", "execution_time": 0,
           "stdout_visibility": "hidden", "tests": []}}, open(sys.argv[1], "w"), indent=1)
EOF
fi
if [ ! -s "$ROOT/results/results.json" ]; then
  # not even Python could run: a results.json written by the shell (no log text in it)
  printf '%s' '{{"score": 0.0, "output": "The autograder could not start its Python; ' \\
    'please tell the course staff.", "output_format": "text", "visibility": "visible", ' \\
    '"stdout_visibility": "hidden", "execution_time": 0, "tests": []}}' \\
    > "$ROOT/results/results.json"
fi
tail -n 20 "$WORK/grader.log"
rm -rf "$WORK"
exit 0
"""


def _files(root: Path) -> list[Path]:
    chosen = []
    for name in INCLUDE:
        path = root / name
        if path.is_file():
            chosen.append(path)
        elif path.is_dir():
            chosen += [
                item
                for item in sorted(path.rglob("*"))
                if item.is_file()
                and not SKIP_PARTS & set(item.relative_to(root).parts)
                and item.suffix != ".pyc"
            ]
    return chosen


def _add(archive: zipfile.ZipFile, name: str, data: bytes | str, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def pinned_requirements(distribution: str = "dl-practicum") -> str:
    """``name==version`` of every distribution the course needs, from this environment (the
    one its tests passed in), for ``setup.sh``: each rebuild gets the same versions."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: dict[str, str] = {}
    todo = [Requirement(text) for text in metadata.requires(distribution) or []]
    todo = [req for req in todo if req.marker is None or req.marker.evaluate({"extra": ""})]
    while todo:
        requirement = todo.pop()
        key = requirement.name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        seen[key] = f"{dist.metadata['Name']}=={dist.version}"
        for text in dist.requires or []:
            nested = Requirement(text)
            if nested.marker is None or nested.marker.evaluate({"extra": ""}):
                todo.append(nested)
    return "".join(f"{line}\n" for _, line in sorted(seen.items()))


def assignment_tasks(assignment: str) -> list[str]:
    """The tasks of an nbgrader assignment (``assignment2`` or ``A2``)."""
    from practicum.grader.authoring.assignments import ASSIGNMENTS

    name = {"A2": "assignment2", "A3": "assignment3"}.get(assignment.upper(), assignment)
    if name not in ASSIGNMENTS:
        raise ValueError(
            f"Received: --assignment {assignment}, expected one of "
            f"{', '.join(ASSIGNMENTS)} (or A2, A3)"
        )
    return list(ASSIGNMENTS[name].tasks)


def build_autograder(
    out: Path, *, root: Path = practicum.REPO_ROOT, tasks: Sequence[str] = ()
) -> Path:
    """Writes the autograder zip to ``out`` and returns its path."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    task_options = "".join(f" --task {shlex.quote(task)}" for task in tasks)
    temporary = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        prefetch = PREFETCH_CIFAR if not tasks or "cifar_challenge" in tasks else ""
        _add(archive, "setup.sh", SETUP_SH.format(prefetch=prefetch), True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.format(tasks=task_options), True)
        _add(archive, "requirements-gradescope.txt", pinned_requirements(), False)
        for path in _files(root):
            _add(archive, path.relative_to(root).as_posix(), path.read_bytes(), False)
    temporary.replace(out)
    return out

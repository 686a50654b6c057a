"""Peak memory and time of one Gradescope grading of the reference, per assignment.

Builds the zip (``grader gradescope build --assignment A``), lays it out as Gradescope does
(``ROOT/source``, ``ROOT/submission`` with the reference's modules), runs ``run_autograder``
and samples, every 0.1 s, the resident memory of its whole process tree (the trusted pytest
process and the sandboxed worker together: what a container's memory limit counts). The
anchor is Gradescope's default container, 768 MB.

    .venv/bin/python benchmarks/gradescope_memory.py [A2 A3]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADESCOPE_DEFAULT_MB = 768


def _pss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """The resident memory (RSS: shared pages counted in each process) and the proportional
    set size (PSS: shared pages split, closest to what a memory cgroup charges) of ``pid``
    and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parent, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
        rss[int(entry)] = pages
    total, pss, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        pss += _pss_kb(current) or 0
        todo += children.get(current, [])
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20, pss / 1024


def measure(assignment: str) -> dict:
    from practicum.grader.export import gradescope

    tasks = gradescope.assignment_tasks(assignment)
    with tempfile.TemporaryDirectory(prefix="gradescope-bench-") as scratch:
        root = Path(scratch)
        zip_path = gradescope.build_autograder(root / "autograder.zip", tasks=tasks)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root / "source")
        shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
        os.chmod(root / "run_autograder", 0o755)
        (root / "submission").mkdir()
        for task in tasks:
            shutil.copyfile(ROOT / "solutions" / f"{task}.py", root / "submission" / f"{task}.py")
        env = {
            **os.environ,
            "AUTOGRADER_ROOT": str(root),
            "PRACTICUM_PYTHON": sys.executable,
            "PRACTICUM_OFFLINE": "1",
        }
        begin = time.monotonic()
        process = subprocess.Popen(
            [str(root / "run_autograder")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        peak = peak_pss = 0.0
        while process.poll() is None:
            rss, pss = tree_memory_mb(process.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            time.sleep(0.1)
        seconds = time.monotonic() - begin
        results = json.loads((root / "results" / "results.json").read_text())
    maximum = sum(test["max_score"] for test in results["tests"])
    return {
        "assignment": assignment,
        "tasks": tasks,
        "peak_rss_mb": round(peak),
        "peak_pss_mb": round(peak_pss),
        "seconds": round(seconds, 1),
        "score": results["score"],
        "max_score": round(maximum, 2),
        "pss_ratio_to_768mb": round(peak_pss / GRADESCOPE_DEFAULT_MB, 2),
    }


def main() -> None:
    load = os.getloadavg()[0]
    for assignment in sys.argv[1:] or ["A2", "A3"]:
        figures = measure(assignment)
        print(json.dumps({**figures, "load_before": round(load, 1)}))


if __name__ == "__main__":
    main()

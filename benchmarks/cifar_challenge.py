"""The CIFAR-10 challenge graded as the grader grades it: calibrated budget, sandboxed attempt.

    .venv/bin/python benchmarks/cifar_challenge.py [--budget 60 ...] [--repeat 2]
        [--cpus 2 --cpus 1] [--attempt solutions --attempt preset] [--data-dir DIR]

Loads CIFAR-10 through the real loader (``practicum.datasets.load_cifar10``; give a folder
laid out like the Keras cache with ``--data-dir`` or ``PRACTICUM_DATA_DIR``; make one from
the shared JPEG mirror with ``python datasets/make_full_cifar.py DIR``). For each CPU
allowance (``--cpus N`` pins this process and so the sandboxed workers to N cores), budget
and attempt, it runs :func:`practicum.grader.running.challenge.run_attempt` ``--repeat``
times, as ``grader grade`` does: a fresh worker, the calibration, the budget times the
machine factor, the attempt, the accuracy computed here. Attempts: ``solutions`` (the
reference recipe), ``preset`` (the anchor: Model Builder's "convolutional" preset with
plain SGD, ``tests/fixtures/cifar_challenge/attempts/preset.py``) or a folder holding a
``cifar_challenge.py``. Prints one line per attempt with the load average, then the
accuracy of each attempt over the preset's in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def load_solution(name: str):
    """Imports ``solutions/<name>.py`` the way the grader does (a synthetic package)."""
    package = "_practicum_solutions_bench"
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(ROOT / "solutions")]
        sys.modules[package] = module
    return importlib.import_module(f"{package}.{name}")


def upper_bound(budget: float, batch_size: int, images_per_second: float = 50_000) -> int:
    """A number of batches that ``budget`` seconds cannot exhaust (``train`` then stops on
    its ``max_seconds``); ``batch_indices`` draws them all up front, so not 10**9."""
    return int(budget * images_per_second / batch_size) + 10


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def attempt_folder(name: str, scratch: Path) -> Path:
    """A folder holding the attempt's ``cifar_challenge.py``."""
    folder = scratch / name.replace("/", "_")
    folder.mkdir(exist_ok=True)
    if name == "solutions":
        shutil.copy(ROOT / "solutions" / "cifar_challenge.py", folder)
    elif name == "preset":
        from tests.support.submissions import FIXTURES, on_top_of_the_stub

        source = (FIXTURES / "cifar_challenge" / "attempts" / "preset.py").read_text()
        (folder / "cifar_challenge.py").write_text(on_top_of_the_stub("cifar_challenge", source))
    else:
        shutil.copy(Path(name) / "cifar_challenge.py", folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, action="append", default=[])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cpus", type=int, action="append", default=[])
    parser.add_argument(
        "--busy",
        type=int,
        default=0,
        help="also run this many busy-looping processes on the same cores (with --cpus 1 "
        "--busy 1 the attempt gets half a CPU, like Gradescope's default container)",
    )
    parser.add_argument("--threads", type=int, default=None, help="override grading.toml's")
    parser.add_argument("--attempt", action="append", default=[])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "process"])
    options = parser.parse_args()
    budgets = options.budget or [60.0]
    attempts = options.attempt or ["solutions", "preset"]
    cpus = options.cpus or [len(os.sched_getaffinity(0))]

    from practicum.datasets import last_source, load_cifar10
    from practicum.grader.grading.scoring import load_config
    from practicum.grader.running.challenge import ChallengeBudget, ChallengeSettings, run_attempt
    from practicum.grader.running.proxy import Candidate
    from practicum.grader.sandbox import SandboxBackend

    train, test = load_cifar10(data_dir=options.data_dir, progress=False)
    source = last_source("cifar10")
    print(f"CIFAR-10 from {source!r}: {len(train[0])} train, {len(test[0])} test images")
    table = load_config(ROOT / "grading.toml").tasks.get("cifar_challenge", {})
    all_cores = sorted(os.sched_getaffinity(0))
    results: dict[tuple, list[float]] = {}
    busy = f" shared with {options.busy} busy process(es)" if options.busy else ""
    with tempfile.TemporaryDirectory() as scratch:
        for count in cpus:
            os.sched_setaffinity(0, set(all_cores[:count]))
            spinners = [
                subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(options.busy)
            ]
            threads = {"threads": options.threads} if options.threads is not None else {}
            settings = ChallengeSettings.from_table({**table, **threads})
            for seconds in budgets:
                budget = ChallengeBudget(seconds=seconds, sample_seconds=seconds)
                for name in attempts:
                    folder = attempt_folder(name, Path(scratch))
                    for run in range(options.repeat):
                        with SandboxBackend(folder, mode=options.sandbox, quiet=True) as backend:
                            candidate = Candidate(backend, label=name)
                            result = run_attempt(candidate, train, test, budget, settings, source)
                        results.setdefault((count, seconds, name), []).append(result.accuracy)
                        print(
                            f"[{name}] {count} CPU(s){busy}, {settings.worker_threads()} "
                            f"thread(s), budget {seconds:g} s, run {run + 1}: "
                            f"accuracy {100 * result.accuracy:.2f} %, calibration "
                            f"{result.calibration_seconds:.3f} s -> factor {result.factor:.2f}, "
                            f"budget {result.budget_seconds:.1f} s, trained "
                            f"{result.train_seconds:.1f} s, call {result.wall_seconds:.1f} s, "
                            f"{result.parameters:,} parameters, {load()}",
                            flush=True,
                        )
            for spinner in spinners:
                spinner.kill()
    os.sched_setaffinity(0, set(all_cores))
    print("\nsummary (mean accuracy, spread over runs, ratio to the preset in the same setting):")
    for (count, seconds, name), values in results.items():
        anchor = results.get((count, seconds, "preset"))
        mean = sum(values) / len(values)
        ratio = f", x{mean / (sum(anchor) / len(anchor)):.2f} the preset" if anchor else ""
        print(
            f"  {name:>10} {count} CPU(s) {seconds:>5g} s: {100 * mean:.2f} % "
            f"(spread {100 * (max(values) - min(values)):.2f} points over {len(values)}){ratio}"
        )


if __name__ == "__main__":
    main()

"""The CIFAR-10 challenge: the reference recipe's test accuracy within a training budget.

    .venv/bin/python benchmarks/cifar_challenge.py --budget 60 [--budget 300 ...]
        [--data-dir DIR] [--anchor] [--seed 0] [--width 32 --lr 0.2 ...]

Loads CIFAR-10 through the real loader (``practicum.datasets.load_cifar10``; give a folder
laid out like the Keras cache with ``--data-dir`` or ``PRACTICUM_DATA_DIR``; make one from
the shared JPEG mirror with ``python datasets/make_full_cifar.py DIR``), trains
``solutions/cifar_challenge.py``'s recipe for each budget (training wall time; loading and
evaluation excluded) and prints the test accuracy, the steps and the images per second.
``--anchor`` also trains the handout's "convolutional" preset (Model Builder) with SGD for
the same budget, through ``solutions/training.py``. The load average is printed with every
figure: the machines are shared.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The anchor's knobs: plain SGD as in the handout, a batch size that keeps a CPU busy.
ANCHOR = {"learning_rate": 0.05, "batch_size": 64, "optimizer": "sgd"}


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--budget",
        type=float,
        action="append",
        default=[],
        help="training seconds (repeatable; default 60)",
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--anchor", action="store_true", help="also train the 'convolutional' preset with SGD"
    )
    parser.add_argument(
        "--no-challenge", action="store_true", help="skip the reference recipe (anchor only)"
    )
    parser.add_argument("--seed", type=int, default=0)
    for field in dataclasses.fields(load_solution("cifar_challenge").Recipe):
        kind = {"bool": lambda text: text.lower() in ("1", "true", "yes")}.get(
            str(field.type), eval(str(field.type))
        )  # noqa: S307 - int/float/bool only
        parser.add_argument(
            f"--{field.name.replace('_', '-')}",
            type=kind,
            default=None,
            help="override the recipe's value",
        )
    options = parser.parse_args()
    budgets = options.budget or [60.0]

    from practicum.datasets import last_source, load_cifar10

    challenge = load_solution("cifar_challenge")
    started = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_cifar10(data_dir=options.data_dir)
    print(
        f"CIFAR-10 from source {last_source('cifar10')!r}: {len(x_train)} train, "
        f"{len(x_test)} test images, loaded in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    for budget in budgets:
        if not options.no_challenge:
            recipe = challenge.recipe_for_budget(budget)
            changes = {
                field.name: getattr(options, field.name)
                for field in dataclasses.fields(recipe)
                if getattr(options, field.name) is not None
            }
            recipe = dataclasses.replace(recipe, **changes)
            print(f"[challenge] budget {budget:.0f} s, {recipe}, {load()}", flush=True)
            result = challenge.train_challenge(
                x_train, y_train, x_test, y_test, budget, recipe=recipe, seed=options.seed
            )
            print(
                f"[challenge] budget {budget:.0f} s: test accuracy "
                f"{result['test_accuracy']:.4f}, {result['steps']} steps "
                f"({result['epochs']:.2f} epochs), {result['images_per_second']:.0f} "
                f"images/s, trained {result['train_seconds']:.1f} s, evaluated "
                f"{result['eval_seconds']:.1f} s, {result['parameters']} parameters, "
                f"{load()}",
                flush=True,
            )
        if options.anchor:
            training = load_solution("training")
            data = training.load_data("cifar10", data_dir=options.data_dir)
            print(
                f"[anchor] 'convolutional' preset, {ANCHOR}, budget {budget:.0f} s, {load()}",
                flush=True,
            )
            history = training.train(
                "convolutional",
                "cifar10",
                num_batches=upper_bound(budget, ANCHOR["batch_size"]),
                max_seconds=budget,
                eval_every=10**9,
                data=data,
                seed=options.seed,
                **ANCHOR,
            )
            images = history["num_batches"] * ANCHOR["batch_size"]
            print(
                f"[anchor] budget {budget:.0f} s: test accuracy "
                f"{history['test_accuracy']:.4f}, {history['num_batches']} steps "
                f"({images / len(x_train):.2f} epochs), "
                f"{images / history['wall_time']:.0f} images/s, {load()}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""The handouts' experiments as one command: ``python -m practicum.sweep``.

Trains a grid of Model Builder models and hyperparameters with your ``training`` module
(``--impl``, default ``exercises/`` in the student release) and writes, into
``build/sweep/`` (or ``--out``):

* ``results.csv`` and ``results.md``: one row per run: the settings, the final loss (mean of
  the last tenth of the batches), the test accuracy, examples per second in training and
  inferences per second on the test set;
* ``curves.png``: the accuracy curve of every run; ``final.png``: the final accuracy per run.

Presets reproduce the handouts' questions (``--preset``):

* ``batch-grid`` (A2 1.6): the same number of training examples split into batches three
  ways, for 900, 2500 and 4900 examples (9 x 100, 100 x 9, 30 x 30, ...);
* ``learning-rate``: 0.001 to 1 on the convolutional model;
* ``conv`` (A3 3.6): the convolutional preset with another field size, stride, number of
  filters or activation;
* ``depth`` (A3 3.6): one to five conv blocks.

``--vary name=v1,v2`` adds or replaces a setting's values (``learning_rate``,
``batch_size``, ``num_batches``, ``model``: a Model Builder preset name), and the grid is
every combination; ``--dataset all`` runs it on MNIST, Fashion-MNIST and CIFAR-10. Offline it
uses the embedded samples (seconds per run); with the full data present, the full data.

Example::

    python -m practicum.sweep --preset batch-grid
    python -m practicum.sweep --vary learning_rate=0.01,0.1 --vary batch_size=20,100 \\
        --vary num_batches=20,200 --dataset all
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import sys
import time
from pathlib import Path

from practicum import REPO_ROOT
from practicum.student_run import default_impl, load, unwritten

DATASETS = ("mnist", "fashion_mnist", "cifar10")
DEFAULTS = {"model": "convolutional", "learning_rate": 0.1, "batch_size": 32, "num_batches": 100}
_RELU = {"type": "relu"}


def conv_model(
    blocks: int = 1, kernel: int = 5, stride: int = 1, filters: int = 16, activation: str = "relu"
) -> list[dict]:
    """Model Builder's convolutional preset with ``blocks`` conv blocks and its knobs."""
    layers = []
    for _ in range(blocks):
        layers += [
            {"type": "conv", "filters": filters, "kernel": kernel, "stride": stride},
            {"type": "maxpool", "field": 2, "stride": 2},
            {"type": activation},
        ]
    return [*layers, {"type": "flatten"}, {"type": "fc", "units": 10}, {"type": "softmax"}]


def preset_runs(name: str) -> list[dict]:
    """The runs of a preset (each a dict of settings; ``model`` a name or layer specs)."""
    if name == "batch-grid":
        splits = [
            (9, 100),
            (100, 9),
            (30, 30),
            (25, 100),
            (100, 25),
            (50, 50),
            (49, 100),
            (100, 49),
            (70, 70),
        ]
        return [{"batch_size": size, "num_batches": count} for size, count in splits]
    if name == "learning-rate":
        return [{"learning_rate": rate} for rate in (0.001, 0.01, 0.1, 1.0)]
    if name == "conv":
        variants = [
            ("field 5 (preset)", {}),
            ("field 3", {"kernel": 3}),
            ("stride 2", {"stride": 2}),
            ("8 filters", {"filters": 8}),
            ("32 filters", {"filters": 32}),
            ("tanh", {"activation": "tanh"}),
            ("leaky relu", {"activation": "leaky_relu"}),
        ]
        return [{"model": conv_model(**knobs), "label": label} for label, knobs in variants]
    if name == "depth":
        return [
            {"model": conv_model(blocks=depth, kernel=3), "label": f"{depth} conv block(s)"}
            for depth in range(1, 6)
        ]
    raise ValueError(
        f"Received: --preset {name}, expected batch-grid, learning-rate, conv or depth"
    )


def parse_vary(items: list[str]) -> dict[str, list]:
    """``["lr=0.01,0.1"]`` -> ``{"learning_rate": [0.01, 0.1]}``; ValueError if malformed."""
    aliases = {"lr": "learning_rate", "batches": "num_batches"}
    grid: dict[str, list] = {}
    for item in items:
        key, _, values = item.partition("=")
        key = aliases.get(key.strip(), key.strip())
        if key not in DEFAULTS or not values:
            raise ValueError(
                f"Received: --vary {item}, expected NAME=V1,V2 with NAME one of "
                f"{', '.join(DEFAULTS)} (or lr)"
            )
        convert = str if key == "model" else float if key == "learning_rate" else int
        try:
            grid[key] = [convert(value) for value in values.split(",")]
        except ValueError:
            raise ValueError(f"Received: --vary {item}, expected numbers for {key}") from None
    return grid


def grid_runs(preset: str | None, vary: dict[str, list]) -> list[dict]:
    base = preset_runs(preset) if preset else [{}]
    keys = sorted(vary)
    runs = []
    for run in base:
        for values in itertools.product(*(vary[key] for key in keys)):
            runs.append({**DEFAULTS, **run, **dict(zip(keys, values))})
    return runs


def label_of(run: dict) -> str:
    knobs = [f"{key}={run[key]}" for key in ("learning_rate", "batch_size", "num_batches")]
    model = run.get("label") or (run["model"] if isinstance(run["model"], str) else "custom")
    return f"{model}, " + ", ".join(knobs)


def one_run(training, builder, run: dict, dataset: str, data) -> dict:
    (x_train, _), (x_test, y_test) = data
    specs = builder.preset(run["model"]) if isinstance(run["model"], str) else run["model"]
    model = builder.build_model(tuple(x_train.shape[1:]), specs)
    history = training.train(
        model,
        dataset,
        learning_rate=run["learning_rate"],
        batch_size=run["batch_size"],
        num_batches=run["num_batches"],
        data=data,
        eval_every=max(1, run["num_batches"] // 10),
    )
    begin = time.perf_counter()
    model.predict(x_test, verbose=0, batch_size=500)
    inference = time.perf_counter() - begin
    tail = history["loss"][-max(1, len(history["loss"]) // 10) :]
    return {
        "dataset": dataset,
        "run": label_of(run),
        "learning_rate": run["learning_rate"],
        "batch_size": run["batch_size"],
        "num_batches": history["num_batches"],
        "examples": run["batch_size"] * history["num_batches"],
        "final_loss": round(sum(tail) / len(tail), 4),
        "test_accuracy": round(history["test_accuracy"], 4),
        "examples_per_s": round(
            run["batch_size"] * history["num_batches"] / max(history["wall_time"], 1e-9)
        ),
        "inferences_per_s": round(len(x_test) / max(inference, 1e-9)),
        "curve": list(zip(history["eval_batches"], history["eval_accuracy"])),
    }


COLUMNS = [
    "dataset",
    "run",
    "learning_rate",
    "batch_size",
    "num_batches",
    "examples",
    "final_loss",
    "test_accuracy",
    "examples_per_s",
    "inferences_per_s",
]


def tables(rows: list[dict]) -> tuple[str, str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([[row[column] for column in COLUMNS] for row in rows])
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row[column]) for column in COLUMNS) + " |" for row in rows]
    return out.getvalue(), "\n".join(lines) + "\n"


def plots(rows: list[dict], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 5))
    for row in rows:
        batches, accuracy = zip(*row["curve"]) if row["curve"] else ((), ())
        axis.plot(batches, accuracy, marker=".", label=f"{row['dataset']}: {row['run']}")
    axis.set_xlabel("batches")
    axis.set_ylabel("accuracy (test images)")
    axis.set_title("Accuracy during training, every run")
    axis.legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(out / "curves.png", dpi=100)
    plt.close(figure)
    figure, axis = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.5))
    axis.barh(
        [f"{row['dataset']}: {row['run']}" for row in rows][::-1],
        [row["test_accuracy"] for row in rows][::-1],
        color="#4a7ab5",
    )
    axis.set_xlabel("final test accuracy")
    axis.set_xlim(0, 1)
    axis.set_title("Final accuracy per run")
    axis.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    figure.savefig(out / "final.png", dpi=100)
    plt.close(figure)
    return [out / "curves.png", out / "final.png"]


def progress(done: int, total: int, text: str) -> None:
    bar = "#" * round(20 * done / total)
    print(f"[{bar:<20}] {done}/{total} {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default=None, help="batch-grid, learning-rate, conv or depth")
    parser.add_argument("--vary", action="append", default=[], help="NAME=V1,V2 (repeatable)")
    parser.add_argument("--dataset", default="mnist", choices=[*DATASETS, "all"])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "sweep")
    parser.add_argument("--impl", type=Path, default=default_impl("training"))
    options = parser.parse_args(argv)
    try:
        runs = grid_runs(options.preset, parse_vary(options.vary))
    except ValueError as error:
        parser.exit(2, f"practicum.sweep: {error}\n")
    training, builder = load(options.impl, "training"), load(options.impl, "model_builder")
    datasets = DATASETS if options.dataset == "all" else (options.dataset,)
    rows, total = [], len(runs) * len(datasets)
    for dataset in datasets:
        data = training.load_data(dataset)
        for run in runs:
            try:
                row = one_run(training, builder, run, dataset, data)
            except NotImplementedError as error:
                print(f"practicum.sweep: {unwritten(error, 'training')}")
                return 1
            rows.append(row)
            progress(
                len(rows),
                total,
                f"{dataset}: {row['run']}: accuracy "
                f"{row['test_accuracy']:.3f}, {row['examples_per_s']} examples/s",
            )
    options.out.mkdir(parents=True, exist_ok=True)
    as_csv, as_md = tables(rows)
    (options.out / "results.csv").write_text(as_csv)
    (options.out / "results.md").write_text(as_md)
    written = plots(rows, options.out)
    print(
        f"practicum.sweep: {len(rows)} run(s): {options.out / 'results.md'}, "
        + ", ".join(str(path) for path in written)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The reference MLP and CNN on MNIST and Fashion-MNIST: test accuracy within a budget.

    .venv/bin/python benchmarks/small_datasets_bench.py [--budget 60] [--data-dir DIR]
        [--dataset mnist --dataset fashion_mnist] [--model mlp --model cnn]

Trains through ``solutions/training.py`` (``train`` with ``max_seconds``: training wall
time; loading and the final evaluation excluded) and prints the test accuracy, the
batches and the images per second, with the load average. The data comes through the real
loaders: ``--data-dir`` (or ``PRACTICUM_DATA_DIR``) is a folder laid out like the Keras
cache (``mnist.npz``, ``fashion-mnist/*.gz``); without one, offline, the committed samples
(3,000 training images each). For the shared copies, make a scratch folder of links, never
committed::

    mkdir -p /tmp/small && ln -s /work/shared/datasets/mnist-10k.npz /tmp/small/mnist.npz
    ln -s /work/shared/datasets/fashion-mnist /tmp/small/fashion-mnist

(``mnist-10k.npz`` holds 10,000 real digits: 7,996 for training and 2,004 for testing.)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cifar_challenge import load, load_solution, upper_bound  # noqa: E402

# The reference models (Model Builder layer specs) and their knobs.
MODELS = {
    "mlp": (
        [
            {"type": "flatten"},
            {"type": "fc", "units": 256},
            {"type": "relu"},
            {"type": "fc", "units": 128},
            {"type": "relu"},
            {"type": "fc", "units": 10},
            {"type": "softmax"},
        ],
        {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64},
    ),
    "cnn": ("convolutional", {"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64}),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--dataset", action="append", default=[], choices=["mnist", "fashion_mnist"]
    )
    parser.add_argument("--model", action="append", default=[], choices=sorted(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    from practicum.datasets import last_source

    training = load_solution("training")
    for dataset in options.dataset or ["mnist", "fashion_mnist"]:
        data = training.load_data(dataset, data_dir=options.data_dir)
        (x_train, _), (x_test, _) = data
        print(
            f"{dataset} from source {last_source(dataset)!r}: {len(x_train)} train, "
            f"{len(x_test)} test images",
            flush=True,
        )
        for name in options.model or ["mlp", "cnn"]:
            model, knobs = MODELS[name]
            history = training.train(
                model,
                dataset,
                num_batches=upper_bound(options.budget, knobs["batch_size"]),
                max_seconds=options.budget,
                eval_every=10**9,
                data=data,
                seed=options.seed,
                **knobs,
            )
            images = history["num_batches"] * knobs["batch_size"]
            print(
                f"[{dataset} {name}] {knobs}, budget {options.budget:.0f} s: test accuracy "
                f"{history['test_accuracy']:.4f}, {history['num_batches']} batches "
                f"({images / len(x_train):.1f} epochs), "
                f"{images / history['wall_time']:.0f} images/s, {load()}",
                flush=True,
            )


if __name__ == "__main__":
    main()

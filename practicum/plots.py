"""The course's plots from your own code, offline: ``python -m practicum.plots``.

Trains Model Builder's ``convolutional`` preset (your ``model_builder.build_model``; the
provided ``training.small_model`` while that is a stub) with your ``training.train_step``
for ``--batches`` batches of the embedded data set (``--dataset``: mnist, fashion_mnist or
cifar10), then writes into ``build/plots/`` (or ``--out``):

* ``training.png``: the loss per batch and the accuracy curve (``training.plot_history``);
* ``confusion_matrix.png`` and ``reliability.png``: your ``metrics`` on the test images;
* ``confidently_wrong.png``: the test images your ``inspect_model.most_confidently_wrong``
  picks, each above its class probabilities;
* ``activations.png``: your ``inspect_model.layer_activations`` of one test image.

A plot whose function is not written yet is skipped with one line naming it (see
:mod:`practicum.student_run`). ``--impl`` chooses the folder of modules (default:
``exercises/`` in the student release).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from practicum import REPO_ROOT
from practicum.student_run import Stages, default_impl, load

INPUT_SHAPES = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=sorted(INPUT_SHAPES), default="mnist")
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "plots")
    parser.add_argument("--impl", type=Path, default=default_impl("training"))
    options = parser.parse_args(argv)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    training, metrics, inspect = (
        load(options.impl, name) for name in ("training", "metrics", "inspect_model")
    )
    from practicum.datasets.catalog import get_spec

    class_names = list(get_spec(options.dataset).class_names)
    stages = Stages()
    data = training.load_data(options.dataset)
    (_, _), (x_test, y_test) = data
    shape = INPUT_SHAPES[options.dataset]

    def build():
        builder = load(options.impl, "model_builder")
        return builder.build_model(shape, builder.preset("convolutional"))

    model = stages.run(
        "model (model_builder.build_model)",
        "model_builder",
        build,
        show=lambda m: f"{len(m.layers)} layers, {m.count_params()} weights",
    )
    if model is None:
        model = training.small_model(shape, len(class_names))
        print(f"  using the provided training.small_model{shape} instead", flush=True)

    def train():
        history = training.train(
            model,
            options.dataset,
            learning_rate=0.05,
            batch_size=32,
            num_batches=options.batches,
            data=data,
        )
        training.plot_history(
            history,
            str(out / "training.png"),
            title=f"{options.dataset}: {options.batches} batches",
        )
        return f"{out / 'training.png'} (test accuracy {history['test_accuracy']:.3f})"

    stages.run("training curve", "training", train)
    probs = model.predict(x_test, verbose=0)
    stages.run(
        "confusion matrix",
        "metrics",
        lambda: metrics.plot_confusion_matrix(
            metrics.confusion_matrix(y_test, probs, len(class_names)),
            class_names,
            str(out / "confusion_matrix.png"),
        ),
    )
    stages.run(
        "reliability diagram",
        "metrics",
        lambda: metrics.plot_reliability_diagram(y_test, probs, str(out / "reliability.png")),
    )
    stages.run(
        "most confidently wrong",
        "inspect_model",
        lambda: inspect.plot_confidently_wrong(
            x_test,
            probs,
            y_test,
            inspect.most_confidently_wrong(probs, y_test, 8),
            class_names,
            str(out / "confidently_wrong.png"),
        ),
    )
    stages.run(
        "activation maps",
        "inspect_model",
        lambda: inspect.plot_activation_maps(
            inspect.layer_activations(model, x_test[0]),
            str(out / "activations.png"),
            layer_names=[layer.name for layer in model.layers],
        ),
    )
    return stages.finish()


if __name__ == "__main__":
    sys.exit(main())

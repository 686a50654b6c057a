"""The provided parts of ``training.py`` and ``inspect_model.py``: training runs, plots.

These are provided code (no answer regions), so they are tested here on the reference
solutions rather than graded: a tiny training run on the committed MNIST sample lowers the
loss, and every plot writes a valid PNG of a sensible size. Each test takes a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from practicum import SOLUTIONS_DIR
from practicum.grader.running.proxy import Candidate, CandidateError, InProcessBackend

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def solutions():
    return Candidate(InProcessBackend(SOLUTIONS_DIR), label="solutions")


@pytest.fixture(scope="module")
def training(solutions):
    return solutions.module("training")


@pytest.fixture(scope="module")
def inspect(solutions):
    return solutions.module("inspect_model")


@pytest.fixture(scope="module")
def mnist_history(training):
    """60 batches of 32 on the committed MNIST sample, SGD, the one-layer preset."""
    return training.train(
        "one_layer",
        "mnist",
        learning_rate=0.5,
        batch_size=32,
        num_batches=60,
        optimizer="sgd",
        seed=0,
        source="sample",
        eval_every=20,
    )


def expect_png(path, min_side: int = 200, max_side: int = 4000) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG file"
    assert len(data) > 5_000, f"{path.name} has only {len(data)} bytes: is the figure empty?"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("L"))
    assert min_side <= width <= max_side and min_side <= height <= max_side, (
        f"{path.name} is {width} x {height} pixels"
    )
    assert pixels.std() > 5, f"{path.name} is nearly blank"
    return width, height


def test_a_short_training_run_lowers_the_loss(mnist_history):
    losses = np.asarray(mnist_history["loss"])
    assert losses.shape == (60,), f"{losses.shape[0]} losses recorded, expected one per batch"
    assert np.all(np.isfinite(losses))
    assert losses[-15:].mean() < 0.7 * losses[:5].mean(), (
        f"the loss went from {losses[:5].mean():.3f} to {losses[-15:].mean():.3f}"
    )
    assert mnist_history["num_batches"] == 60
    assert mnist_history["eval_batches"] == [20, 40, 60]
    assert 0.5 < mnist_history["test_accuracy"] <= 1.0, mnist_history["test_accuracy"]
    assert mnist_history["wall_time"] > 0


@pytest.mark.parametrize(
    ("preset", "optimizer", "dataset", "rate"),
    [
        ("convolutional", "adam", "fashion_mnist", 0.003),
        ("convolutional", "momentum", "cifar10", 0.01),
    ],
)
def test_training_on_every_data_set_and_optimizer(training, preset, optimizer, dataset, rate):
    history = training.train(
        preset,
        dataset,
        learning_rate=rate,
        batch_size=16,
        num_batches=30,
        optimizer=optimizer,
        seed=1,
        source="sample",
        eval_every=30,
        eval_size=200,
    )
    losses = np.asarray(history["loss"])
    assert losses.shape == (30,) and np.all(np.isfinite(losses))
    assert losses[-10:].mean() < losses[:3].mean(), f"{dataset}: {losses[:3]} -> {losses[-10:]}"
    assert 0.0 <= history["test_accuracy"] <= 1.0


def test_training_is_repeatable_with_a_seed(training):
    runs = [
        training.train(
            "one_layer",
            "mnist",
            learning_rate=0.1,
            batch_size=8,
            num_batches=5,
            seed=3,
            source="sample",
            eval_every=5,
        )
        for _ in range(2)
    ]
    np.testing.assert_allclose(runs[0]["loss"], runs[1]["loss"], rtol=1e-5)


def test_max_seconds_stops_early(training):
    history = training.train(
        "one_layer",
        "mnist",
        learning_rate=0.1,
        batch_size=8,
        num_batches=10**6,
        seed=0,
        source="sample",
        max_seconds=1.0,
        eval_every=10**9,
    )
    assert 0 < history["num_batches"] < 10**6 and history["wall_time"] < 10


def test_train_rejects_an_unknown_optimizer(training):
    with pytest.raises(CandidateError) as error:
        training.train("one_layer", "mnist", optimizer="sgdd", num_batches=1, source="sample")
    assert error.value.is_a("ValueError") and "sgdd" in error.value.message


def test_load_data_scales_images_and_adds_the_channels_axis(training):
    (x_train, y_train), (x_test, y_test) = training.load_data("mnist", source="sample")
    assert x_train.shape[1:] == (28, 28, 1) and x_train.dtype == np.float32
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0 and x_train.max() > 0.9
    assert y_train.shape == (len(x_train),) and y_test.shape == (len(x_test),)
    (cifar, labels), _ = training.load_data("cifar10", source="sample")
    assert cifar.shape[1:] == (32, 32, 3) and labels.ndim == 1


def test_plot_history_writes_a_png(training, mnist_history, tmp_path):
    path = tmp_path / "history.png"
    assert training.plot_history(mnist_history, str(path)) == str(path)
    width, height = expect_png(path)
    assert width > height, "the loss and the accuracy side by side"


def test_plot_history_without_evaluations(training, tmp_path):
    path = tmp_path / "loss_only.png"
    training.plot_history({"loss": [2.3, 2.0, 1.5, 1.4]}, str(path))
    expect_png(path)


def test_plot_confidently_wrong_writes_a_png(inspect, tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=(30, 1))
    logits = rng.normal(size=(30, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    indices = inspect.most_confidently_wrong(probs, labels, 6)
    assert len(indices) == 6
    path = tmp_path / "wrong.png"
    names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    assert inspect.plot_confidently_wrong(images, probs, labels, indices, names, str(path)) == str(
        path
    )
    expect_png(path)
    grey = tmp_path / "grey.png"
    inspect.plot_confidently_wrong(
        rng.random((30, 28, 28)), probs, labels, indices[:1], [str(d) for d in range(10)], str(grey)
    )
    expect_png(grey, min_side=150)


def test_plot_activation_maps_writes_a_png(inspect, tmp_path):
    image = np.random.default_rng(1).random((28, 28, 1)).astype(np.float32)
    activations = inspect.example_activations("conv", image, 0)
    path = tmp_path / "activations.png"
    names = [layer["name"] for layer in inspect.example_model("conv", 0)["layers"]]
    assert inspect.plot_activation_maps(
        activations, str(path), max_maps=6, layer_names=names
    ) == str(path)
    width, height = expect_png(path)
    assert height > width / 2, "one row per layer"


def test_plot_activation_maps_rejects_an_empty_list(inspect, tmp_path):
    with pytest.raises(CandidateError) as error:
        inspect.plot_activation_maps([], str(tmp_path / "x.png"))
    assert error.value.is_a("ValueError")
    assert not (tmp_path / "x.png").exists()


# --------------------------------------------------------------------------- the challenge


@pytest.fixture(scope="module")
def challenge(solutions):
    return solutions.module("cifar_challenge")


def test_the_challenge_recipe_keeps_to_its_budget(challenge, training):
    (x_train, y_train), (x_test, _) = training.load_data("cifar10", source="sample")
    result = challenge.run_challenge(x_train, y_train, x_test[:200], 4.0)
    assert np.asarray(result["predictions"]).shape == (200,) and not result["stopped"]
    # building and the first step (which also traces the graph) count; then the budget holds
    assert result["train_seconds"] < 4.0 + 3.0, result["train_seconds"]


def test_the_one_cycle_schedule_rises_then_falls_to_zero(challenge):
    rates = [challenge.one_cycle(p, 0.2, 0.2) for p in np.linspace(0, 1, 11)]
    assert rates[0] == pytest.approx(0.02) and max(rates) == pytest.approx(0.2)
    assert rates[-1] == pytest.approx(0.0) and rates.index(max(rates)) == 2


def test_augmentation_keeps_shapes_and_pixels(challenge):
    batch = np.random.default_rng(0).random((8, 32, 32, 3)).astype(np.float32)
    shifted = np.asarray(challenge.augment(batch, np.random.default_rng(1), True, 4))
    assert shifted.shape == batch.shape and shifted.dtype == np.float32
    same = np.asarray(challenge.augment(batch, np.random.default_rng(1), False, 0))
    np.testing.assert_array_equal(same, batch)

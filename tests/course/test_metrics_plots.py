"""The provided plots of ``metrics.py`` write valid PNG files of a sensible size.

The plots are provided code (no answer regions), so they are tested here, on the reference
solutions, rather than graded: a student's ``exercises/metrics.py`` has the same code.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from practicum import SOLUTIONS_DIR
from practicum.grader.running.proxy import Candidate, CandidateError, InProcessBackend

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(scope="module")
def metrics():
    return Candidate(InProcessBackend(SOLUTIONS_DIR), label="solutions").module("metrics")


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, len(CLASSES), size=(200, 1))  # (N, 1), as CIFAR-10's labels
    logits = rng.normal(size=(200, len(CLASSES))) + 3 * np.eye(len(CLASSES))[labels[:, 0]]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probs


def expect_png(path, min_side: int = 200, max_side: int = 3000) -> tuple[int, int]:
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


def test_plot_confusion_matrix_writes_a_png(metrics, predictions, tmp_path):
    labels, probs = predictions
    matrix = metrics.confusion_matrix(labels, probs, len(CLASSES))
    path = tmp_path / "confusion.png"
    returned = metrics.plot_confusion_matrix(matrix, CLASSES, str(path))
    assert returned == str(path)
    width, height = expect_png(path)
    assert 0.5 <= width / height <= 2, f"a confusion matrix plot of {width} x {height}"


def test_plot_confusion_matrix_of_two_classes(metrics, tmp_path):
    path = tmp_path / "small.png"
    metrics.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["no", "yes"], str(path))
    expect_png(path)


def test_plot_confusion_matrix_rejects_the_wrong_number_of_names(metrics, tmp_path):
    with pytest.raises(CandidateError) as error:
        metrics.plot_confusion_matrix(np.eye(3, dtype=int), ["a", "b"], str(tmp_path / "x.png"))
    assert error.value.is_a("ValueError")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("n_bins", [5, 15])
def test_plot_reliability_diagram_writes_a_png(metrics, predictions, tmp_path, n_bins):
    labels, probs = predictions
    path = tmp_path / f"reliability{n_bins}.png"
    returned = metrics.plot_reliability_diagram(labels, probs, str(path), n_bins=n_bins)
    assert returned == str(path)
    expect_png(path)


def test_plot_reliability_diagram_handles_certain_predictions(metrics, tmp_path):
    path = tmp_path / "certain.png"
    metrics.plot_reliability_diagram(
        [0, 1, 1], np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), str(path)
    )
    expect_png(path)

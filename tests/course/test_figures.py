"""The style-transfer figures: every panel is titled and labelled, so that compared images
(zero against reflection padding, chained against direct) cannot be told apart only by
position. Drawn with matplotlib's Agg backend (no display)."""

from __future__ import annotations

import numpy as np
import pytest

from practicum import SOLUTIONS_DIR, experiments
from practicum import images as image_io
from practicum.grader.running.proxy import InProcessBackend


@pytest.fixture(scope="module")
def net():
    import keras

    fast_style = InProcessBackend(SOLUTIONS_DIR)._load("fast_style")
    keras.utils.set_random_seed(0)
    return fast_style.transform_net()


@pytest.fixture(scope="module")
def photo():
    return np.random.default_rng(0).uniform(0, 1, (32, 40, 3)).astype(np.float32)


def test_a_panels_figure_titles_and_labels_every_panel():
    images = [np.zeros((8, 12, 3)), np.ones((10, 10, 3)), np.full((1, 4, 8, 3), 0.5)]
    figure = image_io.panels_figure(
        images,
        ["photo", "reflection padding", "zero padding"],
        title="Reflection against zero padding",
    )
    assert [axis.get_title() for axis in figure.axes] == [
        "photo",
        "reflection padding",
        "zero padding",
    ]
    assert [axis.get_xlabel() for axis in figure.axes] == ["12 x 8 px", "10 x 10 px", "8 x 4 px"]
    assert figure.get_suptitle() == "Reflection against zero padding"


def test_a_panels_figure_needs_one_title_per_image():
    with pytest.raises(ValueError, match="one title per image"):
        image_io.panels_figure([np.zeros((4, 4, 3))] * 2, ["only one"])


def test_save_panels_writes_a_png(tmp_path):
    path = image_io.save_panels([np.zeros((8, 8, 3))], ["black"], tmp_path / "f" / "a.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "experiment, expected",
    [
        ("padding", ["photo", "reflection padding", "zero padding (same weights)"]),
        ("repeated", ["photo", "pass 1", "pass 2"]),
        ("chained", ["photo", "first(photo)", "second(first(photo))", "second(photo)"]),
    ],
)
def test_every_experiment_figure_has_one_distinct_title_per_panel(
    net, photo, tmp_path, experiment, expected
):
    path = tmp_path / f"{experiment}.png"
    run = {
        "padding": lambda: experiments.padding_comparison(net, photo, save_to=path),
        "repeated": lambda: experiments.repeated_application(net, photo, passes=2, save_to=path),
        "chained": lambda: experiments.chained_vs_direct(net, net, photo, save_to=path),
    }
    result = run[experiment]()
    assert result["panels"] == expected
    assert path.stat().st_size > 0


def test_run_style_transfer_saves_titled_panels(tmp_path):
    transfer = InProcessBackend(SOLUTIONS_DIR)._load("style_transfer")
    image = np.random.default_rng(1).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    result = transfer.run_style_transfer(
        image, image, network="tiny", steps=1, save_to=tmp_path / "r.png"
    )
    assert result["panels"] == ["content", "style", "result, 1 steps"]
    assert (tmp_path / "r.png").stat().st_size > 0

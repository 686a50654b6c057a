"""The handout's 3.5 experiments (``practicum/experiments.py``) on a random-weight
transformation network from the reference solutions: the numbers have the promised form and
the obvious cases come out right."""

from __future__ import annotations

import numpy as np
import pytest

from practicum import SOLUTIONS_DIR, experiments
from practicum.grader.running.proxy import InProcessBackend


@pytest.fixture(scope="module")
def net():
    fast_style = InProcessBackend(SOLUTIONS_DIR)._load("fast_style")
    import keras

    keras.utils.set_random_seed(0)
    return fast_style.transform_net()


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(0)
    smooth = rng.uniform(0, 1, (12, 12, 3))
    return np.kron(smooth, np.ones((4, 4, 1))).astype(np.float32)  # 48x48, blocky


def identity(images, training=False):
    return images


def test_repeated_application_reports_drift_per_pass_and_border_brightness(net, photo, tmp_path):
    result = experiments.repeated_application(
        net, photo, passes=3, save_to=tmp_path / "repeated.png"
    )
    assert len(result["drift"]) == 3 and len(result["border_minus_centre"]) == 4
    assert all(d >= 0 for d in result["drift"])
    assert (tmp_path / "repeated.png").stat().st_size > 0
    same = experiments.repeated_application(identity, photo, passes=2)
    assert same["drift"] == [0.0, 0.0]


def test_chaining_after_an_identity_filter_is_the_direct_result(net, photo, tmp_path):
    result = experiments.chained_vs_direct(identity, net, photo, save_to=tmp_path / "c.png")
    assert result["ssim"] == pytest.approx(1.0, abs=1e-5)
    assert result["mean_abs_difference"] == pytest.approx(0.0, abs=1e-6)
    other = experiments.chained_vs_direct(net, net, photo)
    assert -1.0 <= other["ssim"] <= 1.0 and np.isfinite(other["psnr"])


def test_zero_padding_changes_the_border_more_than_the_centre(net, photo, tmp_path):
    result = experiments.padding_comparison(net, photo, band=6, save_to=tmp_path / "p.png")
    assert result["border_change"] > result["centre_change"] >= 0
    assert result["border_change"] > 0
    flat = np.full((32, 32, 3), 0.5, np.float32)
    reflect = experiments.padding_comparison(net, flat, band=4)
    assert abs(reflect["reflect_border_minus_centre"]) < 1e-4  # a flat photo stays flat


def test_every_shipped_style_network_keeps_the_photo_and_paints_its_own_style():
    from practicum import images as image_io

    fast_style = InProcessBackend(SOLUTIONS_DIR)._load("fast_style")
    cat = image_io.load_image(image_io.embedded("cat_chelsea"), max_side=128, multiple=4)
    results = {
        style: fast_style.stylize(fast_style.pretrained(style), cat)
        for style in sorted(fast_style.SHIPPED)
    }
    assert len(results) >= 2, "the chained-filters experiment needs two shipped styles"
    for style, result in results.items():
        assert result.shape == cat.shape and 0.0 <= result.min() <= result.max() <= 1.0
        assert np.abs(result - cat).mean() > 0.05, f"{style} leaves the photo unchanged"
        assert experiments.ssim(result, cat) > 0.2, f"{style} loses the photo"
    first, second = results.values()
    assert experiments.ssim(first, second) < 0.9, "two styles give the same image"

"""Hidden tests for ``style_transfer.py``: the candidate against the reference, with the
likely mistakes named (``tests/support/mistakes/style_transfer.py``). The loss network is the
tiny stand-in (``"tiny"``); each call's arrays share one dtype (float32 or float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import expect_close
from tests.support.mistakes import style_transfer as mistakes
from tests.support.style_strategies import (
    FEW,
    TINY,
    float_dtypes,
    loss_terms,
    rgb_images,
    sgd_descent,
    squares,
    term_gradients,
    tiny_features,
)

pytestmark = [pytest.mark.hidden, pytest.mark.task("style_transfer")]


@pytest.fixture(scope="module")
def transfer(candidate):
    return candidate.module("style_transfer")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("style_transfer")


@given(image=rgb_images(max_side=16), dtype=float_dtypes())
def test_style_targets_match_the_reference(transfer, ref, image, dtype):
    expected = [np.asarray(t, np.float64) for t in ref.style_targets(TINY, image)]
    actual = transfer.style_targets(TINY, image.astype(dtype))
    assert isinstance(actual, list) and len(actual) == len(expected), (
        f"style_targets should return a list of {len(expected)} Gram matrices"
    )
    features = tiny_features(image)["style"]
    for index, (got, want) in enumerate(zip(actual, expected)):
        expect_close(
            got,
            want,
            what=f"style_targets(image of shape {image.shape})[{index}]",
            scale=squares(want),
            mistakes=mistakes.style_target_mistakes(want, features[index]),
        )


@given(
    content=rgb_images(min_side=4, max_side=14),
    data=st.data(),
    weight=st.floats(0.0, 1.0),
    tv_weight=st.sampled_from([0.0, 0.7, 5.0]),
    dtype=float_dtypes(),
)
def test_transfer_loss_matches_the_reference(
    transfer, ref, content, data, weight, tv_weight, dtype
):
    style = data.draw(rgb_images(min_side=4, max_side=14), label="style")
    image = np.clip(content + data.draw(st.floats(-0.3, 0.3), label="shift"), 0, 1)
    image = image[:, ::-1].astype(np.float32)
    targets_c = [np.asarray(t, dtype) for t in ref.content_targets(TINY, content)]
    targets_s = [np.asarray(t, dtype) for t in ref.style_targets(TINY, style)]
    expected = float(
        np.asarray(ref.transfer_loss(TINY, image, targets_c, targets_s, weight, tv_weight))
    )
    actual = transfer.transfer_loss(
        TINY, image.astype(dtype), targets_c, targets_s, weight, tv_weight
    )
    terms = loss_terms(image, targets_c, targets_s)
    expect_close(
        actual,
        expected,
        what=f"transfer_loss(weight={weight:.3g}, tv_weight={tv_weight})",
        scale=abs(expected) + 1,
        rtol=1e-3,
        mistakes=mistakes.transfer_loss_mistakes(terms, weight, tv_weight),
    )


@pytest.mark.parametrize("weight, tv_weight", [(0.7, 0.0), (0.4, 2.0)])
def test_transfer_loss_matches_the_reference_on_a_telling_example(transfer, ref, weight, tv_weight):
    """A fixed call on which each classic mistake of transfer_loss gives its own value: the
    content targets are the image's own (content loss 0), so the style term, whose layers'
    weights differ, is the whole loss but for total variation, and a mistake is named."""
    rng = np.random.default_rng(3)
    style = rng.uniform(0, 1, (10, 14, 3))
    image = rng.uniform(0, 1, (12, 10, 3)).astype(np.float32)
    targets_c = [np.asarray(t, np.float32) for t in ref.content_targets(TINY, image)]
    targets_s = [np.asarray(t, np.float32) for t in ref.style_targets(TINY, style)]
    expected = float(
        np.asarray(ref.transfer_loss(TINY, image, targets_c, targets_s, weight, tv_weight))
    )
    actual = transfer.transfer_loss(TINY, image, targets_c, targets_s, weight, tv_weight)
    expect_close(
        actual,
        expected,
        what=f"transfer_loss(weight={weight}, tv_weight={tv_weight}), content targets of the "
        "image itself",
        scale=abs(expected),
        rtol=1e-3,
        mistakes=mistakes.transfer_loss_mistakes(
            loss_terms(image, targets_c, targets_s), weight, tv_weight
        ),
    )


@FEW
@given(image=rgb_images(min_side=8, max_side=12), weight=st.floats(0.1, 0.9), dtype=float_dtypes())
def test_transfer_loss_gradient_matches_the_reference(transfer, ref, image, weight, dtype):
    style = np.ascontiguousarray(image[::-1])
    targets_c = [
        np.asarray(t, dtype) for t in ref.content_targets(TINY, np.clip(image * 0.8 + 0.1, 0, 1))
    ]
    targets_s = [np.asarray(t, dtype) for t in ref.style_targets(TINY, style)]
    arguments = (TINY, image.astype(dtype), targets_c, targets_s, weight, 0.3)
    value, (expected,) = ref.value_and_grad("transfer_loss", *arguments, wrt=(1,))
    actual_value, (actual,) = transfer.value_and_grad("transfer_loss", *arguments, wrt=(1,))
    what = f"transfer_loss(image of shape {image.shape}, weight={weight:.3g}, tv_weight=0.3)"
    terms = loss_terms(image, targets_c, targets_s)
    expect_close(
        actual_value,
        value,
        what=what,
        rtol=1e-3,
        scale=abs(float(value)) + 1,
        mistakes=mistakes.transfer_loss_mistakes(terms, weight, 0.3),
    )
    assert actual is not None, (
        f"the gradient of {what} with respect to the image is None\n"
        f"Likely mistake: {mistakes.NUMPY_IN_LOSS.format(terms='the loss has')}"
    )
    expected = np.asarray(expected, np.float64)
    parts = term_gradients(image, targets_c, targets_s, weight, 0.3)
    expect_close(
        np.asarray(actual).reshape(expected.shape),
        expected,
        what=f"the gradient of {what}",
        rtol=1e-3,
        atol=1e-4 * float(np.abs(expected).max(initial=1.0)),
        mistakes=mistakes.gradient_mistakes(parts),
    )


@pytest.mark.parametrize("optimizer, learning_rate", [("sgd", 0.02), ("adam", 0.05), ("sgd", 50.0)])
def test_style_transfer_steps_match_the_reference(transfer, ref, optimizer, learning_rate):
    rng = np.random.default_rng(7)
    content = rng.uniform(0, 1, (12, 16, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (16, 12, 3)).astype(np.float32) ** 2
    arguments = dict(
        network=TINY,
        steps=3,
        weight=0.6,
        tv_weight=0.2,
        learning_rate=learning_rate,
        optimizer=optimizer,
        init="noise",
        seed=3,
    )
    expected = ref.run_style_transfer(content, style, **{**arguments, "steps": 4})
    call = (
        f"run_style_transfer(content (12, 16, 3), style (16, 12, 3), steps=3, "
        f"optimizer={optimizer!r}, learning_rate={learning_rate}, init='noise')"
    )
    actual = mistakes.name_numpy_error(
        lambda: transfer.run_style_transfer(content, style, **arguments), call
    )
    assert actual["tracing_count"] == 1, (
        f"transfer_step was traced {actual['tracing_count']} times, expected once"
    )
    image = np.asarray(actual["image"])
    if image.min() < 0 or image.max() > 1:
        raise AssertionError(
            f"{call}: the image has values in [{image.min():.3g}, "
            f"{image.max():.3g}], expected [0, 1]\n"
            f"Likely mistake: {mistakes.NO_CLIP}"
        )
    unclipped = (
        sgd_descent(content, style, 3, learning_rate, 0.6, 0.2, 3, clip=False)["before"]
        if optimizer == "sgd"
        else [np.nan] * 3
    )
    expect_close(
        actual["losses"],
        expected["losses"][:3],
        what=f"{call}['losses']",
        rtol=1e-3,
        scale=abs(expected["losses"][0]) + 1,
        mistakes=mistakes.step_mistakes(expected["losses"][1:], unclipped),
    )
    reference_image = ref.run_style_transfer(content, style, **arguments)["image"]
    expect_close(image, reference_image, what=f"{call}['image']", atol=2e-3, rtol=1e-3)


def test_style_transfer_on_real_sizes_lowers_the_loss(transfer):
    rng = np.random.default_rng(11)
    content = rng.uniform(0, 1, (32, 28, 3)).astype(np.float32)
    style = np.clip(rng.normal(0.5, 0.3, (20, 20, 3)), 0, 1).astype(np.float32)
    result = mistakes.name_numpy_error(
        lambda: transfer.run_style_transfer(
            content, style, network=TINY, steps=25, learning_rate=0.03, weight=0.8, tv_weight=0.5
        ),
        "run_style_transfer(content (32, 28, 3), style (20, 20, 3), steps=25)",
    )
    losses = result["losses"]
    assert losses[-1] < 0.7 * losses[0] and min(losses) >= 0, (
        f"25 steps took the loss from {losses[0]:.4g} to {losses[-1]:.4g}, expected at "
        f"least 30% lower (below {0.7 * losses[0]:.4g}) and never negative"
    )

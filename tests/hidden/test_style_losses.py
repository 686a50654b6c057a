"""Hidden tests for ``style_losses.py``: the candidate against the reference solutions.

Inputs are drawn by hypothesis (derandomised when grading), float32 or float64 with one
dtype per call; the reference (``--reference``) computes the expected value; a wrong value
is matched against the catalogue of classic mistakes (:mod:`tests.support.mistakes.style_losses`,
the same as the public tests use), so that the feedback can name the mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.compare import expect_close, expect_error
from tests.support.mistakes import style_losses as mistakes
from tests.support.strategies import (
    as_input,
    feature_map_pairs,
    feature_maps,
    input_kinds,
    layer_weights,
    style_problems,
    unit_weights,
)

pytestmark = [pytest.mark.hidden, pytest.mark.task("style_losses")]

TYPICAL = mistakes.typical_features(seed=10)  # (2, 2, 3, 2): every mistake has its own value
TYPICAL64 = mistakes.typical_features(seed=11, dtype=np.float64)
PAIR = (TYPICAL, mistakes.typical_features(seed=12))
LAYERS = [TYPICAL, mistakes.typical_features((2, 3, 4, 3), seed=13)]
ONE_STYLE_IMAGE = [
    mistakes.typical_features((1, 2, 2), seed=14),
    mistakes.typical_features((1, 3, 3), seed=15),
]


@pytest.fixture(scope="module")
def losses(candidate):
    return candidate.module("style_losses")


@pytest.fixture(scope="module")
def ref(reference):
    return reference.module("style_losses")


def f64(array) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def squares(array) -> float:
    return float(np.sum(np.square(f64(array))))


# --------------------------------------------------------------------------- against the reference


def described(features) -> str:
    return f"features of shape {features.shape}, {features.dtype}"


@given(features=feature_maps(), normalize=st.booleans(), kind=input_kinds)
@example(features=TYPICAL, normalize=True, kind="numpy")
@example(features=TYPICAL64, normalize=False, kind="tensor")
def test_gram_matrix_matches_the_reference(losses, ref, features, normalize, kind):
    expected = f64(ref.gram_matrix(f64(features), normalize=normalize))
    actual = losses.gram_matrix(as_input(kind, features), normalize=normalize)
    expect_close(
        actual,
        expected,
        what=f"gram_matrix({described(features)}, normalize={normalize})",
        mistakes=mistakes.gram_mistakes(features, normalize),
        scale=squares(features) / (1 if normalize else features[0, ..., 0].size) + 1,
    )


@given(pair=feature_map_pairs(), kind=input_kinds)
@example(pair=PAIR, kind="tensor")
def test_content_loss_matches_the_reference(losses, ref, pair, kind):
    generated, target = pair
    expected = f64(ref.content_loss(f64(generated), f64(target)))
    actual = losses.content_loss(as_input(kind, generated), as_input(kind, target))
    expect_close(
        actual,
        expected,
        what=f"content_loss(generated and target of shape {generated.shape}, {generated.dtype})",
        mistakes=mistakes.content_mistakes(generated, target),
        scale=squares(generated) + squares(target),
    )


def candidate_grams(losses, layers) -> list[np.ndarray] | None:
    """The candidate's own Gram matrices (to blame gram_matrix), or None if it fails."""
    try:
        return [f64(losses.gram_matrix(layer)) for layer in layers]
    except Exception:  # noqa: BLE001 - gram_matrix's own tests report its errors
        return None


@given(
    problem=style_problems(one_style_image=True),
    weighted=st.booleans(),
    kind=input_kinds,
    data=st.data(),
)
@example(problem=(LAYERS, ONE_STYLE_IMAGE), weighted=True, kind="numpy", data=None)
def test_style_loss_matches_the_reference(losses, ref, problem, weighted, kind, data):
    layers, targets = problem  # one style image: each target is broadcast over the batch
    if data is None:  # the explicit example
        weights = [0.5, 2.0]
    else:
        weights = data.draw(layer_weights(len(layers)), label="weights") if weighted else None
    expected = f64(ref.style_loss([f64(f) for f in layers], [f64(t) for t in targets], weights))
    actual = losses.style_loss(
        [as_input(kind, f) for f in layers], [as_input(kind, t) for t in targets], weights
    )
    scale = sum(squares(ref.gram_matrix(f64(f))) + squares(t) for f, t in zip(layers, targets))
    shapes = ", ".join(str(f.shape) for f in layers)
    expect_close(
        actual,
        expected,
        what=f"style_loss(features of shapes {shapes}, "
        f"{layers[0].dtype}, targets, layer_weights={weights})",
        scale=scale * (1 + sum(weights or [1.0])),
        mistakes=mistakes.style_mistakes(layers, targets, weights, candidate_grams(losses, layers)),
    )


@given(images=feature_maps(max_channels=3), kind=input_kinds)
@example(images=TYPICAL, kind="numpy")
@example(images=TYPICAL64, kind="tensor")
def test_total_variation_loss_matches_the_reference(losses, ref, images, kind):
    expected = f64(ref.total_variation_loss(f64(images)))
    actual = losses.total_variation_loss(as_input(kind, images))
    expect_close(
        actual,
        expected,
        what=f"total_variation_loss(images of shape {images.shape}, {images.dtype})",
        mistakes=mistakes.variation_mistakes(images),
        scale=4 * squares(images),
    )


@given(
    content=st.floats(0, 1e3),
    style=st.floats(0, 1e3),
    weight=unit_weights,
    kind=st.sampled_from(["float", np.float32, np.float64]),
    tensor=st.booleans(),
)
@example(content=10.0, style=2.0, weight=0.25, kind=np.float64, tensor=True)
def test_total_loss_matches_the_reference(losses, ref, content, style, weight, kind, tensor):
    expected = f64(ref.total_loss(content, style, weight))

    def given_as(value):
        if kind == "float":
            return value
        return as_input("tensor" if tensor else "numpy", np.asarray(value, kind))

    actual = losses.total_loss(given_as(content), given_as(style), weight)
    expect_close(
        actual,
        expected,
        what=f"total_loss({content}, {style}, weight={weight}) "
        f"({'float' if kind == 'float' else np.dtype(kind).name})",
        mistakes=mistakes.total_mistakes(content, style, weight),
        scale=content + style,
    )


# --------------------------------------------------------------------------- gradients


@given(features=feature_maps(), normalize=st.booleans())
@example(features=TYPICAL, normalize=True)
def test_gram_matrix_gradient_matches_the_reference(losses, ref, features, normalize):
    call = f"gram_matrix({described(features)}, normalize={normalize})"
    _, (expected,) = ref.value_and_grad("gram_matrix", f64(features), normalize=normalize)
    _, (actual,) = losses.value_and_grad("gram_matrix", features, normalize=normalize)
    actual = mistakes.gradient(actual, expected, call=call, function="gram_matrix")
    expect_close(
        actual,
        expected,
        what=f"the gradient of sum({call})",
        scale=4 * float(np.abs(features).max(initial=1.0)),
    )


@given(pair=feature_map_pairs(), equal=st.booleans())
@example(pair=PAIR, equal=False)
def test_content_loss_gradient_matches_the_reference(losses, ref, pair, equal):
    generated, target = pair
    if equal:
        target = generated.copy()  # the norm's gradient would be NaN here; the square's is 0
    call = f"content_loss(generated of shape {generated.shape}, {generated.dtype}, target)"
    _, (expected,) = ref.value_and_grad("content_loss", f64(generated), f64(target))
    _, (actual,) = losses.value_and_grad("content_loss", generated, target)
    actual = mistakes.gradient(actual, expected, call=call, function="content_loss")
    expect_close(
        actual,
        expected,
        what=f"the gradient of {call}",
        scale=float(np.abs(generated).max(initial=1.0)) * 4,
    )


@given(problem=style_problems(), at_minimum=st.booleans())
@example(problem=(LAYERS, [t.repeat(2, axis=0) for t in ONE_STYLE_IMAGE]), at_minimum=False)
def test_style_loss_gradient_matches_the_reference(losses, ref, problem, at_minimum):
    layers, targets = problem
    if at_minimum:
        targets = [f64(ref.gram_matrix(f64(f))).astype(f.dtype) for f in layers]
    _, (expected,) = ref.value_and_grad(
        "style_loss", [f64(f) for f in layers], [f64(t) for t in targets]
    )
    _, (actual,) = losses.value_and_grad("style_loss", layers, targets)
    for index, (got, want) in enumerate(zip(actual, expected)):
        call = f"style_loss(features, targets) for layer {index}"
        got = mistakes.style_gradient(losses, got, layers[index], call=call)
        scale = float(np.abs(want).max(initial=1.0)) + squares(layers[index])
        expect_close(got, want, what=f"the gradient of {call}", scale=scale)


@given(images=feature_maps(max_channels=3))
def test_total_variation_gradient_matches_the_reference(losses, ref, images):
    call = f"total_variation_loss(images of shape {images.shape}, {images.dtype})"
    _, (expected,) = ref.value_and_grad("total_variation_loss", f64(images))
    _, (actual,) = losses.value_and_grad("total_variation_loss", images)
    actual = mistakes.gradient(actual, expected, call=call, function="total_variation_loss")
    expect_close(
        actual,
        expected,
        what=f"the gradient of {call}",
        scale=16 * float(np.abs(images).max(initial=1.0)),
    )


# --------------------------------------------------------------------------- properties


@given(features=feature_maps(min_side=2), seed=st.integers(0, 2**16), scale=st.floats(0.1, 3))
def test_gram_matrix_is_symmetric_psd_shuffle_invariant_and_quadratic(
    losses, features, seed, scale
):
    batch, height, width, channels = features.shape
    gram = f64(losses.gram_matrix(features))
    size = squares(features) + 1
    expect_close(gram, np.swapaxes(gram, 1, 2), what="gram_matrix transposed", scale=size)
    assert np.linalg.eigvalsh((gram + np.swapaxes(gram, 1, 2)) / 2).min() >= -1e-4 * size, (
        "gram_matrix is not positive semi-definite"
    )
    order = np.random.default_rng(seed).permutation(height * width)
    shuffled = features.reshape(batch, -1, channels)[:, order].reshape(features.shape)
    expect_close(
        losses.gram_matrix(shuffled), gram, what="gram_matrix of shuffled positions", scale=size
    )
    expect_close(
        losses.gram_matrix(f64(features) * scale),
        gram * scale**2,
        what=f"gram_matrix(features * {scale:.3g})",
        scale=size * (1 + scale**2),
    )


@given(pair=feature_map_pairs())
def test_content_loss_is_symmetric_and_nonnegative(losses, pair):
    generated, target = pair
    forward = f64(losses.content_loss(generated, target))
    backward = f64(losses.content_loss(target, generated))
    assert forward >= 0, f"content_loss = {forward} < 0: a sum of squares is never negative"
    expect_close(
        backward,
        forward,
        what="content_loss(target, generated)",
        scale=squares(generated) + squares(target),
    )


@given(images=feature_maps(max_channels=3), offset=st.floats(-3, 3))
def test_total_variation_ignores_brightness_and_flips(losses, images, offset):
    value = f64(losses.total_variation_loss(images))
    scale = 4 * squares(images) + 1
    expect_close(
        losses.total_variation_loss(f64(images) + offset),
        value,
        what=f"total_variation_loss(images + {offset:.3g})",
        scale=scale,
    )
    expect_close(
        losses.total_variation_loss(images[:, ::-1, ::-1, :].copy()),
        value,
        what="total_variation_loss of the image rotated by 180 degrees",
        scale=scale,
    )
    expect_close(
        losses.total_variation_loss(np.swapaxes(images, 1, 2).copy()),
        value,
        what="total_variation_loss of the transposed image",
        scale=scale,
    )


# --------------------------------------------------------------------------- errors


@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)))
def test_gram_matrix_rejects_three_dimensional_features_as_the_reference_does(losses, ref, shape):
    expect_error(
        "ValueError",
        lambda: ref.gram_matrix(np.ones(shape)),
        what="reference",
        because="(sanity check)",
    )
    losses.gram_matrix(np.ones((1, *shape)))
    expect_error(
        "ValueError",
        lambda: losses.gram_matrix(np.ones(shape)),
        what=f"gram_matrix(features of shape {shape})",
        because="features must be (B, H, W, C)",
    )


def test_content_loss_rejects_different_shapes(losses):
    losses.content_loss(np.ones((2, 3)), np.ones((2, 3)))
    expect_error(
        "ValueError",
        lambda: losses.content_loss(np.ones((2, 3)), np.ones((3, 2))),
        what="content_loss of shapes (2, 3) and (3, 2)",
        because="broadcasting would silently compare the wrong elements",
    )


def test_style_loss_rejects_a_target_with_the_wrong_number_of_channels(losses):
    features = [np.ones((1, 2, 2, 3))]
    losses.style_loss(features, [np.ones((1, 3, 3))])
    expect_error(
        "ValueError",
        lambda: losses.style_loss(features, [np.ones((1, 4, 4))]),
        what="style_loss with 3-channel features and a 4x4 target Gram",
        because="each target Gram must be (B, C, C) for its layer's C",
    )


@pytest.mark.parametrize("weight", [-1e-6, 1.000001, 2.0, -3.0])
def test_total_loss_rejects_weights_outside_the_unit_interval(losses, weight):
    losses.total_loss(1.0, 1.0, 0.0)
    losses.total_loss(1.0, 1.0, 1.0)
    expect_error(
        "ValueError",
        lambda: losses.total_loss(1.0, 1.0, weight),
        what=f"total_loss(weight={weight})",
        because="W must lie in [0, 1]",
    )

"""Public tests for ``style_losses.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_style_losses.py`` (or ``grader check style_losses``).
They need no reference solution: each checks a property or a value that follows from the
definitions in the module's docstrings, and names the classic mistakes of
:mod:`tests.support.mistakes.style_losses` when a value shows one. Inputs are float32 or
float64 (one dtype per call); the values are compared with float32 tolerances.
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
    float_dtypes,
    input_kinds,
    style_layers,
    style_problems,
    unit_weights,
)

pytestmark = [pytest.mark.public, pytest.mark.task("style_losses")]

TYPICAL = mistakes.typical_features()  # (2, 2, 3, 2): every mistake has its own value
TYPICAL64 = mistakes.typical_features(seed=1, dtype=np.float64)
PAIR = (TYPICAL, mistakes.typical_features(seed=2))
LAYERS = [TYPICAL, mistakes.typical_features((2, 3, 3, 3), seed=3)]
PROBLEM = (
    LAYERS,
    [mistakes.typical_features((2, 2, 2), seed=4), mistakes.typical_features((2, 3, 3), seed=5)],
)


@pytest.fixture(scope="module")
def losses(candidate):
    return candidate.module("style_losses")


def scalar(value, what: str) -> float:
    array = np.asarray(value, dtype=np.float64)
    assert array.size == 1, f"{what} has shape {array.shape}, expected a scalar"
    return float(array.reshape(()))


def squares(array) -> float:
    return float(np.sum(np.square(np.asarray(array, dtype=np.float64))))


def shape_of(features) -> str:
    return f"features of shape {features.shape}, {features.dtype}"


# --------------------------------------------------------------------------- gram_matrix


@given(features=feature_maps(), kind=input_kinds)
def test_gram_matrix_has_one_channels_by_channels_matrix_per_image(losses, features, kind):
    batch, _, _, channels = features.shape
    gram = np.asarray(losses.gram_matrix(as_input(kind, features)))
    assert gram.shape == (batch, channels, channels), (
        f"gram_matrix({shape_of(features)}) has shape {gram.shape}, "
        f"expected (B, C, C) = {(batch, channels, channels)}"
    )


@pytest.mark.value_test
@given(features=feature_maps(), kind=input_kinds)
@example(features=TYPICAL, kind="numpy")
@example(features=TYPICAL64, kind="tensor")
def test_gram_matrix_entries_are_dot_products_of_activation_maps(losses, features, kind):
    expect_close(
        losses.gram_matrix(as_input(kind, features), normalize=False),
        mistakes.gram(features, normalize=False),
        what=f"gram_matrix({shape_of(features)}, normalize=False)",
        mistakes=mistakes.gram_mistakes(features, normalize=False),
        scale=squares(features),
    )


@pytest.mark.value_test
@given(features=feature_maps(), kind=input_kinds)
@example(features=TYPICAL, kind="numpy")
@example(features=TYPICAL64, kind="tensor")
def test_gram_matrix_normalize_divides_by_the_number_of_positions(losses, features, kind):
    positions = features.shape[1] * features.shape[2]
    expect_close(
        losses.gram_matrix(as_input(kind, features), normalize=True),
        mistakes.gram(features, normalize=True),
        what=f"gram_matrix({shape_of(features)}, normalize=True)",
        mistakes=mistakes.gram_mistakes(features, normalize=True),
        scale=squares(features) / positions,
    )


@given(features=feature_maps())
def test_gram_matrix_is_symmetric_and_positive_semidefinite(losses, features):
    gram = np.asarray(losses.gram_matrix(features), dtype=np.float64)
    scale = squares(features)
    expect_close(gram, np.swapaxes(gram, 1, 2), what="gram_matrix transposed", scale=scale)
    smallest = np.linalg.eigvalsh((gram + np.swapaxes(gram, 1, 2)) / 2).min()
    assert smallest >= -1e-4 * max(1.0, scale), (
        f"gram_matrix has an eigenvalue {smallest:.4g} < 0: a Gram matrix is positive semi-definite"
    )


@given(features=feature_maps(min_side=2), seed=st.integers(0, 2**16))
def test_gram_matrix_does_not_depend_on_where_features_are(losses, features, seed):
    batch, height, width, channels = features.shape
    order = np.random.default_rng(seed).permutation(height * width)
    shuffled = features.reshape(batch, height * width, channels)[:, order]
    expect_close(
        losses.gram_matrix(shuffled.reshape(features.shape)),
        losses.gram_matrix(features),
        what="gram_matrix of spatially shuffled features",
        scale=squares(features),
    )


@given(features=feature_maps(max_batch=3))
def test_gram_matrix_treats_each_image_in_the_batch_separately(losses, features):
    whole = np.asarray(losses.gram_matrix(features))
    for b in range(features.shape[0]):
        expect_close(
            whole[b],
            np.asarray(losses.gram_matrix(features[b : b + 1]))[0],
            what=f"gram_matrix(features)[{b}] against image {b} alone",
            scale=squares(features[b]),
        )


@pytest.mark.value_test
@given(features=feature_maps(), normalize=st.booleans())
@example(features=TYPICAL, normalize=True)
def test_gram_matrix_is_differentiable(losses, features, normalize):
    call = f"gram_matrix({shape_of(features)}, normalize={normalize})"
    expected = mistakes.gram_gradient(features, normalize)
    _, (actual,) = losses.value_and_grad("gram_matrix", features, normalize=normalize)
    actual = mistakes.gradient(actual, expected, call=call, function="gram_matrix")
    expect_close(
        actual,
        expected,
        what=f"the gradient of sum({call})",
        scale=4 * float(np.abs(features).max(initial=1.0)),
    )


def test_gram_matrix_rejects_features_that_are_not_four_dimensional(losses):
    losses.gram_matrix(np.ones((1, 2, 2, 3), np.float32))
    expect_error(
        "ValueError",
        lambda: losses.gram_matrix(np.ones((2, 2, 3), np.float32)),
        what="gram_matrix(features of shape (2, 2, 3))",
        because="features must be (B, H, W, C)",
    )


# --------------------------------------------------------------------------- content_loss


@given(features=feature_maps(), kind=input_kinds)
def test_content_loss_is_zero_for_identical_features(losses, features, kind):
    value = scalar(losses.content_loss(as_input(kind, features), features), "content_loss")
    assert value == pytest.approx(0.0, abs=1e-6), f"content_loss(x, x) = {value}, expected 0"


@pytest.mark.value_test
@given(pair=feature_map_pairs(), kind=input_kinds)
@example(pair=PAIR, kind="numpy")
@example(pair=tuple(array.astype(np.float64) for array in PAIR), kind="tensor")
def test_content_loss_is_the_sum_of_squared_differences(losses, pair, kind):
    generated, target = pair
    value = losses.content_loss(as_input(kind, generated), as_input(kind, target))
    expect_close(
        scalar(value, "content_loss"),
        mistakes.content(generated, target),
        what=f"content_loss(generated and target of shape {generated.shape}, {generated.dtype})",
        mistakes=mistakes.content_mistakes(generated, target),
        scale=squares(generated) + squares(target),
    )


@pytest.mark.value_test
@given(pair=feature_map_pairs())
@example(pair=PAIR)
def test_content_loss_gradient_is_twice_the_difference(losses, pair):
    generated, target = pair
    expected = 2 * (generated.astype(np.float64) - target)
    _, (actual,) = losses.value_and_grad("content_loss", generated, target, wrt=(0,))
    call = f"content_loss(generated of shape {generated.shape}, target)"
    actual = mistakes.gradient(actual, expected, call=call, function="content_loss")
    expect_close(
        actual,
        expected,
        what=f"the gradient of {call}",
        scale=float(np.abs(generated).max(initial=1.0)),
    )


def test_content_loss_rejects_features_of_different_shapes(losses):
    losses.content_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 2, 3)))
    expect_error(
        "ValueError",
        lambda: losses.content_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 3, 3))),
        what="content_loss of shapes (1, 2, 2, 3) and (1, 2, 3, 3)",
        because="the two content representations must have the same shape",
    )


# --------------------------------------------------------------------------- style_loss


def candidate_grams(losses, layers) -> list[np.ndarray] | None:
    """The candidate's own Gram matrices (to blame gram_matrix), or None if it fails."""
    try:
        return [np.asarray(losses.gram_matrix(layer), dtype=np.float64) for layer in layers]
    except Exception:  # noqa: BLE001 - gram_matrix's own tests report its errors
        return None


@given(layers=style_layers())
def test_style_loss_is_zero_when_the_targets_are_the_generated_grams(losses, layers):
    targets = [np.asarray(losses.gram_matrix(layer)).astype(layer.dtype) for layer in layers]
    value = scalar(losses.style_loss(layers, targets), "style_loss")
    assert value == pytest.approx(0.0, abs=1e-6 * max(1.0, sum(map(squares, targets)))), (
        f"style_loss(features, [gram_matrix(f) for f in features]) = {value}, expected 0"
    )


@pytest.mark.value_test
@given(problem=style_problems(max_layers=1), kind=input_kinds)
@example(problem=([LAYERS[0]], PROBLEM[1][:1]), kind="numpy")
def test_style_loss_of_one_layer_is_the_squared_distance_between_grams(losses, problem, kind):
    layers, targets = problem
    value = losses.style_loss(
        [as_input(kind, f) for f in layers], [as_input(kind, t) for t in targets]
    )
    expect_close(
        scalar(value, "style_loss"),
        mistakes.style(layers, targets),
        what=f"style_loss([{shape_of(layers[0])}], [target of shape {targets[0].shape}])",
        mistakes=mistakes.style_mistakes(layers, targets, None, candidate_grams(losses, layers)),
        scale=squares(mistakes.gram(layers[0])) + squares(targets[0]),
    )


@pytest.mark.value_test
@given(problem=style_problems(), weights=st.lists(st.floats(0.0, 3.0), min_size=3, max_size=3))
@example(problem=PROBLEM, weights=[0.5, 2.0, 1.0])
def test_style_loss_is_the_weighted_sum_of_the_layers_losses(losses, problem, weights):
    layers, targets = problem
    weights = weights[: len(layers)]
    scale = sum(squares(mistakes.gram(f)) + squares(t) for f, t in zip(layers, targets))
    grams = candidate_grams(losses, layers)
    shapes = ", ".join(str(f.shape) for f in layers)
    for given_weights in (weights, None):
        expect_close(
            scalar(losses.style_loss(layers, targets, given_weights), "style_loss"),
            mistakes.style(layers, targets, given_weights),
            what=f"style_loss(features of shapes {shapes}, {layers[0].dtype}, "
            f"targets, layer_weights={given_weights})",
            mistakes=mistakes.style_mistakes(layers, targets, given_weights, grams),
            scale=scale * (1 + sum(given_weights or [1.0] * len(layers))),
        )


@given(layers=style_layers())
@example(layers=LAYERS)
def test_style_loss_has_a_finite_gradient_at_its_minimum(losses, layers):
    targets = [mistakes.gram(layer).astype(layer.dtype) for layer in layers]
    _, (gradients,) = losses.value_and_grad("style_loss", layers, targets, wrt=(0,))
    for index, (layer, gradient) in enumerate(zip(layers, gradients)):
        call = f"style_loss(features, targets) for layer {index}"
        gradient = mistakes.style_gradient(losses, gradient, layer, call=call)
        assert np.all(np.isfinite(gradient)), f"the gradient of {call} has NaN or infinity"


def test_style_loss_rejects_lists_of_different_lengths(losses):
    features = [np.ones((1, 2, 2, 3))]
    losses.style_loss(features, [np.ones((1, 3, 3))])
    expect_error(
        "ValueError",
        lambda: losses.style_loss(features * 2, [np.ones((1, 3, 3))]),
        what="style_loss with 2 feature tensors and 1 target Gram matrix",
        because="there must be one target per style layer",
    )


# --------------------------------------------------------------------------- total variation


@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3)),
    value=st.floats(-4, 4),
    dtype=float_dtypes,
)
def test_total_variation_is_zero_for_a_constant_image(losses, shape, value, dtype):
    result = scalar(
        losses.total_variation_loss(np.full(shape, value, dtype)), "total_variation_loss"
    )
    assert result == pytest.approx(0.0, abs=1e-6), f"total variation of a constant = {result}"


@pytest.mark.value_test
@given(images=feature_maps(max_channels=3), kind=input_kinds)
@example(images=TYPICAL, kind="numpy")
@example(images=TYPICAL64, kind="tensor")
def test_total_variation_counts_each_pair_of_neighbours_once(losses, images, kind):
    images64 = images.astype(np.float64)
    _, height, width, _ = images.shape
    total = 0.0
    for h in range(height):
        for w in range(width):
            if h + 1 < height:
                total += squares(images64[:, h + 1, w] - images64[:, h, w])
            if w + 1 < width:
                total += squares(images64[:, h, w + 1] - images64[:, h, w])
    value = scalar(losses.total_variation_loss(as_input(kind, images)), "total_variation_loss")
    expect_close(
        value,
        total,
        what=f"total_variation_loss(images of shape {images.shape}, {images.dtype})",
        mistakes=mistakes.variation_mistakes(images),
        scale=4 * squares(images),
    )


def test_total_variation_rejects_images_that_are_not_four_dimensional(losses):
    losses.total_variation_loss(np.ones((1, 2, 2, 3)))
    expect_error(
        "ValueError",
        lambda: losses.total_variation_loss(np.ones((2, 2, 3))),
        what="total_variation_loss(images of shape (2, 2, 3))",
        because="images must be (B, H, W, C)",
    )


# --------------------------------------------------------------------------- total_loss


def scalar_input(kind: str, value: float):
    """``value`` as a Python float, or as a float32/float64 array or tensor."""
    if kind == "float":
        return value
    dtype = np.float32 if kind.endswith("32") else np.float64
    return as_input(kind.split("-")[0], np.asarray(value, dtype))


scalar_kinds = st.sampled_from(["float", "numpy-32", "numpy-64", "tensor-32", "tensor-64"])


@pytest.mark.value_test
@given(content=st.floats(0, 100), style=st.floats(0, 100), weight=unit_weights, kind=scalar_kinds)
@example(content=10.0, style=2.0, weight=0.25, kind="tensor-64")  # the docstring's example
@example(content=10.0, style=2.0, weight=0.25, kind="tensor-32")
def test_total_loss_weights_style_by_w_and_content_by_one_minus_w(
    losses, content, style, weight, kind
):
    value = losses.total_loss(scalar_input(kind, content), scalar_input(kind, style), weight)
    expect_close(
        scalar(value, "total_loss"),
        weight * style + (1 - weight) * content,
        what=f"total_loss(content={content}, style={style}, weight={weight}) ({kind})",
        mistakes=mistakes.total_mistakes(content, style, weight),
        scale=content + style,
    )


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_total_loss_rejects_weights_outside_the_unit_interval(losses, weight):
    losses.total_loss(1.0, 2.0, 0.5)
    expect_error(
        "ValueError",
        lambda: losses.total_loss(1.0, 2.0, weight),
        what=f"total_loss(weight={weight})",
        because="W must lie in [0, 1]",
    )

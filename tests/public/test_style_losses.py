"""Public tests for ``style_losses.py``: what any correct answer must satisfy.

Run them with ``pytest tests/public/test_style_losses.py`` (or ``grader check style_losses``).
They need no reference solution: each checks a property that follows from the
definitions in the module's docstrings.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import expect_close, expect_error
from tests.support.strategies import (
    arrays_of_shape,
    as_input,
    feature_map_pairs,
    feature_maps,
    input_kinds,
    layer_weights,
    style_layers,
    unit_weights,
)

pytestmark = [pytest.mark.public, pytest.mark.task("style_losses")]


@pytest.fixture(scope="module")
def losses(candidate):
    return candidate.module("style_losses")


def scalar(value, what: str) -> float:
    array = np.asarray(value, dtype=np.float64)
    assert array.size == 1, f"{what} has shape {array.shape}, expected a scalar"
    return float(array.reshape(()))


def squares(array: np.ndarray) -> float:
    return float(np.sum(np.square(array, dtype=np.float64)))


# --------------------------------------------------------------------------- gram_matrix


@given(features=feature_maps(), kind=input_kinds)
def test_gram_matrix_has_one_channels_by_channels_matrix_per_image(losses, features, kind):
    batch, _, _, channels = features.shape
    gram = np.asarray(losses.gram_matrix(as_input(kind, features)))
    assert gram.shape == (batch, channels, channels), (
        f"gram_matrix of features {features.shape} has shape {gram.shape}, "
        f"expected (B, C, C) = {(batch, channels, channels)}"
    )


@pytest.mark.value_test
@given(features=feature_maps(), data=st.data())
def test_gram_matrix_entries_are_dot_products_of_activation_maps(losses, features, data):
    batch, height, width, channels = features.shape
    b = data.draw(st.integers(0, batch - 1), label="b")
    i = data.draw(st.integers(0, channels - 1), label="i")
    j = data.draw(st.integers(0, channels - 1), label="j")
    maps = features.astype(np.float64)
    dot = float(np.sum(maps[b, :, :, i] * maps[b, :, :, j]))
    gram = np.asarray(losses.gram_matrix(features, normalize=False), dtype=np.float64)
    expect_close(gram[b, i, j], dot, what=f"gram_matrix(normalize=False)[{b}, {i}, {j}]",
                 scale=squares(maps[b]))
    normalised = np.asarray(losses.gram_matrix(features), dtype=np.float64)
    expect_close(normalised[b, i, j], dot / (height * width),
                 what=f"gram_matrix(normalize=True)[{b}, {i}, {j}]",
                 scale=squares(maps[b]) / (height * width))


@given(features=feature_maps())
def test_gram_matrix_is_symmetric_and_positive_semidefinite(losses, features):
    gram = np.asarray(losses.gram_matrix(features), dtype=np.float64)
    scale = squares(features)
    expect_close(gram, np.swapaxes(gram, 1, 2), what="gram_matrix transposed", scale=scale)
    smallest = np.linalg.eigvalsh((gram + np.swapaxes(gram, 1, 2)) / 2).min()
    assert smallest >= -1e-4 * max(1.0, scale), (
        f"gram_matrix has an eigenvalue {smallest:.4g} < 0: a Gram matrix is positive "
        f"semi-definite"
    )


@given(features=feature_maps(min_side=2), seed=st.integers(0, 2**16))
def test_gram_matrix_does_not_depend_on_where_features_are(losses, features, seed):
    batch, height, width, channels = features.shape
    order = np.random.default_rng(seed).permutation(height * width)
    shuffled = features.reshape(batch, height * width, channels)[:, order]
    expect_close(
        losses.gram_matrix(shuffled.reshape(features.shape)), losses.gram_matrix(features),
        what="gram_matrix of spatially shuffled features", scale=squares(features),
    )


@given(features=feature_maps())
def test_gram_matrix_normalize_divides_by_the_number_of_positions(losses, features):
    _, height, width, _ = features.shape
    expect_close(
        np.asarray(losses.gram_matrix(features, normalize=False), dtype=np.float64),
        np.asarray(losses.gram_matrix(features, normalize=True), dtype=np.float64)
        * height * width,
        what="gram_matrix(normalize=False)", scale=squares(features),
    )


@given(features=feature_maps(max_batch=3))
def test_gram_matrix_treats_each_image_in_the_batch_separately(losses, features):
    whole = np.asarray(losses.gram_matrix(features))
    for b in range(features.shape[0]):
        expect_close(whole[b], np.asarray(losses.gram_matrix(features[b : b + 1]))[0],
                     what=f"gram_matrix(features)[{b}] against image {b} alone",
                     scale=squares(features[b]))


def test_gram_matrix_rejects_features_that_are_not_four_dimensional(losses):
    losses.gram_matrix(np.ones((1, 2, 2, 3), np.float32))
    expect_error("ValueError", lambda: losses.gram_matrix(np.ones((2, 2, 3), np.float32)),
                 what="gram_matrix(features of shape (2, 2, 3))",
                 because="features must be (B, H, W, C)")


# --------------------------------------------------------------------------- content_loss


@given(features=feature_maps(), kind=input_kinds)
def test_content_loss_is_zero_for_identical_features(losses, features, kind):
    value = scalar(losses.content_loss(as_input(kind, features), features), "content_loss")
    assert value == pytest.approx(0.0, abs=1e-6), f"content_loss(x, x) = {value}, expected 0"


@pytest.mark.value_test
@given(pair=feature_map_pairs(), kind=input_kinds)
def test_content_loss_is_the_sum_of_squared_differences(losses, pair, kind):
    generated, target = pair
    difference = generated.astype(np.float64) - target.astype(np.float64)
    value = losses.content_loss(as_input(kind, generated), as_input(kind, target))
    expect_close(scalar(value, "content_loss"), squares(difference),
                 what="content_loss(generated, target)",
                 scale=squares(generated) + squares(target))


@pytest.mark.value_test
@given(pair=feature_map_pairs())
def test_content_loss_gradient_is_twice_the_difference(losses, pair):
    generated, target = pair
    _, (gradient,) = losses.value_and_grad(
        "content_loss", generated, target, wrt=(0,)
    )
    assert gradient is not None, (
        "content_loss has no gradient with respect to `generated`: use TensorFlow "
        "operations only (no .numpy() or np.* inside the function)"
    )
    expect_close(gradient, 2 * (generated.astype(np.float64) - target),
                 what="the gradient of content_loss", scale=float(np.abs(generated).max()))


def test_content_loss_rejects_features_of_different_shapes(losses):
    losses.content_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 2, 3)))
    expect_error("ValueError",
                 lambda: losses.content_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 3, 3))),
                 what="content_loss of shapes (1, 2, 2, 3) and (1, 2, 3, 3)",
                 because="the two content representations must have the same shape")


# --------------------------------------------------------------------------- style_loss


@given(layers=style_layers())
def test_style_loss_is_zero_when_the_targets_are_the_generated_grams(losses, layers):
    targets = [np.asarray(losses.gram_matrix(layer)) for layer in layers]
    value = scalar(losses.style_loss(layers, targets), "style_loss")
    assert value == pytest.approx(0.0, abs=1e-6 * max(1.0, sum(map(squares, targets)))), (
        f"style_loss(features, [gram_matrix(f) for f in features]) = {value}, expected 0"
    )


@given(layers=style_layers(max_layers=1), data=st.data())
def test_style_loss_of_one_layer_is_the_squared_distance_between_grams(losses, layers, data):
    (features,) = layers
    channels = features.shape[-1]
    target = data.draw(arrays_of_shape((features.shape[0], channels, channels)), label="target")
    gram = np.asarray(losses.gram_matrix(features), dtype=np.float64)
    value = scalar(losses.style_loss([features], [target]), "style_loss")
    expect_close(value, squares(gram - target), what="style_loss([features], [target])",
                 scale=squares(gram) + squares(target))


@given(layers=style_layers(), data=st.data())
def test_style_loss_is_the_weighted_sum_of_the_layers_losses(losses, layers, data):
    targets = [data.draw(arrays_of_shape((f.shape[0], f.shape[-1], f.shape[-1])), label="target")
               for f in layers]
    weights = data.draw(layer_weights(len(layers)), label="weights")
    per_layer = [scalar(losses.style_loss([f], [t]), "style_loss") for f, t in zip(layers, targets)]
    value = scalar(losses.style_loss(layers, targets, weights), "style_loss")
    expect_close(value, float(np.dot(weights, per_layer)),
                 what=f"style_loss over {len(layers)} layers with weights {weights}",
                 scale=sum(per_layer))
    unweighted = scalar(losses.style_loss(layers, targets), "style_loss")
    expect_close(unweighted, sum(per_layer), what="style_loss with the default weights",
                 scale=sum(per_layer))


@given(layers=style_layers())
def test_style_loss_has_a_finite_gradient_at_its_minimum(losses, layers):
    targets = [np.asarray(losses.gram_matrix(layer)) for layer in layers]
    _, (gradients,) = losses.value_and_grad(
        "style_loss", layers, targets, wrt=(0,)
    )
    for index, gradient in enumerate(gradients):
        assert gradient is not None, (
            f"style_loss has no gradient with respect to layer {index}'s features: use "
            f"TensorFlow operations only"
        )
        assert np.all(np.isfinite(gradient)), f"the gradient for layer {index} has NaN or inf"


def test_style_loss_rejects_lists_of_different_lengths(losses):
    features = [np.ones((1, 2, 2, 3))]
    losses.style_loss(features, [np.ones((1, 3, 3))])
    expect_error("ValueError", lambda: losses.style_loss(features * 2, [np.ones((1, 3, 3))]),
                 what="style_loss with 2 feature tensors and 1 target Gram matrix",
                 because="there must be one target per style layer")


# --------------------------------------------------------------------------- total variation


@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 5), st.integers(1, 5),
                       st.integers(1, 3)), value=st.floats(-4, 4))
def test_total_variation_is_zero_for_a_constant_image(losses, shape, value):
    result = scalar(losses.total_variation_loss(np.full(shape, value)), "total_variation_loss")
    assert result == pytest.approx(0.0, abs=1e-6), f"total variation of a constant = {result}"


@pytest.mark.value_test
@given(images=feature_maps(max_channels=3), kind=input_kinds)
def test_total_variation_counts_each_pair_of_neighbours_once(losses, images, kind):
    images64 = images.astype(np.float64)
    batch, height, width, _ = images.shape
    total = 0.0
    for h in range(height):
        for w in range(width):
            if h + 1 < height:
                total += squares(images64[:, h + 1, w] - images64[:, h, w])
            if w + 1 < width:
                total += squares(images64[:, h, w + 1] - images64[:, h, w])
    value = scalar(losses.total_variation_loss(as_input(kind, images)), "total_variation_loss")
    expect_close(value, total, what="total_variation_loss(images)", scale=4 * squares(images))


def test_total_variation_rejects_images_that_are_not_four_dimensional(losses):
    losses.total_variation_loss(np.ones((1, 2, 2, 3)))
    expect_error("ValueError", lambda: losses.total_variation_loss(np.ones((2, 2, 3))),
                 what="total_variation_loss(images of shape (2, 2, 3))",
                 because="images must be (B, H, W, C)")


# --------------------------------------------------------------------------- total_loss


@pytest.mark.value_test
@given(content=st.floats(0, 100), style=st.floats(0, 100), weight=unit_weights)
def test_total_loss_weights_style_by_w_and_content_by_one_minus_w(losses, content, style,
                                                                   weight):
    value = scalar(losses.total_loss(content, style, weight), "total_loss")
    expect_close(value, weight * style + (1 - weight) * content,
                 what=f"total_loss(content={content}, style={style}, weight={weight})",
                 scale=content + style)


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_total_loss_rejects_weights_outside_the_unit_interval(losses, weight):
    losses.total_loss(1.0, 2.0, 0.5)
    expect_error("ValueError", lambda: losses.total_loss(1.0, 2.0, weight),
                 what=f"total_loss(weight={weight})", because="W must lie in [0, 1]")

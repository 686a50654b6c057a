"""Hidden tests for ``style_losses.py``: the candidate against the reference solutions.

Inputs are drawn by hypothesis (derandomised when grading); the reference (``--reference``)
computes the expected value in float64; a wrong value is matched against the values that
the usual mistakes give, so that the feedback can name the mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compare import Mistake, expect_close, expect_error, gradient_or_zeros
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

pytestmark = [pytest.mark.hidden, pytest.mark.task("style_losses")]


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


# --------------------------------------------------------------------------- known mistakes


def gram_mistakes(features: np.ndarray, expected: np.ndarray, normalize: bool) -> list[Mistake]:
    batch, height, width, channels = features.shape
    positions = height * width
    flat = f64(features).reshape(batch, positions, channels)
    outer = np.einsum("bpc,bqc->bpq", flat, flat) / (positions if normalize else 1)
    mistakes = [
        Mistake("this is F F^T, the (H*W, H*W) matrix over positions; the Gram matrix is "
                "F^T F, over channels (C, C). Did you transpose the wrong factor?",
                lambda: outer),
        Mistake("you summed over the batch axis: each image needs its own Gram matrix",
                lambda: expected.sum(axis=0)),
        Mistake("you summed over the batch axis: each image needs its own Gram matrix",
                lambda: np.broadcast_to(expected.sum(axis=0), expected.shape)),
        Mistake("you averaged over the batch axis: each image needs its own Gram matrix",
                lambda: np.broadcast_to(expected.mean(axis=0), expected.shape)),
    ]
    if normalize:
        mistakes += [
            Mistake("off by a factor of H*W: did you forget to normalise?",
                    lambda: expected * positions),
            Mistake("off by a factor of C: normalise by the number of positions H*W, not by "
                    "H*W*C", lambda: expected / channels),
            Mistake("off by a factor of B: normalise by H*W, not by B*H*W",
                    lambda: expected / batch),
        ]
    else:
        mistakes.append(Mistake("with normalize=False the Gram matrix must not be divided by "
                                "H*W: did you ignore the flag?", lambda: expected / positions))
    return mistakes


def content_mistakes(generated, target, expected) -> list[Mistake]:
    difference = f64(generated) - f64(target)
    return [
        Mistake("missing square: sum the *squared* differences", lambda: difference.sum()),
        Mistake("absolute differences: square them instead", lambda: np.abs(difference).sum()),
        Mistake("you averaged (tf.reduce_mean); the loss is the sum over all elements",
                lambda: expected / difference.size),
        Mistake("this is the norm; the loss is its square (drop the square root)",
                lambda: np.sqrt(expected)),
        Mistake("off by a factor of 2: no 1/2 in front of the sum", lambda: expected / 2),
        Mistake("one value per image: sum over the batch too, and return a scalar",
                lambda: np.square(difference).reshape(len(difference), -1).sum(axis=1)),
    ]


def style_mistakes(layers, targets, weights, expected, ref_gram) -> list[Mistake]:
    weights = [1.0] * len(layers) if weights is None else list(weights)

    def combine(per_layer):
        return sum(w * term for w, term in zip(weights, per_layer))

    grams = [f64(ref_gram(layer)) for layer in layers]
    sizes = [layer.shape[1] * layer.shape[2] for layer in layers]
    differences = [gram - f64(target) for gram, target in zip(grams, targets)]
    return [
        Mistake("the Gram matrices are not normalised: call gram_matrix with its default "
                "normalize=True", lambda: combine(
                    [squares(g * n - t) for g, n, t in zip(grams, sizes, targets)])),
        Mistake("the layer weights are ignored",
                lambda: sum(squares(d) for d in differences)),
        Mistake("missing square: sum the squared differences of the Gram matrices",
                lambda: combine([d.sum() for d in differences])),
        Mistake("you averaged each layer's squared differences; sum them",
                lambda: combine([np.square(d).mean() for d in differences])),
        Mistake("each layer's term is a norm; use the sum of squares (no square root)",
                lambda: combine([np.sqrt(squares(d)) for d in differences])),
        Mistake("only the last style layer counts: sum over all layers",
                lambda: weights[-1] * squares(differences[-1])),
        Mistake("only the first style layer counts: sum over all layers",
                lambda: weights[0] * squares(differences[0])),
    ]


def variation_mistakes(images, expected) -> list[Mistake]:
    x = f64(images)
    vertical, horizontal = np.diff(x, axis=1), np.diff(x, axis=2)
    return [
        Mistake("only vertical neighbours: add the horizontal differences",
                lambda: squares(vertical)),
        Mistake("only horizontal neighbours: add the vertical differences",
                lambda: squares(horizontal)),
        Mistake("absolute differences: square them instead",
                lambda: np.abs(vertical).sum() + np.abs(horizontal).sum()),
        Mistake("the differences wrap around the border (tf.roll?): border pixels have "
                "fewer neighbours", lambda: squares(np.roll(x, 1, axis=1) - x)
                + squares(np.roll(x, 1, axis=2) - x)),
        Mistake("you averaged; the loss is the sum",
                lambda: squares(vertical) / max(1, vertical.size)
                + squares(horizontal) / max(1, horizontal.size)),
        Mistake("one value per image: sum over the batch too, and return a scalar",
                lambda: np.square(vertical).reshape(len(x), -1).sum(1)
                + np.square(horizontal).reshape(len(x), -1).sum(1)),
    ]


def total_mistakes(content, style, weight) -> list[Mistake]:
    return [
        Mistake("the weight is on the wrong term: W multiplies the style loss and (1 - W) "
                "the content loss", lambda: weight * content + (1 - weight) * style),
        Mistake("the content loss must be multiplied by (1 - W)",
                lambda: weight * style + content),
        Mistake("the weight W is not applied", lambda: content + style),
    ]


# --------------------------------------------------------------------------- against the reference


@given(features=feature_maps(), normalize=st.booleans(), kind=input_kinds)
def test_gram_matrix_matches_the_reference(losses, ref, features, normalize, kind):
    expected = f64(ref.gram_matrix(f64(features), normalize=normalize))
    actual = losses.gram_matrix(as_input(kind, features), normalize=normalize)
    expect_close(actual, expected, what=f"gram_matrix(features {features.shape}, "
                 f"normalize={normalize})", mistakes=gram_mistakes(features, expected, normalize),
                 scale=squares(features) / (1 if normalize else features[0, ..., 0].size) + 1)


@given(pair=feature_map_pairs(), kind=input_kinds)
def test_content_loss_matches_the_reference(losses, ref, pair, kind):
    generated, target = pair
    expected = f64(ref.content_loss(f64(generated), f64(target)))
    actual = losses.content_loss(as_input(kind, generated), as_input(kind, target))
    expect_close(actual, expected, what=f"content_loss(shape {generated.shape})",
                 mistakes=content_mistakes(generated, target, expected),
                 scale=squares(generated) + squares(target))


@given(layers=style_layers(), weighted=st.booleans(), kind=input_kinds, data=st.data())
def test_style_loss_matches_the_reference(losses, ref, layers, weighted, kind, data):
    targets = [data.draw(arrays_of_shape((1, f.shape[-1], f.shape[-1])), label="target")
               for f in layers]  # one style image, broadcast over the batch
    weights = data.draw(layer_weights(len(layers)), label="weights") if weighted else None
    expected = f64(ref.style_loss([f64(f) for f in layers], [f64(t) for t in targets], weights))
    actual = losses.style_loss([as_input(kind, f) for f in layers],
                               [as_input(kind, t) for t in targets], weights)
    scale = sum(squares(ref.gram_matrix(f64(f))) + squares(t) for f, t in zip(layers, targets))
    expect_close(actual, expected, what=f"style_loss over {len(layers)} layer(s), "
                 f"weights={weights}", scale=scale * (1 + sum(weights or [1.0])),
                 mistakes=style_mistakes(layers, targets, weights, expected, ref.gram_matrix))


@given(images=feature_maps(max_channels=3), kind=input_kinds)
def test_total_variation_loss_matches_the_reference(losses, ref, images, kind):
    expected = f64(ref.total_variation_loss(f64(images)))
    actual = losses.total_variation_loss(as_input(kind, images))
    expect_close(actual, expected, what=f"total_variation_loss(images {images.shape})",
                 mistakes=variation_mistakes(images, expected), scale=4 * squares(images))


@given(content=st.floats(0, 1e3), style=st.floats(0, 1e3), weight=unit_weights,
       kind=input_kinds)
def test_total_loss_matches_the_reference(losses, ref, content, style, weight, kind):
    expected = f64(ref.total_loss(content, style, weight))
    given_content = as_input(kind, np.float32(content)) if kind == "tensor" else content
    given_style = as_input(kind, np.float32(style)) if kind == "tensor" else style
    actual = losses.total_loss(given_content, given_style, weight)
    expect_close(actual, expected, what=f"total_loss({content}, {style}, weight={weight})",
                 mistakes=total_mistakes(content, style, weight), scale=content + style,
                 rtol=1e-5)


# --------------------------------------------------------------------------- gradients


@given(pair=feature_map_pairs(), equal=st.booleans())
def test_content_loss_gradient_matches_the_reference(losses, ref, pair, equal):
    generated, target = pair
    if equal:
        target = generated.copy()  # the norm's gradient would be NaN here; the square's is 0
    _, (expected,) = ref.value_and_grad("content_loss", f64(generated), f64(target))
    _, (actual,) = losses.value_and_grad("content_loss", generated, target)
    actual = gradient_or_zeros(actual, expected, what="the gradient of content_loss")
    expect_close(actual, expected, what="the gradient of content_loss",
                 scale=float(np.abs(generated).max(initial=1.0)) * 4)


@given(layers=style_layers(), at_minimum=st.booleans(), data=st.data())
def test_style_loss_gradient_matches_the_reference(losses, ref, layers, at_minimum, data):
    if at_minimum:
        targets = [f64(ref.gram_matrix(f64(f))) for f in layers]
    else:
        targets = [data.draw(arrays_of_shape((f.shape[0], f.shape[-1], f.shape[-1]),
                                             np.float64), label="target") for f in layers]
    _, (expected,) = ref.value_and_grad("style_loss", [f64(f) for f in layers], targets)
    _, (actual,) = losses.value_and_grad("style_loss", layers, targets)
    for index, (got, want) in enumerate(zip(actual, expected)):
        got = gradient_or_zeros(got, want, what=f"the gradient of style_loss for layer {index}")
        scale = float(np.abs(want).max(initial=1.0)) + squares(layers[index])
        expect_close(got, want, what=f"the gradient of style_loss for layer {index}",
                     scale=scale)


@given(images=feature_maps(max_channels=3))
def test_total_variation_gradient_matches_the_reference(losses, ref, images):
    _, (expected,) = ref.value_and_grad("total_variation_loss", f64(images))
    _, (actual,) = losses.value_and_grad("total_variation_loss", images)
    actual = gradient_or_zeros(actual, expected, what="the gradient of total_variation_loss")
    expect_close(actual, expected, what="the gradient of total_variation_loss",
                 scale=16 * float(np.abs(images).max(initial=1.0)))


# --------------------------------------------------------------------------- properties


@given(features=feature_maps(min_side=2), seed=st.integers(0, 2**16), scale=st.floats(0.1, 3))
def test_gram_matrix_is_symmetric_psd_shuffle_invariant_and_quadratic(losses, features, seed,
                                                                      scale):
    batch, height, width, channels = features.shape
    gram = f64(losses.gram_matrix(features))
    size = squares(features) + 1
    expect_close(gram, np.swapaxes(gram, 1, 2), what="gram_matrix transposed", scale=size)
    assert np.linalg.eigvalsh((gram + np.swapaxes(gram, 1, 2)) / 2).min() >= -1e-4 * size, \
        "gram_matrix is not positive semi-definite"
    order = np.random.default_rng(seed).permutation(height * width)
    shuffled = features.reshape(batch, -1, channels)[:, order].reshape(features.shape)
    expect_close(losses.gram_matrix(shuffled), gram, what="gram_matrix of shuffled positions",
                 scale=size)
    expect_close(losses.gram_matrix(f64(features) * scale), gram * scale**2,
                 what=f"gram_matrix(features * {scale:.3g})", scale=size * (1 + scale**2))


@given(pair=feature_map_pairs())
def test_content_loss_is_symmetric_and_nonnegative(losses, pair):
    generated, target = pair
    forward = f64(losses.content_loss(generated, target))
    backward = f64(losses.content_loss(target, generated))
    assert forward >= 0, f"content_loss = {forward} < 0: a sum of squares is never negative"
    expect_close(backward, forward, what="content_loss(target, generated)",
                 scale=squares(generated) + squares(target))


@given(images=feature_maps(max_channels=3), offset=st.floats(-3, 3))
def test_total_variation_ignores_brightness_and_flips(losses, images, offset):
    value = f64(losses.total_variation_loss(images))
    scale = 4 * squares(images) + 1
    expect_close(losses.total_variation_loss(f64(images) + offset), value,
                 what=f"total_variation_loss(images + {offset:.3g})", scale=scale)
    expect_close(losses.total_variation_loss(images[:, ::-1, ::-1, :].copy()), value,
                 what="total_variation_loss of the image rotated by 180 degrees", scale=scale)
    expect_close(losses.total_variation_loss(np.swapaxes(images, 1, 2).copy()), value,
                 what="total_variation_loss of the transposed image", scale=scale)


# --------------------------------------------------------------------------- errors


@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)))
def test_gram_matrix_rejects_three_dimensional_features_as_the_reference_does(losses, ref,
                                                                             shape):
    expect_error("ValueError", lambda: ref.gram_matrix(np.ones(shape)), what="reference",
                 because="(sanity check)")
    losses.gram_matrix(np.ones((1, *shape)))
    expect_error("ValueError", lambda: losses.gram_matrix(np.ones(shape)),
                 what=f"gram_matrix(features of shape {shape})",
                 because="features must be (B, H, W, C)")


def test_content_loss_rejects_different_shapes(losses):
    losses.content_loss(np.ones((2, 3)), np.ones((2, 3)))
    expect_error("ValueError", lambda: losses.content_loss(np.ones((2, 3)), np.ones((3, 2))),
                 what="content_loss of shapes (2, 3) and (3, 2)",
                 because="broadcasting would silently compare the wrong elements")


def test_style_loss_rejects_a_target_with_the_wrong_number_of_channels(losses):
    features = [np.ones((1, 2, 2, 3))]
    losses.style_loss(features, [np.ones((1, 3, 3))])
    expect_error("ValueError", lambda: losses.style_loss(features, [np.ones((1, 4, 4))]),
                 what="style_loss with 3-channel features and a 4x4 target Gram",
                 because="each target Gram must be (B, C, C) for its layer's C")


@pytest.mark.parametrize("weight", [-1e-6, 1.000001, 2.0, -3.0])
def test_total_loss_rejects_weights_outside_the_unit_interval(losses, weight):
    losses.total_loss(1.0, 1.0, 0.0)
    losses.total_loss(1.0, 1.0, 1.0)
    expect_error("ValueError", lambda: losses.total_loss(1.0, 1.0, weight),
                 what=f"total_loss(weight={weight})", because="W must lie in [0, 1]")

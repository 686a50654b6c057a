"""The classic mistakes of ``style_losses.py``, their symptoms and their messages.

Every variant is computed in float64 from the definitions in the module's docstrings (never
from the reference), so the public tests and the hidden tests name a mistake alike. A
message is given only when the candidate's value equals the mistake's value, and only when
that value tells the mistake apart (:func:`named` drops variants that coincide with the
right answer or with another mistake's on the input at hand).

============================  ==============================  ==================================
mistake                       fixture (wrong/<name>.py)       symptom
============================  ==============================  ==================================
Gram not normalised           unnormalised_gram               normalize=True: H*W times too large
Gram divided by H*W*C         gram_normalised_by_hwc          normalize=True: C times too small
normalize=False ignored       gram_always_normalised          normalize=False: divided by H*W
F Fᵀ instead of Fᵀ F          transposed_gram                 (B, H*W, H*W): position products
Gram summed over the batch    gram_summed_over_batch          (C, C): sum of the images' Grams
Gram mixing the images        gram_concatenated_over_batch    each image: sum/mean of all Grams
.numpy() in gram_matrix       gram_numpy_inside               gram_matrix's gradient is None
content averaged              content_mean                    sum of squares / size
content as a norm             content_norm                    sqrt(sum of squares)
content missing its square    content_missing_square          sum of the differences
content of absolute values    content_absolute                sum of |differences|
.numpy() in content_loss      content_without_gradient        content_loss's gradient is None
style weights ignored         style_weights_ignored           unweighted sum of the layers
style, unnormalised Grams     style_unnormalised_grams        Grams H_l*W_l times too large
TV of absolute differences    tv_absolute                     sums of |differences|
TV wrapping (tf.roll)         tv_wraps_around                 differences of rolled images
TV vertical only              tv_vertical_only                only differences along H
TV horizontal only            tv_horizontal_only              only differences along W
TV on the cropped image       tv_cropped_both_axes            both differences of x[:, 1:, 1:]
total_loss weights swapped    total_weight_swapped            W * content + (1 - W) * style
============================  ==============================  ==================================

A style_loss that is wrong only because gram_matrix is wrong is blamed on gram_matrix
(:data:`STYLE_BECAUSE_OF_GRAM`), and so is a style_loss without gradient whose gram_matrix
has none (:func:`not_differentiable`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tests.support.compare import Mistake, distinguishable

GRAM_UNNORMALISED = "off by a factor of H*W: did you forget to normalise?"
GRAM_BY_HWC = "off by a factor of C: normalise by the number of positions H*W, not by H*W*C"
GRAM_FLAG_IGNORED = "normalize=False must not divide by H*W: did you ignore the flag?"
GRAM_OUTER = (
    "this is F F^T, the (H*W, H*W) products of positions; the Gram matrix is "
    "F^T F, the (C, C) products of channels"
)
GRAM_SUMMED_OVER_BATCH = (
    "summed over the batch axis: keep one (C, C) Gram matrix per image, shape (B, C, C)"
)
GRAM_MIXES_IMAGES = (
    "mixes the images of the batch: one Gram matrix of all images' positions "
    "together (reshape(-1, C)?); reshape to (B, H*W, C)"
)
CONTENT_MEAN = "averaged (tf.reduce_mean): the content loss is the sum over all elements"
CONTENT_NORM = "this is the norm; the loss is its square (drop the square root)"
CONTENT_MISSING_SQUARE = "missing square: sum the *squared* differences"
CONTENT_ABSOLUTE = "absolute differences: square them instead"
STYLE_UNNORMALISED = (
    "the Gram matrices are not normalised: call gram_matrix with its default normalize=True"
)
STYLE_WEIGHTS_IGNORED = "the layer weights are ignored: multiply layer l's term by w_l"
STYLE_BECAUSE_OF_GRAM = (
    "gram_matrix is wrong (its own tests say how), and style_loss calls it: fix gram_matrix first"
)
TV_ABSOLUTE = "absolute differences: square them instead"
TV_WRAPS_AROUND = (
    "the differences wrap around the border (tf.roll?): border pixels have fewer neighbours"
)
TV_VERTICAL_ONLY = "only vertical neighbours: add the horizontal differences (along W)"
TV_HORIZONTAL_ONLY = "only horizontal neighbours: add the vertical differences (along H)"
TV_CROPPED = (
    "differences of the cropped image x[:, 1:, 1:]: crop one axis per difference "
    "(x[:, 1:, :, :] - x[:, :-1, :, :]) so row 0 and column 0 count too"
)
TOTAL_SWAPPED = (
    "the weight is on the wrong term: W multiplies the style loss and (1 - W) the content loss"
)


def not_differentiable(function: str) -> str:
    """The message for a function whose gradient is None (``.numpy()`` or ``np.*``)."""
    return (
        f"{function} is not differentiable: its gradient is None. Use TensorFlow "
        f"operations only (no .numpy() or np.* on tensors)"
    )


def _f64(array) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def _squares(array) -> float:
    return float(np.sum(np.square(_f64(array))))


def named(expected, mistakes: Sequence[Mistake], rtol: float = 1e-3) -> list[Mistake]:
    """The mistakes whose value, on this input, differs from the right one and from every
    other mistake's (with another message): only those can be named from a value."""

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        scale = max(1.0, float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
        return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale))

    return distinguishable(mistakes, same, right=expected)


# --------------------------------------------------------------------------- definitions


def gram(features, normalize: bool = True) -> np.ndarray:
    """The Gram matrices ``(B, C, C)`` by their definition, in float64."""
    x = _f64(features)
    batch, height, width, channels = x.shape
    flat = x.reshape(batch, height * width, channels)
    result = np.einsum("bpi,bpj->bij", flat, flat)
    return result / (height * width) if normalize else result


def gram_gradient(features, normalize: bool = True) -> np.ndarray:
    """The gradient of ``sum(gram_matrix(features))``: ``2 * sum_c F[..., c]`` (/ H*W)."""
    x = _f64(features)
    positions = x.shape[1] * x.shape[2]
    gradient = 2 * np.repeat(x.sum(axis=-1, keepdims=True), x.shape[-1], axis=-1)
    return gradient / positions if normalize else gradient


def content(generated, target) -> float:
    return _squares(_f64(generated) - _f64(target))


def style(layers, targets, weights=None) -> float:
    weights = [1.0] * len(layers) if weights is None else list(weights)
    return float(sum(w * _squares(gram(f) - _f64(t)) for f, t, w in zip(layers, targets, weights)))


def total_variation(images) -> float:
    x = _f64(images)
    return _squares(np.diff(x, axis=1)) + _squares(np.diff(x, axis=2))


# --------------------------------------------------------------------------- mistakes


def gram_mistakes(features, normalize: bool) -> list[Mistake]:
    """What the classic gram_matrix mistakes give for ``gram_matrix(features, normalize)``."""
    x = _f64(features)
    batch, height, width, channels = x.shape
    positions = height * width
    right = gram(x, normalize)
    flat = x.reshape(batch, positions, channels)
    outer = np.einsum("bpc,bqc->bpq", flat, flat) / (positions if normalize else 1)
    mistakes = [
        Mistake(GRAM_OUTER, lambda: outer),
        Mistake(GRAM_SUMMED_OVER_BATCH, lambda: right.sum(axis=0)),
        Mistake(GRAM_MIXES_IMAGES, lambda: np.broadcast_to(right.sum(axis=0), right.shape)),
        Mistake(GRAM_MIXES_IMAGES, lambda: np.broadcast_to(right.mean(axis=0), right.shape)),
    ]
    if normalize:
        mistakes += [
            Mistake(GRAM_UNNORMALISED, lambda: right * positions),
            Mistake(GRAM_BY_HWC, lambda: right / channels),
        ]
    else:
        mistakes.append(Mistake(GRAM_FLAG_IGNORED, lambda: right / positions))
    return named(right, mistakes)


def content_mistakes(generated, target) -> list[Mistake]:
    difference = _f64(generated) - _f64(target)
    right = _squares(difference)
    return named(
        right,
        [
            Mistake(CONTENT_MEAN, lambda: right / difference.size),
            Mistake(CONTENT_NORM, lambda: np.sqrt(right)),
            Mistake(CONTENT_MISSING_SQUARE, lambda: difference.sum()),
            Mistake(CONTENT_ABSOLUTE, lambda: np.abs(difference).sum()),
        ],
    )


def style_mistakes(layers, targets, weights=None, candidate_grams=None) -> list[Mistake]:
    """``candidate_grams``: the candidate's own ``gram_matrix(f)`` per layer, if it is known,
    to blame gram_matrix when style_loss is right given it."""
    weights = [1.0] * len(layers) if weights is None else list(weights)
    targets = [_f64(t) for t in targets]
    grams = [gram(f) for f in layers]
    sizes = [f.shape[1] * f.shape[2] for f in layers]

    def combine(terms):
        return float(sum(w * term for w, term in zip(weights, terms)))

    mistakes = [
        Mistake(
            STYLE_UNNORMALISED,
            lambda: combine([_squares(g * n - t) for g, n, t in zip(grams, sizes, targets)]),
        ),
        Mistake(
            STYLE_WEIGHTS_IGNORED,
            lambda: float(sum(_squares(g - t) for g, t in zip(grams, targets))),
        ),
    ]
    if candidate_grams is not None and not all(
        _f64(c).shape == g.shape and np.allclose(_f64(c), g, rtol=1e-3, atol=1e-3)
        for c, g in zip(candidate_grams, grams)
    ):
        # style_loss may well be right: blame only gram_matrix
        mistakes = [
            Mistake(
                STYLE_BECAUSE_OF_GRAM,
                lambda: combine([_squares(_f64(c) - t) for c, t in zip(candidate_grams, targets)]),
            )
        ]
    return named(style(layers, targets, weights), mistakes)


def variation_mistakes(images) -> list[Mistake]:
    x = _f64(images)
    vertical, horizontal = np.diff(x, axis=1), np.diff(x, axis=2)
    cropped = x[:, 1:, 1:]
    return named(
        total_variation(x),
        [
            Mistake(TV_VERTICAL_ONLY, lambda: _squares(vertical)),
            Mistake(TV_HORIZONTAL_ONLY, lambda: _squares(horizontal)),
            Mistake(TV_ABSOLUTE, lambda: np.abs(vertical).sum() + np.abs(horizontal).sum()),
            Mistake(
                TV_WRAPS_AROUND,
                lambda: _squares(np.roll(x, 1, axis=1) - x) + _squares(np.roll(x, 1, axis=2) - x),
            ),
            Mistake(
                TV_CROPPED,
                lambda: _squares(cropped - x[:, :-1, 1:]) + _squares(cropped - x[:, 1:, :-1]),
            ),
        ],
    )


def total_mistakes(content_value, style_value, weight) -> list[Mistake]:
    right = weight * style_value + (1 - weight) * content_value
    return named(
        right,
        [
            Mistake(TOTAL_SWAPPED, lambda: weight * content_value + (1 - weight) * style_value),
        ],
    )


# --------------------------------------------------------------------------- typical inputs


def typical_features(shape=(2, 2, 3, 2), seed: int = 0, dtype=np.float32) -> np.ndarray:
    """A small input on which every gram/TV mistake above has its own value (the tests that
    name mistakes use it; :func:`named` confirms it at run time)."""
    values = np.random.default_rng(seed).uniform(-2, 2, size=shape)
    return np.round(values, 2).astype(dtype)


# --------------------------------------------------------------------------- gradients


def missing_gradient(call: str, function: str, shape) -> AssertionError:
    """The failure for a gradient that is None: names ``function`` as not differentiable."""
    return AssertionError(
        f"the gradient of {call} is None, expected an array of shape {tuple(shape)}\n"
        f"Likely mistake: {not_differentiable(function)}"
    )


def gradient(actual, expected, *, call: str, function: str) -> np.ndarray:
    """The candidate's gradient as float64; None counts as zeros where the right gradient
    is zero, and is blamed on ``function`` otherwise."""
    expected = _f64(expected)
    if actual is None:
        if np.any(expected):
            raise missing_gradient(call, function, expected.shape)
        return np.zeros_like(expected)
    return _f64(actual)


def style_gradient(losses, actual, layer, *, call: str) -> np.ndarray:
    """One style layer's gradient as float64. None (never right: the loss depends on every
    layer) is blamed on gram_matrix when gram_matrix's own gradient is None too
    (``losses``: the candidate's module)."""
    if actual is None:
        _, (own,) = losses.value_and_grad("gram_matrix", layer)
        blamed = "gram_matrix" if own is None else "style_loss (or a function it calls)"
        raise missing_gradient(call, blamed, np.shape(layer))
    return _f64(actual)

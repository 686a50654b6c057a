"""Hypothesis strategies and helpers for the style-transfer tasks (``style_transfer.py``,
``fast_style.py``).

Images are small float32 RGB arrays in ``[0, 1]`` so that the tiny loss network
(``practicum.loss_networks.tiny_cnn``, which stands in for SqueezeNet in the tests) and the
transformation network run in milliseconds. The truth is computed on the test side with the
installed ``practicum.loss_networks``, never with the candidate's code: in numpy (float64)
for values, in TensorFlow (float32, through the tiny network) for gradients and descent.
A test draws one dtype per call (:func:`float_dtypes`) for all its arrays.
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# For tests that build a network per example: few examples, no slow shrinking.
FEW = settings(max_examples=3, phases=[Phase.explicit, Phase.reuse, Phase.generate])

TINY = "tiny"  # the stand-in loss network: content conv2, style conv1..conv3


@st.composite
def rgb_images(
    draw, min_side: int = 4, max_side: int = 20, batch: int | None = None, multiple: int = 1
) -> np.ndarray:
    """An ``(H, W, 3)`` (or ``(batch, H, W, 3)``) float32 image in ``[0, 1]``."""
    sides = st.integers(max(1, min_side // multiple), max_side // multiple)
    height, width = draw(sides) * multiple, draw(sides) * multiple
    shape = (height, width, 3) if batch is None else (batch, height, width, 3)
    # a smooth random image plus noise: photo-like enough for the features to vary
    seed = draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.0, 1.0, shape).astype(np.float32)
    pixels = draw(hnp.arrays(np.float32, (3,), elements=st.floats(0.0, 1.0, width=32)))
    return np.clip(0.7 * base + 0.3 * pixels, 0.0, 1.0).astype(np.float32)


def float_dtypes() -> st.SearchStrategy[type]:
    """The dtype of every array of one call: float32 (the course's) or float64 (which the
    provided helpers convert to float32). One draw per call: dtypes are never mixed."""
    return st.sampled_from([np.float32, np.float64])


def sizes_divisible_by_4(max_side: int = 28) -> st.SearchStrategy[tuple[int, int, int]]:
    """``(B, H, W)`` with ``H`` and ``W`` multiples of 4, at least 8 (the transformation
    network's input: reflection padding needs 2 pixels after the two stride-2 layers)."""
    side = st.integers(2, max_side // 4).map(lambda k: 4 * k)
    return st.tuples(st.integers(1, 2), side, side)


def tiny_features(images: np.ndarray) -> dict[str, list[np.ndarray]]:
    """The tiny loss network's features, computed on the test side (float64 arrays)."""
    from practicum.loss_networks import get_extractor

    images = np.asarray(images, np.float32)
    images = images[np.newaxis] if images.ndim == 3 else images
    features = get_extractor(TINY)(images)
    return {key: [np.asarray(f, np.float64) for f in value] for key, value in features.items()}


def tiny_style_weights() -> list[float]:
    from practicum.loss_networks import get_extractor

    return list(get_extractor(TINY).style_weights)


def gram(features: np.ndarray) -> np.ndarray:
    """Normalised Gram matrices ``(B, C, C)`` of ``(B, H, W, C)`` features, in numpy."""
    batch, height, width, channels = features.shape
    flat = features.reshape(batch, height * width, channels).astype(np.float64)
    return np.einsum("bpi,bpj->bij", flat, flat) / (height * width)


def total_variation(images: np.ndarray) -> float:
    x = np.asarray(images, np.float64)
    x = x[np.newaxis] if x.ndim == 3 else x
    return float(np.sum(np.diff(x, axis=1) ** 2) + np.sum(np.diff(x, axis=2) ** 2))


def squares(array) -> float:
    return float(np.sum(np.square(np.asarray(array, np.float64))))


def loss_terms(image, content_targets, style_targets) -> dict[str, float]:
    """The unweighted terms of the handout's loss for ``image``, in float64: ``content``,
    ``style`` (with the tiny network's style weights), ``style_unweighted``, ``tv``."""
    features = tiny_features(image)
    per_layer = [squares(gram(f) - t) for f, t in zip(features["style"], style_targets)]
    return {
        "content": sum(squares(f - t) for f, t in zip(features["content"], content_targets)),
        "style": sum(w * p for w, p in zip(tiny_style_weights(), per_layer)),
        "style_unweighted": sum(per_layer),
        "tv": total_variation(image),
    }


def _weighted_terms(image, content_targets, style_targets, weight: float, tv_weight: float):
    """The handout's three weighted terms as TensorFlow scalars (the test side's own
    definition, differentiable with respect to the float32 ``image``)."""
    import tensorflow as tf

    from practicum.loss_networks import get_extractor

    extractor = get_extractor(TINY)
    features = extractor(image)
    content = tf.add_n(
        [
            tf.reduce_sum(tf.square(f - tf.constant(t, tf.float32)))
            for f, t in zip(features["content"], content_targets)
        ]
    )
    style = 0.0
    for w, f, t in zip(extractor.style_weights, features["style"], style_targets):
        positions = tf.cast(tf.shape(f)[1] * tf.shape(f)[2], tf.float32)
        grams = tf.einsum("bhwi,bhwj->bij", f, f) / positions
        style += w * tf.reduce_sum(tf.square(grams - tf.constant(t, tf.float32)))
    tv = tf.reduce_sum(tf.square(image[:, 1:] - image[:, :-1])) + tf.reduce_sum(
        tf.square(image[:, :, 1:] - image[:, :, :-1])
    )
    return {"content": (1 - weight) * content, "style": weight * style, "tv": tv_weight * tv}


def term_gradients(
    image, content_targets, style_targets, weight: float, tv_weight: float
) -> dict[str, np.ndarray]:
    """The gradient of each weighted term with respect to ``image`` ``(H, W, 3)`` or
    ``(1, H, W, 3)``, as ``(1, H, W, 3)`` float64 arrays."""
    import tensorflow as tf

    pixels = np.asarray(image, np.float32)
    variable = tf.Variable(pixels[np.newaxis] if pixels.ndim == 3 else pixels)
    with tf.GradientTape(persistent=True) as tape:
        terms = _weighted_terms(variable, content_targets, style_targets, weight, tv_weight)
    return {
        name: np.asarray(tape.gradient(value, variable), np.float64)
        for name, value in terms.items()
    }


def sgd_descent(
    content,
    style,
    steps: int,
    learning_rate: float,
    weight: float,
    tv_weight: float,
    seed: int,
    clip: bool = True,
) -> dict:
    """Gradient descent on the pixels by definition, from ``run_style_transfer``'s noise
    start: ``{"before": [loss before each step], "after": [loss after each step],
    "image": (H, W, 3)}``."""
    import tensorflow as tf

    targets_c = [f.astype(np.float32) for f in tiny_features(content)["content"]]
    targets_s = [gram(f).astype(np.float32) for f in tiny_features(style)["style"]]
    start = np.random.default_rng(seed).uniform(0, 1, (1, *np.shape(content)))
    image = tf.Variable(np.asarray(start, np.float32))

    def loss():
        return tf.add_n(
            list(_weighted_terms(image, targets_c, targets_s, weight, tv_weight).values())
        )

    before, after = [], []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            value = loss()
        gradient = tape.gradient(value, image)
        image.assign(image - learning_rate * gradient)
        if clip:
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
        before.append(float(value))
        after.append(float(loss()))
    return {"before": before, "after": after, "image": image.numpy()[0]}


# --------------------------------------------------------------------------- architecture


def model_layers(model: dict) -> list[dict]:
    """The layers of a model returned through the proxy, each with its ``config``."""
    assert isinstance(model, dict) and "keras_model" in model, (
        f"expected a keras.Model, received {type(model).__name__}"
    )
    architecture = json.loads(model["keras_model"])
    configs = {layer["config"]["name"]: layer for layer in _walk(architecture)}
    rows = []
    for layer in model["layers"]:
        entry = configs.get(layer["name"], {})
        rows.append({**layer, "config": entry.get("config", {})})
    return rows


def _walk(node):
    if isinstance(node, dict):
        if (
            "class_name" in node
            and isinstance(node.get("config"), dict)
            and "name" in node["config"]
        ):
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def as_pair(value) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


def convolutions(layers: list[dict]) -> list[tuple[tuple[int, int], int, tuple[int, int]]]:
    """``(kernel, filters, strides)`` of every Conv2D/Conv2DTranspose, sorted."""
    found = []
    for layer in layers:
        if layer["class_name"] in ("Conv2D", "Conv2DTranspose"):
            config = layer["config"]
            found.append(
                (
                    as_pair(config.get("kernel_size", 1)),
                    int(config.get("filters", 0)),
                    as_pair(config.get("strides", 1)),
                )
            )
    return sorted(found)

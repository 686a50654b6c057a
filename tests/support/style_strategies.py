"""Hypothesis strategies and helpers for the style-transfer tasks (``style_transfer.py``,
``fast_style.py``).

Images are small float32 RGB arrays in ``[0, 1]`` so that the tiny loss network
(``practicum.loss_networks.tiny_cnn``, which stands in for SqueezeNet in the tests) and the
transformation network run in milliseconds. The truth is computed on the test side with the
installed ``practicum.loss_networks``, never with the candidate's code.
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
def rgb_images(draw, min_side: int = 4, max_side: int = 20, batch: int | None = None,
               multiple: int = 1) -> np.ndarray:
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


# --------------------------------------------------------------------------- architecture


def model_layers(model: dict) -> list[dict]:
    """The layers of a model returned through the proxy, each with its ``config``."""
    assert isinstance(model, dict) and "keras_model" in model, (
        f"expected a keras.Model, received {type(model).__name__}")
    architecture = json.loads(model["keras_model"])
    configs = {layer["config"]["name"]: layer for layer in _walk(architecture)}
    rows = []
    for layer in model["layers"]:
        entry = configs.get(layer["name"], {})
        rows.append({**layer, "config": entry.get("config", {})})
    return rows


def _walk(node):
    if isinstance(node, dict):
        if "class_name" in node and isinstance(node.get("config"), dict) \
                and "name" in node["config"]:
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
            found.append((as_pair(config.get("kernel_size", 1)), int(config.get("filters", 0)),
                          as_pair(config.get("strides", 1))))
    return sorted(found)

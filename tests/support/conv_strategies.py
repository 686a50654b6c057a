"""Hypothesis strategies for the convolution tasks (``conv.py`` and ``model_builder.py``).

Shapes stay small (sides up to 12, a few channels) so that every Keras model the tests
build has a few hundred parameters at most. Every strategy draws *valid* arguments; the
tests make invalid ones from them explicitly.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from tests.support.model_limits import check_model_json

ACTIVATIONS = ("relu", "leaky_relu", "relu6", "tanh")
PADDINGS = ("same", "valid")


def image_shapes(
    max_side: int = 12, max_channels: int = 4, min_side: int = 1
) -> st.SearchStrategy[tuple[int, int, int]]:
    """``(H, W, C)`` shapes of one image."""
    return st.tuples(
        st.integers(min_side, max_side),
        st.integers(min_side, max_side),
        st.integers(1, max_channels),
    )


@st.composite
def windows(draw, max_height: int = 7, max_width: int = 7):
    """A window or stride: an int ``k`` (for ``(k, k)``) or a pair ``(kh, kw)``."""
    if draw(st.booleans()):
        return draw(st.integers(1, min(max_height, max_width)))
    return (draw(st.integers(1, max_height)), draw(st.integers(1, max_width)))


def as_pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


@st.composite
def conv_cases(draw, padding: str | None = None) -> dict:
    """Keyword arguments for ``conv_output_shape``; with 'valid' the kernel fits."""
    shape = draw(image_shapes())
    padding = padding or draw(st.sampled_from(PADDINGS))
    limit = (shape[0], shape[1]) if padding == "valid" else (7, 7)
    return {
        "input_shape": shape,
        "filters": draw(st.integers(1, 8)),
        "kernel_size": draw(windows(min(7, limit[0]), min(7, limit[1]))),
        "stride": draw(windows(4, 4)),
        "padding": padding,
    }


@st.composite
def pool_cases(draw) -> dict:
    """Keyword arguments for ``pool_output_shape`` (the window fits); ``stride`` and
    ``padding`` are left out now and then, to exercise the defaults."""
    shape = draw(image_shapes())
    case = {"input_shape": shape, "pool_size": draw(windows(min(4, shape[0]), min(4, shape[1])))}
    if draw(st.booleans()):
        case["stride"] = draw(windows(4, 4))
    if draw(st.booleans()):
        case["padding"] = draw(st.sampled_from(PADDINGS))
    return case


def conv_length(length: int, window: int, stride: int, padding: str) -> int:
    """Output length along one axis (for the strategies; the tests ask the reference)."""
    if padding == "valid":
        return (length - window) // stride + 1
    return math.ceil(length / stride)


@st.composite
def conv_blocks(draw, input_shape: tuple[int, int, int], max_blocks: int = 3) -> list[dict]:
    """A valid list of ``build_conv_stack`` blocks for ``input_shape`` (defaults often
    left out)."""
    height, width, _ = input_shape
    blocks = []
    for _ in range(draw(st.integers(0, max_blocks))):
        block = {"filters": draw(st.integers(1, 4)), "kernel_size": draw(windows(5, 5))}
        stride = as_pair(1)
        if draw(st.booleans()):
            block["stride"] = draw(windows(2, 2))
            stride = as_pair(block["stride"])
        height = conv_length(height, 1, stride[0], "same")
        width = conv_length(width, 1, stride[1], "same")
        if draw(st.booleans()):
            block["activation"] = draw(st.sampled_from(ACTIVATIONS))
        pool = draw(st.sampled_from([None, 0, 2, 2, 3, (2, 1), "default"]))
        if pool == "default":
            pool = 2
        else:
            block["pool_size"] = pool
        if pool:
            ph, pw = as_pair(pool)
            if ph > height or pw > width:
                block["pool_size"] = None
            else:
                height, width = (height - ph) // ph + 1, (width - pw) // pw + 1
        blocks.append(block)
    return blocks


MODEL_INPUTS = ((28, 28, 1), (32, 32, 3))


@st.composite
def layer_specs(
    draw,
    input_shape: tuple[int, ...] | None = None,
    max_image_layers: int = 5,
    max_flat_layers: int = 4,
) -> tuple[tuple, list]:
    """``(input_shape, specs)``: a valid Model Builder model for MNIST or CIFAR shapes.

    An image part (convs, max pools, activations), then often a flatten and a flat part
    (fc layers, activations, a final softmax).
    """
    shape = input_shape or draw(st.sampled_from(MODEL_INPUTS))
    height, width = shape[0], shape[1]
    specs: list[dict] = []
    for _ in range(draw(st.integers(0, max_image_layers))):
        kind = draw(st.sampled_from(["conv", "maxpool", "activation"]))
        if kind == "conv":
            spec = {
                "type": "conv",
                "filters": draw(st.integers(1, 4)),
                "kernel": draw(st.integers(1, 5)),
            }
            stride = 1
            if draw(st.booleans()):
                stride = spec["stride"] = draw(st.integers(1, 3))
            height, width = math.ceil(height / stride), math.ceil(width / stride)
        elif kind == "maxpool":
            field = draw(st.integers(1, 3))
            if field > min(height, width):
                continue
            spec = {"type": "maxpool", "field": field}
            stride = field
            if draw(st.booleans()):
                stride = spec["stride"] = draw(st.integers(1, 3))
            height, width = (height - field) // stride + 1, (width - field) // stride + 1
        else:
            spec = {"type": draw(st.sampled_from(ACTIVATIONS))}
        specs.append(spec)
    if specs and draw(st.integers(0, 4)) == 0:
        return tuple(shape), specs  # an image model with no classifier
    specs.append({"type": "flatten"})
    for _ in range(draw(st.integers(0, max_flat_layers))):
        if draw(st.booleans()):
            specs.append({"type": "fc", "units": draw(st.integers(1, 12))})
        else:
            specs.append({"type": draw(st.sampled_from(ACTIVATIONS))})
    if draw(st.booleans()):
        specs += [{"type": "fc", "units": 10}, {"type": "softmax"}]
    return tuple(shape), specs


# --------------------------------------------------------------------------- returned models
# A Keras model crosses the proxy as ``{"keras_model": json, "input_shape", "layers"}``.
# The helpers below name each layer by what it does, so that ``ReLU()`` and
# ``Activation("relu")`` count as the same layer, and ``ReLU()`` and ``ReLU(max_value=6)``
# do not.

LAYER_CLASSES = {
    "Conv2D": "conv",
    "Convolution2D": "conv",
    "MaxPooling2D": "maxpool",
    "MaxPool2D": "maxpool",
    "Flatten": "flatten",
    "Dense": "fc",
}
_PROBE = [-10.0, -2.0, -0.5, 0.0, 0.5, 2.0, 7.0, 10.0]


def assert_model(result, what: str) -> dict:
    """``result`` if it is a returned Keras model, else an AssertionError saying so."""
    if not isinstance(result, dict) or "keras_model" not in result:
        raise AssertionError(
            f"{what} returned {type(result).__name__} {result!r:.80}, "
            f"expected a keras.Sequential model"
        )
    return result


def rebuild(model: dict, what: str):
    """The Keras model again, from its JSON (fresh weights), once the JSON is within the
    limits of :mod:`tests.support.model_limits` (layers, parameters, size, nesting): a
    model over them fails the test before Keras builds anything."""
    import keras

    check_model_json(model.get("keras_model"), what)
    try:
        return keras.models.model_from_json(model["keras_model"])
    except Exception as error:  # noqa: BLE001 - any failure is the candidate's
        raise AssertionError(
            f"the model from {what} cannot be rebuilt from its JSON "
            f"({type(error).__name__}: {error}); use the standard Keras "
            f"layers (no Lambda layers)"
        ) from None


def _identify(layer) -> str:
    import numpy as np

    x = np.array([_PROBE], dtype=np.float32)
    try:
        y = np.asarray(layer(x), dtype=np.float64)[0]
    except Exception:  # noqa: BLE001
        return f"unknown ({type(layer).__name__})"
    x = x[0].astype(np.float64)
    candidates = {
        "relu": np.maximum(x, 0),
        "relu6": np.clip(x, 0, 6),
        "tanh": np.tanh(x),
        "softmax": np.exp(x - x.max()) / np.exp(x - x.max()).sum(),
        "linear": x,
    }
    for name, expected in candidates.items():
        if y.shape == expected.shape and np.allclose(y, expected, atol=1e-4):
            return name
    slope = y[0] / x[0]
    if 0 < slope < 1 and np.allclose(y, np.where(x > 0, x, slope * x), atol=1e-4):
        return "leaky_relu"
    return f"unknown ({type(layer).__name__})"


def layer_kinds(model: dict, what: str) -> list[str]:
    """One name per layer: conv, maxpool, flatten, fc, or what the layer computes
    (relu, relu6, leaky_relu, tanh, softmax, linear)."""
    names = [LAYER_CLASSES.get(layer["class_name"]) for layer in model["layers"]]
    if all(names):
        return names
    rebuilt = rebuild(model, what)
    layers = [layer for layer in rebuilt.layers if type(layer).__name__ != "InputLayer"]
    return [name or _identify(layer) for name, layer in zip(names, layers)]


def output_shapes_of(model: dict) -> list[tuple | None]:
    """Each layer's output shape without the batch axis."""
    return [
        None if layer["output_shape"] is None else tuple(layer["output_shape"][1:])
        for layer in model["layers"]
    ]


def expect_float32(model: dict, what: str) -> None:
    """Every layer computes in float32, Keras's default and the course's dtype."""
    dtypes = sorted({layer.compute_dtype for layer in rebuild(model, what).layers})
    if set(dtypes) - {"float32"}:
        raise AssertionError(
            f"{what} computes in {dtypes}, expected float32 (Keras's default, "
            f"the course's dtype): leave the layers' dtype alone"
        )


def parameter_count(model: dict, what: str) -> int:
    return int(rebuild(model, what).count_params())

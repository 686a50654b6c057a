"""Limits on a model reply, checked before Keras rebuilds it in the grader's process.

A ``build_model`` or ``build_conv_stack`` answer crosses the sandbox as JSON (see
``conv_strategies.rebuild``). Rebuilding runs Keras in the trusted process: its cost grows
with the square of the layer count and with the weights it allocates. So the JSON is
checked first, from the text alone (nothing is built):

* at most ``MAX_JSON_CHARS`` characters, nested at most ``MAX_DEPTH`` levels;
* a ``keras.Sequential`` of at most ``MAX_LAYERS`` layers (nested models count theirs);
* at most ``MAX_PARAMETERS`` parameters, computed from the layers' configs by following
  the shapes from the input (Dense, Conv2D, BatchNormalization, ... ; layers that keep the
  shape, pooling, flatten, reshape); a layer with weights whose input shape cannot be
  followed is refused, and so is any integer above ``MAX_INTEGER`` in a layer's config.

The course's answers stay far below: the largest reference model has 13 layers and about
30 000 parameters, its JSON about 15 000 characters, nested 7 levels.
"""

from __future__ import annotations

import json
import math

MAX_JSON_CHARS = 256 * 1024
MAX_DEPTH = 20
MAX_LAYERS = 64
MAX_PARAMETERS = 5_000_000
MAX_INTEGER = 1_000_000

SAME_SHAPE = {
    "ReLU",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "Softmax",
    "Activation",
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "LayerNormalization",
    "ThresholdedReLU",
}
POOLS = {"MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D"}
CONVS = {"Conv2D", "Convolution2D"}


class ModelTooLarge(AssertionError):
    """A model reply over the limits: the test fails with this message."""


def check_model_json(text: object, what: str) -> dict:
    """The parsed JSON of a model reply, or :class:`ModelTooLarge` saying which limit."""
    if type(text) is not str:
        raise ModelTooLarge(
            f"the model from {what} came back as {type(text).__name__}, expected its Keras JSON"
        )
    if len(text) > MAX_JSON_CHARS:
        raise ModelTooLarge(
            f"Received: a model whose JSON has {len(text)} characters from "
            f"{what}, expected at most {MAX_JSON_CHARS}"
        )
    _check_depth(text, what)
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ModelTooLarge(f"the model from {what} is not valid JSON ({error})") from None
    layers = _layers_of(config, what)
    count = _count_layers(layers)
    if count > MAX_LAYERS:
        raise ModelTooLarge(
            f"Received: a model of {count} layers from {what}, expected at "
            f"most {MAX_LAYERS} (the course's models have fewer than 20)"
        )
    parameters = count_parameters(layers, what)
    if parameters > MAX_PARAMETERS:
        raise ModelTooLarge(
            f"Received: a model of {parameters} parameters from {what}, "
            f"expected at most {MAX_PARAMETERS}"
        )
    return config


def _check_depth(text: str, what: str) -> None:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ModelTooLarge(
            f"Received: a model whose JSON is nested {deepest} levels deep "
            f"from {what}, expected at most {MAX_DEPTH}"
        )


def _layers_of(config: object, what: str) -> list:
    if type(config) is not dict or config.get("class_name") != "Sequential":
        name = config.get("class_name") if type(config) is dict else type(config).__name__
        raise ModelTooLarge(
            f"Received: a {str(name)[:60]} model from {what}, expected a keras.Sequential"
        )
    layers = (
        (config.get("config") or {}).get("layers") if type(config.get("config")) is dict else None
    )
    if type(layers) is not list:
        raise ModelTooLarge(f"the model from {what} has no list of layers in its JSON")
    return layers


def _count_layers(layers: list) -> int:
    total = 0
    for layer in layers:
        total += 1
        inner = layer.get("config") if type(layer) is dict else None
        if type(inner) is dict and type(inner.get("layers")) is list:
            total += _count_layers(inner["layers"])
    return total


def _ints(value: object):
    if type(value) is int:
        yield value
    elif type(value) is list:
        for item in value:
            yield from _ints(item)
    elif type(value) is dict:
        for item in value.values():
            yield from _ints(item)


def _pair(value: object) -> tuple[int, int]:
    if type(value) is int:
        return value, value
    if type(value) is list and len(value) == 2 and all(type(v) is int for v in value):
        return value[0], value[1]
    raise ValueError(value)


def count_parameters(layers: list, what: str) -> int:
    """The parameters of a Sequential's layers, from their configs alone."""
    shape: tuple | None = None
    total = 0
    for index, layer in enumerate(layers):
        if type(layer) is not dict or type(layer.get("config")) is not dict:
            raise ModelTooLarge(f"layer {index} of the model from {what} is malformed")
        kind, config = str(layer.get("class_name"))[:60], layer["config"]
        too_big = [value for value in _ints(config) if abs(value) > MAX_INTEGER]
        if too_big:
            raise ModelTooLarge(
                f"Received: layer {index} ({kind}) of the model from {what} "
                f"with {max(too_big, key=abs)} in its config, expected "
                f"numbers up to {MAX_INTEGER}"
            )
        declared = config.get("batch_shape") or config.get("batch_input_shape")
        if type(declared) is list and all(d is None or type(d) is int for d in declared):
            shape = tuple(declared[1:]) if None not in declared[1:] else None
        try:
            shape, weights = _follow(kind, config, shape)
        except (ValueError, TypeError, KeyError, IndexError):
            shape, weights = None, None
        if weights is None:
            raise ModelTooLarge(
                f"Received: layer {index} ({kind}) of the model from {what}, "
                "whose size cannot be checked before it is built; expected "
                "the standard Keras layers after a keras.Input"
            )
        total += weights
        if total > MAX_PARAMETERS:
            break
    return total


def _follow(kind: str, config: dict, shape: tuple | None) -> tuple[tuple | None, int | None]:
    """``(output shape, parameters)`` of one layer; ``None`` parameters: cannot tell."""
    if kind == "InputLayer":
        return shape, 0
    if kind in SAME_SHAPE:
        if kind in ("PReLU", "LayerNormalization"):
            return shape, None if shape is None else 2 * math.prod(shape)
        return shape, 0
    if shape is None:
        return None, 0 if kind in POOLS | {"Flatten", "Reshape"} else None
    if kind == "Dense":
        units = int(config["units"])
        bias = 1 if config.get("use_bias", True) else 0
        return (*shape[:-1], units), (shape[-1] + bias) * units
    if kind == "BatchNormalization":
        return shape, 4 * shape[-1]
    if kind == "Flatten":
        return (math.prod(shape),), 0
    if kind == "Reshape":
        target = tuple(int(d) for d in config["target_shape"])
        if -1 in target or math.prod(target) != math.prod(shape):
            return None, 0
        return target, 0
    if kind in CONVS | POOLS:
        height, width, channels = shape
        if kind in CONVS:
            window = _pair(config["kernel_size"])
            stride = _pair(config.get("strides", 1))
        else:
            window = _pair(config.get("pool_size", 2))
            stride = _pair(config.get("strides") or window)
        if config.get("padding", "valid") == "same":
            height, width = math.ceil(height / stride[0]), math.ceil(width / stride[1])
        else:
            height = (height - window[0]) // stride[0] + 1
            width = (width - window[1]) // stride[1] + 1
        if kind in POOLS:
            return (height, width, channels), 0
        filters = int(config["filters"])
        groups = int(config.get("groups", 1) or 1)
        bias = 1 if config.get("use_bias", True) else 0
        return (
            (height, width, filters),
            (window[0] * window[1] * channels // groups + bias) * filters,
        )
    return None, None  # a layer this check does not know: it might hold any weights

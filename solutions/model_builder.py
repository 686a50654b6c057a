"""Model Builder in Keras (Assignment 2 section 1, Assignment 3 section 1).

Model Builder lets you stack layers between the input image and the label, and shows the
shape after each layer; it refuses a model whose shapes do not fit, such as a fully
connected layer straight on a ``[28, 28, 1]`` image (it needs a flat vector: add a
*flatten* layer first). This module does the same in Keras.

A model is a list of layer *specs*, dicts like Model Builder's boxes:

=====================================================  ==================================
spec                                                   Keras layer
=====================================================  ==================================
``{"type": "conv", "filters": 16, "kernel": 5,         ``Conv2D(16, 5, strides=1,
"stride": 1}`` (stride optional, default 1)            padding="same")``
``{"type": "maxpool", "field": 2, "stride": 2}``       ``MaxPooling2D(2, strides=2)``
(stride optional, default ``field``)                   ('valid' padding)
``{"type": "relu"}``                                   ``ReLU()``
``{"type": "leaky_relu"}``                             ``LeakyReLU()`` (slope 0.3)
``{"type": "relu6"}``                                  ``ReLU(max_value=6)``
``{"type": "tanh"}``                                   ``Activation("tanh")``
``{"type": "flatten"}``                                ``Flatten()``
``{"type": "fc", "units": 10}``                        ``Dense(10)``
``{"type": "softmax"}``                                ``Softmax()``
=====================================================  ==================================

Shapes leave out the batch axis: an image is ``(H, W, C)``, a flat vector ``(N,)``.
A convolution (always 'same' padding) gives ``(ceil(H / s), ceil(W / s), filters)``; a
max pool with field ``f`` and stride ``s`` gives ``(floor((H - f) / s) + 1, ..., C)``;
activations and softmax keep the shape; flatten gives ``(H * W * C,)``; fc gives
``(units,)``. A model that does not fit raises :class:`ModelSpecError` (a ``ValueError``)
naming the layer and the shapes, for example
``"Received: layer 0 (fc) on input of shape (28, 28, 1), expected a flat vector: add a
flatten layer before it"``.

You will write two functions:

* ``output_shapes``: the shape after each layer, by arithmetic only (no Keras);
* ``build_model``: the ``keras.Sequential`` for a list of specs.

``PRESETS`` holds Model Builder's models (``preset("convolutional")`` and others).

Dtypes: ``output_shapes`` is integer arithmetic (Python ints in, tuples of ints out). The
Keras model computes in float32, Keras's default and the course's dtype: leave the layers'
``dtype`` alone.

Worked example (the "convolutional" preset on CIFAR-10)::

    output_shapes((32, 32, 3), preset("convolutional"))
    -> [(32, 32, 16), (16, 16, 16), (16, 16, 16),     conv, maxpool, relu
        (16, 16, 16), (8, 8, 16), (8, 8, 16),         conv, maxpool, relu
        (1024,), (10,), (10,)]                        flatten, fc, softmax
"""

from __future__ import annotations

import copy
import math  # noqa: F401 - the answers need it
from collections.abc import Mapping, Sequence

import keras


class ModelSpecError(ValueError):
    """A list of layer specs that does not make a valid model."""


# type -> (required parameters, optional parameters)
LAYER_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "conv": (("filters", "kernel"), ("stride",)),
    "maxpool": (("field",), ("stride",)),
    "relu": ((), ()),
    "leaky_relu": ((), ()),
    "relu6": ((), ()),
    "tanh": ((), ()),
    "flatten": ((), ()),
    "fc": (("units",), ()),
    "softmax": ((), ()),
}
IMAGE_LAYERS = ("conv", "maxpool")  # need an (H, W, C) input
FLAT_LAYERS = ("fc",)  # need an (N,) input

_FLATTEN = {"type": "flatten"}
_SOFTMAX = {"type": "softmax"}
_RELU = {"type": "relu"}
_CONV_BLOCK = [
    {"type": "conv", "filters": 16, "kernel": 5, "stride": 1},
    {"type": "maxpool", "field": 2, "stride": 2},
    _RELU,
]

PRESETS: dict[str, list[dict]] = {
    "one_layer": [_FLATTEN, {"type": "fc", "units": 10}, _SOFTMAX],
    "two_layer_fc": [
        _FLATTEN,
        {"type": "fc", "units": 10},
        _RELU,
        {"type": "fc", "units": 10},
        _SOFTMAX,
    ],
    "three_layer_fc": [
        _FLATTEN,
        {"type": "fc", "units": 10},
        _RELU,
        {"type": "fc", "units": 10},
        _RELU,
        {"type": "fc", "units": 10},
        _SOFTMAX,
    ],
    "wide_narrow_wide": [
        _FLATTEN,
        {"type": "fc", "units": 10},
        _RELU,
        {"type": "fc", "units": 3},
        _RELU,
        {"type": "fc", "units": 10},
        _SOFTMAX,
    ],
    "convolutional": [*_CONV_BLOCK, *_CONV_BLOCK, _FLATTEN, {"type": "fc", "units": 10}, _SOFTMAX],
}


def preset(name: str) -> list[dict]:
    """A fresh copy of Model Builder's model ``name`` (one of ``PRESETS``)."""
    if name not in PRESETS:
        raise ValueError(f"Received: name={name!r}, expected one of {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


def _check_input_shape(input_shape) -> tuple[int, ...]:
    """``input_shape`` as a tuple: ``(H, W, C)`` or ``(N,)`` of positive ints."""
    # Provided helper: use it, no need to change it.
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) not in (1, 3)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape)
    ):
        raise ModelSpecError(
            f"Received: input_shape={input_shape!r}, expected (H, W, C) or (N,), positive ints"
        )
    return tuple(int(v) for v in input_shape)


def check_layer(index: int, spec) -> dict:
    """Spec ``index`` checked on its own, with its defaults filled in (provided).

    Raises:
        ModelSpecError: for an unknown type, a missing or unknown parameter, or a
            parameter that is not a positive int.
    """
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise ModelSpecError(f"Received: layer {index} = {spec!r}, expected a dict with a 'type'")
    kind = spec["type"]
    if kind not in LAYER_TYPES:
        raise ModelSpecError(
            f"Received: layer {index} of type {kind!r}, expected one of {list(LAYER_TYPES)}"
        )
    required, optional = LAYER_TYPES[kind]
    missing = [key for key in required if key not in spec]
    unknown = sorted(set(spec) - {"type", *required, *optional})
    if missing or unknown:
        raise ModelSpecError(
            f"Received: layer {index} ({kind}) = {dict(spec)}, expected the "
            f"parameters {list(required)} (and optionally {list(optional)})"
        )
    full = dict(spec)
    if kind == "conv":
        full.setdefault("stride", 1)
    if kind == "maxpool":
        full.setdefault("stride", full["field"])
    for key, value in full.items():
        if key != "type" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ModelSpecError(
                f"Received: layer {index} ({kind}) {key}={value!r}, expected a positive int"
            )
    return full


def shape_error(index: int, spec: Mapping, shape, expected: str) -> ModelSpecError:
    """The error for layer ``index`` that cannot take an input of ``shape`` (provided).

    Example (``output_shapes`` raises it: ``raise shape_error(...)``):
        >>> error = shape_error(0, {"type": "fc", "units": 10}, (28, 28, 1),
        ...                     "a flat vector: add a flatten layer before it")
        >>> isinstance(error, ValueError)
        True
        >>> print(error)
        Received: layer 0 (fc) on input of shape (28, 28, 1), expected a flat vector: add a
        flatten layer before it
    """
    return ModelSpecError(
        f"Received: layer {index} ({spec['type']}) on input of shape "
        f"{tuple(shape)}, expected {expected}"
    )


def output_shapes(input_shape, layers) -> list[tuple[int, ...]]:
    """Computes the shape after each layer, as Model Builder displays them.

    Pure arithmetic, no Keras (see the module docstring for each layer's shape). Check
    the structure on the way:

    * ``fc`` needs a flat vector ``(N,)``: on an image raise
      ``shape_error(i, spec, shape, "a flat vector: add a flatten layer before it")``;
    * ``conv`` and ``maxpool`` need an image ``(H, W, C)``: after a flatten raise
      ``shape_error(i, spec, shape, "an image (H, W, C): conv and maxpool cannot follow a
      flatten layer")``;
    * a max pool ``field`` larger than the map raises
      ``shape_error(i, spec, shape, "a map at least as large as the pool field")``.

    Args:
        input_shape: ``(H, W, C)`` or ``(N,)``.
        layers: a list of layer specs.

    Returns:
        A list with one tuple of ints per layer: the shape of that layer's output.

    Raises:
        ModelSpecError: for an invalid spec (``check_layer``) or a layer whose input does
            not fit.

    Example:
        >>> output_shapes((28, 28, 1), [{"type": "flatten"}, {"type": "fc", "units": 10}])
        [(784,), (10,)]

    Hint: about 20 lines; one loop, with ``math.ceil`` and ``//``.
    """
    input_shape = _check_input_shape(input_shape)
    layers = [check_layer(index, spec) for index, spec in enumerate(layers)]
    # layers now holds checked specs with every stride filled in; input_shape is a tuple.
    ### BEGIN SOLUTION
    shape, shapes = input_shape, []
    for index, spec in enumerate(layers):
        kind = spec["type"]
        if kind in IMAGE_LAYERS and len(shape) != 3:
            raise shape_error(
                index,
                spec,
                shape,
                "an image (H, W, C): conv and maxpool cannot follow a flatten layer",
            )
        if kind in FLAT_LAYERS and len(shape) != 1:
            raise shape_error(index, spec, shape, "a flat vector: add a flatten layer before it")
        if kind == "conv":
            step = spec["stride"]
            shape = (math.ceil(shape[0] / step), math.ceil(shape[1] / step), spec["filters"])
        elif kind == "maxpool":
            field, step = spec["field"], spec["stride"]
            if field > shape[0] or field > shape[1]:
                raise shape_error(index, spec, shape, "a map at least as large as the pool field")
            shape = ((shape[0] - field) // step + 1, (shape[1] - field) // step + 1, shape[2])
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "fc":
            shape = (spec["units"],)
        shapes.append(shape)
    return shapes
    ### END SOLUTION


def build_model(input_shape, layers) -> keras.Sequential:
    """Builds the Keras model for a list of layer specs.

    The model starts with ``keras.Input(shape=input_shape)``, then one Keras layer per
    spec, as in the table of the module docstring (convolutions with ``padding="same"``,
    max pools with ``strides=stride``).

    Args:
        input_shape: ``(H, W, C)`` or ``(N,)``.
        layers: a list of layer specs.

    Returns:
        A ``keras.Sequential`` with ``len(layers)`` layers; layer ``i``'s output shape is
        ``(None, *output_shapes(input_shape, layers)[i])``.

    Raises:
        ModelSpecError: for an invalid model, with the message of ``output_shapes``.

    Example:
        >>> model = build_model((32, 32, 3), preset("convolutional"))
        >>> tuple(model.layers[0].output.shape), tuple(model.layers[1].output.shape)
        ((None, 32, 32, 16), (None, 16, 16, 16))

    Hint: about 20 lines: a loop mapping each spec to its Keras layer.
    """
    output_shapes(input_shape, layers)  # checks the whole model first
    layers = [check_layer(index, spec) for index, spec in enumerate(layers)]
    ### BEGIN SOLUTION
    built = [keras.Input(shape=tuple(input_shape))]
    for spec in layers:
        kind = spec["type"]
        if kind == "conv":
            layer = keras.layers.Conv2D(
                spec["filters"], spec["kernel"], strides=spec["stride"], padding="same"
            )
        elif kind == "maxpool":
            layer = keras.layers.MaxPooling2D(spec["field"], strides=spec["stride"])
        elif kind == "relu":
            layer = keras.layers.ReLU()
        elif kind == "leaky_relu":
            layer = keras.layers.LeakyReLU()
        elif kind == "relu6":
            layer = keras.layers.ReLU(max_value=6.0)
        elif kind == "tanh":
            layer = keras.layers.Activation("tanh")
        elif kind == "flatten":
            layer = keras.layers.Flatten()
        elif kind == "fc":
            layer = keras.layers.Dense(spec["units"])
        else:
            layer = keras.layers.Softmax()
        built.append(layer)
    return keras.Sequential(built)
    ### END SOLUTION

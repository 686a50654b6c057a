"""Convolution arithmetic and a stack of convolutional blocks (Assignment 3, sections 1.1 to 1.3).

In Model Builder's "Convolutional" model the first convolution takes CIFAR's
``[32, 32, 3]`` images to ``[32, 32, 16]`` and the first max pool (field 2) takes that to
``[16, 16, 16]``. This module computes such shapes by hand, then builds the stack in Keras.

Conventions: shapes are channels-last tuples ``(H, W, C)`` of positive ints, without the
batch axis. A window (``kernel_size``, ``pool_size``) and a ``stride`` are an int ``k``
(meaning ``(k, k)``) or a pair ``(kh, kw)`` for the height and width axes. Along one axis
of length ``n``, a window ``k`` moved by stride ``s`` gives

* ``padding="valid"`` (no zeros added; the window stays inside): ``floor((n - k) / s) + 1``;
* ``padding="same"`` (zeros added so that no input is skipped): ``ceil(n / s)``.

A convolution with ``filters`` filters has ``filters`` output channels; a pool keeps the
channels. Invalid arguments raise ``ValueError`` in the style
``"Received: kernel_size=0, expected a positive int or a pair of positive ints"``.

Dtypes: shapes, windows and strides are Python ints, and the shape functions return ints
(``//`` and ``math.ceil`` give ints; ``/`` alone gives a float). The Keras stack computes
in float32, Keras's default and the course's dtype: leave the layers' ``dtype`` alone.

You will write three functions:

* ``conv_output_shape``: the shape after a ``Conv2D`` layer;
* ``pool_output_shape``: the shape after a ``MaxPooling2D`` layer;
* ``build_conv_stack``: a ``keras.Sequential`` of (conv -> activation -> max pool) blocks,
  then ``Flatten``, ``Dense(num_classes)`` and ``Softmax``.

Worked example (the handout's first block on CIFAR-10)::

    conv_output_shape((32, 32, 3), filters=16, kernel_size=5)          -> (32, 32, 16)
    conv_output_shape((32, 32, 3), 16, 5, padding="valid")            -> (28, 28, 16)
    pool_output_shape((32, 32, 16), pool_size=2)                      -> (16, 16, 16)
    conv_output_shape((7, 7, 1), 4, kernel_size=3, stride=2, padding="same")   -> (4, 4, 4)
    conv_output_shape((7, 7, 1), 4, kernel_size=3, stride=2, padding="valid")  -> (3, 3, 4)
"""

from __future__ import annotations

import math  # noqa: F401 - the answers need it
from collections.abc import Mapping, Sequence

import keras

PADDINGS = ("same", "valid")
ACTIVATIONS = ("relu", "leaky_relu", "relu6", "tanh")
BLOCK_KEYS = ("filters", "kernel_size", "stride", "pool_size", "activation")


def _positive_int(value, name: str) -> int:
    """``value`` as an int, or ValueError unless it is a positive int."""
    # Provided helper: use it, no need to change it.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Received: {name}={value!r}, expected a positive int")
    return int(value)


def _pair(value, name: str) -> tuple[int, int]:
    """An int ``k`` as ``(k, k)``; a pair ``(a, b)`` of positive ints as it is."""
    # Provided helper: use it, no need to change it.
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
        ):
            return int(value[0]), int(value[1])
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return int(value), int(value)
    raise ValueError(
        f"Received: {name}={value!r}, expected a positive int or a pair of positive ints"
    )


def _check_shape(input_shape) -> tuple[int, int, int]:
    """``input_shape`` as a tuple ``(H, W, C)`` of positive ints, or ValueError."""
    # Provided helper: use it, no need to change it.
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape)
    ):
        raise ValueError(
            f"Received: input_shape={input_shape!r}, expected (H, W, C), three positive ints"
        )
    return int(input_shape[0]), int(input_shape[1]), int(input_shape[2])


def _check_padding(padding) -> str:
    # Provided helper: use it, no need to change it.
    if not isinstance(padding, str) or padding.lower() not in PADDINGS:
        raise ValueError(f"Received: padding={padding!r}, expected 'same' or 'valid'")
    return padding.lower()


def _check_window_fits(shape, window, padding: str, name: str) -> None:
    """With 'valid' padding the window must fit inside the input."""
    # Provided helper: use it, no need to change it.
    if padding == "valid" and (window[0] > shape[0] or window[1] > shape[1]):
        raise ValueError(
            f"Received: {name}={tuple(window)} on input_shape={tuple(shape)}, expected a "
            f"window no larger than the input with padding='valid'"
        )


def conv_output_shape(input_shape, filters, kernel_size, stride=1, padding="same"):
    """Computes the output shape of a 2-D convolution (``keras.layers.Conv2D``).

    Along the height axis, a kernel of height ``kh`` moved by ``sh`` gives
    ``floor((H - kh) / sh) + 1`` rows with ``padding="valid"`` and ``ceil(H / sh)`` rows
    with ``padding="same"``; the width axis likewise. There is one output channel per
    filter, whatever the number of input channels.

    Args:
        input_shape: ``(H, W, C)``, three positive ints.
        filters: the number of filters, a positive int.
        kernel_size: an int ``k`` or a pair ``(kh, kw)``.
        stride: an int ``s`` or a pair ``(sh, sw)`` (default 1).
        padding: ``"same"`` (default) or ``"valid"``.

    Returns:
        A tuple of three ints ``(H', W', filters)``.

    Raises:
        ValueError: for a shape, a size or a padding that is not valid, or a kernel larger
            than the input with ``padding="valid"``.

    Example:
        >>> conv_output_shape((32, 32, 3), filters=16, kernel_size=5)
        (32, 32, 16)
        >>> conv_output_shape((7, 7, 1), 4, kernel_size=3, stride=2, padding="valid")
        (3, 3, 4)

    Hint: about 6 lines; ``math.floor`` and ``math.ceil`` (or ``//``). No Keras needed.
    """
    height, width, _ = _check_shape(input_shape)
    filters = _positive_int(filters, "filters")
    kernel = _pair(kernel_size, "kernel_size")
    stride = _pair(stride, "stride")
    padding = _check_padding(padding)
    _check_window_fits((height, width), kernel, padding, "kernel_size")
    # From here on, kernel = (kh, kw) and stride = (sh, sw) are pairs of ints.
    ### BEGIN SOLUTION
    sizes = []
    for length, window, step in zip((height, width), kernel, stride):
        if padding == "valid":
            sizes.append(math.floor((length - window) / step) + 1)
        else:
            sizes.append(math.ceil(length / step))
    return sizes[0], sizes[1], filters
    ### END SOLUTION


def pool_output_shape(input_shape, pool_size=2, stride=None, padding="valid"):
    """Computes the output shape of a max pool (``keras.layers.MaxPooling2D``).

    The same arithmetic as a convolution with window ``pool_size``, except that the
    channels are kept, and that the stride defaults to the window (``stride=None``):
    Model Builder's max pool with field 2 halves the height and the width.

    Args:
        input_shape: ``(H, W, C)``, three positive ints.
        pool_size: an int ``p`` or a pair ``(ph, pw)`` (default 2).
        stride: an int, a pair, or ``None`` (default) for ``pool_size``.
        padding: ``"valid"`` (default, as in Keras) or ``"same"``.

    Returns:
        A tuple of three ints ``(H', W', C)``.

    Raises:
        ValueError: for a shape, a size or a padding that is not valid, or a window larger
            than the input with ``padding="valid"``.

    Example:
        >>> pool_output_shape((32, 32, 16), pool_size=2)
        (16, 16, 16)
        >>> pool_output_shape((5, 5, 1), pool_size=3, stride=1)
        (3, 3, 1)

    Hint: about 4 lines; you may call ``conv_output_shape``.
    """
    height, width, channels = _check_shape(input_shape)
    window = _pair(pool_size, "pool_size")
    if stride is not None:
        _pair(stride, "stride")
    padding = _check_padding(padding)
    _check_window_fits((height, width), window, padding, "pool_size")
    ### BEGIN SOLUTION
    strides = window if stride is None else stride
    out_height, out_width, _ = conv_output_shape(input_shape, channels, window, strides, padding)
    return out_height, out_width, channels
    ### END SOLUTION


def _normalise_block(index: int, block) -> dict:
    """Block ``index`` with its defaults filled in, or ValueError naming the block."""
    # Provided helper: use it, no need to change it.
    if not isinstance(block, Mapping):
        raise ValueError(f"Received: blocks[{index}]={block!r}, expected a dict")
    unknown = sorted(set(block) - set(BLOCK_KEYS))
    if unknown:
        raise ValueError(
            f"Received: blocks[{index}] with unknown key(s) {unknown}, "
            f"expected keys among {list(BLOCK_KEYS)}"
        )
    if "filters" not in block or "kernel_size" not in block:
        raise ValueError(
            f"Received: blocks[{index}]={dict(block)}, expected the keys "
            f"'filters' and 'kernel_size'"
        )
    full = {"stride": 1, "pool_size": 2, "activation": "relu", **block}
    try:
        full["filters"] = _positive_int(full["filters"], "filters")
        full["kernel_size"] = _pair(full["kernel_size"], "kernel_size")
        full["stride"] = _pair(full["stride"], "stride")
        if full["pool_size"] in (0, None):
            full["pool_size"] = None
        else:
            full["pool_size"] = _pair(full["pool_size"], "pool_size")
    except ValueError as error:
        raise ValueError(f"{error} in blocks[{index}]") from None
    if full["activation"] not in ACTIVATIONS:
        raise ValueError(
            f"Received: blocks[{index}] activation={full['activation']!r}, "
            f"expected one of {list(ACTIVATIONS)}"
        )
    return full


def _check_pool_fits(index: int, shape, pool_size) -> None:
    """Raises ValueError if block ``index``'s pool would shrink ``shape`` below 1 x 1."""
    # Provided helper: use it, no need to change it.
    if pool_size is not None and (pool_size[0] > shape[0] or pool_size[1] > shape[1]):
        raise ValueError(
            f"Received: blocks[{index}] pool_size={tuple(pool_size)} on a feature map of shape "
            f"{tuple(shape)}, expected a pool no larger than the map (it would leave less "
            f"than 1 x 1)"
        )


def activation_layer(name: str) -> keras.layers.Layer:
    """The Keras layer for an activation name (provided).

    ``"relu"`` is ``ReLU()``, ``"leaky_relu"`` is ``LeakyReLU()`` (slope 0.3 below zero),
    ``"relu6"`` is ``ReLU(max_value=6)`` (``min(max(x, 0), 6)``), ``"tanh"`` is
    ``Activation("tanh")``.
    """
    if name == "relu":
        return keras.layers.ReLU()
    if name == "leaky_relu":
        return keras.layers.LeakyReLU()
    if name == "relu6":
        return keras.layers.ReLU(max_value=6.0)
    if name == "tanh":
        return keras.layers.Activation("tanh")
    raise ValueError(f"Received: activation={name!r}, expected one of {list(ACTIVATIONS)}")


def build_conv_stack(input_shape, blocks, num_classes):
    """Builds a classifier of convolutional blocks, as in Model Builder's "Convolutional".

    Each block is a dict with the keys ``filters`` and ``kernel_size`` (required),
    ``stride`` (default 1), ``pool_size`` (default 2; ``0`` or ``None`` for no pool) and
    ``activation`` (default ``"relu"``; one of ``relu``, ``leaky_relu``, ``relu6``,
    ``tanh``). Block ``i`` adds, in this order:

    1. ``Conv2D(filters, kernel_size, strides=stride, padding="same")``;
    2. the activation layer (``activation_layer(name)``);
    3. ``MaxPooling2D(pool_size)`` (stride = pool size, 'valid' padding), unless no pool.

    After the blocks: ``Flatten()``, ``Dense(num_classes)`` and ``Softmax()``.

    Args:
        input_shape: ``(H, W, C)`` of one image.
        blocks: a list of block dicts (possibly empty).
        num_classes: a positive int.

    Returns:
        A ``keras.Sequential`` that starts with ``keras.Input(shape=input_shape)``; its
        output has shape ``(None, num_classes)``.

    Raises:
        ValueError: for an invalid block (unknown key, missing ``filters``, a size that is
            not a positive int, an unknown activation), naming the block's index; or for a
            pool that would shrink the feature map below 1 x 1.

    Example:
        >>> model = build_conv_stack((32, 32, 3), [{"filters": 16, "kernel_size": 5}] * 2, 10)
        >>> [tuple(layer.output.shape) for layer in model.layers][:3]
        [(None, 32, 32, 16), (None, 32, 32, 16), (None, 16, 16, 16)]

    Hint: about 12 lines; keep track of the shape with ``conv_output_shape`` and
    ``pool_output_shape`` and call ``_check_pool_fits`` before adding each pool.
    """
    input_shape = _check_shape(input_shape)
    num_classes = _positive_int(num_classes, "num_classes")
    if isinstance(blocks, (str, bytes, Mapping)) or not isinstance(blocks, Sequence):
        raise ValueError(f"Received: blocks={blocks!r}, expected a list of dicts")
    blocks = [_normalise_block(index, block) for index, block in enumerate(blocks)]
    # Each block now has all five keys; kernel_size and stride are pairs, pool_size a
    # pair or None (no pool). input_shape is a tuple (H, W, C).
    ### BEGIN SOLUTION
    shape = input_shape
    layers = [keras.Input(shape=shape)]
    for index, block in enumerate(blocks):
        layers.append(
            keras.layers.Conv2D(
                block["filters"], block["kernel_size"], strides=block["stride"], padding="same"
            )
        )
        layers.append(activation_layer(block["activation"]))
        shape = conv_output_shape(
            shape, block["filters"], block["kernel_size"], block["stride"], "same"
        )
        if block["pool_size"] is not None:
            _check_pool_fits(index, shape, block["pool_size"])
            layers.append(keras.layers.MaxPooling2D(block["pool_size"]))
            shape = pool_output_shape(shape, block["pool_size"])
    layers += [keras.layers.Flatten(), keras.layers.Dense(num_classes), keras.layers.Softmax()]
    return keras.Sequential(layers)
    ### END SOLUTION

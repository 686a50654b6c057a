"""The classic mistakes of the ``model_builder`` task: what each one gives, and its name.

A wrong shape is named only when it is exactly the shape that one mistake gives at that
layer of that model (:func:`shape_mistakes` recomputes the whole model with the mistake, so
a mistake in an early layer is recognised wherever it first shows), and every mistake that
gives that shape is named (:func:`tests.support.mistakes.conv.expect_shape`). The public
tests (``tests/public/test_model_builder.py``, expected shapes from the module docstring's
rules) and the hidden tests (expected shapes from the reference) use the same lists; they
check ``output_shapes`` and the shapes of the Keras model from ``build_model``.

Each entry: the mistake; its fixture in ``tests/fixtures/model_builder/wrong/``; the symptom
(the candidate's shape after the first layer it changes equals ...).

output_shapes, and the Keras model's shapes
  conv 'same' computed as 'valid'     conv_same_as_valid            floor((H - k) / s) + 1
  conv 'same' rounded down            conv_same_rounded_down        floor(H / s)
  PyTorch's symmetric padding         conv_symmetric_padding        floor((H + 2p - k) / s) + 1,
    p = (k - 1) // 2 (a library convention the handout rules out: Keras's 'same' pads one more
    zero after than before when the total padding is odd)
  the conv's stride ignored           conv_stride_ignored           (H, W, filters)
  the conv keeps the input channels   conv_channels_kept            (H', W', C)
  stride=None pool taken as stride 1  pool_stride_defaults_to_one   the stride-1 pool's shape
  the pool's stride ignored           pool_stride_ignored_in_keras  the stride-field shape
  pool rounded up                     pool_ceil                     ceil((H - f) / s) + 1
  flatten forgets the channels        flatten_forgets_channels      (H * W,)
build_model's layers
  wrong activation layer              relu6_as_relu                 an activation computes another
errors
  fc on an image accepted             missing_flatten_check         no ModelSpecError
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tests.support.compare import Mistake
from tests.support.mistakes.conv import ACTIVATION_LAYERS, RULES, likely

CONV_VALID = (
    "'same' padding computed as 'valid': Model Builder's convolutions give "
    "ceil(H / stride) rows whatever the kernel"
)
CONV_FLOOR = "'same' padding rounded down: a convolution gives ceil(H / stride), not floor"
CONV_SYMMETRIC = (
    "symmetric padding of (k - 1) // 2 on both sides (PyTorch's habit): Model "
    "Builder's 'same' is Keras's, ceil(H / stride) for every kernel"
)
CONV_STRIDE = "the conv stride is ignored: the output has ceil(H / stride) rows"
CONV_CHANNELS = "the conv kept the input's channels: a conv has `filters` output channels"
POOL_STRIDE_ONE = (
    "the max pool stride defaults to 1: without a stride it moves by the field "
    "(field 2 halves the map)"
)
POOL_STRIDE_IGNORED = "the max pool's stride is ignored: pass strides=stride to MaxPooling2D"
POOL_CEIL = (
    "ceil instead of floor: a max pool's window stays inside the map, "
    "floor((H - field) / stride) + 1"
)
FLATTEN_HW = "flatten forgot the channels: a flat vector has H * W * C entries"
NEEDS_FLATTEN = "a fully connected layer on an image needs a flatten layer before it"

# mistake -> (the layer type it changes, its message)
SHAPE_MISTAKES = {
    "conv_valid": ("conv", CONV_VALID),
    "conv_floor": ("conv", CONV_FLOOR),
    "conv_symmetric": ("conv", CONV_SYMMETRIC),
    "conv_no_stride": ("conv", CONV_STRIDE),
    "conv_channels_kept": ("conv", CONV_CHANNELS),
    "pool_stride_one": ("maxpool", POOL_STRIDE_ONE),
    "pool_stride_ignored": ("maxpool", POOL_STRIDE_IGNORED),
    "pool_ceil": ("maxpool", POOL_CEIL),
    "flatten_hw": ("flatten", FLATTEN_HW),
}


def activation_mapping(kind: str, computes: str) -> str:
    return f"wrong activation mapping: a {kind!r} layer computes {computes} ({ACTIVATION_LAYERS})"


def layer_output(spec: dict, shape: tuple[int, ...], mistake: str | None = None) -> tuple:
    """The output shape of one layer, right or with ``mistake`` (a key of SHAPE_MISTAKES)."""
    kind = spec["type"]
    if kind == "conv":
        k, s = spec["kernel"], spec.get("stride", 1)
        rule = {
            "conv_valid": "valid",
            "conv_floor": "same_floor",
            "conv_symmetric": "symmetric",
        }.get(mistake, "same")
        if mistake == "conv_no_stride":
            s = 1
        channels = shape[2] if mistake == "conv_channels_kept" else spec["filters"]
        return (RULES[rule](shape[0], k, s), RULES[rule](shape[1], k, s), channels)
    if kind == "maxpool":
        f = spec["field"]
        s = spec.get("stride", 1 if mistake == "pool_stride_one" else f)
        if mistake == "pool_stride_ignored":
            s = f
        rule = "valid_ceil" if mistake == "pool_ceil" else "valid"
        return (RULES[rule](shape[0], f, s), RULES[rule](shape[1], f, s), shape[2])
    if kind == "flatten":
        kept = shape[:2] if mistake == "flatten_hw" and len(shape) == 3 else shape
        return (math.prod(kept),)
    if kind == "fc":
        return (spec["units"],)
    return tuple(shape)


def mistaken_shapes(input_shape, specs: Sequence[dict], mistake: str | None = None) -> list:
    """Every layer's output shape with one mistake (``None``: the right shapes)."""
    shape, shapes = tuple(input_shape), []
    for spec in specs:
        shape = layer_output(spec, shape, mistake)
        shapes.append(shape)
    return shapes


def shape_mistakes(input_shape, specs: Sequence[dict], index: int) -> list[Mistake]:
    """For the shape after layer ``index``: the mistakes in a layer up to ``index``."""
    kinds = {spec["type"] for spec in specs[: index + 1]}
    return [
        Mistake(message, lambda m=name: mistaken_shapes(input_shape, specs, m)[index])
        for name, (kind, message) in SHAPE_MISTAKES.items()
        if kind in kinds
    ]


def kinds_mistake(kinds: list[str], wanted: list[str]) -> str | None:
    """The mistake whose layer kinds are ``kinds``, if one is."""
    wrong = [(w, k) for w, k in zip(wanted, kinds) if w != k]
    activations = ("relu", "leaky_relu", "relu6", "tanh", "softmax")
    if len(kinds) == len(wanted) and wrong and all(w in activations for w, _ in wrong):
        return activation_mapping(*wrong[0])
    return None


def expect_kinds(kinds: list[str], wanted: list[str], what: str) -> None:
    if kinds == wanted:
        return
    named = kinds_mistake(kinds, wanted)
    raise AssertionError(
        "\n".join(
            [
                f"{what}: the layers",
                f"  received {kinds}",
                f"  expected {wanted}",
                *likely([named] if named else []),
            ]
        )
    )

"""The classic mistakes of the ``conv`` task: what each one gives, and its name.

A shape is compared with :func:`expect_shape`: it names a mistake only when the candidate's
shape equals what that mistake gives *for the call shown* (exactly), and it names every
mistake that gives that shape, so a name is never a guess. A mistake that cannot apply to
a call (a default the call overrides, a stride of 1 "ignored") is not even listed for it.
The public tests (``tests/public/test_conv.py``, expected shapes by counting window
positions) and the hidden tests (expected shapes from the reference) use the same lists.
Along one axis of length ``n``, window ``k``, stride ``s``:

Each entry: the mistake; its fixture in ``tests/fixtures/conv/wrong/``; the symptom (the
candidate's shape equals ...).

conv_output_shape and pool_output_shape (both axes; the conv's channels, the pool's kept)
  'valid' rounded up                  valid_ceil              ceil((n - k) / s) + 1
  'valid' computed as 'same'          valid_as_same           ceil(n / s)
  'same' computed as 'valid'          same_as_valid           floor((n - k) / s) + 1
  'same' rounded down                 same_rounded_down       floor(n / s)
  PyTorch's symmetric padding         same_symmetric_padding  floor((n + 2 p - k) / s) + 1,
    p = (k - 1) // 2 on both sides (a library convention the handout rules out: Keras's
    'same' pads one more zero after than before when the total padding is odd)
  PyTorch's padding=k // 2            same_half_kernel        p = k // 2 on both sides
  stride ignored                      stride_ignored          the stride-1 shape
  height and width swapped            pairs_swapped           (kw, kh) and (sw, sh) used
conv_output_shape only
  the input's channels kept           channels_kept           (H', W', C)
  C * filters channels                channels_times_input    (H', W', C * filters)
pool_output_shape only (when the call leaves the default out)
  stride=None taken as 1              pool_stride_one         the stride-1 shape
  padding defaults to 'same'          pool_same_default       the 'same' shape
build_conv_stack (the layers in order, then each layer's output shape)
  pool before the activation          pool_before_activation  conv, maxpool, act per block
  wrong activation layer              relu6_as_relu           an activation computes another
  no max pools                        --                      no MaxPooling2D layer
  'valid' convolutions                valid_padding_in_stack  the Conv2D's 'valid' shape
  the conv's stride not passed        stack_stride_ignored    the Conv2D's stride-1 shape
  the pool moved by 1                 --                      the MaxPooling2D's stride-1 shape
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

from tests.support.compare import Mistake

VALID_CEIL = (
    "ceil instead of floor: with 'valid' padding the window ends inside the input, "
    "floor((H - k) / s) + 1"
)
VALID_AS_SAME = "'valid' padding computed as 'same': without padding it is floor((H - k) / s) + 1"
SAME_AS_VALID = "'same' padding computed as 'valid': 'same' gives ceil(H / s), whatever the kernel"
SAME_FLOOR = "'same' padding rounded down: 'same' gives ceil(H / s), not floor(H / s)"
SAME_SYMMETRIC = (
    "symmetric padding of (k - 1) // 2 on both sides (PyTorch's habit): the "
    "handout's 'same' is Keras's, ceil(H / s) for every kernel"
)
SAME_HALF_KERNEL = (
    "k // 2 zeros on both sides (PyTorch's padding=k // 2): the handout's 'same' "
    "is Keras's, ceil(H / s) for every kernel"
)
STRIDE_IGNORED = "stride ignored: the window moves by the stride, so divide by it"
SWAPPED = "height and width swapped: kernel_size and stride pairs are (height, width)"
CHANNELS_KEPT = "the input's channels kept: a convolution has `filters` output channels"
CHANNELS_TIMES = "C * filters channels: a convolution has `filters` output channels"
POOL_STRIDE_ONE = (
    "the pool stride defaults to 1: stride=None means stride = pool_size (field 2 halves the map)"
)
POOL_SAME_DEFAULT = "the pool's padding defaults to 'same': MaxPooling2D's default is 'valid'"
POOL_BEFORE_ACTIVATION = (
    "the max pool comes before the activation: each block is conv -> activation -> max pool"
)
NO_POOL = "no max pool layers: each block ends with MaxPooling2D(pool_size) unless no pool"
STACK_VALID = "the convolutions must use padding='same' (Conv2D's default is 'valid')"
STACK_STRIDE = "the block's stride is not passed to Conv2D: use strides=stride"
STACK_POOL_STRIDE_ONE = (
    "the pool moves by 1: MaxPooling2D(pool_size) moves by pool_size (leave strides out)"
)
ACTIVATION_LAYERS = (
    "relu is ReLU(), relu6 is ReLU(max_value=6), leaky_relu is LeakyReLU(), "
    "tanh is Activation('tanh')"
)


def activation_mapping(name: str, computes: str) -> str:
    return (
        f"wrong activation mapping: activation {name!r} gives a layer that computes "
        f"{computes} ({ACTIVATION_LAYERS})"
    )


# --------------------------------------------------------------------------- arithmetic

RULES: dict[str, Callable[[int, int, int], int]] = {
    "valid": lambda n, k, s: (n - k) // s + 1,
    "same": lambda n, k, s: -(-n // s),
    "valid_ceil": lambda n, k, s: -(-(n - k) // s) + 1,
    "same_floor": lambda n, k, s: n // s,
    "symmetric": lambda n, k, s: (n + 2 * ((k - 1) // 2) - k) // s + 1,
    "half_kernel": lambda n, k, s: (n + 2 * (k // 2) - k) // s + 1,
}


def as_pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def spatial(shape, window, stride, rule: str, channels: int) -> tuple[int, int, int]:
    """``(H', W', channels)`` by one of :data:`RULES` (a mistake may give a side of 0)."""
    (kh, kw), (sh, sw) = as_pair(window), as_pair(stride)
    return (RULES[rule](shape[0], kh, sh), RULES[rule](shape[1], kw, sw), channels)


def _window_mistakes(
    shape, window, stride, padding: str, channels: int, stride_given: bool = True
) -> list[Mistake]:
    """Mistakes of the window arithmetic that can show on this call."""
    right = "valid" if padding == "valid" else "same"

    def by(rule, w=window, s=stride):
        return lambda: spatial(shape, w, s, rule, channels)

    if padding == "valid":
        mistakes = [Mistake(VALID_CEIL, by("valid_ceil")), Mistake(VALID_AS_SAME, by("same"))]
    else:
        mistakes = [
            Mistake(SAME_AS_VALID, by("valid")),
            Mistake(SAME_FLOOR, by("same_floor")),
            Mistake(SAME_SYMMETRIC, by("symmetric")),
            Mistake(SAME_HALF_KERNEL, by("half_kernel")),
        ]
    if stride_given and as_pair(stride) != (1, 1):
        mistakes.append(Mistake(STRIDE_IGNORED, by(right, s=1)))
    swapped_window, swapped_stride = as_pair(window)[::-1], as_pair(stride)[::-1]
    if (swapped_window, swapped_stride) != (as_pair(window), as_pair(stride)):
        mistakes.append(Mistake(SWAPPED, by(right, w=swapped_window, s=swapped_stride)))
    return mistakes


def conv_mistakes(case: dict) -> list[Mistake]:
    """For ``conv_output_shape(**case)`` (keys as the function's parameters)."""
    shape, filters = case["input_shape"], case["filters"]
    stride, padding = case.get("stride", 1), case.get("padding", "same")
    right = "valid" if padding == "valid" else "same"
    mistakes = _window_mistakes(shape, case["kernel_size"], stride, padding, filters)

    def channels(number):
        return lambda: spatial(shape, case["kernel_size"], stride, right, number)

    if shape[2] != filters:
        mistakes.append(Mistake(CHANNELS_KEPT, channels(shape[2])))
    if shape[2] != 1:
        mistakes.append(Mistake(CHANNELS_TIMES, channels(shape[2] * filters)))
    return mistakes


def pool_mistakes(case: dict) -> list[Mistake]:
    """For ``pool_output_shape(**case)``: the defaults' mistakes only when the call leaves
    that argument out."""
    shape, window = case["input_shape"], case.get("pool_size", 2)
    stride = case.get("stride") or window
    padding = case.get("padding", "valid")
    right = "valid" if padding == "valid" else "same"
    mistakes = []
    if case.get("stride") is None and as_pair(window) != (1, 1):
        mistakes.append(
            Mistake(POOL_STRIDE_ONE, lambda: spatial(shape, window, 1, right, shape[2]))
        )
    if "padding" not in case:
        mistakes.append(
            Mistake(POOL_SAME_DEFAULT, lambda: spatial(shape, window, stride, "same", shape[2]))
        )
    return mistakes + _window_mistakes(
        shape, window, stride, padding, shape[2], stride_given=case.get("stride") is not None
    )


# --------------------------------------------------------------------------- build_conv_stack


def block_parts(block: dict) -> tuple[tuple[int, int], tuple[int, int] | None, str]:
    """A block's ``(stride, pool_size or None, activation)`` with the defaults filled in."""
    pool = block.get("pool_size", 2)
    return (
        as_pair(block.get("stride", 1)),
        as_pair(pool) if pool else None,
        block.get("activation", "relu"),
    )


def stack_kinds(
    blocks: Sequence[dict], *, pool_first: bool = False, pools: bool = True
) -> list[str]:
    """The layer kinds of a right stack (or of the two ordering mistakes)."""
    kinds = []
    for block in blocks:
        _, pool, activation = block_parts(block)
        tail = [activation] + (["maxpool"] if pool and pools else [])
        kinds += ["conv", *(tail[::-1] if pool_first else tail)]
    return [*kinds, "flatten", "fc", "softmax"]


def kinds_mistake(kinds: list[str], blocks: Sequence[dict]) -> str | None:
    """The mistake whose layer kinds are ``kinds``, if one is."""
    wanted = stack_kinds(blocks)
    if kinds == wanted:
        return None
    if kinds == stack_kinds(blocks, pool_first=True):
        return POOL_BEFORE_ACTIVATION
    if kinds == stack_kinds(blocks, pools=False):
        return NO_POOL
    if len(kinds) == len(wanted):
        wrong = [(w, k) for w, k in zip(wanted, kinds) if w != k]
        if all(w in ("relu", "relu6", "leaky_relu", "tanh") for w, _ in wrong):
            return activation_mapping(*wrong[0])
    return None


def expect_stack_kinds(kinds: list[str], blocks: Sequence[dict], what: str) -> None:
    wanted = stack_kinds(blocks)
    if kinds == wanted:
        return
    named = kinds_mistake(kinds, blocks)
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


def conv_layer_mistakes(block: dict, shape) -> list[Mistake]:
    """For the output of a block's Conv2D on an input of ``shape``."""
    stride, _, _ = block_parts(block)
    kernel, filters = block["kernel_size"], block["filters"]
    mistakes = [Mistake(STACK_VALID, lambda: spatial(shape, kernel, stride, "valid", filters))]
    if stride != (1, 1):
        mistakes.append(Mistake(STACK_STRIDE, lambda: spatial(shape, kernel, 1, "same", filters)))
    return mistakes


def pool_layer_mistakes(block: dict, shape) -> list[Mistake]:
    """For the output of a block's MaxPooling2D on an input of ``shape``."""
    _, pool, _ = block_parts(block)
    if pool is None or pool == (1, 1):
        return []
    return [Mistake(STACK_POOL_STRIDE_ONE, lambda: spatial(shape, pool, 1, "valid", shape[2]))]


def check_stack_shapes(
    shapes: list,
    input_shape,
    blocks: Sequence[dict],
    num_classes: int,
    what: str,
    conv_shape: Callable,
    pool_shape: Callable,
) -> None:
    """Each layer's output shape of a stack whose layer kinds are right. ``conv_shape(shape,
    block)`` and ``pool_shape(shape, block)`` give the right shapes (from the definition in
    the public tests, from the reference in the hidden ones)."""
    current, index = tuple(input_shape), 0
    for number, block in enumerate(blocks):
        expected = tuple(conv_shape(current, block))
        expect_shape(
            shapes[index],
            expected,
            what=f"{what}: block {number}'s Conv2D on {current}",
            mistakes=conv_layer_mistakes(block, current),
        )
        expect_shape(shapes[index + 1], expected, what=f"{what}: block {number}'s activation")
        current, index = expected, index + 2
        if block_parts(block)[1] is not None:
            expected = tuple(pool_shape(current, block))
            expect_shape(
                shapes[index],
                expected,
                what=f"{what}: block {number}'s MaxPooling2D on {current}",
                mistakes=pool_layer_mistakes(block, current),
            )
            current, index = expected, index + 1
    for name, expected in (
        ("Flatten", (math.prod(current),)),
        ("Dense", (num_classes,)),
        ("Softmax", (num_classes,)),
    ):
        expect_shape(shapes[index], expected, what=f"{what}: the {name} layer")
        index += 1


# --------------------------------------------------------------------------- comparing


def call_text(function: str, case: dict) -> str:
    """``conv_output_shape((7, 7, 1), filters=4, ...)``: the call as the test made it."""
    arguments = [repr(tuple(case["input_shape"]))] + [
        f"{key}={value!r}" for key, value in case.items() if key != "input_shape"
    ]
    return f"{function}({', '.join(arguments)})"


def as_shape(value, what: str, size: int) -> tuple[int, ...]:
    """``value`` as a tuple of ``size`` ints, or an AssertionError saying what it is."""
    if value is None:
        raise AssertionError(f"{what} returned None: did you forget to `return` the shape?")
    if (
        not isinstance(value, (list, tuple))
        or len(value) != size
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        raise AssertionError(
            f"{what} returned {value!r:.80}, expected a tuple of {size} ints (not floats or arrays)"
        )
    return tuple(int(v) for v in value)


def _variant(mistake: Mistake):
    try:
        return tuple(mistake.variant())
    except (ArithmeticError, ValueError, IndexError, TypeError):
        return None


def expect_shape(actual, expected, *, what: str, mistakes: Sequence[Mistake] = ()) -> None:
    """Asserts that the shape ``actual`` is ``expected``; when it is not, names every
    mistake in ``mistakes`` that gives exactly ``actual``."""
    expected = tuple(int(v) for v in expected)
    received = as_shape(actual, what, len(expected))
    if received == expected:
        return
    named = list(dict.fromkeys(m.message for m in mistakes if _variant(m) == received))
    raise AssertionError(
        "\n".join([what, f"  received {received}, expected {expected}", *likely(named)])
    )


def likely(named: Sequence[str]) -> list[str]:
    """The "Likely mistake" lines: one, or a list when several give the same answer."""
    if len(named) == 1:
        return [f"Likely mistake: {named[0]}"]
    return ["Likely mistake, one of:", *(f"  - {name}" for name in named)] if named else []

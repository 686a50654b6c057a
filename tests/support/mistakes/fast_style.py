"""The classic mistakes of ``fast_style.py``, recognised by their symptoms.

=======================  ===============================  ==========================================
mistake                  fixture (``wrong/``)             symptom (test)
=======================  ===============================  ==========================================
ReLU after the add       ``relu_after_add``               with zero convolutions the residual block
                                                          returns ``relu(x)``, not ``x`` (residual)
no residual connection   ``no_residual``                  zero convolutions give 0, not ``x``; fewer
                                                          than 5 ``Add`` layers (architecture)
batch normalisation      ``batch_norm``                   ``BatchNormalization`` layers; the output
                                                          changes with the photo's brightness
transposed upsampling    ``transposed_upsampling``        ``Conv2DTranspose`` layers; a flat photo
                                                          comes out with checkerboards
zero padding             ``zero_padding``                 ``ZeroPadding2D`` or a ``padding="same"``
                                                          convolution; a flat photo gets borders
output not in [0, 1]     ``output_not_in_unit_interval``  values outside ``[0, 1]`` (no sigmoid)
numpy in the network     ``numpy_function_padding``       trainable weights without a gradient
                         ``numpy_in_a_layer``             (gradient); or "numpy" in the error of
                                                          building the network
=======================  ===============================  ==========================================

``train_transform_net`` (and so the loss it returns) is provided, not written by students: the
"loss after the update" mistake has no place here (see ``training``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from tests.support.compare import Mistake

RELU_AFTER_ADD = (
    "a ReLU after the residual add: return keras.layers.Add()([x, y]) as it is "
    "(the second conv_block has relu=False, and nothing follows the sum)"
)
NO_RESIDUAL = (
    "a missing residual connection: each residual block returns "
    "keras.layers.Add()([x, y]), its input plus its output"
)
ECHO_BLOCK = (
    "a block that returns its input: the branch conv_block(conv_block(x, ...), ..., "
    "relu=False) is missing from keras.layers.Add()([x, y])"
)
BATCH_NORM = (
    "batch normalisation instead of instance normalisation: use "
    "GroupNormalization(groups=-1) (conv_block's instance_norm)"
)
TRANSPOSED = (
    "a transposed convolution (Conv2DTranspose) upsamples: resize with "
    "UpSampling2D(2), then convolve, to avoid checkerboard artifacts"
)
ZERO_PADDING = (
    "zero padding (padding='same' or ZeroPadding2D): pad with "
    "ReflectionPadding2D(kernel // 2), then convolve with padding='valid'"
)
NOT_IN_UNIT_INTERVAL = "the output is not in [0, 1]: end with a sigmoid"
NUMPY_IN_NETWORK = (
    ".numpy(), np.* or tf.numpy_function in the network: {detail}; use "
    "TensorFlow operations and Keras layers only"
)


def residual_block_mistakes(inputs: np.ndarray, offset: float) -> list[Mistake]:
    """Variants of a residual block whose convolutions are all zero and whose instance norms
    have the offset ``offset`` (the right output is ``inputs + offset``)."""
    return [
        Mistake(RELU_AFTER_ADD, lambda: np.maximum(inputs + offset, 0.0)),
        Mistake(NO_RESIDUAL, lambda: np.full_like(inputs, offset)),
        Mistake(ECHO_BLOCK, lambda: inputs),
    ]


def architecture_mistakes(kinds: list[str], layers: list[dict]) -> list[str]:
    """The messages whose structural symptom the layer list shows (``kinds``: the layers'
    class names; ``layers``: rows of ``model_layers``)."""
    found = []
    if "BatchNormalization" in kinds:
        found.append(BATCH_NORM)
    if "Conv2DTranspose" in kinds:
        found.append(TRANSPOSED)
    same = [
        layer["name"]
        for layer in layers
        if layer["class_name"] == "Conv2D"
        and layer["config"].get("padding") == "same"
        and max(np.ravel(layer["config"].get("kernel_size", 1))) > 1
    ]
    if same or "ZeroPadding2D" in kinds:
        found.append(ZERO_PADDING)
    return found


def _telling_line(text: str) -> str:
    """The line of an error message that mentions numpy (else its first), without colours."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("File ")]
    telling = [line for line in lines if "numpy" in line.lower() or "symbolic" in line.lower()]
    return (telling or lines or [""])[0][:160]


def name_numpy_error(call: Callable[[], object], what: str) -> object:
    """``call()``, where an error about ``.numpy()`` or numpy while Keras builds or runs the
    network becomes a short message naming the mistake."""
    from practicum.grader.running.proxy import CandidateError

    try:
        return call()
    except CandidateError as error:
        text = error.message
        if "numpy" in text or "NumPy" in text or "Cannot convert a symbolic" in text:
            raise AssertionError(
                f"{what} raised {error.type_names[0]}: {_telling_line(text)}\n"
                f"Likely mistake: "
                + NUMPY_IN_NETWORK.format(
                    detail="Keras builds the network on symbolic tensors, which have no value"
                )
            ) from None
        raise


def expect_every_weight_gets_a_gradient(fast, images: np.ndarray, what: str, seed: int = 0):
    """Fails, naming numpy in the network, unless every trainable weight of
    ``transform_net()`` gets a gradient on ``images``; returns the gradients' result.

    The training tests call it first: a network with weights cut off from the loss would
    otherwise train only its last layers, and whether that lowers the loss enough depends
    on the TensorFlow version (Keras 2 skips the missing gradients; Keras 3 may fail on the
    shapes ``tf.numpy_function`` leaves unknown).
    """
    result = name_numpy_error(lambda: fast.transform_net_gradients(images, seed=seed), what)
    missing = result["without_gradient"]
    assert not missing, (
        f"{what}: {len(missing)} trainable weights get no gradient (e.g. {missing[0]})\n"
        f"Likely mistake: "
        + NUMPY_IN_NETWORK.format(
            detail="the weights before it get no gradient and cannot be trained"
        )
    )
    return result

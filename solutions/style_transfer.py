"""Neural style transfer by gradient descent on the image (Assignment 3, section 3.4).

Gatys et al. (2015) paint a content image ``Y`` in the style of a painting ``X`` by
optimising the *pixels* of a generated image ``Z``: a pre-trained CNN (the *loss network*)
turns each image into feature maps, and ``Z`` is changed, step by step, to lower

    W * StyleDiff(X, Z) + (1 - W) * ContentDiff(Y, Z)   (+ tv_weight * TV(Z))

with the losses of ``style_losses.py``. The network's weights never change, only ``Z``.

Conventions: images are float tensors or arrays of shape ``(H, W, 3)`` or ``(B, H, W, 3)``,
RGB, values in ``[0, 1]``, channels-last. An *extractor* is a network name (``"squeezenet"``,
the offline default; ``"vgg19"``; ``"tiny"``, a small random CNN for tests) or a
``practicum.loss_networks.FeatureExtractor``; ``get_extractor(extractor)`` turns either into
a callable::

    features = get_extractor("squeezenet")(images)
    features["content"]   # list of (B, H_l, W_l, C_l) tensors, one per content layer
    features["style"]     # list of (B, H_l, W_l, C_l) tensors, one per style layer
    get_extractor("squeezenet").style_weights   # one weight per style layer

The layers per network are documented in ``practicum/loss_networks.py`` (for VGG19 the
usual ones: content ``block5_conv2``, style ``block1_conv1`` to ``block5_conv1``).

You will write four functions:

* ``content_targets``: the content image's features at the content layers;
* ``style_targets``: the style image's Gram matrices at the style layers;
* ``transfer_loss``: the handout's weighted total for a generated image;
* ``transfer_step``: one gradient-descent step on the image, kept in ``[0, 1]``.

``run_style_transfer`` (provided) puts them together: it compiles ``transfer_step`` once
with ``tf.function`` and calls it ``steps`` times.

Dtypes: float32 is the course's dtype. The provided lines at the top of each function
(``as_images``, ``as_float_tensors``) turn images and targets of any float or integer dtype
(float16/32/64, ints, lists, arrays, tensors) into float32 tensors, so the code you write
sees float32 only (``tf.cast(h * w, tf.float32)`` works).

Worked example (the tiny test network, a few seconds; with ``network="squeezenet"``,
``steps=200`` and the default ``max_side=256`` it paints the cat, as ``python -m
practicum.style_demo`` does, in about a minute)::

    >>> result = run_style_transfer("cat_chelsea", "starry_night", network="tiny", steps=5,
    ...                             max_side=32, save_to="build/style/cat_starry_tiny.png")
    >>> result["image"].shape, result["losses"][0] > result["losses"][-1]
    ((21, 32, 3), True)
    >>> result["panels"]   # build/style/cat_starry_tiny.png: three titled panels
    ['content', 'style', 'result, 5 steps']
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from practicum import images as image_io
from practicum.loss_networks import FeatureExtractor, get_extractor

from .style_losses import content_loss, gram_matrix, style_loss, total_loss, total_variation_loss

# Defaults tuned on the embedded images with SqueezeNet (docs/style_transfer.md).
DEFAULT_WEIGHT = 0.2
DEFAULT_TV_WEIGHT = 1e5


def as_images(x, name: str = "images") -> tf.Tensor:
    """``(H, W, 3)`` or ``(B, H, W, 3)`` numbers -> a float32 ``(B, H, W, 3)`` tensor."""
    # Provided helper: use it, no need to change it.
    if isinstance(x, tf.Variable):
        x = tf.convert_to_tensor(x)
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    if x.shape.rank == 3:
        x = x[tf.newaxis]
    if x.shape.rank != 4 or x.shape[-1] != 3:
        raise ValueError(
            f"Received: {name}.shape={tuple(x.shape)}, expected (H, W, 3) or "
            f"(B, H, W, 3) RGB images"
        )
    return tf.cast(x, tf.float32)


def as_float_tensors(values, name: str = "targets") -> list[tf.Tensor]:
    """A list of arrays or tensors (any float or integer dtype) -> a list of float32 tensors."""
    # Provided helper: use it, no need to change it.
    if isinstance(values, (tf.Tensor, np.ndarray)):
        raise ValueError(
            f"Received: {name} as one {type(values).__name__}, expected a list "
            f"with one array per layer"
        )
    return [tf.cast(tf.convert_to_tensor(value), tf.float32) for value in values]


def content_targets(extractor, content_image) -> list[tf.Tensor]:
    """The content representation ``C(Y)`` of the content image.

    Runs the extractor on the content image and keeps its content-layer features.

    Args:
        extractor: a network name or a ``FeatureExtractor``.
        content_image: ``(H, W, 3)`` or ``(1, H, W, 3)``, values in ``[0, 1]``.

    Returns:
        A list with one ``(1, H_l, W_l, C_l)`` tensor per content layer.

    Raises:
        ValueError: if ``content_image`` is not an RGB image.

    Example:
        >>> [t.shape for t in content_targets("tiny", np.zeros((8, 8, 3)))]
        [TensorShape([1, 4, 4, 12])]

    Hint: one line, with ``extractor(...)["content"]``.
    """
    extractor = get_extractor(extractor)
    content_image = as_images(content_image, "content_image")
    ### BEGIN SOLUTION
    return list(extractor(content_image)["content"])
    ### END SOLUTION


def style_targets(extractor, style_image) -> list[tf.Tensor]:
    """The style representation of the style image: one Gram matrix per style layer.

    Args:
        extractor: a network name or a ``FeatureExtractor``.
        style_image: ``(H, W, 3)`` or ``(1, H, W, 3)``, values in ``[0, 1]``; its size may
            differ from the content image's (Gram matrices do not depend on it).

    Returns:
        A list with one ``(1, C_l, C_l)`` tensor per style layer: the *normalised* Gram
        matrices (``gram_matrix``'s default).

    Raises:
        ValueError: if ``style_image`` is not an RGB image.

    Example:
        >>> [t.shape for t in style_targets("tiny", np.zeros((8, 8, 3)))]
        [TensorShape([1, 8, 8]), TensorShape([1, 12, 12]), TensorShape([1, 16, 16])]

    Hint: two lines: the style features, then ``gram_matrix`` of each.
    """
    extractor = get_extractor(extractor)
    style_image = as_images(style_image, "style_image")
    ### BEGIN SOLUTION
    features = extractor(style_image)["style"]
    return [gram_matrix(layer) for layer in features]
    ### END SOLUTION


def transfer_loss(
    extractor,
    image,
    content_targets: Sequence,
    style_targets: Sequence,
    weight: float = DEFAULT_WEIGHT,
    tv_weight: float = 0.0,
) -> tf.Tensor:
    """The handout's error for a generated image ``Z``.

    ``total_loss(content, style, weight) + tv_weight * total_variation_loss(image)``, where
    ``content`` is the sum over content layers of ``content_loss(features, target)`` and
    ``style`` is ``style_loss`` of the style features against ``style_targets``, with the
    extractor's per-layer ``style_weights``.

    Args:
        extractor: a network name or a ``FeatureExtractor``.
        image: the generated image ``(1, H, W, 3)`` (or ``(H, W, 3)``), a tensor, an array
            or a ``tf.Variable``.
        content_targets: from :func:`content_targets`, for an image of the same size.
        style_targets: from :func:`style_targets`.
        weight: ``W`` in ``[0, 1]``: 1 ignores the content, 0 the style.
        tv_weight: the total variation's weight, ``>= 0``.

    Returns:
        A scalar ``tf.Tensor``, differentiable with respect to ``image``.

    Raises:
        ValueError: if the number of targets does not match the extractor's layers, or
            ``weight`` is outside ``[0, 1]``.

    Example:
        >>> y = np.random.rand(8, 8, 3)
        >>> float(transfer_loss("tiny", y, content_targets("tiny", y), style_targets("tiny", y)))
        0.0

    Hint: about 5 lines; call the extractor once, use every function of style_losses.
    """
    extractor = get_extractor(extractor)
    image = as_images(image, "image")
    if len(content_targets) != len(extractor.content_layers):
        raise ValueError(
            f"Received: {len(content_targets)} content targets, expected "
            f"{len(extractor.content_layers)} (one per content layer)"
        )
    if len(style_targets) != len(extractor.style_layers):
        raise ValueError(
            f"Received: {len(style_targets)} style targets, expected "
            f"{len(extractor.style_layers)} (one per style layer)"
        )
    content_targets = as_float_tensors(content_targets, "content_targets")
    style_targets = as_float_tensors(style_targets, "style_targets")
    ### BEGIN SOLUTION
    features = extractor(image)
    content = tf.add_n(
        [
            content_loss(generated, target)
            for generated, target in zip(features["content"], content_targets)
        ]
    )
    style = style_loss(features["style"], style_targets, extractor.style_weights)
    loss = total_loss(content, style, weight)
    return loss + tv_weight * total_variation_loss(image)
    ### END SOLUTION


def transfer_step(
    extractor,
    image: tf.Variable,
    content_targets: Sequence,
    style_targets: Sequence,
    optimizer,
    weight: float = DEFAULT_WEIGHT,
    tv_weight: float = 0.0,
) -> tf.Tensor:
    """One step of gradient descent on the pixels of ``image``.

    Computes :func:`transfer_loss` under a ``tf.GradientTape``, lets ``optimizer`` apply
    the gradient to ``image``, then clips ``image`` to ``[0, 1]`` (a pixel outside that
    range is not a colour). Must work inside ``tf.function``: TensorFlow operations only.

    Args:
        extractor: a network name or a ``FeatureExtractor``.
        image: a ``tf.Variable`` of shape ``(1, H, W, 3)``, changed in place.
        content_targets, style_targets, weight, tv_weight: as for :func:`transfer_loss`.
        optimizer: a Keras optimizer (``keras.optimizers.Adam(0.02)``, ``SGD``, ...).

    Returns:
        The loss *before* the step, a scalar ``tf.Tensor``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> photo, painting = np.full((8, 8, 3), 0.5), rng.random((8, 8, 3))
        >>> targets_c = content_targets("tiny", photo)
        >>> targets_s = style_targets("tiny", painting)
        >>> image = tf.Variable(rng.random((1, 8, 8, 3)).astype("float32"))
        >>> loss = transfer_step("tiny", image, targets_c, targets_s, keras.optimizers.SGD(0.1))
        >>> float(loss) > float(transfer_loss("tiny", image, targets_c, targets_s))
        True
        >>> 0.0 <= float(tf.reduce_min(image)) <= float(tf.reduce_max(image)) <= 1.0
        True

    Hint: about 5 lines: tape, gradient, ``optimizer.apply_gradients([(gradient, image)])``,
    ``image.assign(...)``.
    """
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        loss = transfer_loss(extractor, image, content_targets, style_targets, weight, tv_weight)
    gradient = tape.gradient(loss, image)
    optimizer.apply_gradients([(gradient, image)])
    image.assign(tf.clip_by_value(image, 0.0, 1.0))
    return loss
    ### END SOLUTION


# --------------------------------------------------------------------------- provided


def _image_input(value, max_side: int | None) -> np.ndarray:
    """An array, a path, or the name of an embedded image -> ``(H, W, 3)`` floats."""
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            path = image_io.embedded(str(value))
        return image_io.load_image(path, max_side=max_side)
    array = np.asarray(value, dtype=np.float32)
    return array[0] if array.ndim == 4 else array


def make_optimizer(name: str, learning_rate: float):
    """``"adam"`` (the TensorFlow tutorial's: beta_1=0.99, epsilon=0.1) or ``"sgd"``."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.99, epsilon=1e-1)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate)
    raise ValueError(f"Received: optimizer={name!r}, expected 'adam' or 'sgd'")


def run_style_transfer(
    content,
    style,
    network: str | FeatureExtractor = "squeezenet",
    steps: int = 300,
    weight: float = DEFAULT_WEIGHT,
    tv_weight: float = DEFAULT_TV_WEIGHT,
    learning_rate: float = 0.02,
    optimizer: str = "adam",
    init: str = "content",
    seed: int = 0,
    max_side: int | None = 256,
    save_to: str | Path | None = None,
    log_every: int = 0,
) -> dict:
    """Style transfer from start to end (provided).

    Args:
        content, style: ``(H, W, 3)`` arrays in ``[0, 1]``, image paths, or names of
            embedded images (``"cat_chelsea"``, ``"starry_night"``).
        network: the loss network's name or a ``FeatureExtractor``.
        steps: optimisation steps.
        weight, tv_weight: as for :func:`transfer_loss`.
        learning_rate, optimizer: ``"adam"`` or ``"sgd"``.
        init: ``"content"`` (start from the photo, as the TensorFlow tutorial does) or
            ``"noise"`` (the handout's random start, seeded by ``seed``).
        max_side: images given by path or name are shrunk to this longer side.
        save_to: if given, a PNG path for a figure with three titled panels: content,
            style, result.
        log_every: print the loss every this many steps (0: never).

    Returns:
        ``{"image": (H, W, 3) array, "losses": [loss before each step],
        "tracing_count": times the step was traced (1: no retracing), "seconds": wall time}``
        and, with ``save_to``, ``"panels"``: the figure's panel titles.
    """
    extractor = get_extractor(network)
    content_image = _image_input(content, max_side)
    style_image = _image_input(style, max_side)
    targets_c = [tf.constant(t) for t in content_targets(extractor, content_image)]
    targets_s = [tf.constant(t) for t in style_targets(extractor, style_image)]
    if init == "content":
        start = content_image[np.newaxis]
    elif init == "noise":
        start = np.random.default_rng(seed).uniform(0, 1, (1, *content_image.shape))
    else:
        raise ValueError(f"Received: init={init!r}, expected 'content' or 'noise'")
    image = tf.Variable(np.asarray(start, np.float32))
    opt = make_optimizer(optimizer, learning_rate)
    opt.build([image])

    @tf.function
    def step():
        return transfer_step(extractor, image, targets_c, targets_s, opt, weight, tv_weight)

    losses = []
    begin = time.perf_counter()
    for index in range(steps):
        losses.append(float(step()))
        if log_every and index % log_every == 0:
            print(f"step {index:5d}  loss {losses[-1]:.6g}")
    seconds = time.perf_counter() - begin
    result = image.numpy()[0]
    report = {
        "image": result,
        "losses": losses,
        "tracing_count": int(step.experimental_get_tracing_count()) if steps else 0,
        "seconds": seconds,
    }
    if save_to is not None:
        report["panels"] = ["content", "style", f"result, {steps} steps"]
        image_io.save_panels(
            [content_image, style_image, result],
            report["panels"],
            save_to,
            title=f"Style transfer ({extractor.network})",
        )
    return report

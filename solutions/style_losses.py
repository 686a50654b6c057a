"""Style-transfer losses (Assignment 3, sections 3.2 to 3.4).

Neural style transfer compares images through the activations of a pre-trained CNN.
Every function here works on *feature maps*: the activations of one layer, stored
channels-last as float tensors of shape ``(B, H, W, C)``:

* ``B`` images in the batch,
* ``H x W`` spatial positions,
* ``C`` filters (channels); the activation map of filter ``c`` is ``F[b, :, :, c]``.

You will write five functions:

* ``gram_matrix``: which filters fire together (the *style* of a layer);
* ``content_loss``: how far two content representations are apart;
* ``style_loss``: how far the Gram matrices are apart, summed over style layers;
* ``total_variation_loss``: how "noisy" an image is (a smoothness regulariser);
* ``total_loss``: the handout's weighted total ``W * style + (1 - W) * content``.

Conventions: every function accepts numpy arrays or ``tf.Tensor`` objects, returns a
``tf.Tensor`` (a scalar, except the Gram matrix), and must be differentiable with
``tf.GradientTape``: use TensorFlow operations only, never ``.numpy()`` or ``np.*`` on the
inputs. Inputs of the wrong shape raise ``ValueError`` with a message in the style
``"Received: features.shape=(2, 3), expected a 4-D tensor (B, H, W, C)"``.

Dtypes: float32 is the course's dtype. The provided helper ``_as_float_tensor`` turns every
input (float16, float32 or float64, integers, lists, arrays, tensors) into a float32
tensor, so your code after its line sees float32 only: ``tf.cast(h * w, tf.float32)`` is
right. Return float32 tensors; the tests compare with float32 tolerances.

Worked example (one image, 2 x 2 positions, 2 filters)::

    F[0, :, :, 0] = [[1, 2],      F[0, :, :, 1] = [[0, 1],
                     [3, 4]]                       [1, 0]]

    G[0] = [[1+4+9+16, 0+2+3+0],  = [[30, 5],     normalised by H*W = 4:  [[7.5, 1.25],
            [0+2+3+0,  0+1+1+0]]     [ 5, 2]]                              [1.25, 0.5]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf


def _as_float_tensor(x, name: str) -> tf.Tensor:
    """Converts ``x`` (an array, list, number, tensor or variable of any float or integer
    dtype) to a float32 tensor, the course's dtype. Differentiable: a float64 variable
    watched by a ``tf.GradientTape`` still receives its gradient."""
    # Provided helper: use it, no need to change it.
    if isinstance(x, (tf.Tensor, tf.Variable)):
        if not (x.dtype.is_floating or x.dtype.is_integer):
            raise ValueError(f"Received: {name} of dtype {x.dtype.name}, expected numbers")
        return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)
    try:
        return tf.constant(np.asarray(x), dtype=tf.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Received: {name} of type {type(x).__name__}, expected numbers"
        ) from error


def _check_rank(x: tf.Tensor, rank: int, name: str, layout: str) -> None:
    """Raises ValueError unless ``x`` has ``rank`` dimensions."""
    # Provided helper: use it, no need to change it.
    if x.shape.rank != rank:
        raise ValueError(
            f"Received: {name}.shape={tuple(x.shape)}, expected a {rank}-D tensor {layout}"
        )


def gram_matrix(features, normalize: bool = True) -> tf.Tensor:
    """Computes the Gram matrix of each image's feature maps.

    ``G[b, i, j]`` is the dot product of filter ``i``'s activation map with filter
    ``j``'s, for image ``b``: the sum over all positions ``(h, w)`` of
    ``F[b, h, w, i] * F[b, h, w, j]``. With ``normalize=True`` it is divided by the
    number of positions ``H * W``, so that layers of different sizes are comparable.

    Args:
        features: float tensor or array of shape ``(B, H, W, C)``.
        normalize: divide by ``H * W`` (default ``True``).

    Returns:
        A ``tf.Tensor`` of shape ``(B, C, C)``, symmetric in its last two axes.

    Raises:
        ValueError: if ``features`` is not 4-D.

    Example:
        >>> gram_matrix(np.ones((1, 2, 2, 3))).shape
        TensorShape([1, 3, 3])

    Hint: about 4 lines; reshape to ``(B, H*W, C)`` and use one matrix product
    (``tf.matmul`` with ``transpose_a=True``, or ``tf.einsum``). No loops.
    """
    features = _as_float_tensor(features, "features")
    _check_rank(features, 4, "features", "(B, H, W, C)")
    ### BEGIN SOLUTION
    shape = tf.shape(features)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    flat = tf.reshape(features, tf.stack([batch, height * width, channels]))
    gram = tf.matmul(flat, flat, transpose_a=True)
    if normalize:
        gram = gram / tf.cast(height * width, gram.dtype)
    return gram
    ### END SOLUTION


def content_loss(generated, target) -> tf.Tensor:
    """Measures how far the generated image's content is from the target content.

    The handout's ``ContentDiff`` is the norm of the difference of the two content
    representations; we use its square, the sum over all elements of
    ``(generated - target) ** 2``, whose gradient exists everywhere (the norm's
    gradient is undefined where ``generated == target``).

    Args:
        generated: features of the generated image, any shape, e.g. ``(B, H, W, C)``.
        target: features of the content image, the same shape as ``generated``.

    Returns:
        A scalar ``tf.Tensor``.

    Raises:
        ValueError: if the shapes differ.

    Example:
        >>> float(content_loss(np.array([1.0, 2.0]), np.array([0.0, 0.0])))
        5.0

    Hint: one line. Sum, do not average.
    """
    generated = _as_float_tensor(generated, "generated")
    target = _as_float_tensor(target, "target")
    if generated.shape != target.shape:
        raise ValueError(
            f"Received: generated.shape={tuple(generated.shape)} and "
            f"target.shape={tuple(target.shape)}, expected equal shapes"
        )
    ### BEGIN SOLUTION
    return tf.reduce_sum(tf.square(generated - target))
    ### END SOLUTION


def style_loss(
    generated_features: Sequence,
    target_grams: Sequence,
    layer_weights: Sequence[float] | None = None,
) -> tf.Tensor:
    """Measures how far the generated image's style is from the target style.

    For each style layer ``l``, compare the normalised Gram matrix of the generated
    image's features with the target Gram matrix (computed once from the style image):
    the layer's style difference is the sum over all elements of
    ``(gram_matrix(generated_l) - target_l) ** 2``. The style loss is the sum over
    layers of ``w_l`` times that difference (``w_l = 1`` by default).

    Args:
        generated_features: a list of ``L`` feature tensors, entry ``l`` of shape
            ``(B, H_l, W_l, C_l)``.
        target_grams: a list of ``L`` Gram matrices, entry ``l`` of shape
            ``(B, C_l, C_l)`` (or ``(1, C_l, C_l)``, broadcast over the batch).
        layer_weights: ``L`` floats, or ``None`` for all ones.

    Returns:
        A scalar ``tf.Tensor``.

    Raises:
        ValueError: if the lists have different lengths, or a Gram matrix does not
            match its layer's channels.

    Example:
        >>> features = [np.ones((1, 2, 2, 3)), np.ones((1, 4, 4, 2))]
        >>> targets = [gram_matrix(f) for f in features]
        >>> float(style_loss(features, targets))
        0.0

    Hint: about 6 lines; a loop over layers, calling ``gram_matrix``.
    """
    if len(generated_features) != len(target_grams):
        raise ValueError(
            f"Received: {len(generated_features)} generated feature tensors and "
            f"{len(target_grams)} target Gram matrices, expected one of each per layer"
        )
    if layer_weights is None:
        layer_weights = [1.0] * len(generated_features)
    if len(layer_weights) != len(generated_features):
        raise ValueError(
            f"Received: {len(layer_weights)} layer weights, "
            f"expected {len(generated_features)} (one per style layer)"
        )
    grams = []
    for index, (features, target) in enumerate(zip(generated_features, target_grams)):
        target = _as_float_tensor(target, f"target_grams[{index}]")
        _check_rank(target, 3, f"target_grams[{index}]", "(B, C, C)")
        channels = _as_float_tensor(features, f"generated_features[{index}]").shape[-1]
        if target.shape[-1] != channels or target.shape[-2] != channels:
            raise ValueError(
                f"Received: target_grams[{index}].shape={tuple(target.shape)}, expected "
                f"(B, {channels}, {channels}) to match generated_features[{index}]"
            )
        grams.append(target)
    ### BEGIN SOLUTION
    total = tf.constant(0.0, dtype=tf.float32)
    for features, target, weight in zip(generated_features, grams, layer_weights):
        gram = gram_matrix(features)
        difference = tf.reduce_sum(tf.square(gram - target))
        total = total + float(weight) * difference
    return total
    ### END SOLUTION


def total_variation_loss(images) -> tf.Tensor:
    """Measures how much neighbouring pixels differ (a smoothness regulariser).

    The sum of squared differences between vertically adjacent pixels
    (``x[:, h + 1, w, :] - x[:, h, w, :]``) and horizontally adjacent pixels
    (``x[:, h, w + 1, :] - x[:, h, w, :]``), over all channels and the whole batch.
    Pixels on the border have fewer neighbours: do not wrap around.

    Args:
        images: float tensor or array of shape ``(B, H, W, C)``.

    Returns:
        A scalar ``tf.Tensor``; zero for a constant image.

    Raises:
        ValueError: if ``images`` is not 4-D.

    Example:
        >>> float(total_variation_loss(np.array([[[[0.0], [1.0]], [[0.0], [3.0]]]])))
        14.0

    Hint: about 3 lines, with slicing. No loops.
    """
    images = _as_float_tensor(images, "images")
    _check_rank(images, 4, "images", "(B, H, W, C)")
    ### BEGIN SOLUTION
    vertical = images[:, 1:, :, :] - images[:, :-1, :, :]
    horizontal = images[:, :, 1:, :] - images[:, :, :-1, :]
    return tf.reduce_sum(tf.square(vertical)) + tf.reduce_sum(tf.square(horizontal))
    ### END SOLUTION


def total_loss(content, style, weight: float) -> tf.Tensor:
    """Combines the two losses with the handout's weighting factor ``W``.

    ``weight * style + (1 - weight) * content``: ``weight = 1`` ignores the content,
    ``weight = 0`` ignores the style.

    Args:
        content: the content loss, a scalar tensor or float.
        style: the style loss, a scalar tensor or float.
        weight: ``W``, a float in ``[0, 1]``.

    Returns:
        A scalar ``tf.Tensor``.

    Raises:
        ValueError: if ``weight`` is outside ``[0, 1]``.

    Example:
        >>> float(total_loss(content=10.0, style=2.0, weight=0.25))
        8.0

    Hint: check the weight, then one line.
    """
    content = _as_float_tensor(content, "content")
    style = _as_float_tensor(style, "style")
    ### BEGIN SOLUTION
    if not 0.0 <= float(weight) <= 1.0:
        raise ValueError(f"Received: weight={weight}, expected a float in [0, 1]")
    return weight * style + (1.0 - weight) * content
    ### END SOLUTION

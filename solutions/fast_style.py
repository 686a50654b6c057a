"""Fast style transfer: a network that paints in one pass (Assignment 3, section 3.5).

Optimising an image (``style_transfer.py``) takes hundreds of passes through the loss
network for every photo. Johnson, Alahi and Fei-Fei (2016) instead *train* an image
transformation network ``f`` once per style, on many photos ``Y``, to minimise the same
perceptual loss ``W * StyleDiff(X, f(Y)) + (1 - W) * ContentDiff(Y, f(Y))``; afterwards
stylising a photo is a single forward pass of ``f``.

The transformation network (channels-last; any ``H`` and ``W`` divisible by 4 and at least
8, so that reflection padding has pixels to mirror after the two stride-2 layers)::

    (B, H, W, 3) in [0, 1]
    conv 9x9, 32, stride 1        -> (B, H,   W,   32)
    conv 3x3, 64, stride 2        -> (B, H/2, W/2, 64)
    conv 3x3, 128, stride 2       -> (B, H/4, W/4, 128)
    5 residual blocks of 128      -> (B, H/4, W/4, 128)
    upsample x2, conv 3x3, 64     -> (B, H/2, W/2, 64)
    upsample x2, conv 3x3, 32     -> (B, H,   W,   32)
    conv 9x9, 3, sigmoid          -> (B, H,   W,   3) in [0, 1]

Three details matter for good images, and the tests check them:

* **instance normalisation** after every convolution but the last: each image's each
  channel is normalised over its own positions (``keras.layers.GroupNormalization(groups=-1)``,
  one group per channel), followed by ReLU. Batch normalisation would mix the images of a
  batch and make the result depend on the photo's overall brightness.
* **reflection padding**: every convolution uses ``padding="valid"`` after a
  :class:`ReflectionPadding2D` of ``kernel // 2`` pixels (provided), so the borders see
  mirrored image content instead of black (zero padding gives dark frames);
* **resize-then-convolve upsampling** (``keras.layers.UpSampling2D(2)``, then a stride-1
  convolution) instead of ``Conv2DTranspose``, whose overlapping strides draw checkerboards.

A residual block is ``x + conv(relu(norm(conv(x))))`` with a normalisation after the
second convolution as well and no ReLU after the sum: ``keras.layers.Add()`` adds the input.

You will write three functions: ``residual_block``, ``upsample_block`` and
``transform_net``. Provided: ``conv_block`` (reflection padding, convolution, instance
normalisation, ReLU), ``train_transform_net``, ``stylize``, ``save_transform_net`` and
``load_transform_net``, and the shipped network of ``pretrained()``.

Dtypes: float32 is the course's dtype. The network's input is ``keras.Input((None, None,
3))`` (float32), and the provided helpers (``transform_net_outputs``, ``stylize``,
``train_transform_net``...) convert images of any float dtype to float32 first; integer
photos (uint8, 0-255) are scaled to ``[0, 1]``.

Worked example (random weights, then the shipped Starry Night network; a few seconds)::

    >>> transform_net()(np.zeros((1, 64, 96, 3))).shape
    TensorShape([1, 64, 96, 3])
    >>> from practicum.images import embedded, load_image
    >>> photo = load_image(embedded("cat_chelsea"), max_side=128, multiple=4)
    >>> painted = stylize(pretrained("starry_night"), photo)
    >>> painted.shape == photo.shape, bool(0.0 <= painted.min() <= painted.max() <= 1.0)
    (True, True)
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from practicum import images as image_io
from practicum.loss_networks import WEIGHTS_DIR, FeatureExtractor, get_extractor

from .style_losses import content_loss, gram_matrix, style_loss, total_loss, total_variation_loss

SHIPPED = {
    style: WEIGHTS_DIR / f"fast_style_{style}.weights.h5"
    for style in ("starry_night", "great_wave")
}
DEFAULT_WEIGHT = 0.1
DEFAULT_TV_WEIGHT = 1e5


@keras.saving.register_keras_serializable(package="fast_style")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring the image at its borders (provided).

    ``ReflectionPadding2D(1)`` turns ``[[1, 2], [3, 4]]`` (one channel) into a 4x4 map whose
    first row is ``[4, 3, 4, 3]``: like ``tf.pad(x, ..., mode="REFLECT")``.
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = 2 * self.padding
        return (
            batch,
            None if height is None else height + grow,
            None if width is None else width + grow,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def instance_norm(name: str | None = None) -> keras.layers.Layer:
    """Instance normalisation: one group per channel (provided)."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-3, name=name)


def conv_block(
    x,
    filters: int,
    kernel: int,
    strides: int = 1,
    name: str = "conv",
    norm: bool = True,
    relu: bool = True,
):
    """Reflection padding, a 'valid' convolution, instance norm and ReLU (provided).

    Layers are named ``{name}_pad``, ``{name}``, ``{name}_norm``, ``{name}_relu`` so that
    saved weights load by name. ``norm=False, relu=False`` gives the bare convolution.
    """
    if kernel > 1:
        x = ReflectionPadding2D(kernel // 2, name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="valid", name=name)(x)
    if norm:
        x = instance_norm(f"{name}_norm")(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def residual_block(x, filters: int = 128, name: str = "res"):
    """A residual block: ``x + norm(conv(relu(norm(conv(x)))))``.

    Two 3x3 ``conv_block`` s with ``filters`` filters, the second without ReLU, and
    ``keras.layers.Add`` of the block's input and its output.

    Args:
        x: a Keras tensor ``(B, H, W, filters)``.
        filters: the number of channels (the input's).
        name: a prefix for the layers' names (``{name}_conv1``, ``{name}_conv2``,
            ``{name}_add``).

    Returns:
        A Keras tensor of the same shape as ``x``.

    Example:
        >>> y = residual_block(keras.Input((None, None, 128)), 128, name="res1")

    Hint: three lines.
    """
    ### BEGIN SOLUTION
    y = conv_block(x, filters, 3, name=f"{name}_conv1")
    y = conv_block(y, filters, 3, name=f"{name}_conv2", relu=False)
    return keras.layers.Add(name=f"{name}_add")([x, y])
    ### END SOLUTION


def upsample_block(x, filters: int, name: str = "up"):
    """Doubles height and width: nearest-neighbour ``UpSampling2D(2)``, then a 3x3
    ``conv_block`` (reflection padding, convolution, instance norm, ReLU).

    Args:
        x: a Keras tensor ``(B, H, W, C)``.
        filters: the output channels.
        name: a prefix for the layers' names.

    Returns:
        A Keras tensor ``(B, 2H, 2W, filters)``.

    Hint: two lines. No ``Conv2DTranspose``.
    """
    ### BEGIN SOLUTION
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")(x)
    return conv_block(x, filters, 3, name=f"{name}_conv")
    ### END SOLUTION


def transform_net(name: str = "transform_net") -> keras.Model:
    """Johnson et al.'s image transformation network (see the module's docstring).

    Args:
        name: the model's name.

    Returns:
        A ``keras.Model`` with input ``keras.Input((None, None, 3))``: any ``(B, H, W, 3)``
        with ``H`` and ``W`` divisible by 4 (and at least 8) gives ``(B, H, W, 3)`` with values in
        ``[0, 1]``.

    Example:
        >>> transform_net()(np.zeros((2, 16, 20, 3))).shape
        TensorShape([2, 16, 20, 3])

    Hint: about 12 lines: ``conv_block`` three times, a loop of five ``residual_block`` s,
    ``upsample_block`` twice, then a 9x9 ``conv_block`` to 3 channels without norm or ReLU
    and a sigmoid. Give every layer a distinct name (``conv1``, ``res1`` ...).
    """
    ### BEGIN SOLUTION
    inputs = keras.Input((None, None, 3), name="image")
    x = conv_block(inputs, 32, 9, name="conv1")
    x = conv_block(x, 64, 3, strides=2, name="conv2")
    x = conv_block(x, 128, 3, strides=2, name="conv3")
    for index in range(1, 6):
        x = residual_block(x, 128, name=f"res{index}")
    x = upsample_block(x, 64, name="up1")
    x = upsample_block(x, 32, name="up2")
    x = conv_block(x, 3, 9, name="conv_out", norm=False, relu=False)
    outputs = keras.layers.Activation("sigmoid", name="output")(x)
    return keras.Model(inputs, outputs, name=name)
    ### END SOLUTION


# --------------------------------------------------------------------------- provided


def _as_float32(values, name: str = "inputs") -> tf.Tensor:
    """Numbers of any float or integer dtype -> a float32 tensor (no scaling)."""
    values = tf.convert_to_tensor(values)
    if values.shape.rank != 4:
        raise ValueError(f"Received: {name}.shape={tuple(values.shape)}, expected (B, H, W, C)")
    return tf.cast(values, tf.float32)


def _check_images(images, name: str = "images") -> tf.Tensor:
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating:  # uint8 photos
        images = tf.cast(images, tf.float32) / 255.0
    images = tf.cast(images, tf.float32)
    if images.shape.rank == 3:
        images = images[tf.newaxis]
    if images.shape.rank != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"Received: {name}.shape={tuple(images.shape)}, expected (B, H, W, 3) RGB images"
        )
    return images


def transform_net_outputs(images, seed: int = 0) -> list[np.ndarray]:
    """Builds one ``transform_net()`` with seeded random weights and runs it, in inference
    mode, on each batch of the list ``images`` (what the tests call: plain numbers out)."""
    batches = [_check_images(batch) for batch in images]
    keras.utils.set_random_seed(seed)
    net = transform_net()
    return [np.asarray(net(batch, training=False)) for batch in batches]


def residual_block_outputs(
    inputs, zero_convolutions: bool = False, seed: int = 0, norm_offset: float = 0.0
) -> np.ndarray:
    """Builds one ``residual_block`` for the channels of ``inputs`` ``(B, H, W, C)`` (seeded
    random weights, or with ``zero_convolutions`` every convolution's kernel and bias set to
    zero and every instance norm's offset to ``norm_offset``, so that a right block returns
    ``inputs + norm_offset``) and runs it in inference mode on ``inputs`` (what the tests
    call)."""
    x = _as_float32(inputs, "inputs")
    keras.utils.set_random_seed(seed)
    tensor = keras.Input((None, None, int(x.shape[-1])))
    block = keras.Model(tensor, residual_block(tensor, int(x.shape[-1]), name="res"))
    if zero_convolutions:
        for layer in block.layers:
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
                layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
            if isinstance(layer, keras.layers.GroupNormalization) and layer.center:
                layer.beta.assign(np.full(layer.beta.shape, norm_offset, np.float32))
    return np.asarray(block(x, training=False))


def transform_net_gradients(images, seed: int = 0) -> dict:
    """Builds one ``transform_net()`` (seeded random weights) and differentiates the mean
    square of its output on ``images`` (what the tests call).

    Returns:
        ``{"input": the gradient with respect to the images (None if there is none),
        "without_gradient": [paths of the trainable weights whose gradient is None]}``.
    """
    x = tf.Variable(_check_images(images))
    keras.utils.set_random_seed(seed)
    net = transform_net()
    weights = list(net.trainable_variables)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(net(x, training=False)))
    gradients = tape.gradient(loss, [x, *weights])
    return {
        "input": None if gradients[0] is None else np.asarray(gradients[0]),
        "without_gradient": [
            getattr(w, "path", w.name) for w, g in zip(weights, gradients[1:]) if g is None
        ],
    }


def perceptual_loss(
    extractor, stylized, content_images, style_grams, weight: float, tv_weight: float
) -> tf.Tensor:
    """Johnson et al.'s loss for a batch, per image: the handout's weighted total of the
    content loss (stylised vs. photo features) and the style loss (against the style
    image's Gram matrices, broadcast over the batch), plus total variation."""
    extractor = get_extractor(extractor)
    generated = extractor(stylized)
    original = extractor(content_images)
    content = tf.add_n(
        [
            content_loss(g, tf.stop_gradient(t))
            for g, t in zip(generated["content"], original["content"])
        ]
    )
    style = style_loss(generated["style"], style_grams, extractor.style_weights)
    batch = tf.cast(tf.shape(stylized)[0], tf.float32)
    loss = total_loss(content, style, weight)
    return (loss + tv_weight * total_variation_loss(stylized)) / batch


def train_transform_net(
    style_image,
    content_images,
    network: str | FeatureExtractor = "squeezenet",
    steps: int = 1000,
    batch_size: int = 4,
    weight: float = DEFAULT_WEIGHT,
    tv_weight: float = DEFAULT_TV_WEIGHT,
    learning_rate: float = 1e-3,
    net: keras.Model | None = None,
    seed: int = 0,
    log_every: int = 0,
    style_max_side: int = 256,
    max_seconds: float | None = None,
    save_to: str | Path | None = None,
    save_every: int = 0,
) -> dict:
    """Trains a transformation network for one style (provided).

    Each step draws ``batch_size`` photos (seeded), stylises them with the network and
    takes one Adam step on the network's weights to lower :func:`perceptual_loss`. The
    step is one ``tf.function``, traced once.

    Args:
        style_image: ``(H, W, 3)`` in ``[0, 1]``, a path, or an embedded image's name.
        content_images: ``(N, H, W, 3)``, floats in ``[0, 1]`` or uint8; ``H`` and ``W``
            divisible by 4.
        network: the loss network (``"tiny"`` for tests).
        steps, batch_size, learning_rate: the training schedule.
        weight, tv_weight: ``W`` and the total variation weight.
        net: a network to continue training (default: a new ``transform_net()``).
        seed: for the initial weights and the batches.
        log_every: print the loss every this many steps (0: never).
        style_max_side: a style image given by path or name is shrunk to this side.
        max_seconds: stop early after this much wall time.
        save_to, save_every: save the weights there every ``save_every`` steps and at the end.

    Returns:
        ``{"net": the trained model, "losses": [loss of each step], "tracing_count": int,
        "seconds": float}``.
    """
    extractor = get_extractor(network)
    if isinstance(style_image, (str, Path)):
        path = Path(style_image)
        path = path if path.is_file() else image_io.embedded(str(style_image))
        style_image = image_io.load_image(path, max_side=style_max_side)
    style = _check_images(style_image, "style_image")
    grams = [tf.constant(gram_matrix(f)) for f in extractor(style)["style"]]
    photos = np.asarray(content_images)
    if photos.ndim != 4 or photos.shape[-1] != 3:
        raise ValueError(f"Received: content_images.shape={photos.shape}, expected (N, H, W, 3)")
    if photos.shape[1] % 4 or photos.shape[2] % 4:
        raise ValueError(
            f"Received: content_images.shape={photos.shape}, expected H and W divisible by 4"
        )
    keras.utils.set_random_seed(seed)
    net = net if net is not None else transform_net()
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build(net.trainable_variables)
    batch_shape = (batch_size, *photos.shape[1:])

    @tf.function(input_signature=[tf.TensorSpec(batch_shape, tf.float32)])
    def train_step(batch):
        with tf.GradientTape() as tape:
            loss = perceptual_loss(
                extractor, net(batch, training=True), batch, grams, weight, tv_weight
            )
        gradients = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(gradients, net.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    scale = 255.0 if photos.dtype == np.uint8 else 1.0
    losses = []
    begin = time.perf_counter()
    for index in range(steps):
        chosen = rng.choice(len(photos), size=batch_size, replace=len(photos) < batch_size)
        batch = photos[chosen].astype(np.float32) / scale
        if rng.random() < 0.5:
            batch = batch[:, :, ::-1]  # mirror half of the batches
        losses.append(float(train_step(tf.constant(np.ascontiguousarray(batch)))))
        if log_every and (index % log_every == 0 or index == steps - 1):
            print(
                f"step {index:6d}  loss {losses[-1]:.6g}  {time.perf_counter() - begin:7.1f} s",
                flush=True,
            )
        if save_to is not None and save_every and (index + 1) % save_every == 0:
            save_transform_net(net, save_to)
        if max_seconds is not None and time.perf_counter() - begin > max_seconds:
            break
    if save_to is not None:
        save_transform_net(net, save_to)
    return {
        "net": net,
        "losses": losses,
        "tracing_count": int(train_step.experimental_get_tracing_count()),
        "seconds": time.perf_counter() - begin,
    }


def stylize(net: keras.Model, image) -> np.ndarray:
    """Stylises one image ``(H, W, 3)`` (or a batch) with a trained network (provided).

    ``H`` and ``W`` are cropped to multiples of 4 first. Returns floats in ``[0, 1]`` of the
    cropped shape, without the batch axis for a single image.
    """
    images = _check_images(image, "image")
    height, width = images.shape[1] - images.shape[1] % 4, images.shape[2] - images.shape[2] % 4
    result = np.asarray(net(images[:, :height, :width], training=False))
    return result[0] if np.ndim(image) == 3 else result


def save_transform_net(net: keras.Model, path: str | Path) -> Path:
    """Saves the network's weights (a ``.weights.h5`` file; provided).

    Only the weights are saved: :func:`load_transform_net` rebuilds the architecture with
    ``transform_net()``, so the custom ``ReflectionPadding2D`` needs no deserialisation.
    Keras 3 requires the ``.weights.h5`` suffix. The shipped files were written by Keras 3
    and load in Keras 2.15 too (the tox environment ``tf215`` checks that they still
    stylise a photo).
    """
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"Received: path={str(path)!r}, expected a name ending in .weights.h5")
    path.parent.mkdir(parents=True, exist_ok=True)
    net.save_weights(str(path))
    return path


def load_transform_net(path: str | Path) -> keras.Model:
    """A ``transform_net()`` with the weights saved by :func:`save_transform_net`."""
    net = transform_net()
    net.load_weights(str(path))
    return net


def pretrained(style: str = "starry_night") -> keras.Model:
    """The shipped network for ``style`` (trained by ``benchmarks/train_fast_style.py``)."""
    if style not in SHIPPED:
        raise ValueError(f"Received: style={style!r}, expected one of {sorted(SHIPPED)}")
    return load_transform_net(SHIPPED[style])

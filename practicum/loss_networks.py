"""Loss networks for (fast) style transfer: pre-trained CNNs that turn images into features.

Style transfer compares images through the activations of a CNN trained on ImageNet. Three
networks are available by name; each has documented content and style layers
(``docs/style_transfer.md`` explains the choices):

==============  =========================================  =====================================
name            content layers                             style layers
==============  =========================================  =====================================
``squeezenet``  ``fire2`` (55x55x128 for 224x224)           ``conv1``, ``fire3``, ``fire5``,
                                                           ``fire7`` (SqueezeNet v1.1, 3 MB,
                                                           shipped in ``practicum/weights``)
``vgg19``       ``block5_conv2``                           ``block1_conv1`` ... ``block5_conv1``
                                                           (the TensorFlow tutorial's choice;
                                                           needs the ImageNet weights)
``tiny``        ``conv2``                                  ``conv1``, ``conv2``, ``conv3``
                                                           (random fixed weights, for tests)
==============  =========================================  =====================================

``squeezenet`` is the offline default. ``vgg19`` uses ``keras.applications.VGG19`` with the
ImageNet weights when they are in the Keras cache or can be downloaded (not when the
environment variable ``PRACTICUM_OFFLINE`` is set); otherwise one line says so and SqueezeNet
is used instead.

Every network takes RGB images in ``[0, 1]`` of shape ``(B, H, W, 3)``; the extractor does the
network's own preprocessing (both ImageNet networks want Caffe-style BGR, 0-255, mean
subtracted) with TensorFlow operations, so gradients flow back to the pixels.

Example::

    extractor = get_extractor("squeezenet")
    features = extractor(images)          # {"content": [...], "style": [...]}
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SQUEEZENET_WEIGHTS = WEIGHTS_DIR / "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"
SQUEEZENET_SHA256 = "2d935d8c102ad1232484a77da8e6fbdf3ff4ab608974a0d8b6283115ffff204f"

# The Caffe ImageNet means, in BGR order, on the 0-255 scale.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

# (squeeze filters, expand filters per branch) for fire2 ... fire9.
FIRE_MODULES = {
    2: (16, 64),
    3: (16, 64),
    4: (32, 128),
    5: (32, 128),
    6: (48, 192),
    7: (48, 192),
    8: (64, 256),
    9: (64, 256),
}

LAYERS = {
    "squeezenet": {
        "content": ("fire2",),
        "style": ("conv1", "fire3", "fire5", "fire7"),
        # balances the layers' Gram magnitudes (measured on the embedded images)
        "style_weights": (1.0, 0.025, 0.025, 0.1),
    },
    "vgg19": {
        "content": ("block5_conv2",),
        "style": ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"),
        "style_weights": (1.0, 1.0, 1.0, 1.0, 1.0),
    },
    "tiny": {
        "content": ("conv2",),
        "style": ("conv1", "conv2", "conv3"),
        # unequal on purpose: a test can tell whether the weights are used
        "style_weights": (1.0, 0.5, 2.0),
    },
}
NETWORKS = tuple(LAYERS)


# --------------------------------------------------------------------------- preprocessing


def caffe_preprocess(images: tf.Tensor) -> tf.Tensor:
    """RGB images in ``[0, 1]`` -> BGR, 0-255, Caffe ImageNet mean subtracted.

    The same as ``keras.applications.imagenet_utils.preprocess_input(255 * x, mode="caffe")``,
    written with TensorFlow operations so that it is differentiable.
    """
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    bgr = tf.reverse(images, axis=[-1]) * 255.0
    return bgr - tf.constant(CAFFE_MEAN_BGR, dtype=bgr.dtype)


def _identity(images: tf.Tensor) -> tf.Tensor:
    return tf.convert_to_tensor(images, dtype=tf.float32)


# --------------------------------------------------------------------------- SqueezeNet


def _fire(x, number: int):
    squeeze, expand = FIRE_MODULES[number]
    name = f"fire{number}"
    s = keras.layers.Conv2D(squeeze, 1, activation="relu", name=f"{name}_squeeze1x1")(x)
    e1 = keras.layers.Conv2D(expand, 1, activation="relu", name=f"{name}_expand1x1")(s)
    e3 = keras.layers.Conv2D(
        expand, 3, padding="same", activation="relu", name=f"{name}_expand3x3"
    )(s)
    return keras.layers.Concatenate(axis=-1, name=name)([e1, e3])


def squeezenet(weights: str | Path | None = SQUEEZENET_WEIGHTS) -> keras.Model:
    """SqueezeNet v1.1 without its classifier (up to ``fire9``), any input size >= 35.

    Args:
        weights: path of the Keras HDF5 weights (the shipped ImageNet ones by default), or
            ``None`` for Keras' random initialisation.

    Returns:
        A ``keras.Model`` from Caffe-preprocessed images ``(B, H, W, 3)`` to ``fire9``;
        224x224 gives 13x13x512.
    """
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.Conv2D(64, 3, strides=2, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = _fire(x, 2)
    x = _fire(x, 3)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool3")(x)
    x = _fire(x, 4)
    x = _fire(x, 5)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    for number in (6, 7, 8, 9):
        x = _fire(x, number)
    model = keras.Model(inputs, x, name="squeezenet11")
    if weights is not None:
        load_squeezenet_weights(model, weights)
    return model


def _h5_datasets(path: Path) -> dict[str, np.ndarray]:
    import h5py  # a TensorFlow dependency

    found: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as file:

        def visit(name, item):
            if isinstance(item, h5py.Dataset):
                found[name] = np.asarray(item)

        file.visititems(visit)
    return found


def load_squeezenet_weights(model: keras.Model, path: str | Path = SQUEEZENET_WEIGHTS) -> None:
    """Loads rcmalli's Keras HDF5 file into :func:`squeezenet`'s layers, by layer name.

    The file stores ``conv1/conv1_3/kernel:0`` and ``fireN/squeeze1x1/fireN/squeeze1x1_3/...``
    (HWIO kernels); our layers are ``conv1`` and ``fireN_squeeze1x1`` and so on.
    """
    datasets = _h5_datasets(Path(path))

    def lookup(group: str, leaf: str) -> np.ndarray:
        matches = [
            key for key in datasets if key.startswith(group + "/") and key.endswith("/" + leaf)
        ]
        if len(matches) != 1:
            raise ValueError(
                f"Received: {path} has {len(matches)} datasets for {group}/{leaf}, expected 1"
            )
        return datasets[matches[0]]

    names = ["conv1"] + [
        f"fire{n}_{part}" for n in FIRE_MODULES for part in ("squeeze1x1", "expand1x1", "expand3x3")
    ]
    for name in names:
        group = name if name == "conv1" else name.replace("_", "/", 1)
        layer = model.get_layer(name)
        layer.set_weights([lookup(group, "kernel:0"), lookup(group, "bias:0")])


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- VGG19 and tiny


def _vgg19_cached() -> bool:
    cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
    return (cache / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5").is_file()


def vgg19(weights: str | None = "imagenet") -> keras.Model | None:
    """``keras.applications.VGG19`` without its classifier, or ``None`` when ImageNet weights
    were asked for and cannot be had (offline and not cached).

    ``weights=None`` builds it with random weights (enough for timing it).
    """
    if weights is None:
        return keras.applications.VGG19(include_top=False, weights=None)
    if not _vgg19_cached() and os.environ.get("PRACTICUM_OFFLINE"):
        return None
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(15)
    try:
        return keras.applications.VGG19(include_top=False, weights=weights)
    except Exception:  # noqa: BLE001 - no network, a proxy, a broken cache: fall back
        return None
    finally:
        socket.setdefaulttimeout(previous)


def tiny_cnn(seed: int = 0) -> keras.Model:
    """A three-layer CNN with fixed random weights: a fast stand-in loss network for tests.

    ``conv1`` (3x3, 8 filters, ReLU), 2x2 average pool, ``conv2`` (3x3, 12), 2x2 average
    pool, ``conv3`` (3x3, 16); 'same' padding, so any image of at least 4x4 works. The
    weights come from ``numpy`` with ``seed``, so they are identical in every process.
    """
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.AveragePooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(12, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.AveragePooling2D(2, name="pool2")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv3")(x)
    model = keras.Model(inputs, x, name="tiny_cnn")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            fan_in = np.prod(kernel.shape[:3])
            layer.set_weights(
                [
                    rng.normal(0.0, np.sqrt(2.0 / fan_in), kernel.shape).astype(np.float32),
                    rng.uniform(0.0, 0.1, bias.shape).astype(np.float32),
                ]
            )
    return model


# --------------------------------------------------------------------------- extractor


@dataclass
class FeatureExtractor:
    """Images in ``[0, 1]`` -> ``{"content": [...], "style": [...]}`` feature maps.

    Attributes:
        network: the network's name (``squeezenet``, ``vgg19``, ``tiny``).
        content_layers, style_layers: the layer names, in order.
        style_weights: one weight per style layer (the documented defaults).
        model: the Keras model from preprocessed images to the listed layers' outputs.
    """

    network: str
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    style_weights: tuple[float, ...]
    model: keras.Model
    preprocess: object = caffe_preprocess

    def __call__(self, images) -> dict[str, list[tf.Tensor]]:
        images = tf.convert_to_tensor(images)
        if images.shape.rank == 3:
            images = images[tf.newaxis]
        outputs = self.model(self.preprocess(tf.cast(images, tf.float32)))
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        count = len(self.content_layers)
        return {"content": list(outputs[:count]), "style": list(outputs[count:])}


def _base_model(network: str) -> tuple[str, keras.Model]:
    if network == "tiny":
        return "tiny", tiny_cnn()
    if network == "vgg19":
        model = vgg19()
        if model is not None:
            return "vgg19", model
        print("vgg19: ImageNet weights not cached and not downloadable; using squeezenet instead")
    elif network != "squeezenet":
        raise ValueError(f"Received: network={network!r}, expected one of {NETWORKS}")
    return "squeezenet", squeezenet()


def feature_extractor(
    network: str = "squeezenet",
    content_layers: Sequence[str] | None = None,
    style_layers: Sequence[str] | None = None,
    style_weights: Sequence[float] | None = None,
) -> FeatureExtractor:
    """A new :class:`FeatureExtractor` on ``network`` with the given (or documented) layers.

    Raises:
        ValueError: for an unknown network or layer name.
    """
    network, base = _base_model(network)
    defaults = LAYERS[network]
    content_layers = tuple(content_layers or defaults["content"])
    custom_style = style_layers is not None
    style_layers = tuple(style_layers or defaults["style"])
    if style_weights is None:
        style_weights = (1.0,) * len(style_layers) if custom_style else defaults["style_weights"]
    known = [layer.name for layer in base.layers]
    for name in (*content_layers, *style_layers):
        if name not in known:
            raise ValueError(f"Received: layer {name!r}, expected a layer of {network}: {known}")
    outputs = [base.get_layer(name).output for name in (*content_layers, *style_layers)]
    model = keras.Model(base.inputs, outputs, name=f"{network}_features")
    model.trainable = False
    preprocess = _identity if network == "tiny" else caffe_preprocess
    return FeatureExtractor(
        network, content_layers, style_layers, tuple(style_weights), model, preprocess
    )


@functools.lru_cache(maxsize=8)
def _cached_extractor(network: str) -> FeatureExtractor:
    return feature_extractor(network)


def get_extractor(extractor: str | FeatureExtractor = "squeezenet") -> FeatureExtractor:
    """``extractor`` itself, or the shared extractor for a network name (built once)."""
    if isinstance(extractor, FeatureExtractor):
        return extractor
    if not isinstance(extractor, str):
        raise ValueError(
            f"Received: extractor of type {type(extractor).__name__}, expected a "
            f"network name {NETWORKS} or a FeatureExtractor"
        )
    return _cached_extractor(extractor)

"""Style transfer speed, each figure a ratio against an anchor measured in the same run.

    nice -n 10 .venv/bin/python benchmarks/style_transfer_bench.py [--repeat 10]

1. One optimisation step at 256x256 (``style_transfer.transfer_step`` compiled once with
   ``tf.function``) against the TensorFlow tutorial's recipe ("Neural style transfer",
   tensorflow.org/tutorials/generative/style_transfer): VGG19, content ``block5_conv2``,
   style ``block1_conv1`` .. ``block5_conv1``, Adam(0.02, beta_1=0.99, epsilon=0.1), its
   ``train_step`` under ``tf.function``. VGG19's ImageNet weights are not available
   offline, so both VGG19s are built with ``weights=None``: the time of a step does not
   depend on the weights' values. Ours is timed with VGG19 (same network as the anchor) and
   with SqueezeNet (our default loss network).
2. Transformation-network inference (``fast_style.transform_net``, reflection padding and
   resize-then-convolve) at 256x256 and 512x512 against the same architecture built with
   zero padding and ``Conv2DTranspose``; both compiled with ``tf.function``, batch 1.

   Two diagnostic variants of ours split the gap: the same weights with zero padding
   (``experiments.zero_padded_copy``: what reflection padding costs) and ours with each
   upsampling block computed as four 2x2 sub-pixel convolutions (``SubPixelUpsampleConv``,
   checked to give the same outputs: what the 2x larger upsampling convolutions cost).

Prints median seconds, ratios (ours / anchor; at most 1.0 is the target) and images/s.
``--transform-only`` skips part 1. The timed calls are interleaved (anchor, ours, variants,
then again), so a change of load hits them alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from practicum.grader.running.proxy import InProcessBackend
from practicum.loss_networks import LAYERS, FeatureExtractor, caffe_preprocess, squeezenet, vgg19

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(function, repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


# --------------------------------------------------------------------------- the tutorial


def tutorial_step(content: np.ndarray, style: np.ndarray):
    """The TensorFlow tutorial's ``train_step`` (VGG19 with random weights), as a closure."""
    content_layers = ["block5_conv2"]
    style_layers = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
    vgg = keras.applications.VGG19(include_top=False, weights=None)
    vgg.trainable = False
    outputs = [vgg.get_layer(name).output for name in style_layers + content_layers]
    model = keras.Model([vgg.input], outputs)

    def gram_matrix(input_tensor):
        result = tf.linalg.einsum("bijc,bijd->bcd", input_tensor, input_tensor)
        shape = tf.shape(input_tensor)
        return result / tf.cast(shape[1] * shape[2], tf.float32)

    def extract(inputs):
        inputs = inputs * 255.0
        processed = keras.applications.vgg19.preprocess_input(inputs)
        outs = model(processed)
        style_outputs = [gram_matrix(o) for o in outs[: len(style_layers)]]
        return style_outputs, outs[len(style_layers) :]

    style_targets, _ = extract(tf.constant(style[None]))
    _, content_targets = extract(tf.constant(content[None]))
    image = tf.Variable(content[None])
    opt = keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)
    style_weight, content_weight, tv_weight = 1e-2, 1e4, 30

    @tf.function()
    def train_step():
        with tf.GradientTape() as tape:
            style_outputs, content_outputs = extract(image)
            style_loss = tf.add_n(
                [tf.reduce_mean((o - t) ** 2) for o, t in zip(style_outputs, style_targets)]
            )
            style_loss *= style_weight / len(style_layers)
            content_loss = tf.add_n(
                [tf.reduce_mean((o - t) ** 2) for o, t in zip(content_outputs, content_targets)]
            )
            content_loss *= content_weight / len(content_layers)
            loss = style_loss + content_loss + tv_weight * tf.image.total_variation(image)
        grad = tape.gradient(loss, image)
        opt.apply_gradients([(grad, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))

    return train_step


def our_step(style_transfer, extractor, content: np.ndarray, style: np.ndarray):
    targets_c = [tf.constant(t) for t in style_transfer.content_targets(extractor, content)]
    targets_s = [tf.constant(t) for t in style_transfer.style_targets(extractor, style)]
    image = tf.Variable(content[None])
    opt = style_transfer.make_optimizer("adam", 0.02)
    opt.build([image])

    @tf.function
    def step():
        return style_transfer.transfer_step(extractor, image, targets_c, targets_s, opt, 0.2, 1e5)

    return step


def vgg19_extractor() -> FeatureExtractor:
    base = vgg19(weights=None)
    layers = LAYERS["vgg19"]
    outputs = [base.get_layer(n).output for n in (*layers["content"], *layers["style"])]
    model = keras.Model(base.inputs, outputs)
    return FeatureExtractor(
        "vgg19",
        layers["content"],
        layers["style"],
        layers["style_weights"],
        model,
        caffe_preprocess,
    )


def squeezenet_extractor() -> FeatureExtractor:
    base = squeezenet()
    layers = LAYERS["squeezenet"]
    outputs = [base.get_layer(n).output for n in (*layers["content"], *layers["style"])]
    return FeatureExtractor(
        "squeezenet",
        layers["content"],
        layers["style"],
        layers["style_weights"],
        keras.Model(base.inputs, outputs),
        caffe_preprocess,
    )


# --------------------------------------------------------------------------- transform nets


def anchor_transform_net() -> keras.Model:
    """Johnson et al.'s network with zero padding and transposed convolutions."""

    def conv(x, filters, kernel, strides=1, relu=True):
        x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same")(x)
        x = keras.layers.GroupNormalization(groups=-1)(x)
        return keras.layers.ReLU()(x) if relu else x

    inputs = keras.Input((None, None, 3))
    x = conv(inputs, 32, 9)
    x = conv(x, 64, 3, 2)
    x = conv(x, 128, 3, 2)
    for _ in range(5):
        x = keras.layers.Add()([x, conv(conv(x, 128, 3), 128, 3, relu=False)])
    for filters in (64, 32):
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same")(x)
        x = keras.layers.ReLU()(keras.layers.GroupNormalization(groups=-1)(x))
    x = keras.layers.Conv2D(3, 9, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, x)


class SubPixelUpsampleConv(keras.layers.Layer):
    """Nearest 2x upsampling, reflection padding 1 and a 3x3 'valid' convolution, computed
    on the low-resolution map.

    After nearest upsampling, output row ``2i`` sees input rows ``i-1, i, i`` and row
    ``2i+1`` sees ``i, i, i+1`` (reflection padding of the upsampled map is symmetric
    padding of the input). So each of the four output phases is a 2x2 convolution of the
    symmetric-padded input with summed kernel rows and columns: 4/9 of the multiply-adds.
    """

    def __init__(self, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(3, 3, input_shape[-1], self.filters), name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    @staticmethod
    def _fold(kernel, axis: int, phase: int):
        first, middle, last = tf.unstack(kernel, axis=axis)
        pair = [first, middle + last] if phase == 0 else [first + middle, last]
        return tf.stack(pair, axis=axis)

    def call(self, x):
        height, width = tf.shape(x)[1], tf.shape(x)[2]
        padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        rows = []
        for a in (0, 1):
            kernel_a = self._fold(self.kernel, 0, a)
            phases = [
                tf.nn.conv2d(
                    padded[:, a : a + height + 1, b : b + width + 1],
                    self._fold(kernel_a, 1, b),
                    1,
                    "VALID",
                )
                for b in (0, 1)
            ]
            rows.append(tf.stack(phases, axis=3))  # (B, H, W, 2, C)
        out = tf.stack(rows, axis=2)  # (B, H, 2, W, 2, C)
        return tf.reshape(out, [tf.shape(x)[0], 2 * height, 2 * width, self.filters]) + self.bias


def sub_pixel_twin(fast_style, net: keras.Model) -> keras.Model:
    """``net``'s architecture and weights with each ``upsample_block`` as one
    ``SubPixelUpsampleConv``; checked against ``net`` by the caller."""
    inputs = keras.Input((None, None, 3))
    x = fast_style.conv_block(inputs, 32, 9, name="conv1")
    x = fast_style.conv_block(x, 64, 3, strides=2, name="conv2")
    x = fast_style.conv_block(x, 128, 3, strides=2, name="conv3")
    for index in range(1, 6):
        x = fast_style.residual_block(x, 128, name=f"res{index}")
    for name, filters in (("up1", 64), ("up2", 32)):
        x = SubPixelUpsampleConv(filters, name=f"{name}_conv")(x)
        x = keras.layers.ReLU()(fast_style.instance_norm(f"{name}_conv_norm")(x))
    x = fast_style.conv_block(x, 3, 9, name="conv_out", norm=False, relu=False)
    twin = keras.Model(inputs, keras.layers.Activation("sigmoid")(x))
    by_name = {layer.name: layer for layer in net.layers}
    for layer in twin.layers:
        if layer.weights and layer.name in by_name:
            layer.set_weights(by_name[layer.name].get_weights())
    return twin


def interleaved_medians(functions: dict, repeat: int, warmup: int = 2) -> dict:
    for function in functions.values():
        for _ in range(warmup):
            function()
    times = {label: [] for label in functions}
    for _ in range(repeat):
        for label, function in functions.items():
            begin = time.perf_counter()
            function()
            times[label].append(time.perf_counter() - begin)
    return {label: statistics.median(values) for label, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--impl", type=Path, default=ROOT / "solutions")
    parser.add_argument(
        "--transform-only",
        action="store_true",
        help="only the transformation-network inference (part 2)",
    )
    options = parser.parse_args()
    backend = InProcessBackend(options.impl)
    style_transfer, fast_style = backend._load("style_transfer"), backend._load("fast_style")
    rng = np.random.default_rng(0)
    content = rng.uniform(0, 1, (256, 256, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (256, 256, 3)).astype(np.float32)

    rows = []
    if not options.transform_only:
        anchor = median_seconds(tutorial_step(content, style), options.repeat)
        rows.append(("tutorial step, VGG19 (anchor)", anchor, 1.0))
        for label, extractor in [
            ("our step, VGG19", vgg19_extractor()),
            ("our step, SqueezeNet", squeezenet_extractor()),
        ]:
            step = our_step(style_transfer, extractor, content, style)
            seconds = median_seconds(step, options.repeat)
            rows.append((label, seconds, seconds / anchor))
            print(f"  ({label}: traced {step.experimental_get_tracing_count()} time(s))")

    from practicum import experiments

    keras.utils.set_random_seed(0)
    ours, theirs = fast_style.transform_net(), anchor_transform_net()
    variants = {
        "ours, zero padding": experiments.zero_padded_copy(ours),
        "ours, sub-pixel upsampling": sub_pixel_twin(fast_style, ours),
    }
    probe = tf.constant(rng.uniform(0, 1, (1, 32, 40, 3)).astype(np.float32))
    gap = float(tf.reduce_max(tf.abs(variants["ours, sub-pixel upsampling"](probe) - ours(probe))))
    assert gap < 1e-4, f"the sub-pixel twin differs from ours by {gap}"
    for side in (256, 512):
        batch = tf.constant(rng.uniform(0, 1, (1, side, side, 3)).astype(np.float32))
        nets = {
            "zero pad + transposed (anchor)": theirs,
            "reflect + resize (ours)": ours,
            **variants,
        }
        functions = {}
        for label, net in nets.items():
            compiled = tf.function(lambda x, net=net: net(x, training=False))
            functions[label] = lambda f=compiled, b=batch: f(b).numpy()
        medians = interleaved_medians(functions, options.repeat)
        anchor_s = medians["zero pad + transposed (anchor)"]
        for label, seconds in medians.items():
            rows.append((f"transform net {side}x{side}, {label}", seconds, seconds / anchor_s))

    print(f"{'what':<60}{'median s':>10}{'ratio':>8}{'images/s':>10}")
    for label, seconds, ratio in rows:
        print(f"{label:<60}{seconds:>10.4f}{ratio:>8.2f}{1 / seconds:>10.2f}")


if __name__ == "__main__":
    main()

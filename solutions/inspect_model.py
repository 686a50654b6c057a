"""Looking inside a trained classifier (Assignment 2 section 2.2, Assignment 3 section 1.4).

Two views of what a network has learned:

* its *most confidently wrong* test examples: the images it misclassifies while being most
  sure of itself, shown with the class probabilities (``most_confidently_wrong``, then
  ``plot_confidently_wrong``);
* its *activations*: the output of every layer for one image, drawn as a grid of maps per
  layer, as in Adam Harley's interactive demo (``layer_activations``, then
  ``plot_activation_maps``).

You will write ``most_confidently_wrong`` and ``layer_activations``; the plots are provided.

Conventions: ``probs`` is an ``(N, K)`` array of class probabilities (rows sum to 1);
labels are class numbers ``(N,)`` or ``(N, 1)`` (as CIFAR-10's). The *prediction* is the
argmax of a row, the first (lowest) class on ties, as ``np.argmax`` does; the
*confidence* is the probability of the predicted class, the row's maximum. Images are
channels-last; ``layer_activations`` takes one image *without* a batch axis.

Dtypes: ``most_confidently_wrong`` is numpy: ``probs`` may have any float dtype (float32
from ``model.predict``, float64), and the provided check converts it to float64.
``layer_activations`` is Keras: the provided line converts the image to float32, the
course's dtype and the models' weights' dtype, so every activation is float32.

Worked example::

    probs = [[0.9, 0.1],    y_true = [1,    prediction 0, wrong, confidence 0.9
             [0.2, 0.8],              1,    prediction 1, right
             [0.6, 0.4],              1,    prediction 0, wrong, confidence 0.6
             [0.1, 0.9]]              0]    prediction 1, wrong, confidence 0.9

    most_confidently_wrong(probs, y_true, k=2) -> [0, 3]   (0.9 and 0.9: the lower index
                                                            first; then 2 would come)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import keras
import numpy as np

# --------------------------------------------------------------------------- checks (provided)


def _check_probs_and_labels(probs, y_true) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 1:
        raise ValueError(f"Received: probs.shape={probs.shape}, expected a 2-D array (N, K)")
    labels = np.asarray(y_true)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or len(labels) != len(probs):
        raise ValueError(
            f"Received: y_true.shape={np.shape(y_true)} and "
            f"probs.shape={probs.shape}, expected labels (N,) or (N, 1) with "
            f"N = {len(probs)}"
        )
    return probs, labels.astype(np.int64)


# --------------------------------------------------------------------------- mistakes


def most_confidently_wrong(probs, y_true, k: int) -> np.ndarray:
    """Finds the ``k`` misclassified examples the model was most sure of.

    An example is *wrong* when its prediction (the argmax of its row, the lowest class on
    ties) differs from its label. Among the wrong examples, sort by confidence (the
    predicted class's probability, the row's maximum) from highest to lowest; equal
    confidences go in the order of their index (lowest first). Return the first ``k``
    indices, or all of them if fewer than ``k`` examples are wrong.

    Args:
        probs: ``(N, K)`` class probabilities.
        y_true: ``(N,)`` or ``(N, 1)`` integer labels.
        k: how many to return (0 or more).

    Returns:
        An int64 array of ``min(k, number wrong)`` indices into ``probs``.

    Raises:
        ValueError: if the shapes do not fit or ``k < 0``.

    Example:
        >>> most_confidently_wrong([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [1, 1, 1], k=5)
        array([0, 2])

    Hint: about 5 lines: ``np.argmax``, a boolean mask, and a *stable* sort
    (``np.argsort(-confidence, kind="stable")``) keeps ties in index order.
    """
    probs, labels = _check_probs_and_labels(probs, y_true)
    if int(k) < 0:
        raise ValueError(f"Received: k={k}, expected 0 or more")
    ### BEGIN SOLUTION
    predicted = np.argmax(probs, axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probs[wrong, predicted[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order][: int(k)].astype(np.int64)
    ### END SOLUTION


def plot_confidently_wrong(
    images, probs, y_true, indices, class_names: Sequence[str], path: str, columns: int = 4
) -> str:
    """Saves a grid of images, each above a bar chart of its class probabilities (provided).

    The title of each image names the predicted class, its probability, and the true
    class; in the bar chart the predicted class is red and the true class green.

    Args:
        images: ``(N, H, W)`` or ``(N, H, W, C)`` images (uint8 0..255 or floats in [0, 1]).
        probs: ``(N, K)`` class probabilities.
        y_true: ``(N,)`` or ``(N, 1)`` labels.
        indices: the examples to show (e.g. from ``most_confidently_wrong``).
        class_names: ``K`` names.
        path: the PNG file to write.
        columns: images per row.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    probs, labels = _check_probs_and_labels(probs, y_true)
    images = np.asarray(images)
    indices = [int(i) for i in np.asarray(indices).reshape(-1)]
    if len(class_names) != probs.shape[1]:
        raise ValueError(
            f"Received: {len(class_names)} class names, expected "
            f"{probs.shape[1]} (one per column of probs)"
        )
    if len(images) != len(probs):
        raise ValueError(
            f"Received: {len(images)} images and {len(probs)} rows of probs, "
            f"expected one row per image"
        )
    if not indices:
        raise ValueError("Received: no indices, expected at least one example to show")
    columns = max(1, min(columns, len(indices)))
    rows = math.ceil(len(indices) / columns)
    figure = plt.figure(figsize=(3.0 * columns, 4.2 * rows))
    grid = figure.add_gridspec(2 * rows, columns, height_ratios=[3, 1.6] * rows)
    for slot, index in enumerate(indices):
        row, column = divmod(slot, columns)
        picture = figure.add_subplot(grid[2 * row, column])
        image = images[index]
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if image.dtype != np.uint8:
            image = np.clip(image, 0.0, 1.0)
        picture.imshow(image, cmap="gray" if image.ndim == 2 else None)
        picture.set_xticks([])
        picture.set_yticks([])
        predicted = int(np.argmax(probs[index]))
        picture.set_title(
            f"#{index}: {class_names[predicted]} {probs[index, predicted]:.2f}\n"
            f"true: {class_names[labels[index]]}",
            fontsize=9,
        )
        bars = figure.add_subplot(grid[2 * row + 1, column])
        colours = ["lightgray"] * probs.shape[1]
        colours[labels[index]] = "tab:green"
        colours[predicted] = "tab:red"
        bars.bar(range(probs.shape[1]), probs[index], color=colours)
        bars.set_ylim(0, 1)
        bars.set_xticks(range(probs.shape[1]))
        bars.set_xticklabels([name[:5] for name in class_names], rotation=90, fontsize=6)
        bars.tick_params(axis="y", labelsize=6)
    figure.suptitle("Most confidently wrong (red: predicted, green: true)")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


# --------------------------------------------------------------------------- activations


def layer_activations(model: keras.Model, image) -> list[np.ndarray]:
    """The output of every layer of ``model`` for one image.

    Run the image through the model in inference mode (``training=False``: dropout off,
    batch normalisation with its moving statistics) and collect what each layer of
    ``model.layers`` outputs, in order, from the first layer to the last (the input itself
    is not a layer's output). Either build a ``keras.Model(inputs=model.inputs,
    outputs=[layer.output for layer in model.layers])``, or call the layers one after the
    other (for a ``keras.Sequential``).

    Args:
        model: a built Keras model (``keras.Sequential`` or functional) with one input.
        image: one input *without* a batch axis: shape ``model.input_shape[1:]``, e.g.
            ``(28, 28, 1)``.

    Returns:
        A list of ``len(model.layers)`` numpy arrays, entry ``i`` of layer ``i``'s output
        shape without the batch axis, e.g. ``(28, 28, 16)`` for a convolution.

    Raises:
        ValueError: if ``image`` does not have the model's input shape.

    Example:
        >>> model = example_model("mlp")  # flatten, dense 16, ReLU, dense 10, softmax
        >>> activations = layer_activations(model, np.full((28, 28, 1), 0.5))
        >>> [a.shape for a in activations]  # one per layer, without the batch axis
        [(784,), (16,), (16,), (10,), (10,)]
        >>> round(float(activations[-1].sum()), 4)  # the last one is the prediction
        1.0

    Hint: about 4 lines; add the batch axis with ``image[None]`` and remove it from each
    output with ``[0]``.
    """
    image = np.asarray(image, dtype=np.float32)
    expected = tuple(model.inputs[0].shape[1:])
    if image.shape != expected:
        raise ValueError(
            f"Received: image.shape={image.shape}, expected {expected} "
            f"(the model's input shape without the batch axis)"
        )
    ### BEGIN SOLUTION
    probe = keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in model.layers])
    outputs = probe(image[None], training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(output)[0] for output in outputs]
    ### END SOLUTION


@functools.lru_cache(maxsize=64)
def example_model(name: str = "conv", seed: int = 0) -> keras.Model:
    """Small models with fixed random weights, to try ``layer_activations`` on (provided).

    ``"mlp"``: ``(28, 28, 1)`` -> flatten, dense 16, ReLU, dense 10, softmax;
    ``"conv"``: ``(28, 28, 1)`` -> conv 8, max pool, ReLU, conv 8, max pool, ReLU,
    flatten, dense 10, softmax (the handout's convolutional preset, narrower);
    ``"conv_bn"``: ``(12, 12, 3)`` -> conv 4, batch normalisation, ReLU, dropout 0.5,
    global average pool, dense 3, softmax (its moving statistics are not 0 and 1, so the
    inference mode matters);
    ``"functional"``: ``(10,)`` -> dense 6, tanh, dense 4, softmax, as a functional model.
    The weights are drawn from ``np.random.default_rng(seed)``. The models are cached:
    the same name and seed give the same model object.
    """
    layers = keras.layers
    if name == "mlp":
        model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                layers.Flatten(),
                layers.Dense(16),
                layers.ReLU(),
                layers.Dense(10),
                layers.Softmax(),
            ]
        )
    elif name == "conv":
        model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                layers.Conv2D(8, 5, padding="same"),
                layers.MaxPooling2D(2),
                layers.ReLU(),
                layers.Conv2D(8, 5, padding="same"),
                layers.MaxPooling2D(2),
                layers.ReLU(),
                layers.Flatten(),
                layers.Dense(10),
                layers.Softmax(),
            ]
        )
    elif name == "conv_bn":
        model = keras.Sequential(
            [
                keras.Input((12, 12, 3)),
                layers.Conv2D(4, 3, padding="same"),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Dropout(0.5),
                layers.GlobalAveragePooling2D(),
                layers.Dense(3),
                layers.Softmax(),
            ]
        )
    elif name == "functional":
        inputs = keras.Input((10,))
        hidden = layers.Activation("tanh")(layers.Dense(6)(inputs))
        model = keras.Model(inputs, layers.Softmax()(layers.Dense(4)(hidden)))
    else:
        raise ValueError(
            f"Received: name={name!r}, expected 'mlp', 'conv', 'conv_bn' or 'functional'"
        )
    model.set_weights(example_weights(name, seed, model))
    return model


def example_weights(
    name: str = "conv", seed: int = 0, model: keras.Model | None = None
) -> list[np.ndarray]:
    """The weights of ``example_model(name, seed)``, as ``model.get_weights()`` lists them
    (provided): drawn from ``N(0, 0.5**2)`` by ``np.random.default_rng(seed)``; for
    ``"conv_bn"`` the batch normalisation's scale and moving variance are made positive."""
    if model is None:
        return example_model(name, seed).get_weights()
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 0.5, size=w.shape).astype(np.float32) for w in model.get_weights()]
    if name == "conv_bn":  # kernel, bias, gamma, beta, moving mean, moving variance
        weights[2] = np.abs(weights[2]) + 0.5
        weights[5] = np.abs(weights[5]) + 0.2
    return weights


def example_activations(name: str, image, seed: int = 0) -> list[np.ndarray]:
    """``layer_activations(example_model(name, seed), image)`` (provided, for the tests)."""
    return layer_activations(example_model(name, seed), image)


def example_predict(name: str, image, seed: int = 0) -> np.ndarray:
    """What ``example_model(name, seed)`` predicts for one image, in inference mode
    (provided): its last layer's output, without the batch axis."""
    model = example_model(name, seed)
    return np.asarray(model(np.asarray(image, dtype=np.float32)[None], training=False))[0]


def plot_activation_maps(
    activations: Sequence, path: str, max_maps: int = 16, layer_names: Sequence[str] | None = None
) -> str:
    """Saves a PNG with one row per layer: its activation maps (provided).

    An image-shaped activation ``(H, W, C)`` shows its first ``max_maps`` channels as
    small grey images (each scaled to its own range, as in Harley's demo); a flat
    activation ``(N,)`` shows as one strip of ``N`` cells.

    Args:
        activations: what ``layer_activations`` returns.
        path: the PNG file to write.
        max_maps: at most this many maps per layer.
        layer_names: a name per layer for the row labels (default ``layer 0``, ...).

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    activations = [np.asarray(a, dtype=np.float64) for a in activations]
    if not activations:
        raise ValueError("Received: no activations, expected one array per layer")
    if max_maps < 1:
        raise ValueError(f"Received: max_maps={max_maps}, expected at least 1")
    names = (
        list(layer_names)
        if layer_names is not None
        else [f"layer {i}" for i in range(len(activations))]
    )
    if len(names) != len(activations):
        raise ValueError(f"Received: {len(names)} layer names, expected {len(activations)}")
    columns = max(min(a.shape[-1], max_maps) if a.ndim == 3 else 1 for a in activations)
    figure, axes = plt.subplots(
        len(activations),
        columns,
        squeeze=False,
        figsize=(1.1 * columns + 1.5, 1.2 * len(activations) + 0.5),
    )
    for row, (activation, name) in enumerate(zip(activations, names)):
        for column in range(columns):
            axes[row, column].axis("off")
        if activation.ndim == 3:
            maps = [activation[:, :, c] for c in range(min(activation.shape[-1], max_maps))]
        else:
            maps = [activation.reshape(1, -1)]
        for column, activation_map in enumerate(maps):
            axis = axes[row, column]
            axis.imshow(
                activation_map,
                cmap="gray",
                interpolation="nearest",
                aspect="equal" if activation.ndim == 3 else "auto",
            )
        axes[row, 0].set_title(f"{name} {tuple(activation.shape)}", fontsize=8, loc="left")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path

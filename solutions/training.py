"""Training a classifier with the handouts' knobs (Assignment 2 section 2, Assignment 3).

Model Builder trains a model with four knobs: the *learning rate*, the *batch size*, the
*number of batches* and the *optimizer*. This module does the same in Keras on MNIST,
Fashion-MNIST or CIFAR-10, and keeps a history you can plot:

* ``train(model_or_preset, dataset, learning_rate, batch_size, num_batches, optimizer,
  seed)`` trains and returns the history (provided);
* ``plot_history(history, path)`` saves the loss and accuracy curves as a PNG (provided).

You will write the two pieces of the training loop that Keras's ``fit`` hides:

* ``batch_indices``: which examples go into each batch (shuffling, epochs);
* ``train_step``: one step of gradient descent on one batch, returning its loss.

Conventions: images are float32 in ``[0, 1]``, channels-last ``(N, H, W, C)`` (MNIST and
Fashion-MNIST get a channels axis: ``(N, 28, 28, 1)``); labels are integer class numbers of
shape ``(N,)``; every model ends with a softmax, so it outputs *probabilities*
``(B, num_classes)``, and the loss is the mean sparse categorical cross-entropy.

Dtypes: float32 is the course's dtype. ``load_data`` and ``run_steps`` hand ``train_step``
float32 images and int64 labels, and the models' weights are Keras's float32, so the
probabilities and the loss are float32 tensors (no casts needed). ``batch_indices`` is
numpy and returns int64 indices.

Worked example (``batch_indices``, 5 examples, batches of 2, 4 batches)::

    epoch 1: a permutation of 0..4, e.g. [3, 0, 4, 1, 2]
    epoch 2: a new permutation,       e.g. [1, 4, 0, 2, 3]
    stream:  3 0 | 4 1 | 2 1 | 4 0 ...   -> [[3, 0], [4, 1], [2, 1], [4, 0]]

    The third batch takes the last example of epoch 1 and the first of epoch 2: every
    batch has exactly ``batch_size`` examples, and within an epoch each example is used
    exactly once.

Example::

    history = train("convolutional", dataset="mnist", learning_rate=0.01,
                    batch_size=32, num_batches=500, optimizer="sgd")
    history["loss"][:3], history["test_accuracy"], history["wall_time"]
    plot_history(history, "mnist_convolutional.png")
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from practicum.datasets import load_cifar10, load_fashion_mnist, load_mnist

LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist, "cifar10": load_cifar10}
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad")


# --------------------------------------------------------------------------- data (provided)


def load_data(dataset: str = "mnist", source: str = "auto", data_dir=None):
    """Loads a data set as float32 images in ``[0, 1]``, channels-last, and flat labels.

    Args:
        dataset: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        source: where to load from (see ``practicum.datasets``): ``"auto"`` or ``"sample"``.
        data_dir: a folder laid out like the Keras cache (``PRACTICUM_DATA_DIR``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images ``(N, H, W, C)`` float32, labels
        ``(N,)`` int64.
    """
    if dataset not in LOADERS:
        raise ValueError(f"Received: dataset={dataset!r}, expected one of {sorted(LOADERS)}")
    (x_train, y_train), (x_test, y_test) = LOADERS[dataset](source, data_dir=data_dir)

    def images(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32) / 255.0
        return x[..., None] if x.ndim == 3 else x

    def labels(y: np.ndarray) -> np.ndarray:
        return np.asarray(y).reshape(-1).astype(np.int64)

    return (images(x_train), labels(y_train)), (images(x_test), labels(y_test))


def batch_indices(
    num_examples: int, batch_size: int, num_batches: int, seed: int = 0
) -> np.ndarray:
    """Chooses the examples of every batch: shuffled epochs, cut into equal batches.

    An *epoch* is one pass over the data in a random order: a permutation of
    ``0 .. num_examples - 1``. Draw the epochs one after the other from one generator,
    ``rng = np.random.default_rng(seed)``, each with ``rng.permutation(num_examples)``, and
    lay them end to end in one long stream. Cut the stream into consecutive batches of
    ``batch_size``. An epoch's last, partial batch is *completed with the first examples of
    the next epoch*: nothing is dropped and every batch has exactly ``batch_size`` indices.
    Within an epoch no example repeats (shuffling *without* replacement).

    Args:
        num_examples: ``N``, the number of training examples (at least 1).
        batch_size: ``B``, between 1 and ``N``.
        num_batches: how many batches (0 or more).
        seed: seeds the generator; the same seed gives the same batches.

    Returns:
        An int64 array of shape ``(num_batches, batch_size)`` of indices in ``[0, N)``.

    Raises:
        ValueError: if ``N < 1``, ``B`` is not in ``[1, N]`` or ``num_batches < 0``.

    Example:
        >>> batch_indices(4, 4, 2, seed=0).shape
        (2, 4)
        >>> sorted(batch_indices(4, 4, 2, seed=0)[1].tolist())  # the second epoch
        [0, 1, 2, 3]

    Hint: about 5 lines: draw ``ceil(num_batches * B / N)`` permutations, concatenate them
    (``np.concatenate``), keep the first ``num_batches * B`` and reshape.
    """
    num_examples, batch_size, num_batches = int(num_examples), int(batch_size), int(num_batches)
    if num_examples < 1:
        raise ValueError(f"Received: num_examples={num_examples}, expected at least 1")
    if not 1 <= batch_size <= num_examples:
        raise ValueError(
            f"Received: batch_size={batch_size}, expected an integer in "
            f"[1, num_examples={num_examples}]"
        )
    if num_batches < 0:
        raise ValueError(f"Received: num_batches={num_batches}, expected 0 or more")
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    needed = num_batches * batch_size
    epochs = -(-needed // num_examples)  # ceil
    stream = [rng.permutation(num_examples) for _ in range(epochs)]
    stream = np.concatenate(stream) if stream else np.zeros(0, dtype=np.int64)
    return stream[:needed].astype(np.int64).reshape(num_batches, batch_size)
    ### END SOLUTION


def make_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, num_batches: int, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yields ``num_batches`` pairs ``(x[index], y[index])`` chosen by ``batch_indices``.

    Provided. Each ``x`` batch has shape ``(batch_size, *x.shape[1:])`` and each ``y`` batch
    ``(batch_size, *y.shape[1:])``; ``x`` and ``y`` are indexed with the same indices, so
    every image keeps its label.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"Received: len(x)={len(x)} and len(y)={len(y)}, expected equal")
    for index in batch_indices(len(x), batch_size, num_batches, seed):
        yield x[index], y[index]


# --------------------------------------------------------------------------- the step


def train_step(
    model: keras.Model, optimizer: keras.optimizers.Optimizer, x_batch, y_batch
) -> tf.Tensor:
    """One step of gradient descent on one batch; returns the batch's loss.

    The loss is the mean over the batch of the sparse categorical cross-entropy between
    the labels and the model's *probabilities* (the model ends with a softmax):
    ``-log(probs[b, y[b]])`` averaged over ``b``. Compute it under a
    ``tf.GradientTape`` with the model in training mode (``model(x, training=True)``),
    take its gradient with respect to ``model.trainable_variables`` and let the optimizer
    apply it. Return the loss computed *before* the update: the loss the gradient was
    taken of (it is what ``history["loss"]`` records for this batch).

    Use TensorFlow operations only (no ``.numpy()``): ``train`` runs this function inside
    ``tf.function`` for speed.

    Args:
        model: a Keras model mapping ``x_batch`` to probabilities ``(B, num_classes)``.
        optimizer: a Keras optimizer (SGD, Adam, ...).
        x_batch: images ``(B, H, W, C)`` (or ``(B, features)``), float32.
        y_batch: integer labels ``(B,)``.

    Returns:
        The loss, a scalar ``tf.Tensor``.

    Example:
        >>> model = small_model((4,), num_classes=3)  # a tiny model with fixed weights
        >>> x = np.array([[0.5, -1.0, 0.25, 2.0], [1.0, 0.0, -0.5, 0.5]], np.float32)
        >>> y = np.array([0, 2])
        >>> probs = np.asarray(model(x))  # (2, 3) probabilities before any step
        >>> round(float(-np.mean(np.log(probs[[0, 1], y]))), 3)  # their mean cross-entropy
        2.118
        >>> sgd = keras.optimizers.SGD(learning_rate=0.1)
        >>> round(float(train_step(model, sgd, x, y)), 3)  # the loss BEFORE the update
        2.118
        >>> float(train_step(model, sgd, x, y)) < 2.118  # the step lowered it
        True

    Hint: about 6 lines: ``keras.losses.sparse_categorical_crossentropy`` gives one loss
    per example; ``optimizer.apply_gradients(zip(gradients, variables))``.
    """
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        probs = model(x_batch, training=True)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y_batch, probs))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss
    ### END SOLUTION


# --------------------------------------------------------------------------- provided


def make_optimizer(name: str = "sgd", learning_rate: float = 0.01) -> keras.optimizers.Optimizer:
    """The handouts' optimizers by name: ``"sgd"``, ``"momentum"`` (SGD with momentum 0.9),
    ``"nesterov"``, ``"adam"``, ``"rmsprop"``, ``"adagrad"``."""
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"Received: learning_rate={learning_rate!r}, expected a number > 0")
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "nesterov":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "adagrad":
        return keras.optimizers.Adagrad(learning_rate)
    raise ValueError(f"Received: optimizer={name!r}, expected one of {list(OPTIMIZERS)}")


def small_model(
    input_shape: Sequence[int], num_classes: int = 10, hidden: int = 8, seed: int = 0
) -> keras.Sequential:
    """A small fully connected network with fixed random weights (for tests and demos):
    flatten, dense ``hidden``, ReLU, dense ``num_classes``, softmax. The weights are
    drawn from ``np.random.default_rng(seed)``, so two calls give the same model."""
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(int(d) for d in input_shape)),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden),
            keras.layers.ReLU(),
            keras.layers.Dense(num_classes),
            keras.layers.Softmax(),
        ]
    )
    model.set_weights(small_model_weights(input_shape, num_classes, hidden, seed))
    return model


def small_model_weights(
    input_shape: Sequence[int], num_classes: int = 10, hidden: int = 8, seed: int = 0
) -> list[np.ndarray]:
    """The initial weights of :func:`small_model`: ``[W1 (F, hidden), b1 (hidden,),
    W2 (hidden, num_classes), b2 (num_classes,)]``, float32, ``F`` the flattened input
    size, drawn from ``N(0, 0.5**2)`` by ``np.random.default_rng(seed)``."""
    features = int(np.prod([int(d) for d in input_shape]))
    rng = np.random.default_rng(seed)
    shapes = [(features, hidden), (hidden,), (hidden, num_classes), (num_classes,)]
    return [rng.normal(0.0, 0.5, size=shape).astype(np.float32) for shape in shapes]


def run_steps(
    x_batches,
    y_batches,
    num_classes: int = 10,
    learning_rate: float = 0.1,
    optimizer: str = "sgd",
    seed: int = 0,
    hidden: int = 8,
) -> dict:
    """Runs ``train_step`` on a fixed small model over given batches (provided).

    The tests grade ``train_step`` through this function: the same batches and seed must
    give the same losses and the same final weights as the reference.

    Args:
        x_batches: ``(S, B, ...)`` float images, ``S`` batches.
        y_batches: ``(S, B)`` integer labels.
        num_classes, hidden, seed: the model, see :func:`small_model`.
        learning_rate, optimizer: see :func:`make_optimizer`.

    Returns:
        ``{"losses": [S floats], "weights": [arrays after the last step]}``.
    """
    x_batches = np.asarray(x_batches, dtype=np.float32)
    y_batches = np.asarray(y_batches).astype(np.int64)
    model = small_model(x_batches.shape[2:], num_classes, hidden, seed)
    opt = make_optimizer(optimizer, learning_rate)
    losses = []
    for x_batch, y_batch in zip(x_batches, y_batches):
        loss = train_step(model, opt, tf.constant(x_batch), tf.constant(y_batch))
        losses.append(float(np.asarray(loss)))
    return {"losses": losses, "weights": [np.asarray(w) for w in model.get_weights()]}


def resolve_model(model_or_preset, input_shape, num_classes: int = 10) -> keras.Model:
    """A Keras model from a model, a preset name (``model_builder.PRESETS``) or a list of
    layer specs; presets built for 10 classes end with ``fc 10`` and a softmax."""
    if isinstance(model_or_preset, keras.Model):
        return model_or_preset
    from .model_builder import build_model, preset

    specs = preset(model_or_preset) if isinstance(model_or_preset, str) else model_or_preset
    return build_model(tuple(input_shape), list(specs))


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    """Accuracy of ``model`` (probabilities or logits) on ``x``, ``y``, in batches."""
    correct = 0
    for begin in range(0, len(x), batch_size):
        scores = np.asarray(model(x[begin : begin + batch_size], training=False))
        correct += int(np.sum(np.argmax(scores, axis=1) == y[begin : begin + batch_size]))
    return correct / max(1, len(x))


def train(
    model_or_preset="convolutional",
    dataset: str = "mnist",
    learning_rate: float = 0.01,
    batch_size: int = 32,
    num_batches: int = 1000,
    optimizer: str = "sgd",
    seed: int = 0,
    *,
    max_seconds: float | None = None,
    eval_every: int | None = None,
    eval_size: int = 1000,
    source: str = "auto",
    data_dir=None,
    data=None,
    compile_step: bool = True,
    verbose: bool = False,
) -> dict:
    """Trains a model with the handouts' knobs and returns its history (provided).

    Args:
        model_or_preset: a Keras model ending in a softmax, a preset name
            (``"one_layer"``, ``"convolutional"``, ...) or a list of layer specs.
        dataset: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        learning_rate, batch_size, num_batches, optimizer: the handouts' knobs
            (optimizer: one of ``OPTIMIZERS``).
        seed: seeds the weights and the batches.
        max_seconds: stop early when training has taken this long (wall time). The
            ``num_batches`` batches are chosen up front, so keep it realistic (not 10**9).
        eval_every: measure the accuracy on ``eval_size`` test images every this many
            batches (default: about 20 times in the run).
        source, data_dir: where to load the data from (see :func:`load_data`).
        data: ``((x_train, y_train), (x_test, y_test))`` as :func:`load_data` returns it,
            instead of loading ``dataset``.
        compile_step: run ``train_step`` inside ``tf.function`` (falls back to eager
            execution, with a warning, if it cannot be traced).
        verbose: print a line per evaluation.

    Returns:
        A dict: ``loss`` (one float per batch), ``eval_batches`` and ``eval_accuracy``
        (the accuracy curve), ``test_accuracy`` (on the whole test set, at the end),
        ``wall_time`` (seconds of training, without loading or the final evaluation),
        ``num_batches`` (batches run), and the knobs.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"Received: optimizer={optimizer!r}, expected one of {list(OPTIMIZERS)}")
    (x_train, y_train), (x_test, y_test) = data or load_data(dataset, source, data_dir)
    keras.utils.set_random_seed(seed)
    model = resolve_model(model_or_preset, x_train.shape[1:])
    opt = make_optimizer(optimizer, learning_rate)
    opt.build(model.trainable_variables)
    step = train_step
    if compile_step:
        step = tf.function(train_step)
    eval_every = eval_every or max(1, num_batches // 20)
    probe = slice(0, min(eval_size, len(x_test)))
    history = {
        "loss": [],
        "eval_batches": [],
        "eval_accuracy": [],
        "dataset": dataset,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "seed": seed,
    }
    start = time.perf_counter()
    for index, (x_batch, y_batch) in enumerate(
        make_batches(x_train, y_train, batch_size, num_batches, seed), start=1
    ):
        try:
            loss = step(model, opt, tf.constant(x_batch), tf.constant(y_batch))
        except (TypeError, NotImplementedError, AttributeError, ValueError):
            if step is train_step or index > 1:
                raise
            warnings.warn(
                "train_step could not run inside tf.function; running it eagerly "
                "(slower). Use TensorFlow operations only.",
                stacklevel=2,
            )
            step = train_step
            loss = step(model, opt, tf.constant(x_batch), tf.constant(y_batch))
        history["loss"].append(float(np.asarray(loss)))
        if index % eval_every == 0 or index == num_batches:
            accuracy = evaluate(model, x_test[probe], y_test[probe])
            history["eval_batches"].append(index)
            history["eval_accuracy"].append(accuracy)
            if verbose:
                print(
                    f"batch {index}: loss {np.mean(history['loss'][-eval_every:]):.4f}, "
                    f"accuracy {accuracy:.4f}",
                    flush=True,
                )
        if max_seconds is not None and time.perf_counter() - start >= max_seconds:
            break
    history["wall_time"] = time.perf_counter() - start
    history["num_batches"] = len(history["loss"])
    history["test_accuracy"] = evaluate(model, x_test, y_test)
    return history


def plot_history(history: dict, path: str, title: str | None = None) -> str:
    """Saves the loss per batch (with a moving average) and the accuracy curve as a PNG.

    Args:
        history: what :func:`train` returns (``loss``, and ``eval_batches`` with
            ``eval_accuracy`` if there are any).
        path: the PNG file to write.
        title: the figure's title (default: the data set and the knobs).

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = np.asarray(history.get("loss", []), dtype=np.float64)
    if losses.size == 0:
        raise ValueError("Received: a history with no losses, expected at least one batch")
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    batches = np.arange(1, losses.size + 1)
    left.plot(batches, losses, color="tab:blue", alpha=0.35, linewidth=0.8, label="per batch")
    window = max(1, losses.size // 25)
    if window > 1:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        left.plot(batches[window - 1 :], smooth, color="tab:blue", label=f"mean of {window}")
    left.set_xlabel("batch")
    left.set_ylabel("training loss")
    left.legend()
    left.grid(alpha=0.3)
    if history.get("eval_batches"):
        right.plot(
            history["eval_batches"], history["eval_accuracy"], marker="o", color="tab:orange"
        )
    if "test_accuracy" in history:
        right.axhline(
            history["test_accuracy"],
            color="gray",
            linestyle="--",
            label=f"final test accuracy {history['test_accuracy']:.3f}",
        )
        right.legend()
    right.set_xlabel("batch")
    right.set_ylabel("test accuracy")
    right.set_ylim(0, 1)
    right.grid(alpha=0.3)
    figure.suptitle(
        title
        or (
            f"{history.get('dataset', '')}: {history.get('optimizer', '')}, "
            f"learning rate {history.get('learning_rate', '')}, "
            f"batch size {history.get('batch_size', '')}"
        )
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path

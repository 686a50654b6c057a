"""The CIFAR-10 challenge (Assignment 3, section 3.6, question 5): a reference recipe.

Provided code, not an exercise: the instructors' answer to "how accurate a CIFAR-10
classifier can you train in a fixed time on a laptop CPU?". It is *budget-aware*: give it
a number of seconds of training and it sizes the network and the schedule to fit, so the
same call answers the 60 s, 5 minute and 10 minute questions.

The recipe (each item pays on a small budget):

* inputs standardised per channel (the training set's mean and standard deviation);
* a plain conv-BN-ReLU-maxpool network, channels-last, float32: three blocks of widths
  ``(c, 2c, 4c)``, a residual pair of 3x3 convolutions in the second and third blocks for
  the larger budgets, a global max pool and one dense layer giving logits, scaled by 1/8
  (a max-pooled head otherwise starts over-confident and the first steps diverge);
* batch normalisation with momentum 0.9 (Keras's 0.99 lags behind over a few hundred steps);
* SGD with Nesterov momentum, batches of 128, decoupled weight decay, label smoothing 0.2;
* a one-cycle learning rate driven by the *elapsed time*, not the step count: it rises
  linearly over the first 20 % of the budget and falls linearly to zero at its end, so the
  schedule ends on time whatever the machine's load;
* random horizontal flips, plus random 4-pixel translations (reflect padding) when the
  budget allows several epochs;
* test-time augmentation: the average of the logits of each image and its mirror image.

Example::

    from practicum.datasets import load_cifar10
    (x_train, y_train), (x_test, y_test) = load_cifar10()
    result = train_challenge(x_train, y_train, x_test, y_test, budget_seconds=60)
    result["test_accuracy"], result["steps"], result["images_per_second"]
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import keras
import numpy as np
import tensorflow as tf

NUM_CLASSES = 10


@dataclass(frozen=True)
class Recipe:
    """The knobs of one run; :func:`recipe_for_budget` picks them from the budget."""

    width: int = 32  # the first block's filters; the next blocks have 2x and 4x
    residual: bool = False  # a residual pair of convolutions in blocks 2 and 3
    batch_size: int = 128
    peak_learning_rate: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.2
    warmup_fraction: float = 0.2
    translate: int = 0  # random translations of up to this many pixels (0: none)
    flip: bool = True
    test_time_flip: bool = True
    bn_momentum: float = 0.9
    logit_scale: float = 0.125  # scales the logits: a max-pooled head starts too confident


def recipe_for_budget(budget_seconds: float) -> Recipe:
    """The reference recipe for a training budget in seconds (2-core CPU sizes).

    Measured on the shared 2-core machine (see ``docs/benchmarks.md``): for 60 s,
    widths 16 and 24 (1.4 to 2.3 epochs) beat 32 (0.6 to 0.8 epochs); batches of 128 beat
    64 and 256; a peak learning rate of 0.2 beat 0.1 and 0.3.
    """
    if budget_seconds <= 120:  # one or two epochs: a narrow plain network, flips only
        return Recipe(width=24, residual=False, translate=0)
    if budget_seconds <= 420:  # about five epochs: wider, small translations
        return Recipe(width=32, residual=False, translate=2)
    return Recipe(width=32, residual=True, translate=4)  # ten epochs or so: deeper


# --------------------------------------------------------------------------- data


def standardise(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images -> float32, standardised per channel with the training set's stats."""
    train = x_train.astype(np.float32) / 255.0
    mean = train.mean(axis=(0, 1, 2), keepdims=True)
    std = train.std(axis=(0, 1, 2), keepdims=True)
    test = (x_test.astype(np.float32) / 255.0 - mean) / std
    return (train - mean) / std, test


def augment(batch: np.ndarray, rng: np.random.Generator, flip: bool, translate: int) -> np.ndarray:
    """Random mirror images and translations (reflect padding), per image, in numpy."""
    if flip:
        mirrored = rng.random(len(batch)) < 0.5
        batch = np.where(mirrored[:, None, None, None], batch[:, :, ::-1, :], batch)
    if translate:
        size = batch.shape[1]
        padded = np.pad(
            batch, ((0, 0), (translate, translate), (translate, translate), (0, 0)), mode="reflect"
        )
        dy = rng.integers(0, 2 * translate + 1, size=len(batch))
        dx = rng.integers(0, 2 * translate + 1, size=len(batch))
        rows = dy[:, None] + np.arange(size)[None, :]
        cols = dx[:, None] + np.arange(size)[None, :]
        batch = padded[np.arange(len(batch))[:, None, None], rows[:, :, None], cols[:, None, :]]
    return np.ascontiguousarray(batch, dtype=np.float32)


# --------------------------------------------------------------------------- model


def _conv_bn_relu(x, filters: int, bn_momentum: float, pool: bool = False):
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    if pool:
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.BatchNormalization(momentum=bn_momentum)(x)
    return keras.layers.ReLU()(x)


def build_challenge_model(recipe: Recipe, input_shape=(32, 32, 3)) -> keras.Model:
    """The reference network: three conv-BN-ReLU-maxpool blocks, global max pool, logits."""
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for block, filters in enumerate((recipe.width, 2 * recipe.width, 4 * recipe.width)):
        x = _conv_bn_relu(x, filters, recipe.bn_momentum, pool=True)
        if recipe.residual and block > 0:
            y = _conv_bn_relu(x, filters, recipe.bn_momentum)
            y = _conv_bn_relu(y, filters, recipe.bn_momentum)
            x = keras.layers.Add()([x, y])
    x = keras.layers.GlobalMaxPooling2D()(x)
    outputs = keras.layers.Dense(NUM_CLASSES)(x)
    if recipe.logit_scale != 1.0:
        outputs = keras.layers.Rescaling(recipe.logit_scale)(outputs)
    return keras.Model(inputs, outputs, name="cifar_challenge")


def one_cycle(progress: float, peak: float, warmup_fraction: float) -> float:
    """The learning rate at ``progress`` in [0, 1] of the budget: up, then down to 0."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup_fraction:
        return peak * (0.1 + 0.9 * progress / warmup_fraction)
    return peak * (1.0 - progress) / (1.0 - warmup_fraction)


# --------------------------------------------------------------------------- training


def train_challenge(
    x_train,
    y_train,
    x_test,
    y_test,
    budget_seconds: float,
    recipe: Recipe | None = None,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Trains the reference network for ``budget_seconds`` of wall time and tests it.

    The clock starts before the model is built (building, tracing and the first steps
    count) and training stops before the step that would overrun the budget. Evaluation
    runs after the clock stops.

    Args:
        x_train, y_train: uint8 ``(N, 32, 32, 3)`` images and ``(N,)`` or ``(N, 1)`` labels.
        x_test, y_test: the test split, likewise.
        budget_seconds: the training budget.
        recipe: the knobs (default: :func:`recipe_for_budget`).
        seed: seeds the weights, the shuffling and the augmentation.
        verbose: print progress lines.

    Returns:
        A dict: ``test_accuracy``, ``train_seconds``, ``eval_seconds``, ``steps``,
        ``epochs``, ``images_per_second``, ``loss`` (per step), ``recipe``,
        ``parameters``.
    """
    recipe = recipe or recipe_for_budget(budget_seconds)
    y_train = np.asarray(y_train).reshape(-1).astype(np.int32)
    y_test = np.asarray(y_test).reshape(-1).astype(np.int32)
    train, test = standardise(np.asarray(x_train), np.asarray(x_test))
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)

    start = time.perf_counter()
    model = build_challenge_model(recipe, input_shape=train.shape[1:])
    optimizer = keras.optimizers.SGD(
        learning_rate=recipe.peak_learning_rate,
        momentum=recipe.momentum,
        nesterov=True,
        weight_decay=recipe.weight_decay,
    )
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=recipe.label_smoothing
    )

    @tf.function(reduce_retracing=True)
    def step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = loss_fn(tf.one_hot(labels, NUM_CLASSES), logits)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    losses: list[float] = []
    order = rng.permutation(len(train))
    cursor, steps, typical = 0, 0, 0.0
    while True:
        now = time.perf_counter()
        elapsed = now - start
        # Stop before a step that would not finish in time (the first step also traces).
        if steps and elapsed + typical > budget_seconds:
            break
        if cursor + recipe.batch_size > len(order):
            order, cursor = rng.permutation(len(train)), 0
        index = order[cursor : cursor + recipe.batch_size]
        cursor += recipe.batch_size
        images = augment(train[index], rng, recipe.flip, recipe.translate)
        optimizer.learning_rate.assign(
            one_cycle(elapsed / budget_seconds, recipe.peak_learning_rate, recipe.warmup_fraction)
        )
        losses.append(float(step(tf.constant(images), tf.constant(y_train[index]))))
        steps += 1
        duration = time.perf_counter() - now
        # a running estimate of one step's time (the first step also traces)
        typical = duration if steps <= 2 else 0.9 * typical + 0.1 * duration
        if verbose and steps % 50 == 0:
            print(
                f"  step {steps}: loss {np.mean(losses[-50:]):.3f}, "
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
    train_seconds = time.perf_counter() - start

    begin = time.perf_counter()
    accuracy = evaluate(model, test, y_test, recipe.test_time_flip)
    return {
        "test_accuracy": accuracy,
        "train_seconds": train_seconds,
        "eval_seconds": time.perf_counter() - begin,
        "steps": steps,
        "epochs": steps * recipe.batch_size / len(train),
        "images_per_second": steps * recipe.batch_size / train_seconds,
        "loss": losses,
        "recipe": asdict(recipe),
        "parameters": int(model.count_params()),
    }


def evaluate(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    test_time_flip: bool = True,
    batch_size: int = 1000,
) -> float:
    """Test accuracy; with ``test_time_flip`` the logits of each image and its mirror
    image are averaged."""
    predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    correct = 0
    for begin in range(0, len(images), batch_size):
        batch = images[begin : begin + batch_size]
        logits = predict(tf.constant(batch)).numpy()
        if test_time_flip:
            logits = logits + predict(tf.constant(batch[:, :, ::-1, :].copy())).numpy()
        correct += int(np.sum(np.argmax(logits, axis=1) == labels[begin : begin + batch_size]))
    return correct / len(images)

"""The CIFAR-10 challenge's clock and driver: one timed attempt, the same everywhere.

Provided code (the student's ``cifar_challenge.py`` calls it through ``run_challenge``, and the
grader runs it in a fresh sandboxed worker). An attempt is three functions the student writes:

* ``build_model(input_shape, num_classes, budget_seconds)`` returns a Keras model
  (``budget_seconds`` is the *nominal* budget, 60 for the one-minute question, whatever
  the machine: size the network by it);
* ``train(model, x_train, y_train, budget)`` trains it until ``budget.expired()``;
* ``predict(model, x_test)`` returns logits ``(N, num_classes)`` or classes ``(N,)``.

:func:`run` starts the clock (:class:`Budget`) before ``build_model``, runs ``train`` in a
thread and waits for it until the budget is spent plus a grace period: a ``train`` that does
not stop in time is left behind and the model *as it stands* is tested. A ``train`` that has
seen its budget expire (``budget.expired()`` returned True to it, or its
``budget.callback()`` ended ``model.fit``) but is still cleaning up then, as Keras 2's
``fit`` can be while a ``tf.data`` shuffle buffer winds down on a busy machine, is not
waited for either, but it counts as having stopped in time (``late``). Only the test images
go in; the labels stay with the caller, who computes the accuracy.

:func:`calibration_workload` is a fixed piece of training whose duration measures the machine
(see ``docs/grading.md``, "The CIFAR-10 challenge"): the grader scales the budget by it, so
60 s means the same amount of work on a laptop, the 2-core course machine and Gradescope.

Example:
    >>> budget = Budget(2.0)
    >>> budget.expired(), 0.0 < budget.left() <= 2.0
    (False, True)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

#: Seconds after the budget that a ``train`` still running is waited for before it is left
#: behind (it can be in the middle of a step; a step of a reasonable model takes < 1 s).
#: After it, ``predict`` runs, whether ``train`` has returned or not.
GRACE_SECONDS = 5.0


class Budget:
    """A training budget in wall-clock seconds, started when it is made.

    Args:
        seconds: the budget in wall-clock seconds on this machine.
        nominal_seconds: the budget the challenge names (60 s), before the grader scaled
            it to the machine (default: ``seconds``). Size recipes by this one.

    Example::

        while not budget.expired():
            ...one training step...
        model.fit(x, y, epochs=100, callbacks=[budget.callback()])  # stops in time too
    """

    def __init__(self, seconds: float, nominal_seconds: float | None = None) -> None:
        if not seconds > 0:
            raise ValueError(f"Received: seconds={seconds!r}, expected a positive number")
        self.seconds = float(seconds)
        self.nominal_seconds = float(nominal_seconds or seconds)
        self.start = time.perf_counter()
        self.stop_requested = False
        self.seen_expired = False  # expired() has returned True (to train, or its callback)

    def elapsed(self) -> float:
        """Seconds since the budget started."""
        return time.perf_counter() - self.start

    def left(self) -> float:
        """Seconds left (0 once spent)."""
        return max(0.0, self.seconds - self.elapsed())

    def progress(self) -> float:
        """The fraction of the budget spent, in ``[0, 1]`` (for time-based schedules)."""
        return min(1.0, self.elapsed() / self.seconds)

    def expired(self) -> bool:
        """True once the budget is spent (or the driver has asked training to stop)."""
        spent = self.stop_requested or self.elapsed() >= self.seconds
        self.seen_expired = self.seen_expired or spent
        return spent

    def callback(self):
        """A Keras callback that ends ``model.fit`` after the batch during which the budget
        ran out."""
        import keras

        budget = self

        class StopAtBudget(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if budget.expired():
                    self.model.stop_training = True

        return StopAtBudget()

    def __repr__(self) -> str:
        return f"Budget({self.seconds:g} s, {self.elapsed():.1f} s used)"


class ChallengeError(ValueError):
    """An attempt broke the challenge's contract (the message says how)."""


def class_predictions(output: Any, num_images: int, num_classes: int) -> np.ndarray:
    """``predict``'s output as one class per image: logits or probabilities
    ``(N, num_classes)`` are reduced by argmax, classes ``(N,)`` are kept.

    Raises:
        ChallengeError: the wrong shape, values that are not finite, or classes out of range.

    Example:
        >>> class_predictions(np.eye(3)[[2, 0]], 2, 3).tolist()
        [2, 0]
    """
    if hasattr(output, "numpy"):
        output = output.numpy()
    array = np.asarray(output)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ChallengeError(
            f"predict returned {type(output).__name__} of dtype {array.dtype}, expected "
            f"numbers: logits of shape ({num_images}, {num_classes}) or classes ({num_images},)"
        )
    if array.shape == (num_images, num_classes):
        if not np.all(np.isfinite(array)):
            raise ChallengeError(
                f"predict returned {int(np.sum(~np.isfinite(array)))} NaN or infinite logits: "
                "did the training diverge (too high a learning rate)?"
            )
        return np.argmax(array, axis=1).astype(np.int64)
    if array.shape in ((num_images,), (num_images, 1)):
        classes = array.reshape(-1)
        if not np.all(np.isfinite(classes)) or np.any(classes != np.round(classes)):
            raise ChallengeError("predict returned classes that are not whole numbers")
        if classes.min(initial=0) < 0 or classes.max(initial=0) >= num_classes:
            raise ChallengeError(f"predict returned classes outside 0..{num_classes - 1}")
        return classes.astype(np.int64)
    raise ChallengeError(
        f"Received: predict output of shape {array.shape}, expected logits "
        f"({num_images}, {num_classes}) or classes ({num_images},): does the model end in "
        f"a Dense({num_classes}) layer?"
    )


def check_output_shape(shape: Any, num_classes: int = 10) -> None:
    """Raises ChallengeError unless ``shape`` is ``(None, num_classes)`` (a model's
    ``output_shape``)."""
    shape = tuple(shape) if isinstance(shape, (list, tuple)) else shape
    if not isinstance(shape, tuple) or len(shape) != 2 or shape[-1] != num_classes:
        raise ChallengeError(
            f"Received: build_model's model has output shape {shape}, expected "
            f"(None, {num_classes}): one logit per class (end in Dense({num_classes}))"
        )


def as_images(x: Any) -> np.ndarray:
    """float32 images in ``[0, 1]``: uint8 ones are divided by 255."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    return x.astype(np.float32)


def run(
    build_model: Callable,
    train: Callable,
    predict: Callable,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    budget_seconds: float,
    nominal_seconds: float | None = None,
    num_classes: int = 10,
    grace_seconds: float = GRACE_SECONDS,
) -> dict:
    """One attempt: build, train under the budget, predict the test images.

    Args:
        build_model, train, predict: the attempt's three functions (see the module
            docstring).
        x_train: images ``(N, 32, 32, 3)``, float in ``[0, 1]`` or uint8 (then divided by
            255: the functions always see float32 in ``[0, 1]``); ``y_train``: ``(N,)``
            integer labels.
        x_test: the images to classify, like ``x_train``.
        budget_seconds: the training budget (wall time, model building included).
        nominal_seconds: the budget as the challenge names it (default ``budget_seconds``),
            given to ``build_model`` and as ``budget.nominal_seconds``.
        grace_seconds: how long a ``train`` that overruns the budget is waited for.

    Returns:
        A dict: ``predictions`` (``(M,)`` int64), ``train_seconds`` (build and train),
        ``predict_seconds``, ``stopped`` (True when ``train`` had to be left behind without
        having seen its budget expire), ``late`` (True when it had seen it, and was still
        finishing: not waited for, not stopped), ``parameters`` (the model's),
        ``budget_seconds``.

    Raises:
        ChallengeError: ``build_model`` returned no Keras model, or ``predict`` broke the
            contract; exceptions from the three functions propagate.
    """
    import keras

    x_train, x_test = as_images(x_train), as_images(x_test)
    y_train = np.asarray(y_train).reshape(-1).astype(np.int64)
    budget = Budget(budget_seconds, nominal_seconds)
    model = build_model(tuple(x_train.shape[1:]), num_classes, budget.nominal_seconds)
    if not isinstance(model, keras.Model):
        raise ChallengeError(
            f"Received: build_model returned {type(model).__name__}, expected a keras.Model"
        )
    check_output_shape(getattr(model, "output_shape", ()), num_classes)
    failure: list[BaseException] = []

    def training() -> None:
        try:
            train(model, x_train, y_train, budget)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(error)

    worker = threading.Thread(target=training, name="challenge-train", daemon=True)
    worker.start()
    worker.join(timeout=budget.left() + grace_seconds)
    running = worker.is_alive()
    # Read before stop_requested makes expired() True: did train see the budget end itself?
    late = running and budget.seen_expired
    stopped = running and not late
    if running:
        budget.stop_requested = True  # a train that checks its budget stops at the next step
        model.stop_training = True
    train_seconds = budget.elapsed()
    if failure:
        raise failure[0]
    begin = time.perf_counter()
    output = predict(model, x_test)
    predictions = class_predictions(output, len(x_test), num_classes)
    return {
        "predictions": predictions,
        "train_seconds": round(train_seconds, 3),
        "predict_seconds": round(time.perf_counter() - begin, 3),
        "stopped": stopped,
        "late": late,
        "parameters": int(model.count_params()),
        "budget_seconds": float(budget_seconds),
    }


# --------------------------------------------------------------------------- calibration


def calibration_workload(steps: int = 20, seed: int = 0) -> float:
    """Seconds that a fixed piece of CIFAR-sized training takes on this machine.

    A conv-BN-ReLU-maxpool network of widths 32, 64 and 128 (the size of the challenge's
    networks) on a fixed random batch of 128 images, ``steps`` steps of SGD after two warm-up
    steps (graph tracing is not measured). It uses the operations a challenge attempt uses,
    so it slows down with the machine's cores, load and CPU quota as an attempt does.
    """
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    images = tf.constant(rng.random((128, 32, 32, 3), dtype=np.float32))
    labels = tf.constant(rng.integers(0, 10, 128))
    layers: list = [keras.Input((32, 32, 3))]
    for width in (32, 64, 128):
        layers += [
            keras.layers.Conv2D(width, 3, padding="same", use_bias=False),
            keras.layers.MaxPooling2D(2),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
        ]
    model = keras.Sequential([*layers, keras.layers.GlobalMaxPooling2D(), keras.layers.Dense(10)])
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for _ in range(2):
        step()
    begin = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)
    return time.perf_counter() - begin

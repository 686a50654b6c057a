"""Performance statistics of a classifier (Assignment 3, section 3.6, question 6).

Once a network is trained, one number (the loss) no longer tells you enough: you want to
know how often it is right, which classes it confuses, and whether its confidence can be
trusted. Every function here works on plain numpy data:

* ``y_true``: the true labels, integers in ``[0, K)``, of shape ``(N,)`` or ``(N, 1)``
  (Keras's CIFAR-10 labels come as ``(N, 1)``: both are accepted, and mean the same);
* ``y_pred``: the predictions, either labels of shape ``(N,)`` (or ``(N, 1)``), or
  scores/probabilities of shape ``(N, K)`` (what ``model.predict`` returns), in which case
  the predicted label of example ``i`` is ``argmax_j probs[i, j]``, taking the **first**
  (lowest) index when several classes tie for the maximum, as ``np.argmax`` does;
* ``probs``: probabilities of shape ``(N, K)``, row ``i`` for example ``i``.

``N`` is the number of examples and ``K`` the number of classes. The provided input checks
(outside your answer regions) flatten ``(N, 1)`` labels to ``(N,)``, convert probabilities
to float64, and raise ``ValueError`` in the style
``"Received: y_true.shape=(3,) and y_pred.shape=(4,), expected the same number of examples"``
for empty inputs, length mismatches, probabilities that are not ``(N, K)`` and labels
outside ``[0, K)``.

Dtypes: these statistics are numpy, not TensorFlow. Labels may have any integer dtype
(``uint8`` as Keras's CIFAR-10 labels, ``int32``, ``int64``) and probabilities any numeric
dtype (``float32`` as ``model.predict`` returns them, ``float64``, ...); the provided checks
turn labels into ``int64`` and probabilities into ``float64``, so your code computes in
float64 whatever it is given.

You will write six functions:

* ``accuracy``: the fraction of examples predicted right;
* ``confusion_matrix``: counts of (true class, predicted class) pairs;
* ``precision_recall_f1``: per-class precision, recall and their harmonic mean;
* ``top_k_accuracy``: right if the true class is among the ``k`` highest scores;
* ``log_loss``: the mean negative log-likelihood of the true class (cross-entropy);
* ``expected_calibration_error``: how far the confidence is from the accuracy.

Two plots are provided: ``plot_confusion_matrix`` and ``plot_reliability_diagram``.
Return Python floats for single numbers and numpy arrays otherwise. These statistics are
not differentiable and need not be: use numpy.

Worked example (N = 4 examples, K = 3 classes)::

    y_true = [0, 1, 2, 2]
    probs  = [[0.7, 0.2, 0.1],      argmax 0   right
              [0.4, 0.4, 0.2],      argmax 0   (a tie: the first index wins)   wrong
              [0.1, 0.3, 0.6],      argmax 2   right
              [0.2, 0.5, 0.3]]      argmax 1   wrong

    accuracy = 2 / 4 = 0.5
    confusion_matrix =  [[1, 0, 0],      row = true class, column = predicted class
                         [1, 0, 0],
                         [0, 1, 1]]
    precision = [1/2, 0/1, 1/1],  recall = [1/1, 0/1, 1/2]
    top_k_accuracy(k=2) = 4 / 4: class 1 of row 2 is outranked only by class 0;
                                 class 2 of row 4 only by class 1
"""

from __future__ import annotations

import numpy as np


def _check_labels(labels, name: str) -> np.ndarray:
    """Returns ``labels`` as a non-empty ``(N,)`` int64 array; accepts ``(N,)`` or ``(N, 1)``."""
    # Provided helper: use it, no need to change it.
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"Received: {name}.shape={np.shape(labels)}, expected labels of shape (N,) or (N, 1)"
        )
    if array.size == 0:
        raise ValueError(
            f"Received: {name}.shape={np.shape(labels)}, expected at least one example (N >= 1)"
        )
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"Received: {name}.dtype={array.dtype}, expected integer labels")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError(f"Received: {name} with non-integer values, expected integer labels")
    if np.any(array < 0):
        raise ValueError(f"Received: {name} with the label {array.min()}, expected labels >= 0")
    return array.astype(np.int64)


def _check_classes(labels: np.ndarray, num_classes: int, name: str) -> None:
    """Raises ValueError unless every label lies in ``[0, num_classes)``."""
    # Provided helper: use it, no need to change it.
    if labels.max() >= num_classes:
        raise ValueError(
            f"Received: {name} with the label {labels.max()}, expected labels in "
            f"[0, {num_classes}) for {num_classes} classes"
        )


def _check_num_classes(num_classes) -> int:
    """Returns ``num_classes`` as an int, or raises ValueError unless it is >= 1."""
    # Provided helper: use it, no need to change it.
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"Received: num_classes={num_classes!r}, expected an integer >= 1")
    return int(num_classes)


def _check_probs(probs, count: int, name: str = "probs") -> np.ndarray:
    """Returns ``probs`` as a float64 ``(N, K)`` array with ``N == count``."""
    # Provided helper: use it, no need to change it.
    array = np.asarray(probs)
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(
            f"Received: {name}.shape={array.shape}, expected probabilities of shape (N, K)"
        )
    if array.shape[0] != count:
        raise ValueError(
            f"Received: y_true of {count} examples and {name}.shape={array.shape}, "
            f"expected the same number of examples"
        )
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"Received: {name}.dtype={array.dtype}, expected numbers")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Received: {name} with NaN or infinity, expected finite numbers")
    return array


def _check_predictions(y_true, y_pred, num_classes: int | None = None):
    """Checks a pair (labels, predictions).

    Returns:
        ``(y_true, y_pred)``: ``y_true`` as ``(N,)`` int64, and ``y_pred`` either as
        ``(N,)`` int64 labels (given as ``(N,)`` or ``(N, 1)``) or as ``(N, K)`` float64
        probabilities (any 2-D array with ``K >= 2`` columns).
    """
    # Provided helper: use it, no need to change it.
    y_true = _check_labels(y_true, "y_true")
    array = np.asarray(y_pred)
    if array.ndim == 2 and array.shape[1] >= 2:
        y_pred = _check_probs(array, len(y_true), "y_pred")
        if num_classes is not None and y_pred.shape[1] != num_classes:
            raise ValueError(
                f"Received: y_pred.shape={y_pred.shape}, expected (N, {num_classes})"
                f" probabilities for num_classes={num_classes}"
            )
        num_classes = y_pred.shape[1]
    else:
        y_pred = _check_labels(array, "y_pred")
        if len(y_pred) != len(y_true):
            raise ValueError(
                f"Received: y_true.shape={np.shape(y_true)} and "
                f"y_pred.shape={array.shape}, expected the same number of examples"
            )
        if num_classes is not None:
            _check_classes(y_pred, num_classes, "y_pred")
    if num_classes is not None:
        _check_classes(y_true, num_classes, "y_true")
    return y_true, y_pred


def accuracy(y_true, y_pred) -> float:
    """Computes the fraction of examples whose predicted label is the true label.

    If ``y_pred`` holds probabilities ``(N, K)``, the predicted label is the argmax of each
    row, the first index on ties.

    Args:
        y_true: true labels, integers of shape ``(N,)`` or ``(N, 1)``.
        y_pred: predicted labels ``(N,)`` or ``(N, 1)``, or probabilities ``(N, K)``.

    Returns:
        A Python float in ``[0, 1]``.

    Raises:
        ValueError: if the inputs are empty, differ in length, or have the wrong shape.

    Example:
        >>> accuracy(np.array([0, 1, 1]), np.array([0, 1, 0]))
        0.6666666666666666

    Hint: about 3 lines, no loops; ``np.argmax(..., axis=1)`` takes the first index on ties.
    """
    y_true, y_pred = _check_predictions(y_true, y_pred)
    ### BEGIN SOLUTION
    if y_pred.ndim == 2:
        y_pred = np.argmax(y_pred, axis=1)
    return float(np.mean(y_pred == y_true))
    ### END SOLUTION


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts how often each true class is predicted as each class.

    ``matrix[t, p]`` is the number of examples of true class ``t`` predicted as class
    ``p``: rows are true classes, columns are predicted classes. The diagonal holds the
    right predictions; every example is counted exactly once.

    Args:
        y_true: true labels, integers in ``[0, num_classes)``, shape ``(N,)`` or ``(N, 1)``.
        y_pred: predicted labels ``(N,)`` or ``(N, 1)``, or probabilities
            ``(N, num_classes)`` (argmax, first index on ties).
        num_classes: ``K``, the number of classes.

    Returns:
        An integer numpy array of shape ``(K, K)`` whose entries sum to ``N``.

    Raises:
        ValueError: if the inputs are empty, differ in length, have the wrong shape, or
            hold labels outside ``[0, num_classes)``.

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=2)
        array([[1, 0],
               [1, 1]])

    Hint: about 4 lines; ``np.add.at`` (or a loop over the examples).
    """
    num_classes = _check_num_classes(num_classes)
    y_true, y_pred = _check_predictions(y_true, y_pred, num_classes)
    ### BEGIN SOLUTION
    if y_pred.ndim == 2:
        y_pred = np.argmax(y_pred, axis=1)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix
    ### END SOLUTION


def precision_recall_f1(y_true, y_pred, num_classes: int):
    """Computes precision, recall and F1 score of each class.

    For class ``c``, with ``TP`` the examples of class ``c`` predicted as ``c``:

    * precision: ``TP / (number of examples predicted as c)``, how often a prediction
      of ``c`` is right;
    * recall: ``TP / (number of examples of true class c)``, how many of the ``c``
      examples are found;
    * F1: the harmonic mean ``2 * precision * recall / (precision + recall)``.

    Where a ratio is ``0 / 0`` (a class never predicted, or absent from ``y_true``, or
    precision and recall both 0), the value is defined as ``0``, never NaN.

    Args:
        y_true: true labels, integers in ``[0, num_classes)``, shape ``(N,)`` or ``(N, 1)``.
        y_pred: predicted labels, or probabilities ``(N, num_classes)``.
        num_classes: ``K``, the number of classes.

    Returns:
        A tuple ``(precision, recall, f1)`` of three float arrays of shape ``(K,)``, each
        in ``[0, 1]``.

    Raises:
        ValueError: as for ``confusion_matrix``.

    Example:
        >>> precision, recall, f1 = precision_recall_f1([0, 1, 1], [0, 1, 0], num_classes=3)
        >>> precision, recall
        (array([0.5, 1. , 0. ]), array([1. , 0.5, 0. ]))

    Hint: about 6 lines with ``confusion_matrix``; ``np.divide(a, b, out=np.zeros_like(a),
    where=b > 0)`` divides without NaN.
    """
    num_classes = _check_num_classes(num_classes)
    y_true, y_pred = _check_predictions(y_true, y_pred, num_classes)
    ### BEGIN SOLUTION
    matrix = confusion_matrix(y_true, y_pred, num_classes).astype(np.float64)
    hits = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return precision, recall, f1
    ### END SOLUTION


def top_k_accuracy(y_true, probs, k: int) -> float:
    """Computes the fraction of examples whose true class is among the ``k`` best.

    Example ``i`` with true class ``t`` counts as right when fewer than ``k`` classes
    outrank ``t``. Class ``j`` outranks ``t`` when ``probs[i, j] > probs[i, t]``, or when
    they tie and ``j < t`` (ties go to the lower index, as ``argmax`` does). So
    ``top_k_accuracy(y, probs, 1) == accuracy(y, probs)``, and ``k >= K`` gives 1.

    Args:
        y_true: true labels, integers in ``[0, K)``, shape ``(N,)`` or ``(N, 1)``.
        probs: probabilities (or any scores), shape ``(N, K)``.
        k: how many of the best classes count, an integer ``>= 1``.

    Returns:
        A Python float in ``[0, 1]``.

    Raises:
        ValueError: if the inputs are empty, differ in length, have the wrong shape, hold
            labels outside ``[0, K)``, or ``k < 1``.

    Example:
        >>> top_k_accuracy([2], np.array([[0.5, 0.25, 0.25]]), k=2)  # class 1 wins the tie
        0.0

    Hint: about 5 lines, no loops; compare every score with the true class's score.
    """
    y_true = _check_labels(y_true, "y_true")
    probs = _check_probs(probs, len(y_true))
    _check_classes(y_true, probs.shape[1], "y_true")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"Received: k={k!r}, expected an integer >= 1")
    ### BEGIN SOLUTION
    rows = np.arange(len(y_true))
    true_scores = probs[rows, y_true][:, None]
    lower = np.arange(probs.shape[1])[None, :] < y_true[:, None]
    outranking = (probs > true_scores) | ((probs == true_scores) & lower)
    return float(np.mean(outranking.sum(axis=1) < k))
    ### END SOLUTION


def log_loss(y_true, probs, eps: float = 1e-7) -> float:
    """Computes the mean negative log-likelihood of the true classes (cross-entropy).

    ``-mean_i log(p_i)``, where ``p_i = probs[i, y_true[i]]`` is the probability of example
    ``i``'s true class. The probabilities are first clipped to ``[eps, 1 - eps]``, so
    that a probability of 0 gives a large but finite loss instead of infinity.

    Args:
        y_true: true labels, integers in ``[0, K)``, shape ``(N,)`` or ``(N, 1)``.
        probs: probabilities, shape ``(N, K)``.
        eps: the clipping margin, a float in ``(0, 0.5)``.

    Returns:
        A Python float ``>= 0``, at most ``-log(eps)``.

    Raises:
        ValueError: if the inputs are empty, differ in length, have the wrong shape, or
            hold labels outside ``[0, K)``.

    Example:
        >>> round(log_loss([0, 1], np.array([[0.5, 0.5], [0.0, 1.0]])), 6)  # (log 2 + 0) / 2
        0.346574

    Hint: about 3 lines, no loops; pick ``probs[np.arange(N), y_true]``, clip, log.
    """
    y_true = _check_labels(y_true, "y_true")
    probs = _check_probs(probs, len(y_true))
    _check_classes(y_true, probs.shape[1], "y_true")
    if not 0.0 < eps < 0.5:
        raise ValueError(f"Received: eps={eps!r}, expected a float in (0, 0.5)")
    ### BEGIN SOLUTION
    picked = probs[np.arange(len(y_true)), y_true]
    picked = np.clip(picked, eps, 1.0 - eps)
    return float(-np.mean(np.log(picked)))
    ### END SOLUTION


def expected_calibration_error(y_true, probs, n_bins: int = 15) -> float:
    """Measures how far a classifier's confidence is from its accuracy.

    The confidence of example ``i`` is ``max_j probs[i, j]`` and its prediction the argmax
    (first index on ties). Examples go to ``n_bins`` equal-width confidence bins: bin
    ``min(floor(confidence * n_bins), n_bins - 1)``, so a confidence of exactly 1.0 goes
    to the last bin. For each non-empty bin ``b`` with ``n_b`` examples, compare the
    accuracy in the bin with the mean confidence in the bin:

        ECE = sum over non-empty bins b of (n_b / N) * |accuracy_b - confidence_b|

    A perfectly calibrated classifier (right 70% of the time when 70% confident) has an
    ECE of 0.

    Args:
        y_true: true labels, integers in ``[0, K)``, shape ``(N,)`` or ``(N, 1)``.
        probs: probabilities, shape ``(N, K)``.
        n_bins: the number of bins, an integer ``>= 1``.

    Returns:
        A Python float in ``[0, 1]``.

    Raises:
        ValueError: if the inputs are empty, differ in length, have the wrong shape, hold
            labels outside ``[0, K)``, or ``n_bins < 1``.

    Example:
        >>> expected_calibration_error([0, 1], np.array([[1.0, 0.0], [1.0, 0.0]]))
        0.5

    Hint: about 8 lines; a loop over the bins, or ``np.bincount`` with ``weights=``.
    """
    y_true = _check_labels(y_true, "y_true")
    probs = _check_probs(probs, len(y_true))
    _check_classes(y_true, probs.shape[1], "y_true")
    if isinstance(n_bins, bool) or int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"Received: n_bins={n_bins!r}, expected an integer >= 1")
    ### BEGIN SOLUTION
    confidence = probs.max(axis=1)
    correct = (np.argmax(probs, axis=1) == y_true).astype(np.float64)
    bins = np.minimum(np.floor(confidence * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    gap = np.bincount(bins, weights=correct - confidence, minlength=n_bins)
    # |sum of (correct - confidence)| / N = (n_b / N) * |accuracy_b - confidence_b|
    return float(np.sum(np.abs(gap[counts > 0])) / len(y_true))
    ### END SOLUTION


def plot_confusion_matrix(matrix, class_names, path):
    """Draws a confusion matrix as an annotated heat map and saves it as a PNG.

    Provided: no need to change it.

    Args:
        matrix: the ``(K, K)`` counts from ``confusion_matrix``.
        class_names: ``K`` names, e.g. ``["airplane", "automobile", ...]``.
        path: where to write the PNG.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"Received: matrix.shape={matrix.shape}, expected a (K, K) matrix")
    if len(class_names) != matrix.shape[0]:
        raise ValueError(
            f"Received: {len(class_names)} class names, expected "
            f"{matrix.shape[0]} (one per row of the matrix)"
        )
    size = max(4.0, 0.6 * len(class_names) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    try:
        image = axes.imshow(matrix, cmap="Blues")
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
        ticks = np.arange(len(class_names))
        axes.set_xticks(ticks, labels=[str(name) for name in class_names], rotation=45, ha="right")
        axes.set_yticks(ticks, labels=[str(name) for name in class_names])
        axes.set_xlabel("predicted class")
        axes.set_ylabel("true class")
        axes.set_title("Confusion matrix")
        threshold = matrix.max() / 2 if matrix.size else 0
        for (row, column), value in np.ndenumerate(matrix):
            axes.text(
                column,
                row,
                f"{value:g}",
                ha="center",
                va="center",
                color="white" if value > threshold else "black",
                fontsize=8,
            )
        figure.tight_layout()
        figure.savefig(path, format="png", dpi=100)
    finally:
        plt.close(figure)
    return path


def plot_reliability_diagram(y_true, probs, path, n_bins: int = 15):
    """Draws a reliability diagram (accuracy against confidence per bin) as a PNG.

    Provided: no need to change it. It bins the examples as
    ``expected_calibration_error`` does, draws each non-empty bin's accuracy as a bar over
    the diagonal of perfect calibration, and writes the ECE in the title.

    Args:
        y_true: true labels, shape ``(N,)`` or ``(N, 1)``.
        probs: probabilities, shape ``(N, K)``.
        path: where to write the PNG.
        n_bins: the number of confidence bins.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = _check_labels(y_true, "y_true")
    scores = _check_probs(probs, len(labels))
    ece = expected_calibration_error(labels, scores, n_bins)
    which = np.clip(np.floor(scores.max(axis=1) * n_bins), 0, n_bins - 1).astype(int)
    right = (scores.argmax(axis=1) == labels).astype(float)
    sizes = np.bincount(which, minlength=n_bins)
    rates = np.bincount(which, weights=right, minlength=n_bins) / np.maximum(sizes, 1)
    width = 1.0 / n_bins
    figure, axes = plt.subplots(figsize=(5, 5))
    try:
        axes.bar(
            np.arange(n_bins) * width,
            rates,
            width=width,
            align="edge",
            edgecolor="black",
            label="accuracy",
        )
        axes.plot(
            [0, 1], [0, 1], linestyle="--", color="gray", zorder=3, label="perfect calibration"
        )
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("confidence")
        axes.set_ylabel("accuracy")
        axes.set_title(f"Reliability diagram (ECE = {ece:.3f})")
        axes.legend(loc="lower right")
        figure.tight_layout()
        figure.savefig(path, format="png", dpi=100)
    finally:
        plt.close(figure)
    return path

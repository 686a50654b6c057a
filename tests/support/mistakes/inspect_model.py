"""The classic mistakes of the ``inspect_model`` task: what each one computes, and its name.

``most_confidently_wrong`` mistakes are recognised by the exact indices they give
(:func:`confidently_wrong`; where two mistakes give the same indices, neither is named);
``layer_activations`` mistakes by the shapes of the list (:func:`activation_shapes`) or by
a last activation that is not the model's inference-mode prediction (:data:`TRAINING_MODE`).
The public and the hidden tests use the same names.

Each entry: the mistake; its fixture in ``tests/fixtures/inspect_model/wrong/``; the symptom.

most_confidently_wrong
  right predictions included    includes_right_predictions    the indices with right ones kept
  least confident first         least_confident_first         ascending confidence
  the true class's probability  true_class_confidence         sorted by probs[i, y_true[i]]
  ties in reverse index order   ties_reversed                 equal confidences, higher first
  (N, 1) labels broadcast       labels_not_flattened          (N,) and (N, 1) labels differ
  argmax ties to the last index --                            the last-index argmax's wrong ones
layer_activations
  the last layer missing        last_layer_missing            one shape short at the end
  the input included            input_included                one more shape at the start
  the batch axis kept           batch_axis_kept               every shape (1, ...)
  training mode                 training_mode                 last != the inference prediction
"""

from __future__ import annotations

import numpy as np

from tests.support.compare import Mistake
from tests.support.mistakes.metrics import exclusive, last_argmax
from tests.support.training_strategies import confidently_wrong_by_definition

INCLUDES_RIGHT = (
    "correct predictions are included: keep only the examples whose "
    "prediction differs from the label"
)
ASCENDING = "sorted from the least confident; the most confident must come first"
TRUE_CLASS = (
    "the confidence must be the PREDICTED class's probability (the row's "
    "maximum), not the true class's"
)
TIES_REVERSED = (
    "equal confidences must keep the order of their index (lowest first): use "
    "a stable sort of -confidence, not a reversed ascending sort"
)
BROADCAST = (
    "(N, 1) labels broadcast against (N,) predictions into an (N, N) comparison: "
    "flatten y_true first (y_true.reshape(-1))"
)
LAST_ARGMAX = "the prediction is the argmax taking the FIRST index on ties, as np.argmax does"

LAST_MISSING = "the last layer (the output) is missing"
INPUT_INCLUDED = "the list starts with the input image: return only the layers' outputs"
BATCH_AXIS = "it keeps the batch axis: remove it from each output with [0]"
TRAINING_MODE = (
    "the model runs in training mode: call it with training=False (inference "
    "mode), where dropout is off and batch normalisation uses its moving "
    "statistics"
)
# the layers whose output depends on the mode: a first wrong activation there is the symptom
MODE_LAYERS = ("BatchNormalization", "Dropout")


def confidently_wrong(probs, y_true, k: int) -> list[Mistake]:
    """The indices the usual mistakes give for ``most_confidently_wrong(probs, y_true, k)``."""
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true)
    labels = y_true.reshape(-1)
    predicted = np.argmax(probs, axis=1)
    column = y_true.ndim == 2 and len(labels) > 1

    def broadcast():
        any_differs = np.any(predicted[None, :] != labels[:, None], axis=0)
        return confidently_wrong_by_definition(probs, labels, k, wrong=any_differs)

    return exclusive(
        [
            Mistake(BROADCAST, broadcast if column else (lambda: np.nan)),
            Mistake(
                INCLUDES_RIGHT,
                lambda: confidently_wrong_by_definition(probs, labels, k, include_right=True),
            ),
            Mistake(
                ASCENDING, lambda: confidently_wrong_by_definition(probs, labels, k, ascending=True)
            ),
            Mistake(
                TRUE_CLASS,
                lambda: confidently_wrong_by_definition(
                    probs, labels, k, confidence=probs[np.arange(len(labels)), labels]
                ),
            ),
            Mistake(
                TIES_REVERSED,
                lambda: confidently_wrong_by_definition(probs, labels, k, ties_last=True),
            ),
            Mistake(
                LAST_ARGMAX,
                lambda: confidently_wrong_by_definition(
                    probs, labels, k, predicted=last_argmax(probs)
                ),
            ),
        ]
    )


def expect_same_for_both_label_shapes(flat, column, what: str) -> None:
    """Fails, naming the broadcast, if the answers for the same labels given as ``(N,)``
    and as ``(N, 1)`` differ (a right answer does not depend on the labels' shape)."""
    flat, column = np.asarray(flat).reshape(-1), np.asarray(column).reshape(-1)
    if not np.array_equal(flat, column):
        raise AssertionError(
            f"{what} gives {column.tolist()} for y_true of shape (N, 1), "
            f"{flat.tolist()} for the same labels of shape (N,)\n"
            f"  Likely mistake: {BROADCAST}"
        )


def activation_shapes(got: list[tuple], shapes: list[tuple], what: str) -> None:
    """Fails, naming the mistake the shapes show, unless ``got == shapes``."""
    if got == shapes:
        return
    named = None
    if got == shapes[:-1]:
        named = LAST_MISSING
    elif len(got) == len(shapes) + 1 and got[1:] == shapes:
        named = INPUT_INCLUDED
    elif got == [(1, *shape) for shape in shapes]:
        named = BATCH_AXIS
    lines = [
        f"{what} gives {len(got)} arrays of shapes {got}",
        f"  expected {len(shapes)} (one per layer, without the batch axis): {shapes}",
    ]
    if named:
        lines.append(f"  Likely mistake: {named}")
    raise AssertionError("\n".join(lines))


# A call on which each most_confidently_wrong mistake gives its own indices (k = 5, all of
# the 5 wrong examples): the right answer is [0, 5, 2, 1, 4].
TELLING_PROBS = np.array(
    [
        [0.7, 0.2, 0.1],  # label 2: wrong, confidence 0.7 (true class 0.1)
        [0.1, 0.5, 0.4],  # label 2: wrong, confidence 0.5 (true class 0.4)
        [0.6, 0.1, 0.3],  # label 2: wrong, confidence 0.6 (true class 0.3)
        [0.05, 0.05, 0.9],  # label 2: right, confidence 0.9
        [0.4, 0.4, 0.2],  # label 1: wrong (a tie: class 0 is predicted), confidence 0.4
        [0.1, 0.7, 0.2],  # label 0: wrong, confidence 0.7, as row 0
    ]
)
TELLING_LABELS = np.array([2, 2, 2, 2, 1, 0])
TELLING_ANSWER = np.array([0, 5, 2, 1, 4])

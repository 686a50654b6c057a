"""The classic mistakes of ``style_transfer.py``, recognised by their symptoms.

=======================  ==========================  ===============================================
mistake                  fixture (``wrong/``)        symptom (test)
=======================  ==========================  ===============================================
Gram not normalised      ``unnormalised_grams``      ``style_targets[l]`` is ``H_l W_l`` times the
                                                     normalised Gram (style targets)
features, not Grams      --                          ``style_targets[l]`` is the layer's features
style weights ignored    ``ignores_style_weights``   ``transfer_loss`` is the total with every style
                                                     weight 1 (transfer loss, gradient)
W on the wrong term      ``weight_swapped``          ``W content + (1 - W) style + tv``
no total variation       ``no_total_variation``      the total without ``tv_weight * TV``
``.numpy()`` in the      ``numpy_total_variation``   right value, but the gradient lacks one or two
loss                                                 terms or is None (gradient); or "numpy" in an
                                                     error inside ``tf.function`` (steps)
no clip                  ``no_clip``                 pixels outside ``[0, 1]`` after large SGD
                                                     steps; the unclipped descent (clip, SGD steps)
loss after the update    ``loss_after_update``       ``losses[i]`` is the loss after step ``i``
                                                     (SGD steps)
=======================  ==========================  ===============================================

Every message is given only when its symptom is present: each variant is computed on the test
side from the definitions and compared with the same tolerance as the right answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from tests.support.compare import Mistake

UNNORMALISED_GRAMS = (
    "the Gram matrices are not normalised: use gram_matrix's default "
    "normalize=True (divide by H_l * W_l)"
)
FEATURES_NOT_GRAMS = "these are the style layers' features, not their Gram matrices"
STYLE_WEIGHTS_IGNORED = (
    "the extractor's style_weights are ignored: pass extractor.style_weights to style_loss"
)
WEIGHT_SWAPPED = "W is on the wrong term: W multiplies the style loss, 1 - W the content loss"
NO_TOTAL_VARIATION = (
    "the total variation term is missing: add tv_weight * total_variation_loss(image)"
)
NUMPY_IN_LOSS = (
    ".numpy() (or np.*) in transfer_loss: {terms} no gradient with respect to "
    "the image; use TensorFlow operations only"
)
NUMPY_IN_TF_FUNCTION = (
    ".numpy() (or np.*) in transfer_loss or transfer_step: inside "
    "tf.function tensors have no value; use TensorFlow operations only"
)
NO_CLIP = "the image is not clipped: clip the image to [0, 1] after each step (image.assign)"
LOSS_AFTER_UPDATE = (
    "the loss is computed after the update: return the loss computed under "
    "the tape, before optimizer.apply_gradients"
)


def style_target_mistakes(expected: np.ndarray, features: np.ndarray) -> list[Mistake]:
    """Variants of one style target: ``expected`` is the normalised Gram of ``features``
    ``(1, H_l, W_l, C_l)``."""
    positions = features.shape[1] * features.shape[2]
    return [
        Mistake(UNNORMALISED_GRAMS, lambda: expected * positions),
        Mistake(FEATURES_NOT_GRAMS, lambda: features),
    ]


def transfer_loss_mistakes(
    terms: dict[str, float], weight: float, tv_weight: float
) -> list[Mistake]:
    """Variants of ``transfer_loss``; ``terms`` from :func:`loss_terms` (content, style,
    style_unweighted, tv)."""
    content, style, tv = terms["content"], terms["style"], terms["tv"]
    mistakes = [
        Mistake(
            STYLE_WEIGHTS_IGNORED,
            lambda: weight * terms["style_unweighted"] + (1 - weight) * content + tv_weight * tv,
        ),
        Mistake(WEIGHT_SWAPPED, lambda: weight * content + (1 - weight) * style + tv_weight * tv),
    ]
    if tv_weight > 0:
        mistakes.append(
            Mistake(NO_TOTAL_VARIATION, lambda: weight * style + (1 - weight) * content)
        )
    return mistakes


def gradient_mistakes(gradients: dict[str, np.ndarray]) -> list[Mistake]:
    """Variants of the gradient of ``transfer_loss`` in which one or two of its terms
    (``gradients``: each weighted term's gradient, e.g. ``{"content": ..., "style": ...,
    "tv": ...}``) are missing: what ``.numpy()`` in that term gives."""
    names = [name for name, value in gradients.items() if np.any(value)]
    mistakes = []
    for missing in names:
        kept = [name for name in names if name != missing]
        label = f"the {missing} term has"
        mistakes.append(
            Mistake(
                NUMPY_IN_LOSS.format(terms=label),
                lambda k=kept, m=missing: sum(
                    (gradients[n] for n in k), np.zeros_like(gradients[m])
                ),
            )
        )
    for kept in names:
        others = " and ".join(name for name in names if name != kept)
        if len(names) > 2:
            mistakes.append(
                Mistake(
                    NUMPY_IN_LOSS.format(terms=f"the {others} terms have"),
                    lambda k=kept: gradients[k],
                )
            )
    return mistakes


def step_mistakes(
    losses_after: Sequence[float], unclipped_losses: Sequence[float]
) -> list[Mistake]:
    """Variants of the losses of ``run_style_transfer``: ``losses_after[i]`` is the loss
    after step ``i``; ``unclipped_losses`` the losses of descent without clipping."""
    return [
        Mistake(LOSS_AFTER_UPDATE, lambda: np.asarray(losses_after)),
        Mistake(NO_CLIP, lambda: np.asarray(unclipped_losses)),
    ]


def image_mistakes(unclipped_image: np.ndarray) -> list[Mistake]:
    return [Mistake(NO_CLIP, lambda: unclipped_image)]


def _telling_line(text: str) -> str:
    """The line of an error message that mentions numpy (else its first), without colours."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("File ")]
    telling = [line for line in lines if "numpy" in line.lower() or "symbolic" in line.lower()]
    return (telling or lines or [""])[0][:160]


def name_numpy_error(call: Callable[[], object], what: str) -> object:
    """``call()``, where an error about ``.numpy()`` / numpy inside ``tf.function`` becomes a
    short message naming the mistake."""
    from practicum.grader.running.proxy import CandidateError

    try:
        return call()
    except CandidateError as error:
        text = error.message
        if "numpy" in text or "NumPy" in text or "Cannot convert a symbolic" in text:
            raise AssertionError(
                f"{what} raised {error.type_names[0]}: {_telling_line(text)}\n"
                f"Likely mistake: {NUMPY_IN_TF_FUNCTION}"
            ) from None
        raise

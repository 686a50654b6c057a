"""Comparing a candidate's answer with the reference's, and naming the likely mistake.

A right value is accepted whatever its type (a tensor, a numpy array of any float dtype,
a Python float): the proxy has already turned it into plain numpy data. A wrong value is
compared with the values that known mistakes would give; when one matches, the failure
message names that mistake.

Example::

    expect_close(actual, expected, what="gram_matrix(features)", mistakes=[
        Mistake("off by a factor of H*W: did you forget to normalise?",
                lambda: expected * height * width),
    ])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``variant()`` computes what the mistake gives."""

    message: str
    variant: Callable[[], object]


def distinguishable(
    mistakes: Sequence[Mistake],
    same: Callable[[np.ndarray, np.ndarray], bool],
    right: object = None,
) -> list[Mistake]:
    """The mistakes that can be named from a value on the input at hand: those whose value
    differs (by ``same``) from the value of every mistake with another message, and from the
    ``right`` answer when it is given. Each variant is computed once; one that cannot be
    computed on this input is left out."""
    values = []
    for mistake in mistakes:
        try:
            values.append(np.asarray(mistake.variant(), dtype=np.float64))
        except (ArithmeticError, ValueError, IndexError):
            values.append(None)

    def alike(a: np.ndarray, b: np.ndarray | None) -> bool:
        return b is not None and a.shape == b.shape and same(a, b)

    right = None if right is None else np.asarray(right, dtype=np.float64)
    kept = []
    for index, (mistake, value) in enumerate(zip(mistakes, values)):
        if value is None or alike(value, right):
            continue
        if any(
            alike(value, other)
            for other_index, other in enumerate(values)
            if other_index != index and mistakes[other_index].message != mistake.message
        ):
            continue
        kept.append(Mistake(mistake.message, lambda value=value: value))
    return kept


def as_float_array(value: object, what: str) -> np.ndarray:
    """``value`` as a float64 array, or an AssertionError saying why it is not a number."""
    if value is None:
        raise AssertionError(f"{what} returned None: did you forget to `return` the result?")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what} returned {type(value).__name__} {value!r:.80}, expected numbers"
        ) from None
    return array


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=atol)
    )


def default_atol(expected: np.ndarray, scale: float | None = None) -> float:
    """An absolute tolerance in proportion to the size of the numbers involved."""
    magnitude = scale if scale is not None else float(np.max(np.abs(expected), initial=0.0))
    return 1e-5 * max(1.0, magnitude)


def expect_close(
    actual: object,
    expected: object,
    *,
    what: str,
    mistakes: Sequence[Mistake] = (),
    rtol: float = 1e-4,
    atol: float | None = None,
    scale: float | None = None,
) -> None:
    """Asserts that ``actual`` equals ``expected`` up to float rounding.

    Args:
        actual: the candidate's value (plain data).
        expected: the reference's value.
        what: the call, as the failure message should name it.
        mistakes: known mistakes to recognise when the value is wrong.
        rtol: relative tolerance.
        atol: absolute tolerance; by default in proportion to ``scale`` or to the
            largest expected magnitude.
        scale: the size of the numbers the result was computed from, for ``atol``.
    """
    actual = as_float_array(actual, what)
    expected = np.asarray(expected, dtype=np.float64)
    atol = default_atol(expected, scale) if atol is None else atol
    if actual.shape == expected.shape and _close(actual, expected, rtol, atol):
        return
    if actual.size and not np.all(np.isfinite(actual)) and np.all(np.isfinite(expected)):
        raise AssertionError(f"{what} contains NaN or infinity, expected finite values")
    recognised = [m.message for m in mistakes if _matches(actual, m, rtol, atol)]
    lines = []
    if recognised:
        lines.append(f"{what} is wrong. Likely mistake: {recognised[0]}")
    elif actual.shape != expected.shape:
        lines.append(f"{what} has shape {actual.shape}, expected {expected.shape}")
    else:
        lines.append(f"{what} is wrong")
    if actual.shape == expected.shape:
        worst = np.unravel_index(np.argmax(np.abs(actual - expected)), actual.shape)
        where = f" at index {tuple(int(i) for i in worst)}" if actual.ndim else ""
        lines.append(f"  received {actual[worst]:.6g}{where}, expected {expected[worst]:.6g}")
    raise AssertionError("\n".join(lines))


def _matches(actual: np.ndarray, mistake: Mistake, rtol: float, atol: float) -> bool:
    try:
        variant = np.asarray(mistake.variant(), dtype=np.float64)
    except (ArithmeticError, ValueError, IndexError):
        return False
    return _close(actual, variant, rtol, max(atol, default_atol(variant)))


def expect_error(error_type: str, call: Callable[[], object], *, what: str, because: str) -> None:
    """Asserts that ``call()`` makes the candidate raise ``error_type`` (or a subclass)."""
    from practicum.grader.running.proxy import CandidateError

    try:
        call()
    except CandidateError as error:
        if error.is_a(error_type):
            return
        raise AssertionError(
            f"{what} raised {error.type_names[0]}: {error.message}, expected {error_type} "
            f"because {because}"
        ) from None
    raise AssertionError(f"{what} returned normally, expected {error_type} because {because}")


def gradient_or_zeros(actual: object, expected: object, *, what: str) -> np.ndarray:
    """The candidate's gradient, where ``None`` (no dependence) counts as zeros when the
    reference's gradient is zero too."""
    reference = None if expected is None else np.asarray(expected, dtype=np.float64)
    if actual is not None:
        return as_float_array(actual, what)
    if reference is None or not np.any(reference):
        return np.zeros_like(reference) if reference is not None else np.zeros(())
    raise AssertionError(
        f"{what} is None: the result does not depend on the input through TensorFlow "
        f"operations. Is the function differentiable (no .numpy() or np.* inside)?"
    )

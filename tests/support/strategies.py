"""Hypothesis strategies shared by every task test, so all tests draw inputs alike.

Values are small floats (|x| <= 4) on small shapes: large enough to tell a right answer
from the usual mistakes, small enough that float32 rounding never decides a verdict.

Dtypes: every strategy that gives several arrays for one call draws ONE dtype for all of
them (float32, the course's dtype, or float64, so that the modules' conversion helpers are
exercised); the tests never mix dtypes within a call.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from practicum.grader.running.proxy import AsTensor

FLOAT_DTYPES = (np.float32, np.float64)
float_dtypes = st.sampled_from(FLOAT_DTYPES)


def _elements(dtype) -> st.SearchStrategy[float]:
    return st.floats(
        -4.0, 4.0, allow_nan=False, allow_infinity=False, width=32 if dtype == np.float32 else 64
    )


@st.composite
def arrays_of_shape(draw, shape: tuple[int, ...], dtype=None) -> np.ndarray:
    """A float array of ``shape`` (float32 or float64 unless ``dtype`` is given)."""
    dtype = dtype or draw(float_dtypes)
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))


def feature_shapes(
    max_batch: int = 3, max_side: int = 5, max_channels: int = 5, min_side: int = 1
) -> st.SearchStrategy[tuple[int, int, int, int]]:
    """``(B, H, W, C)`` shapes of feature maps."""
    return st.tuples(
        st.integers(1, max_batch),
        st.integers(min_side, max_side),
        st.integers(min_side, max_side),
        st.integers(1, max_channels),
    )


@st.composite
def feature_maps(draw, dtype=None, **shape_limits) -> np.ndarray:
    """A float array of shape ``(B, H, W, C)`` (float32 or float64 unless ``dtype`` is
    given)."""
    return draw(arrays_of_shape(draw(feature_shapes(**shape_limits)), dtype))


@st.composite
def feature_map_pairs(draw, **shape_limits) -> tuple[np.ndarray, np.ndarray]:
    """Two float arrays of the same ``(B, H, W, C)`` shape and dtype."""
    shape = draw(feature_shapes(**shape_limits))
    dtype = draw(float_dtypes)
    return draw(arrays_of_shape(shape, dtype)), draw(arrays_of_shape(shape, dtype))


@st.composite
def style_layers(draw, max_layers: int = 3, dtype=None) -> list[np.ndarray]:
    """Feature maps for 1 to ``max_layers`` style layers of one batch of images, all of one
    dtype (drawn unless given)."""
    batch = draw(st.integers(1, 2))
    dtype = dtype or draw(float_dtypes)
    layers = []
    for _ in range(draw(st.integers(1, max_layers))):
        _, height, width, channels = draw(feature_shapes(max_batch=1))
        layers.append(draw(arrays_of_shape((batch, height, width, channels), dtype)))
    return layers


@st.composite
def style_problems(
    draw, max_layers: int = 3, one_style_image: bool = False
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(layers, target_grams)`` of one dtype: one ``(B, C_l, C_l)`` target per layer, or
    ``(1, C_l, C_l)`` (one style image, broadcast over the batch) if ``one_style_image``."""
    dtype = draw(float_dtypes)
    layers = draw(style_layers(max_layers, dtype))
    targets = [
        draw(
            arrays_of_shape((1 if one_style_image else f.shape[0], f.shape[-1], f.shape[-1]), dtype)
        )
        for f in layers
    ]
    return layers, targets


def layer_weights(count: int) -> st.SearchStrategy[list[float]]:
    """``count`` non-negative per-layer weights."""
    return st.lists(st.floats(0.0, 3.0), min_size=count, max_size=count)


def as_input(kind: str, array: np.ndarray):
    """Hands ``array`` to the candidate as a numpy array or as a tensor."""
    return AsTensor(array) if kind == "tensor" else array


input_kinds = st.sampled_from(["numpy", "tensor"])
unit_weights = st.floats(0.0, 1.0)

"""What differs between Keras 2.15 (TensorFlow 2.15) and Keras 3, in one place.

Solutions and package code import from here instead of testing versions themselves.
"""

from __future__ import annotations

import keras

KERAS_VERSION: tuple[int, ...] = tuple(int(part) for part in keras.__version__.split(".")[:2])
KERAS_3: bool = KERAS_VERSION >= (3, 0)

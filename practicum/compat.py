"""What differs between Keras 2.15 (TensorFlow 2.15) and Keras 3, in one place.

Solutions and package code import from here instead of testing versions themselves. The
course's code otherwise uses only what both have (``keras.layers.GroupNormalization``,
``keras.saving.register_keras_serializable``, ``keras.optimizers.Adam``, ``keras.Input``,
``Model.save_weights`` to a ``.weights.h5`` file: Keras 2.15 reads and writes the same
format, so the shipped weights load in both). What is left:

* where ``keras.datasets.cifar10.load_data()`` keeps its download in the cache
  (:data:`CIFAR_CACHE_ARCHIVE`, :data:`CIFAR_CACHE_DIR`), so that this course's loaders and
  Keras share one cache. (Keras 2.15 also ignores ``$KERAS_HOME`` for downloads; the
  course's loaders honour it, so the two share a cache when it is unset.)

The version is read from the installed distribution, so importing this module does not
import TensorFlow.
"""

from __future__ import annotations

from importlib import metadata


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


KERAS_VERSION: tuple[int, ...] = _version(metadata.version("keras"))
KERAS_3: bool = KERAS_VERSION >= (3, 0)

#: Where ``keras.datasets.cifar10.load_data()`` leaves the downloaded archive and the
#: extracted pickles, relative to the cache's ``datasets/`` folder: Keras 3 calls
#: ``get_file("cifar-10-batches-py-target", extract=True)``, Keras 2
#: ``get_file("cifar-10-batches-py", untar=True)``.
if KERAS_3:
    CIFAR_CACHE_ARCHIVE = "cifar-10-batches-py-target_archive"
    CIFAR_CACHE_DIR = "cifar-10-batches-py-target/cifar-10-batches-py"
else:
    CIFAR_CACHE_ARCHIVE = "cifar-10-batches-py.tar.gz"
    CIFAR_CACHE_DIR = "cifar-10-batches-py"

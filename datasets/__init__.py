"""Loaders for MNIST, Fashion-MNIST and CIFAR-10 that work online and offline.

Import them as ``practicum.datasets`` (this folder is not the top-level ``datasets``
package: that name belongs to Hugging Face's library)::

    from practicum.datasets import load_mnist, load_fashion_mnist, load_cifar10

    (x_train, y_train), (x_test, y_test) = load_mnist()

Each loader returns exactly what the matching ``keras.datasets.*.load_data()`` returns
(uint8 images, uint8 labels, CIFAR-10 channels-last with ``(N, 1)`` labels), reading
from, in order: ``$PRACTICUM_DATA_DIR``, the Keras cache, the official download, and
finally a small real sample committed with the course. See ``datasets/README.md``.
"""

from __future__ import annotations

if __name__ == "datasets":
    # This folder was imported as the top-level ``datasets`` (the repository root is on
    # sys.path, e.g. ``python -m pytest`` or a notebook started there). That name is
    # Hugging Face's: load their package in our place, so both keep working.
    import importlib.machinery as _machinery
    import importlib.util as _util
    import sys as _sys
    from pathlib import Path as _Path

    _here = _Path(__file__).resolve().parent
    _elsewhere = [p for p in _sys.path if _Path(p or ".").resolve() / "datasets" != _here]
    _spec = _machinery.PathFinder.find_spec("datasets", _elsewhere)
    if _spec is None or _spec.loader is None:
        raise ImportError(
            "No module named 'datasets' (Hugging Face's) is installed. The folder "
            f"{_here} holds the course's loaders: import them as practicum.datasets.",
            name="datasets",
        )
    _module = _util.module_from_spec(_spec)
    _sys.modules["datasets"] = _module
    _spec.loader.exec_module(_module)
else:
    from .api import (
        DatasetError,
        Loaded,
        load_cifar10,
        load_dataset,
        load_fashion_mnist,
        load_mnist,
    )
    from .sources import last_source

    __all__ = [
        "DatasetError",
        "Loaded",
        "last_source",
        "load_cifar10",
        "load_dataset",
        "load_fashion_mnist",
        "load_mnist",
    ]

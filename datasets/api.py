"""The public loaders: one function per data set, and one that also says the source."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .catalog import CIFAR10, FASHION_MNIST, MNIST, Checksum, get_spec
from .errors import DatasetError
from .formats import Arrays
from .sources import Loaded, load

__all__ = [
    "DatasetError",
    "Loaded",
    "load_cifar10",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
]


def load_dataset(
    name: str,
    source: str = "auto",
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    base_url: str | None = None,
    checksums: Mapping[str, Checksum] | None = None,
    progress: bool = True,
) -> Loaded:
    """Load a data set by name and tell where it came from.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        source: ``"auto"`` (try ``$PRACTICUM_DATA_DIR``, the Keras cache, the download,
            then the offline sample) or one of ``"env"``, ``"cache"``, ``"download"``,
            ``"sample"`` to use only that one.
        data_dir: a folder to use instead of ``$PRACTICUM_DATA_DIR``.
        cache_dir: a Keras-cache ``datasets/`` folder to use instead of
            ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``.
        base_url: a folder URL to download from instead of the official one.
        checksums: expected checksums by remote file name, instead of the official ones.
        progress: show a progress bar while downloading.

    Returns:
        A :class:`Loaded`: ``.data`` is ``((x_train, y_train), (x_test, y_test))``,
        ``.source`` is ``"env"``, ``"cache"``, ``"download"`` or ``"sample"``, and
        ``.path`` is the file or folder read.

    Raises:
        DatasetError: a file is corrupt or incomplete (the message names it), a
            download's checksum does not match, or a forced source lacks the data.
        KeyError: unknown ``name``.
        ValueError: unknown ``source``.

    Example:
        >>> loaded = load_dataset("mnist", source="sample")
        >>> loaded.source, loaded.data[0][0].shape
        ('sample', (3000, 28, 28))
    """
    return load(
        get_spec(name),
        source,
        data_dir=data_dir,
        cache_dir=cache_dir,
        base_url=base_url,
        checksums=checksums,
        progress=progress,
    )


def load_mnist(
    source: str = "auto",
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    base_url: str | None = None,
    progress: bool = True,
) -> Arrays:
    """Load MNIST, as ``keras.datasets.mnist.load_data()`` does.

    Args:
        source: ``"auto"``, ``"env"``, ``"cache"``, ``"download"`` or ``"sample"``
            (see :func:`load_dataset`).
        data_dir: a folder to use instead of ``$PRACTICUM_DATA_DIR``.
        cache_dir: a Keras-cache ``datasets/`` folder to use instead of the default.
        base_url: a folder URL to download ``mnist.npz`` from instead of Keras's.
        progress: show a progress bar while downloading.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(N, 28, 28)`` with
        values 0..255 and uint8 labels ``(N,)`` in 0..9; N is 60000/10000 for the full
        data, 3000/1000 for the offline sample.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist()
        >>> x_train.dtype, x_train.shape[1:], y_train.shape == (len(x_train),)
        (dtype('uint8'), (28, 28), True)
    """
    return load(
        MNIST,
        source,
        data_dir=data_dir,
        cache_dir=cache_dir,
        base_url=base_url,
        progress=progress,
    ).data


def load_fashion_mnist(
    source: str = "auto",
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    base_url: str | None = None,
    progress: bool = True,
) -> Arrays:
    """Load Fashion-MNIST, as ``keras.datasets.fashion_mnist.load_data()`` does.

    Args:
        source: ``"auto"``, ``"env"``, ``"cache"``, ``"download"`` or ``"sample"``
            (see :func:`load_dataset`).
        data_dir: a folder to use instead of ``$PRACTICUM_DATA_DIR``.
        cache_dir: a Keras-cache ``datasets/`` folder to use instead of the default.
        base_url: a folder URL to download the four IDX files from instead of Keras's.
        progress: show a progress bar while downloading.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(N, 28, 28)`` and uint8
        labels ``(N,)`` in 0..9 (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal,
        Shirt, Sneaker, Bag, Ankle boot); N is 60000/10000, or 3000/1000 for the sample.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
        >>> x_test.shape[1:], y_test.dtype
        ((28, 28), dtype('uint8'))
    """
    return load(
        FASHION_MNIST,
        source,
        data_dir=data_dir,
        cache_dir=cache_dir,
        base_url=base_url,
        progress=progress,
    ).data


def load_cifar10(
    source: str = "auto",
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    base_url: str | None = None,
    progress: bool = True,
) -> Arrays:
    """Load CIFAR-10, as ``keras.datasets.cifar10.load_data()`` does (channels-last).

    Args:
        source: ``"auto"``, ``"env"``, ``"cache"``, ``"download"`` or ``"sample"``
            (see :func:`load_dataset`).
        data_dir: a folder to use instead of ``$PRACTICUM_DATA_DIR``.
        cache_dir: a Keras-cache ``datasets/`` folder to use instead of the default.
        base_url: a folder URL to download ``cifar-10-python.tar.gz`` from instead of
            the official one.
        progress: show a progress bar while downloading.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(N, 32, 32, 3)``
        (always channels-last, whatever Keras's ``image_data_format``) and uint8 labels
        ``(N, 1)`` in 0..9 (airplane, automobile, bird, cat, deer, dog, frog, horse, ship,
        truck); N is 50000/10000, or 2000/500 for the sample.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_cifar10()
        >>> x_train.shape[1:], y_train.shape[1:]
        ((32, 32, 3), (1,))
    """
    return load(
        CIFAR10,
        source,
        data_dir=data_dir,
        cache_dir=cache_dir,
        base_url=base_url,
        progress=progress,
    ).data

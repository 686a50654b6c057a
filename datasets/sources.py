"""The source chain: where a data set is read from, in order.

1. ``env``: the folder named by ``PRACTICUM_DATA_DIR`` (if set), laid out like the
   Keras cache's ``datasets/`` folder (CIFAR-10's pickles may also sit directly in it);
2. ``cache``: the Keras cache, ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``, in any
   layout Keras 2 or 3 leaves there;
3. ``download``: the official files (Keras's URLs and checksums), saved into the Keras
   cache in the layout current Keras uses; skipped when ``PRACTICUM_OFFLINE=1``;
4. ``sample``: the small real sample committed in ``datasets/samples/``, used when the
   download fails for a network reason (or is skipped), with one line on stderr.

A file that is found but is corrupt always raises
:class:`~practicum.datasets.errors.DatasetError`: the chain never hides a bad file by
moving on to the next source.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import catalog
from .catalog import Checksum, DatasetSpec
from .download import OFFLINE_ENV, download_file, is_offline
from .errors import DatasetError, DownloadError
from .formats import (
    Arrays,
    extract_cifar_archive,
    read_cifar_archive,
    read_cifar_dir,
    read_idx_pair,
    read_jpeg_npz,
    read_npz,
)

__all__ = [
    "DATA_DIR_ENV",
    "SAMPLES_DIR",
    "SOURCES",
    "Loaded",
    "keras_cache_dir",
    "last_source",
    "load",
    "locate",
]

#: The folder tried first, laid out like the Keras cache's ``datasets/`` folder.
DATA_DIR_ENV = "PRACTICUM_DATA_DIR"
#: The accepted values of ``source=``.
SOURCES = ("auto", "env", "cache", "download", "sample")
#: Where the committed offline samples live.
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

_last_source: dict[str, str] = {}

Reader = Callable[[], Arrays]


@dataclass(frozen=True)
class Loaded:
    """A loaded data set and where it came from.

    Attributes:
        data: ``((x_train, y_train), (x_test, y_test))``.
        source: ``"env"``, ``"cache"``, ``"download"`` or ``"sample"``.
        path: the file or folder the arrays were read from.
    """

    data: Arrays
    source: str
    path: Path


def keras_cache_dir() -> Path:
    """The Keras cache's ``datasets/`` folder, as Keras itself chooses it.

    Returns:
        ``$KERAS_HOME/datasets`` if ``KERAS_HOME`` is set, else ``~/.keras/datasets``
        (``/tmp/.keras/datasets`` if the home folder is not writable).

    Example:
        >>> keras_cache_dir()  # doctest: +SKIP
        PosixPath('/home/me/.keras/datasets')
    """
    home = os.environ.get("KERAS_HOME")
    if home:
        return Path(home).expanduser() / "datasets"
    base = Path.home()
    if not os.access(base, os.W_OK):
        base = Path("/tmp")
    return base / ".keras" / "datasets"


def last_source(name: str) -> str | None:
    """Which source the last load of a data set in this process used.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.

    Returns:
        ``"env"``, ``"cache"``, ``"download"``, ``"sample"``, or None if not loaded yet.

    Example:
        >>> load_mnist(); last_source("mnist")  # doctest: +SKIP
        'sample'
    """
    return _last_source.get(name)


# --- finding files -----------------------------------------------------------------------


def locate(spec: DatasetSpec, root: Path, *, flat: bool = False) -> tuple[Path, Reader] | None:
    """Find a data set's files under a Keras-cache-like folder.

    Args:
        spec: the data set.
        root: a folder laid out like the Keras cache's ``datasets/`` folder.
        flat: also accept CIFAR-10's pickles directly in ``root``.

    Returns:
        ``(path, reader)`` for the first layout found (``reader()`` reads and validates
        the arrays), or None if no file of the data set is there.

    Raises:
        DatasetError: if only part of a data set is there.

    Example:
        >>> path, read = locate(MNIST, keras_cache_dir())  # doctest: +SKIP
    """
    if spec.name == catalog.MNIST.name:
        path = root / "mnist.npz"
        return (path, lambda: read_npz(path)) if path.is_file() else None
    if spec.name == catalog.FASHION_MNIST.name:
        return _locate_fashion(root / catalog.FASHION_SUBDIR)
    if spec.name == catalog.CIFAR10.name:
        return _locate_cifar(root, flat=flat)
    raise KeyError(spec.name)


def _locate_fashion(folder: Path) -> tuple[Path, Reader] | None:
    names = [name for pair in catalog.FASHION_FILES.values() for name in pair]
    present = [name for name in names if (folder / name).is_file()]
    if not present:
        return None
    if len(present) < len(names):
        missing = ", ".join(name for name in names if name not in present)
        raise DatasetError(
            f"{folder}: incomplete Fashion-MNIST folder, missing {missing}. Delete the folder "
            "and run again to re-download it (or add the missing files)."
        )

    def read() -> Arrays:
        train, test = (
            read_idx_pair(folder / images, folder / labels)
            for images, labels in (catalog.FASHION_FILES["train"], catalog.FASHION_FILES["test"])
        )
        return (train[0], train[1]), (test[0], test[1])

    return folder, read


def _locate_cifar(root: Path, *, flat: bool) -> tuple[Path, Reader] | None:
    batch_names = (*catalog.CIFAR_BATCHES, catalog.CIFAR_TEST_BATCH)
    folders = [root / name for name in catalog.CIFAR_DIR_NAMES] + ([root] if flat else [])
    for folder in folders:
        if any((folder / name).is_file() for name in batch_names):
            return folder, lambda folder=folder: read_cifar_dir(folder)
    for name in catalog.CIFAR_ARCHIVE_NAMES:
        archive = root / name
        if archive.is_file():
            return archive, lambda archive=archive: read_cifar_archive(archive)
    return None


# --- downloading -------------------------------------------------------------------------


def _download(
    spec: DatasetSpec,
    cache: Path,
    base_url: str | None,
    checksums: Mapping[str, Checksum] | None,
    progress: bool,
) -> tuple[Path, Reader]:
    """Download a data set into the Keras cache; return where it is and its reader."""
    base = base_url if base_url is not None else spec.base_url
    if not base.endswith("/"):
        base += "/"
    expected = {**spec.remote_files, **(checksums or {})}
    if is_offline() and not base.startswith("file:"):
        raise DatasetError(
            f"{spec.title}: a download from {base} was asked for, but {OFFLINE_ENV} is set; "
            f"unset it to download."
        )

    def fetch(name: str, destination: Path) -> Path:
        return download_file(base + name, destination, expected[name], progress=progress)

    if spec.name == catalog.MNIST.name:
        path = fetch("mnist.npz", cache / "mnist.npz")
        return path, lambda: read_npz(path)
    if spec.name == catalog.FASHION_MNIST.name:
        folder = cache / catalog.FASHION_SUBDIR
        fetched: list[Path] = []
        try:
            for name in spec.remote_files:
                fetched.append(fetch(name, folder / name))
        except BaseException:
            # Leave no partial set behind: it would read as an incomplete folder later.
            for path in fetched:
                path.unlink(missing_ok=True)
            raise
        found = _locate_fashion(folder)
        assert found is not None
        return found
    if spec.name == catalog.CIFAR10.name:
        archive = fetch("cifar-10-python.tar.gz", cache / catalog.CIFAR_DOWNLOAD_ARCHIVE)
        outer = (cache / catalog.CIFAR_DOWNLOAD_DIR).parent
        folder = extract_cifar_archive(archive, outer)
        return folder, lambda: read_cifar_dir(folder)
    raise KeyError(spec.name)


# --- the offline sample ------------------------------------------------------------------


def _sample(spec: DatasetSpec, reason: str) -> tuple[Path, Reader]:
    path = SAMPLES_DIR / spec.sample_file
    if not path.is_file():
        raise DatasetError(
            f"{path}: the offline sample of {spec.title} is missing (reason for using it: "
            f"{reason}). Restore it with `git checkout -- datasets/samples`, or get the full "
            "data online."
        )

    def read() -> Arrays:
        if spec.sample_format == "jpeg":
            data = read_jpeg_npz(path, spec.image_shape)
        else:
            data = read_npz(path)
        (x_train, _), (x_test, _) = data
        full_train, full_test = spec.full_sizes
        print(
            f"practicum.datasets: using the offline SAMPLE of {spec.title} "
            f"({len(x_train)} train + {len(x_test)} test images, not {full_train} + "
            f"{full_test}) because {reason}; for the full data run once online (it is then "
            f"cached in {keras_cache_dir()}) or set {DATA_DIR_ENV} to a folder holding the "
            "official files (see datasets/README.md).",
            file=sys.stderr,
        )
        return data

    return path, read


# --- validation --------------------------------------------------------------------------


def _validate(spec: DatasetSpec, data: Arrays, where: Path) -> Arrays:
    """Check shapes, dtypes and label values; return C-contiguous writable arrays."""
    out = []
    for split, (images, labels) in zip(("train", "test"), data, strict=True):
        problems = []
        if images.dtype != np.uint8 or images.shape[1:] != spec.image_shape:
            problems.append(f"{split} images are {images.dtype} {images.shape[1:]}")
        if labels.dtype != np.uint8 or labels.shape[1:] != spec.label_shape:
            problems.append(f"{split} labels are {labels.dtype} {labels.shape[1:]}")
        elif len(labels) and labels.max() >= spec.num_classes:
            problems.append(f"{split} labels reach {labels.max()} (>= {spec.num_classes})")
        if len(images) != len(labels):
            problems.append(f"{len(images)} {split} images but {len(labels)} labels")
        if problems:
            want = f"uint8 {('N', *spec.image_shape)} images, uint8 {('N', *spec.label_shape)}"
            raise DatasetError(
                f"{where}: not {spec.title} ({'; '.join(problems)}; expected {want} labels "
                f"< {spec.num_classes}). Delete it and run again to re-download it (or "
                "replace it with a good copy)."
            )
        out.append((np.require(images, requirements="CW"), np.require(labels, requirements="CW")))
    return out[0], out[1]


# --- the chain ---------------------------------------------------------------------------


def _env_dir(data_dir: str | Path | None) -> Path | None:
    if data_dir is not None:
        return Path(data_dir).expanduser()
    value = os.environ.get(DATA_DIR_ENV, "")
    return Path(value).expanduser() if value else None


def load(
    spec: DatasetSpec,
    source: str = "auto",
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    base_url: str | None = None,
    checksums: Mapping[str, Checksum] | None = None,
    progress: bool = True,
) -> Loaded:
    """Load a data set from the first source that has it (or from the one asked for).

    Args:
        spec: the data set.
        source: ``"auto"`` (the chain: env, cache, download, sample) or one source:
            ``"env"``, ``"cache"``, ``"download"`` (always downloads, even if cached) or
            ``"sample"``.
        data_dir: the folder to use instead of ``$PRACTICUM_DATA_DIR``.
        cache_dir: the Keras-cache ``datasets/`` folder to use instead of
            :func:`keras_cache_dir`.
        base_url: the folder URL to download from instead of the official one
            (``file://`` URLs work, also when ``PRACTICUM_OFFLINE`` is set).
        checksums: expected checksums by remote file name, overriding the official ones
            (for a mirror with other files, or tests).
        progress: show a progress bar while downloading.

    Returns:
        A :class:`Loaded` with the arrays, the source used and the path read.

    Raises:
        DatasetError: a file is corrupt or incomplete, a download's checksum does not
            match, or a forced source does not have the data.
        ValueError: ``source`` is not one of :data:`SOURCES`.

    Example:
        >>> loaded = load(catalog.MNIST, "sample", progress=False)  # doctest: +SKIP
        >>> loaded.source, loaded.data[0][0].shape  # doctest: +SKIP
        ('sample', (3000, 28, 28))
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    env_dir = _env_dir(data_dir)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else keras_cache_dir()

    chosen, found = _choose(spec, source, env_dir, cache, base_url, checksums, progress)
    path, read = found
    data = _validate(spec, read(), path)
    _last_source[spec.name] = chosen
    return Loaded(data, chosen, path)


def _choose(
    spec: DatasetSpec,
    source: str,
    env_dir: Path | None,
    cache: Path,
    base_url: str | None,
    checksums: Mapping[str, Checksum] | None,
    progress: bool,
) -> tuple[str, tuple[Path, Reader]]:
    if source in ("auto", "env") and env_dir is not None:
        if not env_dir.is_dir():
            raise DatasetError(f"{DATA_DIR_ENV}={env_dir} is not a folder: fix or unset it.")
        found = locate(spec, env_dir, flat=True)
        if found is not None:
            return "env", found
    if source == "env":
        where = f"{DATA_DIR_ENV}={env_dir}" if env_dir is not None else f"{DATA_DIR_ENV} (unset)"
        raise DatasetError(f"{spec.title}: no files found in {where}; see datasets/README.md.")

    if source in ("auto", "cache"):
        found = locate(spec, cache)
        if found is not None:
            return "cache", found
    if source == "cache":
        raise DatasetError(f"{spec.title}: not in the Keras cache {cache}.")

    if source == "download":
        return "download", _download(spec, cache, base_url, checksums, progress)
    if source == "auto":
        if is_offline():
            return "sample", _sample(spec, f"{OFFLINE_ENV} is set")
        try:
            return "download", _download(spec, cache, base_url, checksums, progress)
        except DownloadError as exc:
            return "sample", _sample(spec, f"the download failed ({exc})")
    return "sample", _sample(spec, "source='sample' was asked for")

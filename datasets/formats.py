"""Readers and writers for the on-disk formats of the official data sets.

* IDX (gzip-compressed), the format of MNIST and Fashion-MNIST: a big-endian header
  (two zero bytes, a type byte ``0x08`` for unsigned bytes, the number of dimensions,
  then each dimension as a 32-bit integer) followed by the raw bytes.
* ``mnist.npz``: the NumPy archive Keras downloads, keys ``x_train``, ``y_train``,
  ``x_test``, ``y_test``.
* JPEG ``.npz`` (the CIFAR-10 offline sample, and the shared mirror it comes from): per
  split, ``{split}_jpeg`` (every image's JPEG file, concatenated, uint8),
  ``{split}_offsets`` (int64, ``n + 1``: image ``i`` is ``jpeg[off[i]:off[i + 1]]``) and
  ``{split}_labels`` (uint8 ``(n,)``); decoded with Pillow when read.
* CIFAR-10 "python version": pickled dicts in ``cifar-10-batches-py/``
  (``data_batch_1`` .. ``data_batch_5``, ``test_batch``, ``batches.meta``), each batch
  holding ``b"data"``, a ``(N, 3072)`` uint8 array, every row one image as 1024 red, then
  1024 green, then 1024 blue bytes (row-major 32x32 planes), and ``b"labels"``, a list of
  ``N`` ints; and the ``.tar.gz`` archive of that folder.

Readers validate everything (magic numbers, lengths, keys, dtypes, shapes, label ranges)
and raise :class:`~practicum.datasets.errors.DatasetError` naming the file; pickles are
read with a restricted unpickler that can rebuild NumPy arrays and nothing else.
Writers exist so that tests and tools can build files in the official formats.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from .catalog import CIFAR_BATCHES, CIFAR_INNER_DIR, CIFAR_META, CIFAR_TEST_BATCH
from .errors import DatasetError, corrupt_file

__all__ = [
    "Arrays",
    "decode_jpegs",
    "extract_cifar_archive",
    "read_cifar_archive",
    "read_cifar_batch",
    "read_cifar_dir",
    "read_idx_gz",
    "read_idx_pair",
    "read_jpeg_npz",
    "read_npz",
    "select_jpegs",
    "write_cifar_archive",
    "write_cifar_dir",
    "write_idx_gz",
    "write_jpeg_npz",
    "write_npz",
]

#: ``((x_train, y_train), (x_test, y_test))``, as Keras's loaders return.
Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

_IDX_UBYTE = 0x08
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_CIFAR_ROW = 3 * 32 * 32
# What reading a damaged gzip (or gzip-compressed tar) stream raises.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
_TAR_ERRORS = (tarfile.TarError, *_GZIP_ERRORS)

# --- IDX ---------------------------------------------------------------------------------


def read_idx_gz(path: str | Path, ndim: int) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes.

    Args:
        path: the ``.gz`` file.
        ndim: the number of dimensions the file must have (1 for labels, 3 for images).

    Returns:
        A writable uint8 array with the shape the header gives.

    Raises:
        DatasetError: if the file is not gzip, is truncated, has a wrong magic number or
            a length that does not match its header.

    Example:
        >>> labels = read_idx_gz("train-labels-idx1-ubyte.gz", ndim=1)  # doctest: +SKIP
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except _GZIP_ERRORS as exc:
        raise corrupt_file(path, f"not a complete gzip file ({exc})") from exc
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise corrupt_file(path, f"IDX header truncated ({len(raw)} bytes)")
    magic = raw[:4]
    if magic[:2] != b"\0\0" or magic[2] != _IDX_UBYTE or magic[3] != ndim:
        raise corrupt_file(
            path,
            f"wrong IDX magic number 0x{magic.hex()} (expected 0x0000080{ndim}: "
            f"unsigned bytes, {ndim} dimension{'s' if ndim > 1 else ''})",
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise corrupt_file(
            path, f"IDX data has {len(raw)} bytes, but its header {dims} needs {expected}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def write_idx_gz(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzip-compressed IDX file.

    Args:
        path: the ``.gz`` file to write.
        array: a uint8 array with 1 to 255 dimensions.

    Example:
        >>> write_idx_gz(tmp / "t10k-labels-idx1-ubyte.gz", y_test)  # doctest: +SKIP
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _IDX_UBYTE, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    # mtime=0 so that the same array always gives the same bytes (and checksum).
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + array.tobytes())


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, ...]:
    """Read matching IDX image and label files (one split of MNIST or Fashion-MNIST).

    Args:
        images_path: the ``*-images-idx3-ubyte.gz`` file.
        labels_path: the ``*-labels-idx1-ubyte.gz`` file.

    Returns:
        ``(images, labels)``: uint8 arrays of shapes ``(N, rows, cols)`` and ``(N,)``.

    Raises:
        DatasetError: if either file is bad or their counts differ.

    Example:
        >>> x, y = read_idx_pair(  # doctest: +SKIP
        ...     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
        ... )
    """
    images = read_idx_gz(images_path, ndim=3)
    labels = read_idx_gz(labels_path, ndim=1)
    if len(images) != len(labels):
        raise corrupt_file(
            images_path, f"{len(images)} images but {len(labels)} labels in {labels_path}"
        )
    return images, labels


# --- npz ---------------------------------------------------------------------------------


def read_npz(path: str | Path) -> Arrays:
    """Read an ``.npz`` archive with the keys of Keras's ``mnist.npz``.

    Args:
        path: the archive (no pickled objects are allowed in it).

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` exactly as stored.

    Raises:
        DatasetError: if the archive is not a complete zip, holds no array under one
            of the four keys, or holds object arrays.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = read_npz("mnist.npz")  # doctest: +SKIP
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [key for key in _NPZ_KEYS if key not in f.files]
            if missing:
                raise corrupt_file(path, f"missing the array(s) {', '.join(missing)}")
            x_train, y_train, x_test, y_test = (f[key] for key in _NPZ_KEYS)
    except DatasetError:
        raise
    except Exception as exc:
        # zipfile.BadZipFile, a truncated member, a bad CRC, an object array, a .npy...
        why = f"{type(exc).__name__}: {exc}"
        raise corrupt_file(path, f"not a readable .npz archive ({why})") from exc
    return (x_train, y_train), (x_test, y_test)


def write_npz(path: str | Path, data: Arrays, **extra: np.ndarray) -> None:
    """Write ``((x_train, y_train), (x_test, y_test))`` as a compressed ``.npz``.

    Args:
        path: the archive to write (its name should end in ``.npz``).
        data: the arrays, stored under Keras's key names.
        **extra: further arrays to store alongside (e.g. provenance indices).

    Example:
        >>> write_npz(tmp / "mnist.npz", ((x, y), (xt, yt)))  # doctest: +SKIP
    """
    (x_train, y_train), (x_test, y_test) = data
    np.savez_compressed(
        path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, **extra
    )


# --- JPEG npz (the CIFAR-10 sample) ------------------------------------------------------

_JPEG_SPLITS = ("train", "test")


def decode_jpegs(
    blob: np.ndarray,
    offsets: np.ndarray,
    indices: Iterable[int] | None = None,
    *,
    image_shape: tuple[int, ...] = (32, 32, 3),
    where: str = "JPEG data",
) -> np.ndarray:
    """Decode concatenated JPEG files into one uint8 RGB array, with Pillow.

    Args:
        blob: every image's JPEG bytes, concatenated (uint8).
        offsets: ``n + 1`` offsets: image ``i`` is ``blob[offsets[i]:offsets[i + 1]]``.
        indices: which images to decode, in this order; default all ``n``.
        image_shape: the shape every decoded image must have (height, width, 3).
        where: the file named in errors.

    Returns:
        uint8 ``(len(indices), *image_shape)``, channels-last RGB.

    Raises:
        DatasetError: if an image is not a decodable JPEG of that size.

    Example:
        >>> decode_jpegs(d["test_jpeg"], d["test_offsets"], range(3)).shape  # doctest: +SKIP
        (3, 32, 32, 3)
    """
    from PIL import Image, UnidentifiedImageError

    order = np.arange(len(offsets) - 1) if indices is None else np.asarray(list(indices))
    out = np.empty((len(order), *image_shape), dtype=np.uint8)
    for row, i in enumerate(order):
        data = blob[offsets[i] : offsets[i + 1]].tobytes()
        try:
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise corrupt_file(where, f"image {i} is not a readable JPEG ({exc})") from exc
        if pixels.shape != image_shape:
            raise corrupt_file(where, f"image {i} is {pixels.shape}, not {image_shape}")
        out[row] = pixels
    return out


def select_jpegs(
    blob: np.ndarray, offsets: np.ndarray, indices: Iterable[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Pick some images' JPEG bytes, unchanged, into a new blob and offsets.

    Args:
        blob: every image's JPEG bytes, concatenated (uint8).
        offsets: ``n + 1`` offsets into ``blob``.
        indices: the images to keep, in the new order.

    Returns:
        ``(blob, offsets)`` of the chosen images (int64 offsets starting at 0).

    Example:
        >>> select_jpegs(np.arange(6, dtype=np.uint8), np.array([0, 2, 6]), [1])
        (array([2, 3, 4, 5], dtype=uint8), array([0, 4]))
    """
    parts = [blob[offsets[i] : offsets[i + 1]] for i in indices]
    new_offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=new_offsets[1:])
    new_blob = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
    return new_blob.astype(np.uint8, copy=False), new_offsets


def read_jpeg_npz(path: str | Path, image_shape: tuple[int, ...] = (32, 32, 3)) -> Arrays:
    """Read a JPEG ``.npz`` (the CIFAR-10 sample) and decode it with Pillow.

    Args:
        path: the archive, with ``train_jpeg``, ``train_offsets``, ``train_labels`` and
            the same three for ``test`` (no pickled objects allowed).
        image_shape: the shape of one decoded image.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 ``(N, *image_shape)`` images
        and uint8 ``(N, 1)`` labels, as ``keras.datasets.cifar10.load_data()`` returns.

    Raises:
        DatasetError: if the archive is unreadable, misses a key, its offsets do not cut
            its bytes into as many images as labels, or an image does not decode.

    Example:
        >>> (x_train, y_train), _ = read_jpeg_npz("datasets/samples/cifar10.npz")  # doctest: +SKIP
    """
    keys = [f"{split}_{part}" for split in _JPEG_SPLITS for part in ("jpeg", "offsets", "labels")]
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [key for key in keys if key not in f.files]
            if missing:
                raise corrupt_file(path, f"missing the array(s) {', '.join(missing)}")
            arrays = {key: f[key] for key in keys}
    except DatasetError:
        raise
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise corrupt_file(path, f"not a readable .npz archive ({why})") from exc
    out = []
    for split in _JPEG_SPLITS:
        blob, offsets, labels = (arrays[f"{split}_{p}"] for p in ("jpeg", "offsets", "labels"))
        if blob.dtype != np.uint8 or blob.ndim != 1:
            raise corrupt_file(path, f"{split}_jpeg is {blob.dtype} {blob.shape}, not uint8 (n,)")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise corrupt_file(path, f"{split}_labels is {labels.dtype} {labels.shape}")
        if (
            offsets.dtype.kind not in "iu"
            or offsets.shape != (len(labels) + 1,)
            or offsets[0] != 0
            or offsets[-1] != len(blob)
            or np.any(np.diff(offsets) <= 0)
        ):
            raise corrupt_file(
                path, f"{split}_offsets do not cut {split}_jpeg into {len(labels)} images"
            )
        images = decode_jpegs(blob, offsets, image_shape=image_shape, where=str(path))
        out.append((images, labels.reshape(-1, 1)))
    return out[0], out[1]


def write_jpeg_npz(
    path: str | Path,
    splits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    **extra: np.ndarray,
) -> None:
    """Write JPEG bytes, offsets and labels per split as a compressed ``.npz``.

    The JPEG bytes are stored as they are (lossless zip compression only, never
    re-encoded), so decoding gives the same pixels as decoding the originals.

    Args:
        path: the archive to write.
        splits: ``{"train": (jpeg, offsets, labels), "test": (...)}``.
        **extra: further arrays to store alongside (e.g. provenance indices).

    Example:
        >>> splits = {"train": (b, o, y), "test": (bt, ot, yt)}  # doctest: +SKIP
        >>> write_jpeg_npz(tmp / "cifar10.npz", splits)  # doctest: +SKIP
    """
    arrays: dict[str, np.ndarray] = {}
    for split in _JPEG_SPLITS:
        blob, offsets, labels = splits[split]
        arrays[f"{split}_jpeg"] = np.asarray(blob, dtype=np.uint8)
        arrays[f"{split}_offsets"] = np.asarray(offsets, dtype=np.int64)
        arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.uint8).reshape(-1)
    # Compressed: the JPEG headers (quantisation and Huffman tables) repeat in every
    # image, so zlib shrinks the concatenated files to about a third.
    np.savez_compressed(path, **arrays, **extra)


# --- CIFAR-10 pickles --------------------------------------------------------------------


def _numpy_reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 1.26
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _numpy_scalar() -> Any:
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 1.26
        from numpy.core.multiarray import scalar
    return scalar


_ALLOWED_GLOBALS = {
    # Rebuilding an ndarray (the official files were written by Python 2's cPickle with
    # numpy 1.x; files written under numpy 2 name numpy._core instead).
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    # How Python 3 writes bytes at pickle protocol 2.
    ("_codecs", "encode"): lambda: __import__("codecs").encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        factory = _ALLOWED_GLOBALS.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}")
        return factory()


def _unpickle(stream: IO[bytes], where: str) -> dict[str, Any]:
    try:
        obj = _RestrictedUnpickler(stream, encoding="bytes").load()
    except Exception as exc:
        # UnpicklingError, EOFError (truncated), or whatever a mangled opcode stream gives.
        why = f"{type(exc).__name__}: {exc}"
        raise corrupt_file(where, f"not a readable CIFAR pickle ({why})") from exc
    if not isinstance(obj, dict):
        raise corrupt_file(where, f"holds a {type(obj).__name__}, not a dict")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def read_cifar_batch(stream: IO[bytes], where: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch pickle.

    Args:
        stream: the open pickle.
        where: the file's name for error messages (a path or ``archive:member``).

    Returns:
        ``(images, labels)``: uint8 ``(N, 32, 32, 3)`` channels-last and uint8 ``(N,)``.

    Raises:
        DatasetError: if the pickle is unreadable, needs a forbidden global, or lacks
            ``data``/``labels`` of consistent sizes and valid values.

    Example:
        >>> with open("cifar-10-batches-py/test_batch", "rb") as f:  # doctest: +SKIP
        ...     x, y = read_cifar_batch(f, "test_batch")
    """
    batch = _unpickle(stream, where)
    missing = [key for key in ("data", "labels") if key not in batch]
    if missing:
        raise corrupt_file(where, f"the batch has no {' or '.join(missing)} entry")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        kind = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data)
        raise corrupt_file(where, f"data is {kind}, expected a uint8 (N, {_CIFAR_ROW}) array")
    if data.shape[1] != _CIFAR_ROW:
        raise corrupt_file(where, f"data rows have {data.shape[1]} bytes, expected {_CIFAR_ROW}")
    try:
        labels = np.asarray(batch["labels"])
    except (TypeError, ValueError) as exc:
        raise corrupt_file(where, f"labels are not a list of ints ({exc})") from exc
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise corrupt_file(where, f"labels are {labels.dtype} {labels.shape}, expected N ints")
    if len(labels) != len(data):
        raise corrupt_file(where, f"{len(data)} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 255):
        raise corrupt_file(where, "labels out of the uint8 range")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.uint8)


def _concat(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts]).reshape(-1, 1)
    return images, labels


def read_cifar_dir(directory: str | Path) -> Arrays:
    """Read an extracted ``cifar-10-batches-py`` folder.

    Args:
        directory: the folder holding ``data_batch_1`` .. ``data_batch_5`` and
            ``test_batch``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 ``(N, 32, 32, 3)`` images and
        uint8 ``(N, 1)`` labels, as ``keras.datasets.cifar10.load_data()`` returns.

    Raises:
        DatasetError: if a batch is missing or bad.

    Example:
        >>> (x_train, y_train), _ = read_cifar_dir("cifar-10-batches-py")  # doctest: +SKIP
    """
    directory = Path(directory)
    missing = [n for n in (*CIFAR_BATCHES, CIFAR_TEST_BATCH) if not (directory / n).is_file()]
    if missing:
        raise DatasetError(
            f"{directory}: incomplete CIFAR-10 folder, missing {', '.join(missing)}. "
            "Delete the folder and run again to re-download it (or add the missing files)."
        )

    def read(name: str) -> tuple[np.ndarray, np.ndarray]:
        with open(directory / name, "rb") as f:
            return read_cifar_batch(f, str(directory / name))

    train = _concat([read(name) for name in CIFAR_BATCHES])
    test = _concat([read(CIFAR_TEST_BATCH)])
    return train, test


def read_cifar_archive(path: str | Path) -> Arrays:
    """Read the CIFAR-10 batches straight out of ``cifar-10-python.tar.gz``.

    Nothing is extracted to disk: the members are read from the archive.

    Args:
        path: the archive (any tar compression).

    Returns:
        The same arrays as :func:`read_cifar_dir`.

    Raises:
        DatasetError: if the file is not a complete tar archive or lacks a batch.

    Example:
        >>> train, test = read_cifar_archive("cifar-10-python.tar.gz")  # doctest: +SKIP
    """
    wanted = [f"{CIFAR_INNER_DIR}/{n}" for n in (*CIFAR_BATCHES, CIFAR_TEST_BATCH)]
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    stream = tar.extractfile(member)
                    assert stream is not None
                    data = io.BytesIO(stream.read())
                    parts[member.name] = read_cifar_batch(data, f"{path}:{member.name}")
    except _TAR_ERRORS as exc:
        raise corrupt_file(path, f"not a complete tar archive ({exc})") from exc
    missing = [name for name in wanted if name not in parts]
    if missing:
        raise corrupt_file(path, f"the archive lacks {', '.join(missing)}")
    train = _concat([parts[name] for name in wanted[:-1]])
    test = _concat([parts[wanted[-1]]])
    return train, test


def extract_cifar_archive(path: str | Path, destination: str | Path) -> Path:
    """Safely extract the CIFAR-10 archive's ``cifar-10-batches-py`` folder.

    Only regular files directly inside ``cifar-10-batches-py/`` are written (no links,
    no absolute or ``..`` paths), each through a temporary name and an atomic rename.

    Args:
        path: the archive.
        destination: the folder to create ``cifar-10-batches-py/`` in.

    Returns:
        The extracted ``cifar-10-batches-py`` folder.

    Raises:
        DatasetError: if the file is not a complete tar archive.

    Example:
        >>> extract_cifar_archive("cifar-10-python.tar.gz", "out")  # doctest: +SKIP
        PosixPath('out/cifar-10-batches-py')
    """
    target = Path(destination) / CIFAR_INNER_DIR
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                parent, _, base = member.name.partition("/")
                if parent != CIFAR_INNER_DIR or not base or "/" in base or base in ("..", "."):
                    continue
                if not member.isfile():
                    continue
                stream = tar.extractfile(member)
                assert stream is not None
                partial = target / f".{base}.{os.getpid()}.part"
                with open(partial, "wb") as out:
                    out.write(stream.read())
                os.replace(partial, target / base)
    except _TAR_ERRORS as exc:
        raise corrupt_file(path, f"not a complete tar archive ({exc})") from exc
    return target


def _write_pickle(path: Path, obj: dict[bytes, Any]) -> None:
    # Protocol 4 stores bytes natively, so the file needs no global but the three that
    # rebuild an ndarray: Keras's own restricted unpickler reads it. (The official files
    # are protocol 2 from Python 2; Python 3 writes bytes at protocol 2 through
    # _codecs.encode, which Keras refuses.)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


def write_cifar_dir(
    directory: str | Path,
    data: Arrays,
    class_names: Iterable[str],
    *,
    num_train_batches: int = 5,
) -> Path:
    """Write arrays in the official ``cifar-10-batches-py`` pickle layout.

    The training set is split into ``num_train_batches`` consecutive batches
    (``data_batch_1`` ..), the test set goes to ``test_batch``, and ``batches.meta``
    holds the label names. Reading the folder back gives the same arrays.

    Args:
        directory: the folder to write into (created if needed); usually named
            ``cifar-10-batches-py``.
        data: ``((x_train, y_train), (x_test, y_test))``, uint8 channels-last images and
            uint8 labels of shape ``(N,)`` or ``(N, 1)``.
        class_names: the ten label names.
        num_train_batches: how many training batches; must be 5 for the official layout.

    Returns:
        ``directory`` as a :class:`~pathlib.Path`.

    Example:
        >>> names = CIFAR10.class_names
        >>> write_cifar_dir(tmp / "cifar-10-batches-py", load_cifar10(), names)  # doctest: +SKIP
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data
    splits = np.array_split(np.arange(len(x_train)), num_train_batches)
    names = [f"data_batch_{i + 1}" for i in range(num_train_batches)]
    jobs = [(name, x_train[idx], y_train[idx]) for name, idx in zip(names, splits, strict=True)]
    jobs.append((CIFAR_TEST_BATCH, x_test, y_test))
    for number, (name, images, labels) in enumerate(jobs, start=1):
        rows = np.ascontiguousarray(np.asarray(images, np.uint8).transpose(0, 3, 1, 2))
        if name == CIFAR_TEST_BATCH:
            title = "testing batch 1 of 1"
        else:
            title = f"training batch {number} of {num_train_batches}"
        _write_pickle(
            directory / name,
            {
                b"batch_label": title.encode(),
                b"labels": [int(v) for v in np.asarray(labels).reshape(-1)],
                b"data": rows.reshape(len(rows), _CIFAR_ROW),
                b"filenames": [f"{name}_{i:05d}.png".encode() for i in range(len(rows))],
            },
        )
    names_bytes = [name.encode() for name in class_names]
    per_batch = max((len(s) for s in splits), default=0)
    _write_pickle(
        directory / CIFAR_META,
        {b"label_names": names_bytes, b"num_cases_per_batch": per_batch, b"num_vis": _CIFAR_ROW},
    )
    return directory


def write_cifar_archive(path: str | Path, batches_dir: str | Path) -> Path:
    """Pack a ``cifar-10-batches-py`` folder as the official ``.tar.gz`` archive.

    Args:
        path: the archive to write.
        batches_dir: the folder to pack; it is stored as ``cifar-10-batches-py/``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> write_cifar_archive(  # doctest: +SKIP
        ...     tmp / "cifar-10-python.tar.gz", tmp / "cifar-10-batches-py"
        ... )
    """
    path = Path(path)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for file in sorted(Path(batches_dir).iterdir()):
                info = tar.gettarinfo(str(file), arcname=f"{CIFAR_INNER_DIR}/{file.name}")
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                with open(file, "rb") as f:
                    tar.addfile(info, f)
    return path

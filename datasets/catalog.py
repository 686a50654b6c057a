"""Facts about each data set: shapes, file names, cache layouts, URLs and checksums.

The file names, cache sub-folders, URLs and checksums are the ones Keras uses
(``keras.datasets.mnist``, ``fashion_mnist`` and ``cifar10``), so that this package and
Keras share one cache: a file either of them downloaded is found by the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from practicum import compat

__all__ = [
    "CATALOG",
    "CIFAR10",
    "CIFAR_ARCHIVE_NAMES",
    "CIFAR_BASE_URL",
    "CIFAR_BATCHES",
    "CIFAR_DIR_NAMES",
    "CIFAR_DOWNLOAD_ARCHIVE",
    "CIFAR_DOWNLOAD_DIR",
    "CIFAR_INNER_DIR",
    "CIFAR_META",
    "CIFAR_TEST_BATCH",
    "FASHION_FILES",
    "FASHION_MNIST",
    "FASHION_SUBDIR",
    "KERAS_BASE_URL",
    "MNIST",
    "Checksum",
    "DatasetSpec",
    "get_spec",
]

KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR_BASE_URL = "https://www.cs.toronto.edu/~kriz/"


@dataclass(frozen=True)
class Checksum:
    """An expected digest of a downloaded file.

    Attributes:
        algorithm: a :mod:`hashlib` name, ``"sha256"`` or ``"md5"``.
        digest: the expected hex digest (lower case).
        of_gunzipped: if true the digest is of the file's gunzipped content, not of the
            file itself (used where a mirror may recompress the same data).
    """

    algorithm: str
    digest: str
    of_gunzipped: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the loaders need to know about one data set.

    Attributes:
        name: the public name, ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.
        title: a human-readable name for messages.
        image_shape: the shape of one image as returned (channels-last for colour).
        label_shape: the shape of the label array after the sample axis.
        num_classes: labels are integers in ``[0, num_classes)``.
        full_sizes: ``(train, test)`` sizes of the full data set.
        base_url: where the official files are downloaded from.
        remote_files: the file names under ``base_url``, with their checksums.
        sample_file: the committed offline sample, under ``datasets/samples/``.
        sample_format: how that sample stores its images: ``"npz"`` (the arrays as
            returned, keys as Keras's ``mnist.npz``) or ``"jpeg"`` (each image's
            original JPEG bytes, decoded with Pillow when loaded).
        class_names: the label names, in label order.
    """

    name: str
    title: str
    image_shape: tuple[int, ...]
    label_shape: tuple[int, ...]
    num_classes: int
    full_sizes: tuple[int, int]
    base_url: str
    remote_files: dict[str, Checksum] = field(default_factory=dict)
    sample_file: str = ""
    sample_format: str = "npz"
    class_names: tuple[str, ...] = ()


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    image_shape=(28, 28),
    label_shape=(),
    num_classes=10,
    full_sizes=(60000, 10000),
    base_url=KERAS_BASE_URL,
    remote_files={
        "mnist.npz": Checksum(
            "sha256", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
        ),
    },
    sample_file="mnist.npz",
    class_names=tuple(str(d) for d in range(10)),
)

# Keras publishes no checksum for these four files; the digests below are of their
# decompressed IDX content (the official Zalando data), which does not change when a
# mirror recompresses the gzip files.
FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    title="Fashion-MNIST",
    image_shape=(28, 28),
    label_shape=(),
    num_classes=10,
    full_sizes=(60000, 10000),
    base_url=KERAS_BASE_URL,
    remote_files={
        "train-labels-idx1-ubyte.gz": Checksum(
            "sha256", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", True
        ),
        "train-images-idx3-ubyte.gz": Checksum(
            "sha256", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", True
        ),
        "t10k-labels-idx1-ubyte.gz": Checksum(
            "sha256", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", True
        ),
        "t10k-images-idx3-ubyte.gz": Checksum(
            "sha256", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", True
        ),
    },
    sample_file="fashion_mnist.npz",
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
)

CIFAR10 = DatasetSpec(
    name="cifar10",
    title="CIFAR-10",
    image_shape=(32, 32, 3),
    label_shape=(1,),
    num_classes=10,
    full_sizes=(50000, 10000),
    base_url=CIFAR_BASE_URL,
    remote_files={
        "cifar-10-python.tar.gz": Checksum(
            "sha256", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
        ),
    },
    sample_file="cifar10.npz",
    sample_format="jpeg",
    class_names=(
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
)

CATALOG: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST, CIFAR10)}

# --- on-disk layouts -------------------------------------------------------------------

#: Fashion-MNIST's Keras cache sub-folder and its files, as (train, test) pairs of
#: (images, labels).
FASHION_SUBDIR = "fashion-mnist"
FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: The folder the CIFAR-10 archive unpacks to, and the pickles inside it.
CIFAR_INNER_DIR = "cifar-10-batches-py"
CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_BATCH = "test_batch"
CIFAR_META = "batches.meta"

#: Where Keras versions leave the extracted CIFAR-10 pickles, relative to the cache's
#: ``datasets/`` folder, newest first:
#: * Keras 3 (``get_file(fname="cifar-10-batches-py-target", extract=True)``):
#:   ``cifar-10-batches-py-target/cifar-10-batches-py/``;
#: * what Keras 3's ``get_file(fname="cifar-10-batches-py", extract=True)`` makes (an
#:   archive unpacked into a folder of its own name):
#:   ``cifar-10-batches-py/cifar-10-batches-py/``;
#: * Keras 2 / tf.keras (``untar=True``, extracted beside the archive):
#:   ``cifar-10-batches-py/``.
CIFAR_DIR_NAMES = (
    f"cifar-10-batches-py-target/{CIFAR_INNER_DIR}",
    f"{CIFAR_INNER_DIR}/{CIFAR_INNER_DIR}",
    CIFAR_INNER_DIR,
)

#: Where those versions leave the downloaded archive (a ``.tar.gz``), newest first; the
#: last is the official file name, for an archive downloaded by hand.
CIFAR_ARCHIVE_NAMES = (
    "cifar-10-batches-py-target_archive",
    "cifar-10-batches-py_archive",
    "cifar-10-batches-py.tar.gz",
    "cifar-10-python.tar.gz",
)

#: Where a download by this package puts the archive and the extracted pickles (the
#: layout of the Keras version in the course's environment, so Keras finds them too).
CIFAR_DOWNLOAD_ARCHIVE = compat.CIFAR_CACHE_ARCHIVE
CIFAR_DOWNLOAD_DIR = compat.CIFAR_CACHE_DIR


def get_spec(name: str) -> DatasetSpec:
    """Look a data set up by name.

    Args:
        name: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"``.

    Returns:
        The data set's :class:`DatasetSpec`.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).

    Example:
        >>> get_spec("mnist").image_shape
        (28, 28)
    """
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise KeyError(f"unknown data set {name!r}; known: {known}") from None

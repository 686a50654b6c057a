"""Regenerate the committed offline samples in ``datasets/samples/`` (a maintainer's tool).

Not used at run time: the loaders only read the ``.npz`` files this writes. It reads the
real data kept beside the repository (``../shared/datasets``, see its README):

* MNIST from ``mnist-10k.npz`` (10,000 real digits, keys as Keras's ``mnist.npz``);
* Fashion-MNIST from the official IDX files in ``fashion-mnist/``;
* CIFAR-10 from ``cifar10-jpeg.npz`` (the official split as JPEGs of a public mirror,
  decoded with Pillow, so pixels differ slightly from the official pickles).

From each split it draws the same number of images of every class, puts them in a random
order (NumPy's default generator seeded with ``[0, data set number, split number]``, so
each split of each data set has its own fixed stream), and stores them exactly as the
loaders return them (``x_train``, ``y_train``, ``x_test``, ``y_test``) plus
``train_index`` and ``test_index``, the positions of the chosen images in the source.
The output is byte-for-byte reproducible.

Usage::

    python -m practicum.datasets.make_samples [--shared ../shared/datasets] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from practicum import REPO_ROOT
from practicum.datasets.catalog import CIFAR10, FASHION_FILES, FASHION_MNIST, MNIST
from practicum.datasets.formats import read_idx_pair, write_npz

#: (train, test) sample sizes; each is split evenly over the ten classes.
SIZES = {MNIST.name: (3000, 1000), FASHION_MNIST.name: (3000, 1000), CIFAR10.name: (2000, 500)}
SEED = 0
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "datasets"
DEFAULT_OUT = Path(__file__).resolve().parent / "samples"


def stratified_indices(labels: np.ndarray, size: int, seed: int | list[int] = SEED) -> np.ndarray:
    """Choose ``size`` positions, the same number from each class, in a random order.

    Args:
        labels: the class of every item, integers ``0..k-1``.
        size: how many to choose; must be a multiple of the number of classes.
        seed: the random seed (an int or a list of ints).

    Returns:
        int64 positions into ``labels``.

    Example:
        >>> stratified_indices(np.array([0, 1] * 50), 10).shape
        (10,)
    """
    labels = np.asarray(labels).reshape(-1)
    classes = np.unique(labels)
    if size % len(classes):
        raise ValueError(f"size {size} is not a multiple of {len(classes)} classes")
    rng = np.random.default_rng(seed)
    per_class = size // len(classes)
    chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in classes]
    return rng.permutation(np.concatenate(chosen))


def decode_jpegs(blob: np.ndarray, offsets: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Decode chosen images of the CIFAR-10 JPEG mirror into a uint8 RGB array.

    Args:
        blob: every image's JPEG bytes, concatenated (uint8).
        offsets: ``n + 1`` offsets: image ``i`` is ``blob[offsets[i]:offsets[i + 1]]``.
        indices: which images to decode.

    Returns:
        uint8 ``(len(indices), 32, 32, 3)``.

    Example:
        >>> decode_jpegs(d["test_jpeg"], d["test_offsets"], np.arange(3)).shape  # doctest: +SKIP
        (3, 32, 32, 3)
    """
    from PIL import Image

    out = np.empty((len(indices), 32, 32, 3), dtype=np.uint8)
    for row, i in enumerate(indices):
        data = blob[offsets[i] : offsets[i + 1]].tobytes()
        with Image.open(io.BytesIO(data)) as image:
            out[row] = np.asarray(image.convert("RGB"))
    return out


def _write(out: Path, name: str, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    n_train, n_test = SIZES[name]
    dataset_number = list(SIZES).index(name)
    picked = {}
    for split_number, (split, size) in enumerate((("train", n_train), ("test", n_test))):
        images, labels = splits[split]
        index = stratified_indices(labels, size, seed=[SEED, dataset_number, split_number])
        picked[split] = (images(index) if callable(images) else images[index], labels[index], index)
    (xa, ya, ia), (xb, yb, ib) = picked["train"], picked["test"]
    path = out / f"{name}.npz"
    write_npz(
        path, ((xa, ya), (xb, yb)), train_index=ia.astype(np.int32), test_index=ib.astype(np.int32)
    )
    return path


def make_samples(shared: Path = DEFAULT_SHARED, out: Path = DEFAULT_OUT) -> list[Path]:
    """Write ``mnist.npz``, ``fashion_mnist.npz`` and ``cifar10.npz`` samples.

    Args:
        shared: the folder with ``mnist-10k.npz``, ``fashion-mnist/`` and
            ``cifar10-jpeg.npz``.
        out: the folder to write the samples into.

    Returns:
        The files written.

    Example:
        >>> make_samples(Path("../shared/datasets"), Path("datasets/samples"))  # doctest: +SKIP
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []

    with np.load(shared / "mnist-10k.npz") as f:
        mnist = {"train": (f["x_train"], f["y_train"]), "test": (f["x_test"], f["y_test"])}
    written.append(_write(out, MNIST.name, mnist))

    folder = shared / "fashion-mnist"
    fashion = {
        split: read_idx_pair(folder / images, folder / labels)
        for split, (images, labels) in FASHION_FILES.items()
    }
    written.append(_write(out, FASHION_MNIST.name, fashion))

    with np.load(shared / "cifar10-jpeg.npz") as f:
        cifar = {}
        for split in ("train", "test"):
            blob, offsets = f[f"{split}_jpeg"], f[f"{split}_offsets"]
            labels = f[f"{split}_labels"].astype(np.uint8).reshape(-1, 1)

            def decode(index: np.ndarray, blob=blob, offsets=offsets) -> np.ndarray:
                return decode_jpegs(blob, offsets, index)

            cifar[split] = (decode, labels)
        written.append(_write(out, CIFAR10.name, cifar))
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: regenerate the samples and print their sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for path in make_samples(args.shared, args.out):
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

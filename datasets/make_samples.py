"""Regenerate the committed offline samples in ``datasets/samples/`` (a maintainer's tool).

Not used at run time: the loaders only read the ``.npz`` files this writes. It reads the
real data kept beside the repository (``../shared/datasets``, see its README):

* MNIST from ``mnist-10k.npz`` (10,000 real digits, keys as Keras's ``mnist.npz``);
* Fashion-MNIST from the official IDX files in ``fashion-mnist/``;
* CIFAR-10 from ``cifar10-jpeg.npz`` (the official split as JPEGs of a public mirror, so
  pixels differ slightly from the official pickles).

From each split it draws the same number of images of every class, puts them in a random
order (NumPy's default generator seeded with ``[0, data set number, split number]``, so
each split of each data set has its own fixed stream), and stores them with
``train_index`` and ``test_index``, the positions of the chosen images in the source:

* MNIST and Fashion-MNIST exactly as the loaders return them (``x_train``, ``y_train``,
  ``x_test``, ``y_test``, compressed);
* CIFAR-10 as the mirror's own JPEG bytes, copied unchanged (never re-encoded), with the
  keys of ``cifar10-jpeg.npz``: ``train_jpeg``, ``train_offsets``, ``train_labels``, the
  same for ``test``, and ``classes``; the loader decodes them with Pillow.

The output is byte-for-byte reproducible.

Usage::

    python -m practicum.datasets.make_samples [--shared ../shared/datasets] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from practicum import REPO_ROOT
from practicum.datasets.catalog import CIFAR10, FASHION_FILES, FASHION_MNIST, MNIST
from practicum.datasets.formats import (
    decode_jpegs,
    read_idx_pair,
    select_jpegs,
    write_jpeg_npz,
    write_npz,
)

__all__ = ["SIZES", "decode_jpegs", "make_samples", "stratified_indices"]

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


def _pick(name: str, labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The sample's positions in each split's source, stratified, in a fixed random order."""
    sizes = dict(zip(("train", "test"), SIZES[name], strict=True))
    dataset_number = list(SIZES).index(name)
    return {
        split: stratified_indices(labels[split], size, seed=[SEED, dataset_number, n])
        for n, (split, size) in enumerate(sizes.items())
    }


def _write(out: Path, name: str, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    picked = _pick(name, {split: labels for split, (_, labels) in splits.items()})
    (xa, ya), (xb, yb) = ((splits[s][0][picked[s]], splits[s][1][picked[s]]) for s in picked)
    path = out / f"{name}.npz"
    write_npz(
        path,
        ((xa, ya), (xb, yb)),
        train_index=picked["train"].astype(np.int32),
        test_index=picked["test"].astype(np.int32),
    )
    return path


def _write_cifar(out: Path, source: Path) -> Path:
    """The CIFAR-10 sample: the chosen images' original JPEG bytes, unchanged."""
    with np.load(source, allow_pickle=False) as f:
        mirror = {key: f[key] for key in f.files}
    labels = {split: mirror[f"{split}_labels"].astype(np.uint8) for split in ("train", "test")}
    picked = _pick(CIFAR10.name, labels)
    splits = {}
    for split, index in picked.items():
        blob, offsets = select_jpegs(mirror[f"{split}_jpeg"], mirror[f"{split}_offsets"], index)
        splits[split] = (blob, offsets, labels[split][index])
    path = out / f"{CIFAR10.name}.npz"
    write_jpeg_npz(
        path,
        splits,
        classes=mirror["classes"],
        train_index=picked["train"].astype(np.int32),
        test_index=picked["test"].astype(np.int32),
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

    written.append(_write_cifar(out, shared / "cifar10-jpeg.npz"))
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

"""Decode the full CIFAR-10 JPEG mirror into the official pickle layout (a tool).

Not used by the loaders or the tests. It turns ``../shared/datasets/cifar10-jpeg.npz``
(all 60,000 images of the official split, as JPEGs of a public mirror) into::

    OUT/cifar-10-batches-py/data_batch_1 .. data_batch_5, test_batch, batches.meta

so that ``PRACTICUM_DATA_DIR=OUT`` (or copying ``OUT/cifar-10-batches-py`` into the Keras
cache) runs the exact code path of a user whose download finished, on real data, e.g. for
a benchmark. With ``--archive`` it also writes ``OUT/cifar-10-python.tar.gz``.

The mirror stores the images grouped by class; the official batches are in a random
order, so each split is shuffled with a fixed seed (0) before it is cut into batches.
Pixels went through JPEG once and differ slightly from the official pickles: report
results on it as "CIFAR-10 (JPEG mirror)".

Usage::

    python -m practicum.datasets.make_full_cifar OUT [--shared ../shared/datasets] [--archive]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from practicum.datasets.catalog import CIFAR10, CIFAR_INNER_DIR
from practicum.datasets.formats import write_cifar_archive, write_cifar_dir
from practicum.datasets.make_samples import DEFAULT_SHARED, decode_jpegs

SEED = 0


def make_full_cifar(out: Path, shared: Path = DEFAULT_SHARED, *, archive: bool = False) -> Path:
    """Write the whole mirror as ``out/cifar-10-batches-py`` (and optionally the archive).

    Args:
        out: the folder to create ``cifar-10-batches-py/`` in.
        shared: the folder holding ``cifar10-jpeg.npz``.
        archive: also write ``out/cifar-10-python.tar.gz``.

    Returns:
        The ``cifar-10-batches-py`` folder written.

    Example:
        >>> make_full_cifar(Path("/tmp/cifar-full"))  # doctest: +SKIP
        PosixPath('/tmp/cifar-full/cifar-10-batches-py')
    """
    rng = np.random.default_rng(SEED)
    splits = []
    with np.load(shared / "cifar10-jpeg.npz") as f:
        for split in ("train", "test"):
            labels = f[f"{split}_labels"].astype(np.uint8)
            order = rng.permutation(len(labels))
            images = decode_jpegs(f[f"{split}_jpeg"], f[f"{split}_offsets"], order)
            splits.append((images, labels[order].reshape(-1, 1)))
    folder = write_cifar_dir(out / CIFAR_INNER_DIR, (splits[0], splits[1]), CIFAR10.class_names)
    if archive:
        write_cifar_archive(out / "cifar-10-python.tar.gz", folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create cifar-10-batches-py/ in")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--archive", action="store_true", help="also write the .tar.gz")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    folder = make_full_cifar(args.out, args.shared, archive=args.archive)
    print(f"wrote {folder} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Trains the shipped fast-style network (``practicum/weights/fast_style_<style>.weights.h5``).

    nice -n 10 .venv/bin/python benchmarks/train_fast_style.py --style starry_night \\
        --minutes 20 --size 128 --weight 0.1 --out /tmp/stage1.weights.h5
    nice -n 10 .venv/bin/python benchmarks/train_fast_style.py --style starry_night \\
        --minutes 10 --size 128 --weight 0.02 --init /tmp/stage1.weights.h5

(how the shipped file was made: 489 steps at W = 0.1 from scratch, which paints the style
over everything, then 311 steps at W = 0.02, which brings the photo back; wall-clock limits
on a shared 2-core machine, so the step counts vary with the load.)

Photos: the 514 of ``../shared/images/train`` (14 Kodak, 500 BSDS500; BSDS500 is for
research and teaching only: we train on it and commit only the weights), each resized so
that its shorter side is ``--size`` and centre-cropped to ``size x size``. Loss network:
SqueezeNet v1.1 (the shipped ImageNet weights). Adam, batch 4, seeded.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from practicum.grader.running.proxy import InProcessBackend
from practicum.loss_networks import WEIGHTS_DIR

ROOT = Path(__file__).resolve().parents[1]
TRAIN_DIR = ROOT.parent / "shared" / "images" / "train"


def load_photos(folder: Path, size: int) -> np.ndarray:
    """Every JPEG in ``folder``, shorter side resized to ``size``, centre crop, uint8."""
    photos = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as image:
            image = image.convert("RGB")
            scale = size / min(image.size)
            image = image.resize(
                (max(size, round(image.width * scale)), max(size, round(image.height * scale))),
                Image.LANCZOS,
            )
            left, top = (image.width - size) // 2, (image.height - size) // 2
            photos.append(np.asarray(image.crop((left, top, left + size, top + size))))
    return np.stack(photos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--weight", type=float, default=None, help="W (default: the module's)")
    parser.add_argument("--tv-weight", type=float, default=None)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--train-dir", type=Path, default=TRAIN_DIR)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--init", type=Path, default=None, help="continue from these weights (a .weights.h5 file)"
    )
    options = parser.parse_args()
    fast_style = InProcessBackend(ROOT / "solutions")._load("fast_style")
    out = options.out or WEIGHTS_DIR / f"fast_style_{options.style}.weights.h5"
    begin = time.perf_counter()
    photos = load_photos(options.train_dir, options.size)
    print(f"{len(photos)} photos {photos.shape[1:]} loaded in {time.perf_counter() - begin:.1f} s")
    extra = {}
    if options.init is not None:
        extra["net"] = fast_style.load_transform_net(options.init)
    if options.weight is not None:
        extra["weight"] = options.weight
    if options.tv_weight is not None:
        extra["tv_weight"] = options.tv_weight
    result = fast_style.train_transform_net(
        options.style,
        photos,
        network="squeezenet",
        steps=options.steps,
        batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        log_every=25,
        max_seconds=options.minutes * 60,
        save_to=out,
        save_every=100,
        **extra,
    )
    losses = result["losses"]
    print(
        f"{len(losses)} steps in {result['seconds']:.0f} s; loss {np.mean(losses[:25]):.4g} "
        f"(first 25) -> {np.mean(losses[-25:]):.4g} (last 25); traced "
        f"{result['tracing_count']} time(s); saved {out} ({out.stat().st_size} bytes)"
    )


if __name__ == "__main__":
    main()

"""Loading, resizing and saving images for the style-transfer tasks.

Images are float32 numpy arrays of shape ``(H, W, 3)``, RGB, values in ``[0, 1]``.
A few public-domain or CC0 images ship with the package (``practicum/images``, credits in
``practicum/images/SOURCES.md``)::

    cat = load_image(embedded("cat_chelsea"), max_side=256)
    save_panels([cat, style, result], ["content", "style", "result"], "build/result.png",
                title="Style transfer")

Figures (:func:`panels_figure`, :func:`save_panels`) put each image in its own titled panel,
with its size in pixels as the axis label, so that compared images cannot be confused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

IMAGES_DIR = Path(__file__).resolve().parent / "images"
STYLES = ("starry_night", "great_wave", "composition_vii")
CONTENTS = ("cat_chelsea", "coffee_cup", "kodim23_parrots")


def embedded(name: str) -> Path:
    """The path of an embedded image, by the stem of its file name (``"starry_night"``)."""
    matches = sorted(IMAGES_DIR.glob(f"{name}.*"))
    if not matches:
        known = sorted(path.stem for path in IMAGES_DIR.glob("*.jpg"))
        raise ValueError(f"Received: name={name!r}, expected one of {known}")
    return matches[0]


def load_image(
    path: str | Path,
    max_side: int | None = None,
    size: tuple[int, int] | None = None,
    multiple: int = 1,
) -> np.ndarray:
    """Reads an image file as float32 RGB in ``[0, 1]``.

    Args:
        path: the file.
        max_side: shrink (never enlarge) so that the longer side is at most this.
        size: ``(height, width)`` to resize to exactly (overrides ``max_side``).
        multiple: crop so that height and width are multiples of this (e.g. 4 for the
            transform network).

    Returns:
        An array of shape ``(H, W, 3)``.
    """
    with Image.open(path) as image:
        image = image.convert("RGB")
        if size is not None:
            image = image.resize((size[1], size[0]), Image.LANCZOS)
        elif max_side is not None and max(image.size) > max_side:
            scale = max_side / max(image.size)
            image = image.resize(
                (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                Image.LANCZOS,
            )
        array = np.asarray(image, dtype=np.float32) / 255.0
    if multiple > 1:
        height = array.shape[0] - array.shape[0] % multiple
        width = array.shape[1] - array.shape[1] % multiple
        array = array[:height, :width]
    return array


def to_uint8(image) -> np.ndarray:
    """``(H, W, 3)`` or ``(1, H, W, 3)`` floats in ``[0, 1]`` -> uint8."""
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4:
        array = array[0]
    return np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)


def save_image(image, path: str | Path) -> Path:
    """Saves ``image`` (floats in ``[0, 1]``) as PNG or JPEG, by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(image)).save(path)
    return path


def side_by_side(images: Sequence, height: int | None = None, gap: int = 4) -> np.ndarray:
    """Images scaled to one height and placed left to right with a white gap."""
    arrays = [to_uint8(image) for image in images]
    height = height or max(array.shape[0] for array in arrays)
    row = []
    for array in arrays:
        width = max(1, round(array.shape[1] * height / array.shape[0]))
        row.append(np.asarray(Image.fromarray(array).resize((width, height), Image.LANCZOS)))
        row.append(np.full((height, gap, 3), 255, np.uint8))
    return np.concatenate(row[:-1], axis=1).astype(np.float32) / 255.0


def save_side_by_side(images: Sequence, path: str | Path, height: int | None = None) -> Path:
    """Saves :func:`side_by_side` of ``images`` as a PNG (e.g. content | style | result)."""
    return save_image(side_by_side(images, height=height), path)


def panels_figure(
    images: Sequence, titles: Sequence[str], title: str | None = None, panel_height: float = 2.6
):
    """A matplotlib figure with one titled panel per image, left to right.

    Args:
        images: ``(H, W, 3)`` (or ``(1, H, W, 3)``) floats in ``[0, 1]``.
        titles: one title per image (what the panel shows: "photo", "zero padding", ...).
        title: the figure's title.
        panel_height: the height of a panel in inches.

    Returns:
        A ``matplotlib.figure.Figure`` (Agg backend, not shown); each axis has its title
        and ``"W x H px"`` as its x label.
    """
    from matplotlib.figure import Figure

    arrays = [to_uint8(image) for image in images]
    if len(titles) != len(arrays):
        raise ValueError(
            f"Received: {len(titles)} titles for {len(arrays)} images, expected one title per image"
        )
    widths = [array.shape[1] / array.shape[0] for array in arrays]
    figure = Figure(
        figsize=(
            panel_height * sum(widths) + 0.3 * len(arrays),
            panel_height + (0.9 if title else 0.6),
        ),
        layout="constrained",
    )
    axes = figure.subplots(1, len(arrays), squeeze=False, width_ratios=widths)[0]
    for axis, array, name in zip(axes, arrays, titles):
        axis.imshow(array, interpolation="nearest")
        axis.set_title(name, fontsize=10)
        axis.set_xlabel(f"{array.shape[1]} x {array.shape[0]} px", fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    if title:
        figure.suptitle(title, fontsize=11)
    return figure


def save_panels(
    images: Sequence,
    titles: Sequence[str],
    path: str | Path,
    title: str | None = None,
    dpi: int = 100,
) -> Path:
    """Saves :func:`panels_figure` as a PNG; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    panels_figure(images, titles, title).savefig(path, dpi=dpi)
    return path

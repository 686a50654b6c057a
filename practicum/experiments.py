"""The handout's fast-style experiments (A3 3.5, questions 1-3) as functions with numbers.

Each takes trained transformation networks (``keras.Model`` s from ``fast_style``: images
``(B, H, W, 3)`` in ``[0, 1]`` -> the same shape) and a photo ``(H, W, 3)`` with ``H`` and
``W`` divisible by 4, returns a dict of plain numbers and, with ``save_to``, saves a
figure (a PNG with one titled panel per image compared, ``practicum.images.save_panels``)
and lists the panels' titles under ``"panels"``::

    net = fast_style.pretrained("starry_night")
    repeated_application(net, photo, passes=4, save_to="build/style/repeated.png")
    chained_vs_direct(net_a, net_b, photo)          # {"ssim": ..., "psnr": ...}
    padding_comparison(net, photo)                  # border artifacts of zero padding
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from practicum import images as image_io


def _run(net, image: np.ndarray) -> np.ndarray:
    return np.asarray(net(tf.constant(image[np.newaxis], tf.float32), training=False))[0]


def _save(images, titles: list[str], path: str | Path, title: str) -> list[str]:
    """Saves one titled panel per image (``practicum.images.save_panels``); returns the
    panels' titles, which the experiment's result lists under ``"panels"``."""
    image_io.save_panels(images, titles, path, title=title)
    return list(titles)


def border_mask(height: int, width: int, band: int) -> np.ndarray:
    """True on the outer ``band`` pixels of an ``height x width`` image."""
    mask = np.zeros((height, width), bool)
    mask[:band], mask[-band:], mask[:, :band], mask[:, -band:] = True, True, True, True
    return mask


def border_minus_centre(image: np.ndarray, band: int = 8) -> float:
    """Mean brightness of the ``band``-pixel frame minus that of the rest of the image."""
    brightness = np.asarray(image, np.float64).mean(axis=-1)
    mask = border_mask(*brightness.shape, band)
    return float(brightness[mask].mean() - brightness[~mask].mean())


def repeated_application(
    net, image, passes: int = 5, band: int = 8, save_to: str | Path | None = None
) -> dict:
    """Question 1: the same filter applied ``passes`` times.

    Returns:
        ``{"drift": [mean |pass k - pass k-1| per pass], "border_minus_centre": [per
        image, the photo first], "distance_from_photo": [mean |pass k - photo|]}``.
    """
    image = np.asarray(image, np.float32)
    outputs = [image]
    for _ in range(passes):
        outputs.append(_run(net, outputs[-1]))
    drift = [float(np.abs(b - a).mean()) for a, b in zip(outputs, outputs[1:])]
    result = {
        "drift": drift,
        "border_minus_centre": [border_minus_centre(x, band) for x in outputs],
        "distance_from_photo": [float(np.abs(x - image).mean()) for x in outputs[1:]],
    }
    if save_to is not None:
        titles = ["photo"] + [f"pass {k}" for k in range(1, passes + 1)]
        result["panels"] = _save(
            outputs, titles, save_to, f"The same network applied {passes} times"
        )
    return result


def psnr(a, b) -> float:
    """Peak signal-to-noise ratio in dB of two images in ``[0, 1]``."""
    return float(tf.image.psnr(tf.constant(a, tf.float32), tf.constant(b, tf.float32), 1.0))


def ssim(a, b) -> float:
    """Structural similarity (``tf.image.ssim``) of two images in ``[0, 1]``: 1 is identical."""
    return float(tf.image.ssim(tf.constant(a, tf.float32), tf.constant(b, tf.float32), 1.0))


def chained_vs_direct(first, second, image, save_to: str | Path | None = None) -> dict:
    """Question 2: ``second(first(photo))`` against ``second(photo)``.

    Returns:
        ``{"ssim", "psnr", "mean_abs_difference"}`` of the two results, and for scale the
        same numbers for ``second(photo)`` against the photo itself (``*_to_photo``).
    """
    image = np.asarray(image, np.float32)
    chained = _run(second, _run(first, image))
    direct = _run(second, image)
    result = {
        "ssim": ssim(chained, direct),
        "psnr": psnr(chained, direct),
        "mean_abs_difference": float(np.abs(chained - direct).mean()),
        "ssim_direct_to_photo": ssim(direct, image),
        "psnr_direct_to_photo": psnr(direct, image),
    }
    if save_to is not None:
        result["panels"] = _save(
            [image, _run(first, image), chained, direct],
            ["photo", "first(photo)", "second(first(photo))", "second(photo)"],
            save_to,
            "Two styles chained against the second alone",
        )
    return result


def zero_padded_copy(net: keras.Model) -> keras.Model:
    """The same network and weights, with every reflection padding replaced by zero padding
    (``keras.layers.ZeroPadding2D``): what the network would do with ``padding="same"``."""

    def clone(layer):
        if "Reflection" in type(layer).__name__:
            return keras.layers.ZeroPadding2D(layer.padding, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(net, clone_function=clone)
    for source, target in zip(net.layers, copy.layers):
        if source.weights:
            target.set_weights(source.get_weights())
    return copy


def padding_comparison(net, image, band: int = 8, save_to: str | Path | None = None) -> dict:
    """Question 1's padding artifacts: the network with reflection padding against the same
    weights with zero padding.

    Returns:
        ``{"reflect_border_minus_centre", "zero_border_minus_centre"}`` (mean brightness of
        the frame minus the centre), ``"border_change"`` and ``"centre_change"``: mean
        ``|zero - reflect|`` in the frame and in the centre.
    """
    image = np.asarray(image, np.float32)
    reflected = _run(net, image)
    zeroed = _run(zero_padded_copy(net), image)
    change = np.abs(zeroed - reflected).mean(axis=-1)
    mask = border_mask(*change.shape, band)
    result = {
        "reflect_border_minus_centre": border_minus_centre(reflected, band),
        "zero_border_minus_centre": border_minus_centre(zeroed, band),
        "border_change": float(change[mask].mean()),
        "centre_change": float(change[~mask].mean()),
    }
    if save_to is not None:
        result["panels"] = _save(
            [image, reflected, zeroed],
            ["photo", "reflection padding", "zero padding (same weights)"],
            save_to,
            "Reflection against zero padding",
        )
    return result

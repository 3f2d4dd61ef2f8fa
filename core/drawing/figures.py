"""Pixel attributions drawn over their image as a matplotlib figure (Agg: no window is ever opened).

Attributions are summed over channels, the ``sign`` asked for is kept (``all``, ``positive``, ``negative`` or
``absolute``) and divided by the value above which the top ``outlier_threshold`` share of their total magnitude
lies, so that a few outliers saturate instead of washing the rest out (captum's scaling, which
transformers-interpret uses). Methods: ``heatmap`` (the scaled values in colour), ``overlay`` (that heatmap
blended over the image in grey), ``masked_image`` (the image dimmed to black where attributions are low) and
``alpha_scaling`` (the image made transparent, showing white, where they are low); the last two show magnitudes
only, so they take no ``sign="all"``. Signed values use the project's diverging scale (``positive`` and
``negative`` its green and pink halves); magnitudes (``absolute``) a sequential blue.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from PIL import Image

from attrix.drawing.colors import colormap
from attrix.drawing.pictures import rgb_pixels
from attrix.errors import InputError, UnknownNameError

METHODS = ("heatmap", "overlay", "masked_image", "alpha_scaling")
SIGNS = ("all", "positive", "negative", "absolute")
MAGNITUDE_METHODS = ("masked_image", "alpha_scaling")
"""Methods that show how large attributions are but not their sign."""
COLORBAR_LABELS = {
    "all": "attribution (scaled)",
    "positive": "positive attribution (scaled)",
    "negative": "negative attribution, magnitude (scaled)",
    "absolute": "|attribution| (scaled)",
}
MAGNITUDE_COLORMAP = "Blues"
OVERLAY_ALPHA = 0.5
"""The heatmap's weight when blended over the grey image."""

DPI = 100
PANEL_WIDTH = 4.0
"""Inches per panel; a side-by-side figure is two panels wide, each drawn the same."""
MARGIN = 0.2
IMAGE_WIDTH = PANEL_WIDTH - 2 * MARGIN
TITLE_SPACE = 0.5
COLORBAR_GAP, COLORBAR_HEIGHT, COLORBAR_LABELS_SPACE = 0.1, 0.15, 0.5
BOTTOM_SPACE = COLORBAR_GAP + COLORBAR_HEIGHT + COLORBAR_LABELS_SPACE
"""Kept under every panel, with or without a colour bar, so that panels line up."""


def check_options(method: str, sign: str, outlier_threshold: float) -> None:
    """Raise a clear error for an unknown method or sign, a sign the method cannot show, or a bad threshold."""
    if method not in METHODS:
        raise UnknownNameError("method", method, METHODS)
    if sign not in SIGNS:
        raise UnknownNameError("sign", sign, SIGNS)
    if sign == "all" and method in MAGNITUDE_METHODS:
        valid = ", ".join(s for s in SIGNS if s != "all")
        raise InputError(f"method {method!r} shows magnitudes only and cannot show sign 'all'; use one of: {valid}")
    if isinstance(outlier_threshold, bool) or not isinstance(outlier_threshold, (int, float)) or not 0 <= outlier_threshold <= 1:
        raise InputError(
            f"outlier_threshold must be a number in [0, 1] (the share of the total attribution that saturates), "
            f"got {outlier_threshold!r}"
        )


def pixel_map(attributions: Any, size: tuple[int, int]) -> np.ndarray:
    """Attributions ``(height, width)`` or channels-first ``(channels, height, width)``, summed over channels."""
    values = np.asarray(attributions, dtype=np.float64)
    if values.ndim not in (2, 3) or values.shape[-2:] != size:
        raise InputError(
            f"attributions must be (height, width) or (channels, height, width) with the image's size {size}, "
            f"got shape {values.shape}"
        )
    return values.sum(0) if values.ndim == 3 else values


def outlier_bound(magnitudes: np.ndarray, outlier_threshold: float) -> float:
    """The smallest magnitude among the largest ones that together make ``outlier_threshold`` of the total."""
    ordered = np.sort(magnitudes, axis=None)
    cumulative = np.cumsum(ordered)
    if cumulative[-1] <= 0:
        return 0.0
    return float(ordered[np.argmax(cumulative >= cumulative[-1] * (1 - outlier_threshold))])


def scaled(values: np.ndarray, sign: str, outlier_threshold: float) -> np.ndarray:
    """The ``sign`` part of ``values`` divided by their outlier bound and clipped: in [-1, 1] for ``all``, [0, 1]
    otherwise (``negative`` as magnitudes); all zeros where that part is empty."""
    chosen = {"all": values, "positive": np.maximum(values, 0), "negative": np.maximum(-values, 0), "absolute": np.abs(values)}[
        sign
    ]
    bound = outlier_bound(np.abs(chosen), outlier_threshold)
    return np.clip(chosen / bound, -1, 1) if bound > 0 else np.zeros_like(chosen)


def color_scale(sign: str) -> tuple[Colormap, Normalize]:
    """The colours of scaled values of ``sign``: the diverging scale, one of its halves, or blue magnitudes."""
    if sign == "all":
        return colormap(), Normalize(-1, 1)
    if sign == "absolute":
        return colormaps[MAGNITUDE_COLORMAP], Normalize(0, 1)
    half = np.linspace(0.5, 1.0, 256) if sign == "positive" else np.linspace(0.5, 0.0, 256)
    return ListedColormap(colormap()(half), name=f"{colormap().name}_{sign}"), Normalize(0, 1)


def draw(values: np.ndarray, pixels: np.ndarray, method: str, sign: str, outlier_threshold: float) -> np.ndarray:
    """The drawn picture, RGBA floats in [0, 1] ``(height, width, 4)``, of per-pixel ``values`` over uint8 ``pixels``."""
    amounts = scaled(values, sign, outlier_threshold)
    picture = pixels.astype(np.float64) / 255
    opaque = np.ones_like(amounts)[..., None]
    if method == "masked_image":
        return np.concatenate([picture * amounts[..., None], opaque], axis=-1)
    if method == "alpha_scaling":
        return np.concatenate([picture, amounts[..., None]], axis=-1)
    cmap, norm = color_scale(sign)
    heat = cmap(norm(amounts))[..., :3]
    if method == "overlay":
        grey = picture.mean(-1, keepdims=True)
        heat = (1 - OVERLAY_ALPHA) * grey + OVERLAY_ALPHA * heat
    return np.concatenate([heat, opaque], axis=-1)


def _panel(figure: Figure, column: int, picture: np.ndarray, label: str, title: str | None) -> Axes:
    """An axes exactly the picture's shape in ``column``, labelled ``label`` (``original`` or ``attributions``)."""
    width, height = figure.get_size_inches()
    image_height = IMAGE_WIDTH * picture.shape[0] / picture.shape[1]
    axes = figure.add_axes(
        (
            (column * PANEL_WIDTH + MARGIN) / width,
            BOTTOM_SPACE / height,
            IMAGE_WIDTH / width,
            image_height / height,
        ),
        label=label,
    )
    axes.imshow(picture, aspect="auto", interpolation="nearest")
    axes.set_axis_off()
    if title:
        axes.set_title(title, fontsize=10)
    return axes


def _colorbar(figure: Figure, column: int, sign: str) -> None:
    width, height = figure.get_size_inches()
    bar = figure.add_axes(
        (
            (column * PANEL_WIDTH + MARGIN) / width,
            COLORBAR_LABELS_SPACE / height,
            IMAGE_WIDTH / width,
            COLORBAR_HEIGHT / height,
        ),
        label="colorbar",
    )
    cmap, norm = color_scale(sign)
    figure.colorbar(ScalarMappable(norm, cmap), cax=bar, orientation="horizontal")
    bar.set_xlabel(COLORBAR_LABELS[sign], fontsize=8)
    bar.tick_params(labelsize=8)


def image_figure(
    attributions: Any,
    image: Image.Image | np.ndarray,
    *,
    method: str = "overlay",
    sign: str = "all",
    outlier_threshold: float = 0.1,
    side_by_side: bool = False,
    title: str | None = None,
    save_path: str | Path | None = None,
) -> Figure:
    """Draw ``attributions`` (``(height, width)`` or ``(channels, height, width)``) over ``image`` of that size.

    ``side_by_side`` puts the image itself on the left, doubling the width. The panels' axes are labelled
    ``original``, ``attributions`` and ``colorbar`` (heatmap and overlay only). Written to ``save_path`` when given,
    as PNG unless its suffix names another format matplotlib writes.
    """
    check_options(method, sign, outlier_threshold)
    pixels = rgb_pixels(image)
    values = pixel_map(attributions, pixels.shape[:2])
    columns = 2 if side_by_side else 1
    image_height = IMAGE_WIDTH * pixels.shape[0] / pixels.shape[1]
    figure = Figure(figsize=(PANEL_WIDTH * columns, TITLE_SPACE + image_height + BOTTOM_SPACE), dpi=DPI)
    FigureCanvasAgg(figure)
    if side_by_side:
        _panel(figure, 0, pixels, "original", "Original Image")
    _panel(figure, columns - 1, draw(values, pixels, method, sign, outlier_threshold), "attributions", title)
    if method not in MAGNITUDE_METHODS:
        _colorbar(figure, columns - 1, sign)
    if save_path:
        figure.savefig(save_path, dpi=DPI)
    return figure


def literal(text: str) -> str:
    """``text`` with its dollar signs escaped, so that matplotlib draws them rather than reading maths."""
    return text.replace("$", r"\$")


def png_bytes(figure: Figure) -> bytes:
    """``figure`` as PNG bytes."""
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()

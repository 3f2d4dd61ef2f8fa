"""Reading a drawn figure back: the pixels of one of its panels in the PNG it wrote."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image


def panel(png, figure: Figure, label: str, shape: tuple[int, int]) -> np.ndarray:
    """The written PNG's pixels at the centre of each image pixel of the axes labelled ``label``: uint8 (h, w, 3)."""
    pixels = np.asarray(Image.open(png).convert("RGB"))
    axes: Axes = next(a for a in figure.axes if a.get_label() == label)
    box = axes.get_window_extent()
    rows = (pixels.shape[0] - box.y1 + (np.arange(shape[0]) + 0.5) * box.height / shape[0]).astype(int)
    columns = (box.x0 + (np.arange(shape[1]) + 0.5) * box.width / shape[1]).astype(int)
    return pixels[rows][:, columns]

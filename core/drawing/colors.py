"""The one diverging colour scale every renderer uses: negative pink, zero white, positive green."""

from __future__ import annotations

from functools import cache

from matplotlib import colormaps
from matplotlib.colors import Colormap

COLORMAP_NAME = "PiYG"


@cache
def colormap() -> Colormap:
    """The matplotlib colormap behind the scale."""
    return colormaps[COLORMAP_NAME]


def scale(value: float, bound: float) -> float:
    """``value`` mapped into [0, 1] with 0 at 0.5, saturating at ±``bound``."""
    if bound <= 0:
        return 0.5
    return 0.5 + 0.5 * max(-1.0, min(1.0, value / bound))


def css_color(value: float, bound: float) -> str:
    """The CSS ``rgb(...)`` of ``value`` on the scale bounded by ±``bound``."""
    red, green, blue, _ = colormap()(scale(value, bound))
    return f"rgb({round(red * 255)}, {round(green * 255)}, {round(blue * 255)})"

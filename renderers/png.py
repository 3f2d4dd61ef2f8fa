"""``png``: explanations drawn with matplotlib (Agg, no window): a text heatmap, a bar chart, or image attributions.

Figures: ``text``, the words (or tokens) of each target on the diverging scale of the HTML, wrapped to the width,
with a legend at the bottom; ``bars``, the ``top_k`` words of largest magnitude per target, coloured on the same
scale; ``image``, each target's pixel attributions drawn by ``image_figures`` (``method``, ``sign``,
``outlier_threshold``, ``side_by_side``); ``auto``, ``image`` for image explanations, the generation figure of
``generation_figures`` (the step × word heatmap over each word's total) for generations, and ``text`` otherwise.
Several explanations (and several targets of an image explanation) are stacked top to bottom into one PNG, each
figure left-aligned on a white background as wide as the widest.
"""

from __future__ import annotations

import os
from io import BytesIO
from typing import Annotated, Any, Literal, Mapping, Sequence

import numpy as np
from annotated_types import Ge, Interval
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from PIL import Image

from attrix.contracts.explanation import Explanation
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.options import options_of
from attrix.contracts.renderer import Renderer
from attrix.drawing.colors import colormap, scale
from attrix.drawing.figures import check_options, image_figure, literal
from attrix.drawing.pictures import pixels_of_data_uri, rgb_pixels
from attrix.errors import InputError
from attrix.renderers.generation_figures import generation_figure
from attrix.renderers.pieces import (
    heading,
    is_generation,
    is_image,
    pieces,
    prediction,
    steps,
    strongest,
    title,
    unconverged,
)

DPI = 100
WIDTH = 900
"""Pixels: the width of text and bar figures."""
MARGIN, INDENT, LINE, BOX_HEIGHT, PAD, GAP, SECTION_GAP = 16, 12, 30, 24, 4, 4, 8
"""Pixels of the text heatmap's layout."""
FONT_SIZE = 12
BAR_ROW, BAR_HEADER = 0.3, 0.9
"""Inches per bar, and per target for its title and axis."""
LEGEND_HEIGHT = 44


class PngRenderer(Renderer):
    """PNG figures: a text heatmap, the top words as bars, image attributions, or a generation's step × word heatmap;
    several explanations stacked."""

    name = "png"
    suffix = ".png"

    def __init__(
        self,
        *,
        figure: Literal["auto", "text", "bars", "image"] = "auto",
        view: Literal["words", "tokens"] = "words",
        top_k: Annotated[int, Ge(1)] = 10,
        method: Literal["heatmap", "overlay", "masked_image", "alpha_scaling"] = "overlay",
        sign: Literal["all", "positive", "negative", "absolute"] = "all",
        outlier_threshold: Annotated[float, Interval(ge=0, le=1)] = 0.1,
        side_by_side: bool = False,
    ) -> None:
        self.figure, self.view, self.top_k = figure, view, top_k
        self.method, self.sign, self.outlier_threshold, self.side_by_side = method, sign, outlier_threshold, side_by_side

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """The rule image figures keep between ``method`` and ``sign``: a method that shows magnitudes has no sign 'all'."""
        given = {name: options.get(name, parameter.default) for name, parameter in options_of(cls).items()}
        check_options(given["method"], given["sign"], given["outlier_threshold"])

    def render(self, explanations: Sequence[Explanation]) -> bytes:
        if not explanations:
            raise InputError("there is nothing to draw: give at least one explanation")
        kinds = [self.kind(number, explanation) for number, explanation in enumerate(explanations)]
        figures = [figure for kind, e in zip(kinds, explanations) for figure in self.figures(kind, e)]
        if {"text", "generation"} & set(kinds):
            figures.append(legend_figure())
        return stacked_png(figures)

    def kind(self, number: int, explanation: Explanation) -> str:
        """The figure ``explanation`` (the ``number``-th) gets; a clear error when it cannot get the one asked for."""
        image = is_image(explanation)
        if self.figure == "auto":
            return "image" if image else "generation" if is_generation(explanation) and steps(explanation) else "text"
        if image and self.figure != "image":
            raise InputError(
                f"explanation {number} ({title(explanation)[:60]}) attributes pixels, which figure={self.figure!r} "
                f"cannot draw: use figure='image' or 'auto'"
            )
        if not image and self.figure == "image":
            raise InputError(
                f"explanation {number} ({title(explanation)[:60]}) attributes tokens, not pixels: "
                f"use figure='text', 'bars' or 'auto'"
            )
        return self.figure

    def figures(self, kind: str, explanation: Explanation) -> list[Figure]:
        """The figures of one explanation: one, or one per target for an image."""
        if kind == "generation":
            return [generation_figure(explanation)]
        if kind == "text":
            return [text_figure(explanation, self.view)]
        if kind == "bars":
            return [bars_figure(explanation, self.view, self.top_k)]
        pixels = self.pixels(explanation)
        return [
            image_figure(
                target.array,
                pixels,
                method=self.method,
                sign=self.sign,
                outlier_threshold=self.outlier_threshold,
                side_by_side=self.side_by_side,
                title=f"toward {target.label} · {prediction(explanation)}",
            )
            for target in explanation.targets
        ]

    def pixels(self, explanation: Explanation) -> np.ndarray:
        """The image to draw over: the one the explanation carries, else a grey one where only a heatmap is drawn."""
        pixels = original_pixels(explanation)
        if pixels is not None:
            return pixels
        if self.method == "heatmap" and not self.side_by_side:
            height, width = np.shape(explanation.targets[0].array)[-2:]
            return np.full((height, width, 3), 128, dtype=np.uint8)
        raise InputError(
            f"the explanation of {title(explanation)[:60]!r} carries neither its image (details['image']) nor the path "
            f"of an image file, which method={self.method!r}{' with side_by_side' if self.side_by_side else ''} "
            f"draws over: use method='heatmap' without side_by_side, or explain the image from its file"
        )


def original_pixels(explanation: Explanation) -> np.ndarray | None:
    """The image the model saw, uint8 ``(height, width, 3)``: ``details["image"]`` (a PNG data URI), else the input
    file resized to ``details["image_size"]`` (exact for processors that resize without cropping); None if neither."""
    if "image" in explanation.details:
        return pixels_of_data_uri(explanation.details["image"])
    source, size = explanation.inputs.get("image"), explanation.details.get("image_size")
    if not (isinstance(source, str) and os.path.isfile(source) and size):
        return None
    height, width = size
    with Image.open(source) as image:
        return rgb_pixels(image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))


def text_width(text: str, weight: str = "normal") -> float:
    """Pixels ``text`` takes at the heatmap's font size."""
    font = FontProperties(size=FONT_SIZE, weight=weight)
    return RendererAgg(1, 1, DPI).get_text_width_height_descent(text, font, ismath=False)[0]


def fitted(text: str, width: float, weight: str = "normal") -> str:
    """``text``, cut and ended with an ellipsis where it is wider than ``width`` pixels."""
    if text_width(text, weight) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if text_width(text[:middle] + "…", weight) <= width else (low, middle - 1)
    return text[:low] + "…"


def text_figure(explanation: Explanation, view: str) -> Figure:
    """The input's words (or tokens) per target, each on a box coloured by its score, wrapped to ``WIDTH``.

    Boxes are patches with ``gid`` ``piece-<target>-<piece>``, so that tests can find where each one is drawn.
    """
    lines: list[tuple[float, str, str]] = []
    boxes: list[tuple[float, float, float, str, float, float, str]] = []
    right = WIDTH - MARGIN
    y = MARGIN
    for text, weight in ((title(explanation), "bold"), (prediction(explanation), "normal")):
        lines.append((y, fitted(text, right - MARGIN, weight), weight))
        y += LINE
    if not explanation.targets:
        lines.append((y, "no target explained", "normal"))
        y += LINE
    for number, target in enumerate(explanation.targets):
        about = f"toward {heading(explanation, target)}: sum {target.total:+.3f}, delta {target.delta:+.1e}"
        about += " (NOT CONVERGED)" if unconverged(target) else ""
        lines.append((y, fitted(about, right - MARGIN, "bold"), "bold"))
        y += LINE
        scored = pieces(explanation, target, view)
        bound = max((abs(piece.score) for piece in scored), default=0.0)
        x, sequence = MARGIN + INDENT, scored[0].sequence if scored else 0
        for index, piece in enumerate(scored):
            width = text_width(piece.text) + 2 * PAD
            if x > MARGIN + INDENT and (x + width > right or piece.sequence != sequence):
                x, y = MARGIN + INDENT, y + LINE
            boxes.append((x, y, width, piece.text, piece.score, bound, f"piece-{number}-{index}"))
            x, sequence = x + width + GAP, piece.sequence
        y += LINE + SECTION_GAP
    height = y + MARGIN
    figure, axes = _pixel_canvas(WIDTH, height)
    for top, text, weight in lines:
        axes.text(MARGIN, top + LINE / 2, text, va="center", fontsize=FONT_SIZE, weight=weight, parse_math=False)
    for x, top, width, text, score, bound, gid in boxes:
        box_top = top + (LINE - BOX_HEIGHT) / 2
        axes.add_patch(Rectangle((x, box_top), width, BOX_HEIGHT, facecolor=colormap()(scale(score, bound)), edgecolor="none", gid=gid))
        ink = "white" if bound > 0 and abs(score) > 0.6 * bound else "#222222"
        axes.text(x + PAD, box_top + BOX_HEIGHT / 2, text, va="center", fontsize=FONT_SIZE, color=ink, parse_math=False)
    return figure


def _pixel_canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """An Agg figure ``width`` x ``height`` pixels with one axis-less axes whose data coordinates are those pixels, y down."""
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.set_axis_off()
    return figure, axes


def bars_figure(explanation: Explanation, view: str, top_k: int) -> Figure:
    """Per target, the ``top_k`` words (or tokens) of largest magnitude as horizontal bars, largest score on top.

    Each target's bars are coloured on the scale bounded by its largest magnitude, as in the text heatmap.
    """
    if not explanation.targets:
        return text_figure(explanation, view)
    chosen = [strongest(pieces(explanation, target, view), top_k) for target in explanation.targets]
    heights = [BAR_HEADER + BAR_ROW * max(len(top), 1) for top in chosen]
    figure = Figure(figsize=(WIDTH / DPI, sum(heights) + 0.4), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(literal(f"{title(explanation)[:90]} · {prediction(explanation)}"), fontsize=FONT_SIZE, weight="bold")
    for axes, target, top in zip(figure.subplots(len(chosen), 1, squeeze=False, height_ratios=heights)[:, 0], explanation.targets, chosen):
        bound = max((abs(piece.score) for piece in pieces(explanation, target, view)), default=0.0)
        rows = np.arange(len(top))
        axes.barh(rows, [piece.score for piece in top], color=[colormap()(scale(piece.score, bound)) for piece in top], edgecolor="#555555", linewidth=0.5)
        axes.set_yticks(rows, [literal(piece.text) for piece in top])
        axes.set_ylim(len(top) - 0.5, -0.5)
        axes.axvline(0, color="#333333", linewidth=0.8)
        if bound > 0:
            axes.set_xlim(-1.05 * bound, 1.05 * bound)
        axes.set_title(literal(f"toward {heading(explanation, target)}"), fontsize=FONT_SIZE - 1, loc="left")
        axes.set_xlabel("attribution")
    return figure


def legend_figure() -> Figure:
    """The diverging scale from 'pushes against' to 'pushes toward', as wide as the text figures."""
    figure, axes = _pixel_canvas(WIDTH, LEGEND_HEIGHT)
    middle = LEGEND_HEIGHT / 2
    bar_left, bar_width = MARGIN + 130, 300
    axes.text(MARGIN, middle, "pushes against", va="center", fontsize=FONT_SIZE - 2)
    axes.imshow(np.linspace(0, 1, 256)[None], cmap=colormap(), vmin=0, vmax=1, aspect="auto",
                extent=(bar_left, bar_left + bar_width, middle + 7, middle - 7))
    axes.add_patch(Rectangle((bar_left, middle - 7), bar_width, 14, fill=False, edgecolor="#cccccc"))
    axes.text(bar_left + bar_width + 10, middle, "pushes toward", va="center", fontsize=FONT_SIZE - 2)
    axes.set_xlim(0, WIDTH)
    axes.set_ylim(LEGEND_HEIGHT, 0)
    return figure


def figure_pixels(figure: Figure) -> np.ndarray:
    """``figure`` drawn: uint8 RGB ``(height, width, 3)``."""
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def stacked_png(figures: Sequence[Figure]) -> bytes:
    """``figures`` drawn top to bottom, left-aligned on white as wide as the widest, as PNG bytes."""
    drawn = [figure_pixels(figure) for figure in figures]
    width = max(pixels.shape[1] for pixels in drawn)
    padded = [np.pad(pixels, ((0, 0), (0, width - pixels.shape[1]), (0, 0)), constant_values=255) for pixels in drawn]
    buffer = BytesIO()
    Image.fromarray(np.concatenate(padded)).save(buffer, format="png")
    return buffer.getvalue()


@hookimpl
def register_renderers(register):
    register(PngRenderer)

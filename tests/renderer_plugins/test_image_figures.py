"""Image attribution figures: what each method and sign draws where, layout, scaling and bad arguments."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

import attrix
from attrix.drawing.colors import colormap
from attrix.drawing.figures import (
    DPI,
    MAGNITUDE_METHODS,
    METHODS,
    PANEL_WIDTH,
    SIGNS,
    image_figure,
)
from attrix.drawing.pictures import pixels_of_data_uri, png_data_uri
from helpers.figures import panel

SIZE = 32
GREY = np.full((SIZE, SIZE, 3), 128, dtype=np.uint8)
VALID = [(m, s) for m, s in itertools.product(METHODS, SIGNS) if not (s == "all" and m in MAGNITUDE_METHODS)]


def quadrant(value: float, corner: str = "top-left") -> np.ndarray:
    """Channels-first attributions, ``value`` split over the channels in one quadrant, zero elsewhere."""
    values = np.zeros((3, SIZE, SIZE))
    rows = slice(0, SIZE // 2) if corner.startswith("top") else slice(SIZE // 2, SIZE)
    columns = slice(0, SIZE // 2) if corner.endswith("left") else slice(SIZE // 2, SIZE)
    values[:, rows, columns] = value / 3
    return values


def regions(drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The top-left quadrant's pixels and everyone else's, as (n, 3) int arrays."""
    mask = np.zeros(drawn.shape[:2], dtype=bool)
    mask[: SIZE // 2, : SIZE // 2] = True
    return drawn[mask].astype(int), drawn[~mask].astype(int)


def rgb255(value: float) -> np.ndarray:
    return np.array(colormap()(value)[:3]) * 255


@pytest.mark.parametrize("method, sign", VALID)
def test_the_high_quadrant_is_drawn_apart_from_the_rest(tmp_path, method, sign):
    path = tmp_path / "figure.png"
    figure = image_figure(quadrant(-5.0 if sign == "negative" else 5.0), GREY, method=method, sign=sign, save_path=path)
    assert Image.open(path).size == (PANEL_WIDTH * DPI, round(figure.get_size_inches()[1] * DPI))
    high, rest = regions(panel(path, figure, "attributions", (SIZE, SIZE)))
    assert np.ptp(high, axis=0).max() <= 1 and np.ptp(rest, axis=0).max() <= 1  # each region one colour
    assert np.abs(high.mean(0) - rest.mean(0)).sum() > 60


def test_signed_heatmap_uses_the_diverging_scale(tmp_path):
    path = tmp_path / "signed.png"
    values = quadrant(4.0, "top-left") + quadrant(-4.0, "bottom-right")
    figure = image_figure(values, GREY, method="heatmap", sign="all", outlier_threshold=0.0, save_path=path)
    drawn = panel(path, figure, "attributions", (SIZE, SIZE)).astype(float)
    assert np.abs(drawn[0, 0] - rgb255(1.0)).max() <= 2  # green end
    assert np.abs(drawn[-1, -1] - rgb255(0.0)).max() <= 2  # pink end
    assert np.abs(drawn[0, -1] - rgb255(0.5)).max() <= 2  # zero: the white middle


def test_each_sign_keeps_its_part(tmp_path):
    values = quadrant(4.0, "top-left") + quadrant(-4.0, "bottom-right")
    drawn = {}
    for sign in ("positive", "negative", "absolute"):
        path = tmp_path / f"{sign}.png"
        figure = image_figure(values, GREY, method="masked_image", sign=sign, save_path=path)
        drawn[sign] = panel(path, figure, "attributions", (SIZE, SIZE)).astype(int)
    zero = drawn["positive"][0, -1]
    assert (zero == 0).all()  # masked to black where nothing is shown
    assert (drawn["positive"][0, 0] > 120).all() and (drawn["positive"][-1, -1] == zero).all()
    assert (drawn["negative"][-1, -1] > 120).all() and (drawn["negative"][0, 0] == zero).all()
    assert (drawn["absolute"][0, 0] == drawn["absolute"][-1, -1]).all() and (drawn["absolute"][0, 0] > 120).all()


def test_outlier_threshold_lets_the_largest_values_saturate(tmp_path):
    values = np.ones((SIZE, SIZE))
    values[0, 0] = (SIZE * SIZE - 1) * 1.5  # the one outlier is 60 % of the total
    drawn = {}
    for threshold in (0.1, 0.7):
        path = tmp_path / f"{threshold}.png"
        figure = image_figure(values, GREY, method="heatmap", sign="positive", outlier_threshold=threshold, save_path=path)
        drawn[threshold] = panel(path, figure, "attributions", (SIZE, SIZE)).astype(float)
    # 10 %: scaled by the outlier, the rest stay near white; 70 %: the outlier's mass is cut, the rest saturate
    assert np.abs(drawn[0.1][5, 5] - rgb255(0.5)).max() <= 3
    assert np.abs(drawn[0.7][5, 5] - rgb255(1.0)).max() <= 2
    assert np.abs(drawn[0.1][0, 0] - rgb255(1.0)).max() <= 2


def test_side_by_side_doubles_the_width_and_shows_the_image(tmp_path):
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    values = rng.normal(size=(3, 24, 40))
    single = image_figure(values, picture, save_path=tmp_path / "single.png")
    double = image_figure(values, picture, side_by_side=True, save_path=tmp_path / "double.png")
    width, height = Image.open(tmp_path / "single.png").size
    assert Image.open(tmp_path / "double.png").size == (2 * width, height)
    assert (panel(tmp_path / "double.png", double, "original", (24, 40)) == picture).all()
    assert (panel(tmp_path / "double.png", double, "attributions", (24, 40)) == panel(tmp_path / "single.png", single, "attributions", (24, 40))).all()
    box = next(a for a in double.axes if a.get_label() == "attributions").get_window_extent()
    assert box.width / box.height == pytest.approx(40 / 24, rel=0.01)


def test_figures_draw_on_agg_and_only_write_when_asked(tmp_path):
    figure = image_figure(quadrant(1.0), Image.fromarray(GREY), method="heatmap", sign="absolute")
    assert isinstance(figure.canvas, FigureCanvasAgg)
    assert list(tmp_path.iterdir()) == []
    assert [a.get_label() for a in figure.axes] == ["attributions", "colorbar"]


def test_all_zero_attributions_draw_a_uniform_panel(tmp_path):
    path = tmp_path / "zero.png"
    figure = image_figure(np.zeros((SIZE, SIZE)), GREY, method="heatmap", save_path=path)
    drawn = panel(path, figure, "attributions", (SIZE, SIZE)).astype(float)
    assert np.abs(drawn - rgb255(0.5)).max() <= 2


@pytest.mark.parametrize("options, error, message", [
    ({"method": "contour"}, attrix.UnknownNameError, "unknown method 'contour'; valid: alpha_scaling, heatmap, masked_image, overlay"),
    ({"sign": "both"}, attrix.UnknownNameError, "unknown sign 'both'; valid: absolute, all, negative, positive"),
    ({"method": "masked_image", "sign": "all"}, attrix.InputError, "cannot show sign 'all'; use one of: positive, negative, absolute"),
    ({"method": "alpha_scaling", "sign": "all"}, attrix.InputError, "cannot show sign 'all'"),
    ({"outlier_threshold": 2}, attrix.InputError, r"outlier_threshold must be a number in \[0, 1\]"),
])
def test_bad_options_say_what_is_allowed(options, error, message):
    with pytest.raises(error, match=message):
        image_figure(quadrant(1.0), GREY, **options)


def test_bad_shapes_and_images_are_explained():
    with pytest.raises(attrix.InputError, match=r"with the image's size \(32, 32\), got shape \(3, 16, 16\)"):
        image_figure(np.zeros((3, 16, 16)), GREY)
    with pytest.raises(attrix.InputError, match="must be a PIL image or a uint8 array.*got float64 array"):
        image_figure(quadrant(1.0), GREY / 255)


def test_pixels_travel_as_a_png_data_uri():
    rng = np.random.default_rng(1)
    picture = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    uri = png_data_uri(picture)
    assert uri.startswith("data:image/png;base64,")
    assert (pixels_of_data_uri(uri) == picture).all()  # PNG is lossless
    assert pixels_of_data_uri(png_data_uri(picture[..., 0])).shape == (6, 9, 3)  # grey becomes RGB


@pytest.mark.parametrize("uri, message", [
    ("https://example.com/cat.png", "an image must be a PNG data URI starting 'data:image/png;base64,'"),
    ("data:image/png;base64,***", "the image's data URI holds no readable PNG"),
    ("data:image/png;base64,aGVsbG8=", "the image's data URI holds no readable PNG"),
])
def test_a_bad_data_uri_is_explained(uri, message):
    with pytest.raises(attrix.InputError, match=message):
        pixels_of_data_uri(uri)

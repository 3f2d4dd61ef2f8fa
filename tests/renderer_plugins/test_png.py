"""The png renderer: text heatmaps, top-word bars and image attributions, drawn where and in the colours promised."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import attrix
from attrix.drawing.colors import colormap
from attrix.drawing.figures import DPI, PANEL_WIDTH
from attrix.drawing.pictures import png_data_uri
from attrix.renderers.png import (
    LEGEND_HEIGHT,
    MARGIN,
    WIDTH,
    PngRenderer,
    bars_figure,
    figure_pixels,
    text_figure,
)
from helpers import tiny_vision
from helpers.hand_built import image_explanation, text_explanation, words_of


def decoded(png: bytes) -> np.ndarray:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)


def boxes(figure: Figure, prefix: str = "piece-") -> dict[str, tuple[float, float, float, float]]:
    """Where each word box is drawn: gid -> (left, top, right, bottom) in image pixels, y down."""
    height = figure.get_size_inches()[1] * DPI
    found = {}
    for patch in figure.axes[0].patches:
        if (patch.get_gid() or "").startswith(prefix):
            box = patch.get_window_extent()
            found[patch.get_gid()] = (box.x0, height - box.y1, box.x1, height - box.y0)
    return found


def colour_at(pixels: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The colour just inside a box's left edge, half-way down: its background, clear of the text."""
    left, top, _, bottom = box
    return pixels[round((top + bottom) / 2), round(left) + 2]


def end_of_scale(value: float) -> np.ndarray:
    return np.array(colormap()(value)[:3]) * 255


@pytest.fixture(scope="module")
def explanation():
    return text_explanation()


def test_text_heatmap_colours_each_word_by_its_score(explanation):
    figure = text_figure(explanation, "words")
    pixels = decoded(PngRenderer(figure="text").render([explanation]))
    assert pixels.shape[:2] == (round(figure.get_size_inches()[1] * DPI) + LEGEND_HEIGHT, WIDTH)
    where = boxes(figure)
    index = {word.text: n for n, word in enumerate(explanation.words)}

    def colour(target: int, word: str) -> np.ndarray:
        return colour_at(pixels, where[f"piece-{target}-{index[word]}"])

    assert np.abs(colour(0, "love") - end_of_scale(1.0)).max() <= 2  # the green end
    assert np.abs(colour(0, "awful") - end_of_scale(0.0)).max() <= 2  # the pink end
    assert np.abs(colour(0, "movie") - end_of_scale(0.5)).max() <= 2  # zero: the white middle
    assert np.abs(colour(1, "love") - end_of_scale(0.0)).max() <= 2  # toward NEGATIVE the sign flips
    assert np.abs(colour(0, "love") - colour(0, "awful")).sum() > 200


def test_long_texts_wrap_within_the_width_and_a_second_text_starts_a_line():
    long = text_explanation(["word"] * 150)
    where = boxes(text_figure(long, "words"))
    tops = sorted({round(top) for _, top, _, _ in where.values()})
    assert len(tops) > 2 * 3  # both targets' words span several lines each
    assert max(right for _, _, right, _ in where.values()) <= WIDTH - MARGIN
    pair = text_explanation(["a", "b"], words=words_of(["a"]) + words_of(["b"], sequence=1))
    pair_boxes = boxes(text_figure(pair, "words"))
    first, second = pair_boxes["piece-0-0"], pair_boxes["piece-0-1"]
    assert second[1] > first[3] and second[0] == first[0]  # below, at the start of the line


def test_token_view_draws_the_tokens(explanation):
    assert len(boxes(text_figure(explanation, "tokens"))) == 2 * len(explanation.tokens)
    assert len(boxes(text_figure(explanation, "words"))) == 2 * len(explanation.words)


def test_several_explanations_are_stacked_with_one_legend(explanation):
    other = text_explanation(["short", "one"])
    heights = [round(text_figure(e, "words").get_size_inches()[1] * DPI) for e in (explanation, other)]
    pixels = decoded(PngRenderer().render([explanation, other]))
    assert pixels.shape[:2] == (sum(heights) + LEGEND_HEIGHT, WIDTH)


def test_bars_show_the_top_k_words_by_magnitude_in_their_colours(explanation):
    figure = bars_figure(explanation, "words", 2)
    pixels = figure_pixels(figure).astype(int)
    height = pixels.shape[0]
    for axes, toward_love in zip(figure.axes, (True, False)):
        labels = [tick.get_text() for tick in axes.get_yticklabels()]
        assert labels == (["love", "awful"] if toward_love else ["awful", "love"])  # largest score on top
        colours = []
        for bar in axes.patches:
            box = bar.get_window_extent()
            colours.append(pixels[round(height - (box.y0 + box.y1) / 2), round((box.x0 + box.x1) / 2)])
        assert np.abs(colours[0] - end_of_scale(1.0)).max() <= 2 and np.abs(colours[1] - end_of_scale(0.0)).max() <= 2
    rendered = decoded(attrix.create("renderer", "png", figure="bars", top_k=2).render([explanation]))
    assert rendered.shape[:2] == pixels.shape[:2]


@pytest.fixture(scope="module")
def vit_explanation(tmp_path_factory, one_torch_thread):
    path = tmp_path_factory.mktemp("images") / "picture.png"
    tiny_vision.image(40, 36).save(path)
    model, processor = tiny_vision.build("vit")
    return attrix.Explainer(model, processor, n_steps=8)(str(path))


def image_panels(png: bytes, figure: Figure, label: str, shape: tuple[int, int]) -> np.ndarray:
    """The PNG's pixels at the centre of each image pixel of the panel labelled ``label``."""
    pixels = decoded(png)
    box = next(a for a in figure.axes if a.get_label() == label).get_window_extent()
    rows = (pixels.shape[0] - box.y1 + (np.arange(shape[0]) + 0.5) * box.height / shape[0]).astype(int)
    columns = (box.x0 + (np.arange(shape[1]) + 0.5) * box.width / shape[1]).astype(int)
    return pixels[rows][:, columns]


@pytest.mark.parametrize("side_by_side", [False, True])
def test_vit_overlay_pngs_have_their_size_and_show_the_image(tmp_path, vit_explanation, side_by_side):
    renderer = PngRenderer(figure="image", method="overlay", side_by_side=side_by_side)
    path = renderer.write([vit_explanation], tmp_path / f"overlay-{side_by_side}.png")
    (figure,) = renderer.figures("image", vit_explanation)
    png = path.read_bytes()
    assert decoded(png).shape[:2] == (round(figure.get_size_inches()[1] * DPI), PANEL_WIDTH * DPI * (2 if side_by_side else 1))
    if side_by_side:  # the original panel is the input file at the model's 32x32
        picture = np.asarray(Image.open(vit_explanation.inputs["image"]).convert("RGB").resize((32, 32), Image.Resampling.BILINEAR))
        assert np.abs(image_panels(png, figure, "original", (32, 32)) - picture).max() <= 1


def test_an_image_given_in_memory_is_drawn_side_by_side_as_the_model_saw_it(one_torch_thread):
    picture = tiny_vision.image(40, 36, seed=3)
    model, processor = tiny_vision.build("vit")
    explanation = attrix.Explainer(model, processor, n_steps=4)(picture)
    renderer = PngRenderer(figure="image", method="overlay", side_by_side=True)
    png = renderer.render([explanation])
    resized = np.asarray(picture.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR))
    assert np.abs(image_panels(png, renderer.figures("image", explanation)[0], "original", (32, 32)).astype(int) - resized).max() <= 1


def test_strongly_attributed_pixels_are_drawn_apart_from_weak_ones(vit_explanation):
    renderer = PngRenderer(figure="image", method="heatmap", sign="absolute", outlier_threshold=0.0)
    png = renderer.render([vit_explanation])
    drawn = image_panels(png, renderer.figures("image", vit_explanation)[0], "attributions", (32, 32))
    magnitude = np.abs(np.asarray(vit_explanation.target().array).sum(0))
    strong, weak = np.unravel_index(magnitude.argmax(), magnitude.shape), np.unravel_index(magnitude.argmin(), magnitude.shape)
    assert np.abs(drawn[strong] - drawn[weak]).sum() > 200  # the dark blue end against white


def test_an_image_the_explanation_carries_is_drawn_as_the_original():
    red = np.zeros((8, 8, 3), dtype=np.uint8)
    red[..., 0] = 250
    explanation = image_explanation(np.ones((3, 8, 8)).tolist(), image=png_data_uri(red))
    renderer = PngRenderer(figure="image", side_by_side=True)
    png = renderer.render([explanation])
    assert (image_panels(png, renderer.figures("image", explanation)[0], "original", (8, 8)) == red).all()


def test_without_its_image_an_explanation_still_gets_a_plain_heatmap():
    explanation = image_explanation(np.ones((3, 8, 8)).tolist())
    assert decoded(PngRenderer(method="heatmap").render([explanation])).shape[1] == PANEL_WIDTH * DPI
    with pytest.raises(attrix.InputError, match="carries neither its image .* use method='heatmap' without side_by_side"):
        PngRenderer(method="overlay").render([explanation])


def test_rendering_uses_no_pyplot_window(explanation):
    import matplotlib.pyplot as plt

    PngRenderer().render([explanation])
    PngRenderer(figure="bars").render([explanation])
    assert plt.get_fignums() == []


@pytest.mark.parametrize("figure, made, message", [
    ("text", "image", "attributes pixels, which figure='text' cannot draw: use figure='image' or 'auto'"),
    ("bars", "image", "attributes pixels, which figure='bars' cannot draw"),
    ("image", "text", "attributes tokens, not pixels: use figure='text', 'bars' or 'auto'"),
])
def test_a_figure_that_does_not_fit_the_explanation_is_refused(figure, made, message):
    explanation = image_explanation(np.ones((3, 8, 8)).tolist()) if made == "image" else text_explanation()
    with pytest.raises(attrix.InputError, match=message):
        PngRenderer(figure=figure).render([explanation])


@pytest.mark.parametrize("options, error, message", [
    ({"figure": "pie"}, attrix.UnknownNameError, "unknown figure 'pie'; valid: auto, bars, image, text"),
    ({"view": "letters"}, attrix.UnknownNameError, "unknown view 'letters'; valid: tokens, words"),
    ({"top_k": 0}, attrix.InputError, "option 'top_k' of renderer 'png' must be an integer >= 1, got 0"),
    ({"outlier_threshold": 1.5}, attrix.InputError, "option 'outlier_threshold' of renderer 'png' must be a number >= 0 and <= 1, got 1.5"),
    ({"method": "contour"}, attrix.UnknownNameError, "unknown method 'contour'"),
    ({"method": "masked_image", "sign": "all"}, attrix.InputError, "cannot show sign 'all'"),
    ({"side_by_side": "yes"}, attrix.InputTypeError, "option 'side_by_side' of renderer 'png' must be true or false, got 'yes'"),
    ({"colour": "red"}, attrix.UnknownNameError, "unknown option 'colour' for renderer 'png'; valid: figure, method, outlier_threshold, side_by_side, sign, top_k, view"),
])
def test_bad_options_say_what_is_allowed(options, error, message):
    with pytest.raises(error, match=message):
        attrix.create("renderer", "png", **options)


def test_nothing_to_draw_is_an_error():
    with pytest.raises(attrix.InputError, match="give at least one explanation"):
        PngRenderer().render([])

"""``attrix.ImageClassificationExplainer`` against transformers-interpret 0.10.0 itself, and its ``visualize``."""

from __future__ import annotations

import itertools
import sys
import types
import warnings

import numpy as np
import pytest
import torch
import transformers_interpret
from captum.attr import IntegratedGradients
from PIL import Image

import attrix
from attrix.compat.image import ImageClassificationExplainer
from attrix.drawing.figures import DPI, METHODS, PANEL_WIDTH, SIGNS
from helpers.figures import panel
from helpers.tiny_vision import build, image, save

PICTURE = image(seed=0)  # the tiny ViT below predicts "dog" (1) for it
FEW_STEPS = {"n_steps": 8, "n_steps_noise_tunnel": 2, "noise_tunnel_n_samples": 2}


@pytest.fixture(scope="module")
def vit():
    return build("vit", seed=1)


@pytest.fixture(scope="module")
def explained(vit):
    """An explainer that has explained PICTURE (few steps)."""
    explainer = ImageClassificationExplainer(*vit)
    explainer(PICTURE, **FEW_STEPS)
    return explainer


def cosine(first: np.ndarray, second: np.ndarray) -> float:
    first, second = first.ravel().astype(np.float64), second.ravel().astype(np.float64)
    return float(first @ second / np.linalg.norm(first) / np.linalg.norm(second))


@pytest.mark.parametrize("attribution_type, options", [
    ("IGNT", {}),
    ("IG", {"n_steps": 8, "internal_batch_size": 3}),
    ("IGNT", {"n_steps_noise_tunnel": 3, "noise_tunnel_n_samples": 4, "noise_tunnel_type": "vargrad"}),
    ("IGNT", {"n_steps_noise_tunnel": 3, "noise_tunnel_n_samples": 4, "noise_tunnel_type": "smoothgrad_sq"}),
])
def test_agrees_with_transformers_interpret(vit, attribution_type, options):
    legacy = transformers_interpret.ImageClassificationExplainer(*vit, attribution_type=attribution_type)
    ours = ImageClassificationExplainer(*vit, attribution_type=attribution_type)
    torch.manual_seed(0)
    expected = legacy(PICTURE, **options)
    torch.manual_seed(0)
    got = ours(PICTURE, **options)
    assert isinstance(got, np.ndarray) and got.dtype == expected.dtype and got.shape == expected.shape == (1, 3, 32, 32)
    assert ours.predicted_index == legacy.predicted_index == ours.selected_index == legacy.selected_index
    assert cosine(got, expected) >= 0.98
    assert ours.attributions is got
    np.testing.assert_allclose(ours.inputs, legacy.inputs, atol=1e-6)
    if attribution_type == "IG":
        assert ours.delta.shape == legacy.delta.shape == (1,)
        assert float(ours.delta[0]) == pytest.approx(float(legacy.delta[0]), abs=1e-4)
    for name in ("n_steps", "n_steps_noise_tunnel", "noise_tunnel_n_samples", "noise_tunnel_type", "internal_batch_size"):
        assert getattr(ours, name) == getattr(legacy, name)


def test_defaults_and_attributes_match_transformers_interpret(vit):
    legacy = transformers_interpret.ImageClassificationExplainer(*vit)
    ours = ImageClassificationExplainer(*vit)
    for name in ("attribution_type", "n_steps", "n_steps_noise_tunnel", "noise_tunnel_n_samples", "noise_tunnel_type",
                 "internal_batch_size", "id2label", "label2id", "device", "attributions"):
        assert getattr(ours, name) == getattr(legacy, name), name
    ours(PICTURE, n_steps_noise_tunnel=3, noise_tunnel_n_samples=2)
    ours(PICTURE)  # settings given once are kept, as transformers-interpret keeps them
    settings = ours.explanation.settings
    assert (settings["noise_tunnel"], settings["nt_samples"], settings["n_steps"]) == ("smoothgrad", 2, 3)
    assert (settings["nt_stdevs"], settings["output"], settings["baseline"]) == (1.0, "logits", "zeros")  # captum's stdevs
    assert ours.predicted_class_name == "dog" and ours._image is PICTURE


def test_transformers_interpret_ignores_index_0_and_class_name(vit):
    """Pinned: its ``if index: ... else: predicted`` overwrites both; attrix honours them (next test)."""
    legacy = transformers_interpret.ImageClassificationExplainer(*vit, attribution_type="IG")
    legacy(PICTURE, index=0, n_steps=2)
    assert legacy.selected_index == legacy.predicted_index == 1
    legacy(PICTURE, class_name="bird", n_steps=2)
    assert legacy.selected_index == 1


def test_index_0_and_class_name_are_honoured(vit):
    model, processor = vit
    ours = ImageClassificationExplainer(model, processor, attribution_type="IG")
    got = ours(PICTURE, index=0, n_steps=8)
    assert ours.selected_index == 0 and ours.predicted_index == 1
    pixels = processor(images=PICTURE, return_tensors="pt")["pixel_values"]
    direct = IntegratedGradients(lambda x: model(pixel_values=x).logits).attribute(pixels, target=0, n_steps=8)
    assert cosine(got, direct.detach().numpy()) >= 0.999

    got = ours(PICTURE, class_name="bird")
    legacy = transformers_interpret.ImageClassificationExplainer(model, processor, attribution_type="IG")
    expected = legacy(PICTURE, index=2, n_steps=8)
    assert ours.selected_index == legacy.selected_index == 2
    assert cosine(got, expected) >= 0.98

    ours(PICTURE, index=2, class_name="cat")  # index wins, as transformers-interpret intends
    assert ours.selected_index == 2


def test_custom_labels_rename_the_classes(vit):
    ours = ImageClassificationExplainer(*vit, attribution_type="IG", custom_labels=["tabby", "puppy", "finch"])
    ours(PICTURE, class_name="finch", n_steps=2)
    assert ours.selected_index == 2 and ours.predicted_class_name == "puppy"
    assert ours.label2id == {"tabby": 0, "puppy": 1, "finch": 2}
    with pytest.raises(attrix.InputError, match="custom_labels has 2 labels but the model's label2id has 3"):
        ImageClassificationExplainer(*vit, custom_labels=["a", "b"])


@pytest.mark.parametrize("make, call, error, message", [
    ({"attribution_type": "lig"}, {}, attrix.UnknownNameError, "unknown attribution_type 'lig'; valid: IG, IGNT"),
    ({}, {"noise_tunnel_type": "gauss"}, attrix.UnknownNameError, "valid: smoothgrad, smoothgrad_sq, vargrad"),
    ({}, {"class_name": "horse"}, attrix.UnknownNameError, "unknown label 'horse'; valid: bird, cat, dog"),
    ({}, {"index": 3}, attrix.InputError, "target index 3 is out of range; valid indices: 0..2"),
    ({}, {"image": 3.5}, attrix.InputTypeError, "an image must be a PIL image"),
])
def test_bad_arguments_say_what_is_allowed(vit, make, call, error, message):
    with pytest.raises(error, match=message):
        ImageClassificationExplainer(*vit, **make)(**{"image": PICTURE, **FEW_STEPS, **call})


def test_visualize_before_a_call_says_so(vit):
    with pytest.raises(attrix.InputError, match="call the explainer on an image first"):
        ImageClassificationExplainer(*vit).visualize()


@pytest.mark.parametrize("options, message", [
    ({"method": "blend"}, "unknown method 'blend'; valid: alpha_scaling, heatmap, masked_image, overlay"),
    ({"sign": "both"}, "unknown sign 'both'; valid: absolute, all, negative, positive"),
])
def test_visualize_bad_options_list_the_valid_ones(explained, options, message):
    with pytest.raises(attrix.UnknownNameError, match=message):
        explained.visualize(**options)


def test_transformers_interpret_visualize_crashes_with_current_processors(vit):
    """Pinned: it calls ``feature_extractor.resize(image, size=(h, w))``, which image processors no longer take."""
    legacy = transformers_interpret.ImageClassificationExplainer(*vit, attribution_type="IG")
    legacy(PICTURE, n_steps=2)
    with pytest.raises(AttributeError, match="shortest_edge"):
        legacy.visualize()


@pytest.mark.parametrize("method, sign", list(itertools.product(METHODS, SIGNS)))
def test_visualize_writes_every_method_and_sign(explained, tmp_path, method, sign):
    path = tmp_path / "figure.png"
    if sign == "all" and method in ("masked_image", "alpha_scaling"):
        with pytest.warns(UserWarning, match="using sign='positive'"):
            figure, axes = explained.visualize(str(path), method=method, sign=sign)
    else:
        figure, axes = explained.visualize(str(path), method=method, sign=sign)
    assert Image.open(path).size == (PANEL_WIDTH * DPI, round(figure.get_size_inches()[1] * DPI))
    assert axes.get_label() == "attributions" and "Prediction - dog" in axes.get_title()
    drawn = panel(path, figure, "attributions", (32, 32)).astype(int)
    assert drawn.std(axis=(0, 1)).max() > 5  # the attributions vary, and so does the drawing


def test_original_pixels_are_the_processed_image_before_normalising(tmp_path):
    """ResNet's processor centre-crops 32x32 out of a 36x36 image: the original panel shows exactly that crop."""
    picture = image(width=36, height=36, seed=3)
    explainer = ImageClassificationExplainer(*build("resnet", seed=1), attribution_type="IG")
    explainer(picture, n_steps=2)
    figure, (original, attributions) = explainer.visualize(tmp_path / "original.png", side_by_side=True)
    width, height = Image.open(tmp_path / "original.png").size
    assert (width, height) == (2 * PANEL_WIDTH * DPI, round(figure.get_size_inches()[1] * DPI))
    assert (original.get_label(), attributions.get_label()) == ("original", "attributions")
    crop = np.asarray(picture)[2:34, 2:34]
    assert (panel(tmp_path / "original.png", figure, "original", (32, 32)) == crop).all()

    figure, _ = explainer.visualize(tmp_path / "model.png", side_by_side=True, use_original_image_pixels=False)
    shown = panel(tmp_path / "model.png", figure, "original", (32, 32)).astype(float)
    assert np.abs(shown - crop).mean() > 3  # ImageNet normalisation, stretched, is not the original
    for channel in range(3):  # but it is the same picture
        assert np.corrcoef(shown[..., channel].ravel(), crop[..., channel].ravel())[0, 1] > 0.99


def test_visualize_shows_the_figure_inline_in_notebooks(explained, monkeypatch):
    shown = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(config={"IPKernelApp": {}})
    display = types.ModuleType("IPython.display")
    display.Image = lambda data, format: (format, data)
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    figure, _ = explained.visualize(method="heatmap")
    [(kind, data)] = shown
    assert kind == "png" and data.startswith(b"\x89PNG")
    ipython.get_ipython = lambda: None  # IPython imported, but no notebook kernel: nothing is shown
    explained.visualize(method="heatmap")
    assert len(shown) == 1


def test_readme_example_runs_with_a_local_model(tmp_path):
    """transformers-interpret's README example, with the tiny local ViT in place of google/vit-base-patch16-224
    (and AutoImageProcessor: transformers 5's AutoFeatureExtractor no longer loads image processors)."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    from attrix import ImageClassificationExplainer

    model_name = str(save("vit", tmp_path / "vit", seed=1))
    model = AutoModelForImageClassification.from_pretrained(model_name)
    feature_extractor = AutoImageProcessor.from_pretrained(model_name)
    image = PICTURE

    image_classification_explainer = ImageClassificationExplainer(model=model, feature_extractor=feature_extractor)
    image_attributions = image_classification_explainer(image)
    assert image_attributions.shape == (1, 3, 32, 32)

    for method in ("heatmap", "overlay", "masked_image", "alpha_scaling"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            figure, axes = image_classification_explainer.visualize(method=method, side_by_side=True, outlier_threshold=0.03)
        assert figure.get_size_inches()[0] == 2 * PANEL_WIDTH and len(axes) == 2
        assert len(caught) == (method in ("masked_image", "alpha_scaling"))  # README's default sign="all" is switched

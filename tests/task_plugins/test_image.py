"""The image-classification task and the noise tunnel of the ``ig`` backend, on tiny random ViT and ResNet models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, NoiseTunnel
from transformers import ViTImageProcessorPil, pipeline

import attrix
from attrix.plugins.image import patch_scores
from helpers.tiny_models import build as build_text
from helpers.tiny_vision import (
    ARCHITECTURES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    PATCH_SIZE,
    build,
    image,
    save,
)

PICTURES = [image(seed=0), image(width=48, height=33, seed=1), image(width=33, height=40, seed=2)]


@pytest.fixture(scope="module")
def vit():
    return build("vit", seed=1)


@pytest.fixture(scope="module")
def vit64():
    model, processor = build("vit", seed=1)
    return model.double(), processor


def array(target: attrix.TargetAttribution) -> torch.Tensor:
    return torch.tensor(target.array, dtype=torch.float64)


def pixel_values(processor, picture, dtype=torch.float64) -> torch.Tensor:
    return processor(images=picture, return_tensors="pt")["pixel_values"].to(dtype)


def softmax_of(model):
    return lambda pixels: torch.softmax(model(pixel_values=pixels).logits, -1)


@pytest.mark.parametrize("arch, problem_type, num_labels", [
    ("vit", None, 3), ("resnet", None, 3), ("vit", None, 1), ("vit", "multi_label_classification", 3), ("resnet", "regression", 2),
])
def test_predictions_equal_the_image_classification_pipeline(arch, problem_type, num_labels):
    model, processor = build(arch, num_labels=num_labels, seed=2)
    model.config.problem_type = problem_type
    classify = pipeline("image-classification", model=model, image_processor=processor)
    explanations = attrix.Explainer(model, processor, n_steps=2)(PICTURES)
    for explanation, expected in zip(explanations, classify(PICTURES)):
        assert explanation.probabilities == pytest.approx({row["label"]: row["score"] for row in expected}, abs=1e-6)
        assert explanation.predicted_label == expected[0]["label"]
        assert explanation.target().label == expected[0]["label"]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_target_is_complete(arch):
    model, processor = build(arch, seed=1)
    explanation = attrix.Explainer(model.double(), processor, n_steps=64)(PICTURES[1], target="all")
    assert [t.label for t in explanation.targets] == ["cat", "dog", "bird"]
    for target in explanation.targets:
        assert target.token_scores == [] and target.word_scores == []
        assert array(target).shape == (3, 32, 32)
        gap = target.score - target.baseline_score
        assert float(array(target).sum()) - gap == pytest.approx(target.delta, abs=1e-9)
        assert abs(target.delta) <= 1e-3 * abs(gap) + 1e-8
        assert target.score == pytest.approx(explanation.probabilities[target.label], abs=1e-9)
    assert min(abs(t.score - t.baseline_score) for t in explanation.targets) > 1e-3


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_ig_equals_captum_on_pixel_values(arch):
    model, processor = build(arch, seed=3)
    model = model.double()
    pixels = torch.cat([pixel_values(processor, picture) for picture in PICTURES])
    explainer = attrix.Explainer(model, processor, n_steps=16, batch_size=3)
    for target in (2, "all"):
        explanations = explainer(PICTURES, target=target)
        columns = [2] if target == 2 else [0, 1, 2]
        for column, label in enumerate(columns):
            expected = IntegratedGradients(softmax_of(model)).attribute(
                pixels, baselines=torch.zeros_like(pixels), target=[label] * len(PICTURES), n_steps=16
            )
            result = torch.stack([array(explanation.targets[column]) for explanation in explanations])
            assert torch.allclose(result, expected, atol=1e-5, rtol=0)
            assert expected.abs().max() > 1e-4


def test_class_name_and_index_are_honoured_index_zero_too(vit):
    model, processor = vit
    explainer = attrix.Explainer(model, processor, n_steps=8)
    default = explainer(PICTURES[0])
    assert default.predicted_label == "dog"  # so that index 0 is not the prediction
    by_index, by_name, folded = explainer(PICTURES[0], target=0), explainer(PICTURES[0], target="cat"), explainer(PICTURES[0], target="CAT")
    assert by_index.target().label == by_name.target().label == folded.target().label == "cat"
    assert by_index.target().index == 0
    assert torch.equal(array(by_index.target()), array(by_name.target()))
    assert not torch.allclose(array(by_index.target()), array(default.target()), atol=1e-6)
    with pytest.raises(attrix.UnknownNameError, match="unknown label 'horse'; valid: bird, cat, dog"):
        explainer(PICTURES[0], target="horse")
    with pytest.raises(attrix.InputError, match=r"out of range; valid indices: 0..2 \(0=cat, 1=dog, 2=bird\)"):
        explainer(PICTURES[0], target=3)


def test_patch_scores_sum_the_pixel_attributions_over_the_patch_grid(vit):
    model, processor = vit
    explanation = attrix.Explainer(model, processor, n_steps=8)(PICTURES[0], target=["bird", "cat"])
    grids = torch.tensor(explanation.details["patch_scores"], dtype=torch.float64)
    side = 32 // PATCH_SIZE
    assert grids.shape == (2, side, side)
    assert explanation.details["patch_size"] == [PATCH_SIZE, PATCH_SIZE]
    assert explanation.details["image_size"] == [32, 32]
    for grid, target in zip(grids, explanation.targets):
        pixels = array(target)
        assert float(grid.sum()) == pytest.approx(float(pixels.sum()), abs=1e-5)
        assert float(grid[1, 2]) == pytest.approx(float(pixels[:, 8:16, 16:24].sum()), abs=1e-6)


def test_patch_scores_of_a_grid_with_partial_edge_patches():
    ones = torch.ones(3, 10, 7)
    grid = patch_scores(ones, ones.shape, (4, 4))
    assert grid.tolist() == [[48.0, 36.0], [48.0, 36.0], [24.0, 18.0]]
    assert patch_scores(torch.ones(5, 2), ones.shape, (4, 4)) is None  # neither pixels nor one row per patch


def test_models_without_a_patch_size_have_no_patch_scores():
    model, processor = build("resnet", seed=1)
    explanation = attrix.Explainer(model, processor, n_steps=4)(PICTURES[0])
    assert "patch_scores" not in explanation.details and "patch_size" not in explanation.details
    assert explanation.details["attributed_at"] == "pixel_values"


@pytest.mark.parametrize("arch, layer, shape", [
    ("vit", "vit.embeddings.patch_embeddings", (16, 32)),
    ("resnet", "resnet.embedder.embedder.convolution", (8, 16, 16)),
])
def test_layer_ig_attributes_at_the_patch_embedding_or_stem(arch, layer, shape):
    model, processor = build(arch, seed=1)
    explanation = attrix.Explainer(model.double(), processor, backend="layer_ig", n_steps=64)(PICTURES[0])
    target = explanation.target()
    assert explanation.details["attributed_at"] == layer
    assert array(target).shape == shape
    gap = target.score - target.baseline_score
    assert float(array(target).sum()) - gap == pytest.approx(target.delta, abs=1e-9)
    assert abs(target.delta) <= 1e-3 * abs(gap) + 1e-8
    if arch == "vit":  # one row per patch: the patch scores are its rows' sums on the grid
        grid = torch.tensor(explanation.details["patch_scores"][0], dtype=torch.float64)
        assert torch.allclose(grid.flatten(), array(target).sum(-1), atol=1e-12)


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "CMYK"])
def test_other_modes_are_converted_to_rgb_as_the_pipeline_does(vit, mode):
    model, processor = vit
    picture = image(seed=4, mode=mode)
    explanation = attrix.Explainer(model, processor, n_steps=4)(picture)
    assert explanation.details["input_mode"] == mode and explanation.details["converted_to_rgb"] is True
    expected = pipeline("image-classification", model=model, image_processor=processor)(picture)
    assert explanation.probabilities == pytest.approx({row["label"]: row["score"] for row in expected}, abs=1e-6)
    rgb = attrix.Explainer(model, processor, n_steps=4)(picture.convert("RGB"))
    assert rgb.details["converted_to_rgb"] is False
    assert torch.equal(array(rgb.target()), array(explanation.target()))


def test_numpy_arrays_and_paths_give_what_the_pil_image_gives(vit, tmp_path):
    model, processor = vit
    picture = PICTURES[1]
    path = tmp_path / "picture.png"
    picture.save(path)
    explainer = attrix.Explainer(model, processor, n_steps=4)
    from_pil, from_array, from_path = explainer([picture, np.asarray(picture), str(path)])
    assert from_path.inputs == {"image": str(path)}
    assert from_array.inputs == {"image": "numpy array (33, 48, 3) uint8"}
    assert from_pil.details["input_size"] == [33, 48]
    for other in (from_array, from_path):
        assert other.probabilities == from_pil.probabilities
        assert torch.equal(array(other.target()), array(from_pil.target()))


def test_black_baseline_is_a_black_image_through_the_processor():
    for arch, mean, std in (("vit", [0.5] * 3, [0.5] * 3), ("resnet", IMAGENET_MEAN, IMAGENET_STD)):
        model, processor = build(arch, seed=1)
        explainer = attrix.Explainer(model.double(), processor, baseline="black", n_steps=64)
        baseline = explainer.task.prepare([explainer.task.check(PICTURES[0])], None).problem.baselines["pixel_values"][0]
        black = torch.tensor([-m / s for m, s in zip(mean, std)], dtype=torch.float64)
        assert torch.allclose(baseline, black.view(3, 1, 1).expand(3, 32, 32), atol=1e-6)
        target = explainer(PICTURES[0]).target()
        assert float(array(target).sum()) - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-9)
        assert abs(target.delta) < 1e-4  # ResNet is piecewise linear along the path from black: not as tight


def test_logits_can_be_explained_instead_of_probabilities(vit):
    model, processor = vit
    explanation = attrix.Explainer(model, processor, output="logits", n_steps=4)(PICTURES[0], target="all")
    with torch.no_grad():
        logits = model(pixel_values=pixel_values(processor, PICTURES[0], torch.float32)).logits[0]
    assert [t.score for t in explanation.targets] == pytest.approx(logits.tolist(), abs=1e-5)
    assert sum(explanation.probabilities.values()) == pytest.approx(1.0)
    assert explanation.settings["output"] == "logits"


@pytest.mark.parametrize("bad, error, words", [
    (image(width=5, height=4), attrix.InputError, ["5x4 pixels", "smallest image explained is 8x8"]),
    (np.zeros((7, 40, 3), np.uint8), attrix.InputError, ["40x7 pixels", "8x8"]),
    (np.zeros((32, 32, 3), np.float32), attrix.InputError, ["uint8", "float32", "(32, 32, 3)"]),
    (np.zeros((3, 32, 32), np.uint8), attrix.InputError, ["uint8", "(3, 32, 32)", "channels go last"]),
    ("/no/such/picture.png", attrix.InputError, ["no image file at '/no/such/picture.png'"]),
    ("https://example.com/cat.png", attrix.InputError, ["URLs are not fetched"]),
    (42, attrix.InputTypeError, ["PIL image", "numpy uint8 array", "path", "got int 42"]),
    (None, attrix.InputTypeError, ["got NoneType"]),
    (torch.zeros(3, 32, 32), attrix.InputTypeError, ["got Tensor"]),
])
def test_bad_images_get_a_clear_error(vit, bad, error, words):
    model, processor = vit
    with pytest.raises(error) as raised:
        attrix.Explainer(model, processor)(bad)
    assert all(word in str(raised.value) for word in words), str(raised.value)


def test_a_file_that_is_not_an_image_is_refused(vit, tmp_path):
    model, processor = vit
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    with pytest.raises(attrix.InputError, match=r"input 1: cannot read an image from '.*notes\.png'"):
        attrix.Explainer(model, processor)([PICTURES[0], str(path)])


def test_images_the_processor_leaves_at_different_sizes_are_refused_together(vit):
    model, _ = vit
    keeps_sizes = ViTImageProcessorPil(do_resize=False)
    with pytest.raises(attrix.InputError, match=r"different sizes \[\(3, 33, 48\), \(3, 36, 40\)\]; explain them with batch_size=1"):
        attrix.Explainer(model, keeps_sizes)(PICTURES[:2])


def test_models_and_processors_that_do_not_fit_are_refused(vit):
    text_model, tokenizer = build_text("bert", seed=0)
    with pytest.raises(attrix.TaskMismatchError, match="task 'image' explains models with a head ending in ForImageClassification.*BertForSequenceClassification"):
        attrix.Explainer(text_model, tokenizer, task="image")
    model, processor = vit
    with pytest.raises(attrix.TaskMismatchError, match="task 'sequence'.*ViTForImageClassification; tasks that fit it: image"):
        attrix.Explainer(model, processor, task="sequence")
    with pytest.raises(attrix.InputError, match="ViTForImageClassification needs an image processor, got BertTokenizer.*AutoImageProcessor"):
        attrix.Explainer(model, tokenizer)


def test_auto_picks_the_image_task_and_ig(vit):
    explainer = attrix.Explainer(*vit)
    assert explainer.task.name == "image" and explainer.backend.name == "ig"


def test_unknown_option_values_are_refused(vit):
    for options, message in (
        ({"baseline": "blur"}, "unknown baseline 'blur'; valid: black, zeros"),
        ({"output": "probs"}, "unknown output 'probs'; valid: logits, probabilities"),
        ({"noise_tunnel": "smooth"}, "unknown noise_tunnel 'smooth'; valid: None, smoothgrad, smoothgrad_sq, vargrad"),
        ({"noise_tunnel": "vargrad", "nt_samples": 0}, "option 'nt_samples' of backend 'ig' must be an integer >= 1, got 0"),
        ({"noise_tunnel": "vargrad", "nt_stdevs": -1.0}, "option 'nt_stdevs' of backend 'ig' must be a number > 0, got -1.0"),
        ({"backend": "layer_ig", "noise_tunnel": "smoothgrad"}, "unknown option 'noise_tunnel' for task 'image' and backend 'layer_ig'"),
    ):
        with pytest.raises(attrix.AttrixError, match=message):
            attrix.Explainer(*vit, **options)


def test_loading_from_a_directory(vit, tmp_path):
    directory = save("vit", tmp_path / "vit", seed=1)
    explanation = attrix.Explainer(str(directory), n_steps=4)(PICTURES[0])
    expected = attrix.Explainer(*vit, n_steps=4)(PICTURES[0])
    assert explanation.task == "image" and explanation.model == str(directory)
    assert explanation.probabilities == pytest.approx(expected.probabilities, abs=1e-6)


def test_explanation_round_trips_through_json(vit):
    explanation = attrix.Explainer(*vit, n_steps=4)(PICTURES[2], target="all")
    assert attrix.Explanation.from_json(explanation.to_json()) == explanation


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_noise_tunnel_equals_captum_run_target_by_target(vit64, kind):
    model, processor = vit64
    explainer = attrix.Explainer(model, processor, n_steps=6, noise_tunnel=kind, nt_samples=3, nt_stdevs=0.2)
    torch.manual_seed(11)
    explanations = explainer(PICTURES[:2], target=["bird", "cat"])
    pixels = torch.cat([pixel_values(processor, picture) for picture in PICTURES[:2]])
    torch.manual_seed(11)
    for column, label in enumerate([2, 0]):
        expected = NoiseTunnel(IntegratedGradients(softmax_of(model))).attribute(
            pixels, nt_type=kind, nt_samples=3, stdevs=0.2, baselines=torch.zeros_like(pixels), target=[label, label], n_steps=6
        )
        result = torch.stack([array(explanation.targets[column]) for explanation in explanations])
        assert torch.allclose(result, expected, atol=1e-5, rtol=0)
        assert expected.abs().max() > 1e-4
    plain = attrix.Explainer(model, processor, n_steps=6)(PICTURES[0], target="bird")
    assert not torch.allclose(array(explanations[0].targets[0]), array(plain.target()), atol=1e-4)
    settings = explanations[0].settings
    assert (settings["noise_tunnel"], settings["nt_samples"], settings["nt_stdevs"]) == (kind, 3, 0.2)


def test_transformers_interpret_agrees_where_it_is_right(vit):
    from transformers_interpret import ImageClassificationExplainer

    model, processor = vit
    picture = PICTURES[0]
    theirs = ImageClassificationExplainer(model, processor, attribution_type="IG")
    their_pixels = torch.tensor(theirs(picture, n_steps=32)).double()
    assert their_pixels.shape == (1, 3, 32, 32)
    # it explains logits with a zero baseline: the same numbers as output="logits"
    ours = attrix.Explainer(model, processor, output="logits", n_steps=32)(picture)
    assert model.config.id2label[theirs.predicted_index] == ours.predicted_label
    cosine = torch.nn.functional.cosine_similarity(their_pixels.flatten(), array(ours.target()).flatten(), dim=0)
    assert cosine >= 0.98
    assert torch.allclose(array(ours.target()), their_pixels[0], atol=1e-5)
    # its bug: index=0 (falsy) and any class_name fall back to the predicted class; attrix honours them
    for request in ({"index": 0}, {"class_name": "bird"}):
        ignored = torch.tensor(theirs(picture, n_steps=32, **request)).double()
        assert theirs.selected_index == theirs.predicted_index != 0
        assert torch.allclose(ignored, their_pixels)
    honoured = attrix.Explainer(model, processor, output="logits", n_steps=32)(picture, target=0)
    assert honoured.target().label == "cat"
    assert not torch.allclose(array(honoured.target()), their_pixels[0], atol=1e-4)
    # its default, IG in a smoothgrad noise tunnel (stdev 1.0), draws the same noise from the same seed
    smoothed = ImageClassificationExplainer(model, processor)
    torch.manual_seed(5)
    their_smoothed = torch.tensor(smoothed(picture, n_steps_noise_tunnel=4, noise_tunnel_n_samples=3)).double()
    torch.manual_seed(5)
    our_smoothed = attrix.Explainer(model, processor, output="logits", n_steps=4, noise_tunnel="smoothgrad", nt_samples=3)(picture)
    assert torch.allclose(array(our_smoothed.target()), their_smoothed[0], atol=1e-5)

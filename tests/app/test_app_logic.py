"""The web demo's logic (attrix.app.logic), without Streamlit: choices, inputs, explaining, downloads, errors."""

from __future__ import annotations

import logging
from io import BytesIO

import pytest
from PIL import Image

import attrix
from attrix.api.loading import ModelLoadError
from attrix.app import logic as app_logic
from attrix.app.logic import ALL, PREDICTED, OptionField, Request
from attrix.cli import main
from attrix.commands import app as app_command
from attrix.errors import InputError, TaskMismatchError, UnknownNameError
from attrix.plugins.pairwise import check_pair
from attrix.renderers.json import read_json
from helpers.plugins import plugged
from helpers.tiny_models import save
from helpers.tiny_vision import image as vision_image
from helpers.tiny_vision import save as save_vision

LOVE = "I love this movie, it is wonderful"


@pytest.fixture(scope="module")
def token_model(tmp_path_factory):
    """A tiny BERT token classifier saved to a directory."""
    return str(save("bert", tmp_path_factory.mktemp("token") / "bert", head="token", num_labels=3, seed=5))


@pytest.fixture(scope="module")
def sentiment(default_model_dir_fixture, one_torch_thread):
    """The embedded sentiment model's path and its description."""
    name = str(default_model_dir_fixture)
    return name, app_logic.describe(name)


def request(model: str, text: str = LOVE, target: str = PREDICTED, **options) -> Request:
    return Request(model, "sequence", "layer_ig", tuple({"n_steps": 8, **options}.items()), (("text", text),), target)


# --- the model and its task --------------------------------------------------------------------------------


def test_the_embedded_model_is_preselected_unless_the_environment_names_one(default_model_dir_fixture, monkeypatch):
    monkeypatch.delenv(app_logic.MODEL_ENV_VAR, raising=False)
    assert app_logic.initial_model() == str(default_model_dir_fixture)
    monkeypatch.setenv(app_logic.MODEL_ENV_VAR, "/models/mine")
    assert app_logic.initial_model() == "/models/mine"


def test_the_task_is_proposed_from_the_head(sentiment, token_model):
    _, info = sentiment
    assert (info.architecture, info.proposed, info.labels) == ("BertForSequenceClassification", "sequence", ("NEGATIVE", "POSITIVE"))
    assert {"sequence", "pairwise", "zero_shot"} <= set(info.fitting) and "token" not in info.fitting
    assert set(info.tasks) == set(attrix.get_registry().entries["task"])
    token = app_logic.describe(f"  {token_model} ")
    assert (token.name, token.proposed, token.fitting) == (token_model, "token", ("token",))


def test_a_missing_model_is_a_readable_error():
    with pytest.raises(ModelLoadError, match="could not load a model from '/nonexistent/model'"):
        app_logic.describe("/nonexistent/model")
    with pytest.raises(InputError, match="no model given"):
        app_logic.describe("   ")


def test_a_head_that_does_not_fit_the_task_is_refused_before_loading(token_model):
    with pytest.raises(TaskMismatchError, match="task 'sequence' explains models with a head ending in ForSequenceClassification, "
                       "but the model is BertForTokenClassification; tasks that fit it: token"):
        app_logic.load(token_model, "sequence")


def test_loading_gives_the_model_with_the_task_head(token_model):
    loaded = app_logic.load(token_model, "token")
    assert (loaded.task, type(loaded.model).__name__, loaded.processor.is_fast) == ("token", "BertForTokenClassification", True)


# --- backends and their options ----------------------------------------------------------------------------


class StepsBackend(attrix.Backend):
    """A test backend whose ``n_steps`` may be ``"auto"`` and whose ``scale`` may not."""

    name = "test_app_steps"

    def __init__(
        self, *, n_steps: int | str = 10, smooth: bool = False, scale: float = 1.0, mode: str = "plain", seed: int | None = None
    ) -> None:
        if not (n_steps == "auto" or isinstance(n_steps, int)) or not isinstance(scale, float):
            raise InputError("n_steps is a number or 'auto'; scale is a number")

    def attribute(self, problem):
        raise NotImplementedError


@pytest.fixture
def steps_backend():
    with plugged(StepsBackend):
        yield StepsBackend.name


def test_every_registered_backend_is_offered_third_party_ones_too(steps_backend):
    assert app_logic.backends() == sorted(attrix.get_registry().entries["backend"])
    assert {"layer_ig", "ig", "grad_x_input", steps_backend} <= set(app_logic.backends())


def test_editable_options_and_which_take_auto(steps_backend):
    assert app_logic.option_fields(steps_backend) == [
        OptionField("n_steps", 10, auto=True),
        OptionField("smooth", False),
        OptionField("scale", 1.0),
        OptionField("mode", "plain"),
    ]
    fields = {field.name: field for field in app_logic.option_fields("layer_ig")}
    assert {"n_steps", "method"} <= set(fields) and "internal_batch_size" not in fields
    assert fields["n_steps"] == OptionField("n_steps", "auto", auto=True) and fields["n_steps"].number == 50
    assert fields["tolerance"].number == 0.01 and fields["method"].number is None


def test_only_changed_options_are_passed():
    fields = [OptionField("n_steps", 50, auto=True), OptionField("method", "gausslegendre")]
    assert app_logic.changed_options(fields, {"n_steps": 8, "method": "gausslegendre"}) == (("n_steps", 8),)
    assert app_logic.changed_options(fields, {"n_steps": 50, "method": "gausslegendre"}) == ()


def test_options_only_auto_steps_use_are_hidden_for_fixed_steps():
    fields = app_logic.option_fields("layer_ig")
    unused = app_logic.unused_options("layer_ig", fields, {"n_steps": 20})
    assert "max_steps" in unused and "tolerance" not in unused  # fixed steps are judged by the tolerance
    assert not {"tolerance", "max_steps", "n_steps"} & app_logic.unused_options("layer_ig", fields, {"n_steps": "auto"})
    assert app_logic.unused_options("layer_ig", fields, {"n_steps": -3}) == set()  # not buildable: hide nothing


def test_options_left_out_are_not_passed():
    fields = [OptionField("n_steps", 50, auto=True), OptionField("tolerance", 0.01)]
    assert app_logic.changed_options(fields, {"n_steps": 8}) == (("n_steps", 8),)


@pytest.mark.parametrize("task, backend", [("sequence", "layer_ig"), ("image", "ig")])
def test_the_default_backend_is_the_tasks(task, backend):
    assert app_logic.default_backend(task) == backend


# --- inputs and targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("task, form", [
    ("sequence", ("text",)), ("multilabel", ("text",)), ("token", ("text",)), ("pairwise", ("text", "text_pair")),
    ("qa", ("question", "context")), ("zero_shot", ("text", "candidate_labels")), ("image", ("image",)),
])
def test_each_task_gets_its_inputs(task, form):
    assert tuple(field.name for field in app_logic.input_fields(task)) == form
    assert app_logic.input_fields(task)


def test_the_fields_are_the_tasks_declarations_with_the_labels_widgets_and_examples_the_page_shows():
    shown = {task: [(f.name, f.label, f.widget, f.example) for f in app_logic.input_fields(task)] for task in attrix.get_registry().entries["task"]}
    love = [("text", "Text", "area", "I love this movie, it is wonderful")]
    assert shown["sequence"] == shown["multilabel"] == shown["token"] == love
    assert shown["pairwise"] == [("text", "Text", "area", "A man is playing a guitar."), ("text_pair", "Text pair", "area", "Someone plays music.")]
    assert shown["qa"] == [
        ("question", "Question", "line", "Where does Anna live?"), ("context", "Context", "area", "Anna lives in Berlin and works in Paris.")
    ]
    assert shown["zero_shot"] == [
        ("text", "Text", "area", "The team won the final in the last minute."),
        ("candidate_labels", "Candidate labels, comma-separated", "line", "sports, politics, music"),
    ]
    assert shown["image"] == [("image", "Image", "image", None)]
    for task in shown:
        assert all(field.description for field in app_logic.input_fields(task)), task


def test_inputs_are_made_in_the_forms_the_tasks_take():
    assert app_logic.make_input("sequence", {"text": "fine"}) == "fine"
    assert check_pair(app_logic.make_input("pairwise", {"text": "a", "text_pair": "b"})) == ("a", "b")
    assert app_logic.make_input("qa", {"question": "q?", "context": "c"}) == {"question": "q?", "context": "c"}
    assert app_logic.make_input("zero_shot", {"text": "t", "candidate_labels": "x, y"}) == {"text": "t", "candidate_labels": "x, y"}


@pytest.mark.parametrize("form, values, message", [
    ("sequence", {"text": ""}, "text is empty"),
    ("pairwise", {"text": "fine", "text_pair": " "}, "text_pair is empty"),
    ("qa", {"question": "", "context": "Anna lives in Berlin."}, "question is empty"),
    ("zero_shot", {"text": "fine", "candidate_labels": ""}, "candidate_labels is empty"),
])
def test_an_empty_field_is_named_in_the_error(form, values, message):
    with pytest.raises(InputError, match=message):
        app_logic.make_input(form, values)


def test_an_unknown_or_missing_field_names_the_tasks_inputs():
    with pytest.raises(UnknownNameError, match="unknown input 'answer' for task 'qa'; valid: context, question"):
        app_logic.make_input("qa", {"question": "q?", "answer": "a"})
    with pytest.raises(InputError, match=r"task 'qa' needs the input 'context'; its inputs are question \(the question"):
        app_logic.make_input("qa", {"question": "q?"})


class CaptionTask(attrix.TextTask):
    """A test task of its own two inputs, explained as a text pair (only made, never explained here)."""

    name = "test_app_caption"
    heads = ("ForSequenceClassification",)
    inputs = (
        attrix.InputField("title", str, "the headline", "line", "Storm hits the coast"),
        attrix.InputField("body", str, "the article under it", "area", "Heavy rain fell all night."),
    )

    @classmethod
    def auto_fits(cls, architecture, config) -> bool:
        return False

    def scores(self, **inputs):
        raise NotImplementedError

    def prepare(self, items, target):
        raise NotImplementedError

    def explanations(self, prepared, attributions):
        raise NotImplementedError


@pytest.fixture
def caption_task():
    with plugged(CaptionTask):
        yield CaptionTask.name


def test_a_third_party_task_gets_the_fields_it_declares_and_its_input_made_from_them(sentiment, caption_task):
    _, info = sentiment
    assert caption_task in app_logic.describe(info.name).tasks
    assert [(f.name, f.label, f.widget, f.example) for f in app_logic.input_fields(caption_task)] == [
        ("title", "Title", "line", "Storm hits the coast"), ("body", "Body", "area", "Heavy rain fell all night.")
    ]
    assert app_logic.make_input(caption_task, {"title": "Storm", "body": "Rain."}) == {"title": "Storm", "body": "Rain."}
    with pytest.raises(InputError, match="body is empty"):
        app_logic.make_input(caption_task, {"title": "Storm", "body": " "})
    assert app_logic.target_choices(info, caption_task, {"title": "Storm"}) == [PREDICTED, ALL, "NEGATIVE", "POSITIVE"]


def test_an_uploaded_image_is_read_and_a_bad_upload_is_a_readable_error():
    buffer = BytesIO()
    Image.new("RGB", (20, 12), (255, 0, 0)).save(buffer, format="PNG")
    image = app_logic.make_input("image", {"image": buffer.getvalue()})
    assert image.size == (20, 12) and image.getpixel((3, 3)) == (255, 0, 0)
    with pytest.raises(InputError, match="no image uploaded"):
        app_logic.read_image(None)
    with pytest.raises(InputError, match="the uploaded file is not an image"):
        app_logic.read_image(b"this is no image")


def test_targets_offered_per_task(sentiment):
    _, info = sentiment
    assert app_logic.target_choices(info, "sequence", {"text": "x"}) == [PREDICTED, ALL, "NEGATIVE", "POSITIVE"]
    assert app_logic.target_choices(info, "qa", {}) == [PREDICTED, ALL, "start", "end"]
    assert app_logic.target_choices(info, "zero_shot", {"candidate_labels": "sports, music"}) == [PREDICTED, ALL, "sports", "music"]
    assert app_logic.target_choices(info, "zero_shot", {"candidate_labels": " , "}) == [PREDICTED, ALL]
    assert [app_logic.target_of(choice) for choice in (PREDICTED, ALL, "NEGATIVE")] == [None, "all", "NEGATIVE"]


# --- explaining --------------------------------------------------------------------------------------------


def test_explaining_gives_the_prediction_with_complete_attributions(sentiment):
    name, _ = sentiment
    result = app_logic.explain(request(name))
    explanation = result.explanation
    assert explanation.predicted_label == "POSITIVE" and explanation.probabilities["POSITIVE"] > 0.5
    assert [target.label for target in explanation.targets] == ["POSITIVE"]
    target = explanation.target()
    assert sum(target.token_scores) == pytest.approx(target.score - target.baseline_score, abs=abs(target.delta) + 1e-6)
    assert dict(explanation.top_words(2)).keys() & {"love", "wonderful"}
    assert explanation.settings["n_steps"] == 8 and result.seconds > 0
    assert result.delta == abs(target.delta)


def test_switching_the_target_explains_the_other_class(sentiment):
    name, _ = sentiment
    positive = app_logic.explain(request(name)).explanation.target()
    negative = app_logic.explain(request(name, target="NEGATIVE")).explanation.target()
    both = app_logic.explain(request(name, target=ALL))
    assert negative.label == "NEGATIVE"
    # two-class softmax: p(NEGATIVE) = 1 - p(POSITIVE), so every attribution flips its sign
    assert negative.word_scores == pytest.approx([-score for score in positive.word_scores], abs=1e-5)
    assert [target.label for target in both.explanation.targets] == ["NEGATIVE", "POSITIVE"]
    assert both.delta == max(abs(target.delta) for target in both.explanation.targets)


def test_bad_input_is_refused_before_any_model_is_loaded(sentiment):
    name, _ = sentiment

    def no_loading(model: str, task: str):
        raise AssertionError("the model was loaded for an input that cannot be explained")

    with pytest.raises(InputError, match="text is empty"):
        app_logic.explain(request(name, text="  "), no_loading)


def test_explaining_uses_the_loader_it_is_given(sentiment):
    name, _ = sentiment
    calls = []

    def loader(model: str, task: str) -> app_logic.LoadedModel:
        calls.append((model, task))
        return app_logic.load(model, task)

    app_logic.explain(request(name), loader)
    assert calls == [(name, "sequence")]


def test_a_bad_backend_option_is_a_readable_error(sentiment):
    name, _ = sentiment
    with pytest.raises(InputError, match="option 'n_steps' of backend 'layer_ig' must be an integer >= 1 or auto, got 0"):
        app_logic.explain(request(name, n_steps=0))


# --- what the page shows and offers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result(sentiment):
    name, _ = sentiment
    return app_logic.explain(request(name, target=ALL))


def test_the_html_highlights_every_word_toward_each_target(result):
    assert "toward NEGATIVE" in result.html and "toward POSITIVE" in result.html
    for word in ("love", "movie", "wonderful"):
        assert f">{word}</span>" in result.html


def test_downloads_are_html_json_and_the_png_figure(result):
    downloads = {download.label: download for download in result.downloads()}
    assert [(d.label, d.file_name, d.mime) for d in downloads.values()] == [
        ("HTML", "explanation.html", "text/html"),
        ("JSON", "explanation.json", "application/json"),
        ("PNG", "explanation.png", "image/png"),
    ]
    assert downloads["HTML"].data == result.html
    assert read_json(downloads["JSON"].data)[0].to_dict() == result.explanation.to_dict()
    assert downloads["PNG"].data == result.figure
    figure = Image.open(BytesIO(result.figure))
    assert figure.format == "PNG" and min(figure.size) > 100



# --- faithfulness metrics ----------------------------------------------------------------------------------

MEASURED = ("comprehensiveness", "deletion_auc", "completeness")


@pytest.fixture(scope="module")
def measurement(sentiment, result):
    name, _ = sentiment
    return app_logic.measure(request(name, target=ALL), MEASURED, result)


def test_the_registered_metrics_are_offered():
    entries = attrix.get_registry().entries["metric"]
    assert app_logic.metrics() == sorted(name for name, entry in entries.items() if not entry.obj.needs_rationales)
    assert {"comprehensiveness", "sufficiency", "deletion_auc", "insertion_auc", "loo_correlation", "completeness"} <= set(
        app_logic.metrics()
    )
    assert not {"token_f1", "token_iou", "auprc"} & set(app_logic.metrics()), "the page takes no human rationales"


def test_choosing_no_metric_measures_nothing(sentiment, result, monkeypatch):
    def no_evaluation(*args, **kwargs):
        raise AssertionError("evaluated with no metric chosen")

    def no_loading(model: str, task: str):
        raise AssertionError("a model was loaded with no metric chosen")

    monkeypatch.setattr(app_logic, "evaluate", no_evaluation)
    assert app_logic.measure(request(sentiment[0], target=ALL), (), result, no_loading) is None
    assert "metrics" not in read_json(result.downloads(None)[1].data)[0].to_dict()


def test_the_table_holds_what_evaluate_gives_beside_the_random_reference(sentiment, result, measurement):
    name, _ = sentiment
    loaded = app_logic.load(name, "sequence")
    explainer = attrix.Explainer(loaded.model, loaded.processor, task="sequence", backend="layer_ig", n_steps=8)
    expected = attrix.evaluate(LOVE, explainer, list(MEASURED), target=ALL).rows
    table = measurement.table()
    assert [(row["target"], row["metric"]) for row in table] == [
        (target, metric) for target in ("NEGATIVE", "POSITIVE") for metric in MEASURED
    ]
    by_cell = {(row["target"], row["metric"]): row for row in expected}
    for row in table:
        reference = by_cell[row["target"], row["metric"]]
        assert row["value"] == pytest.approx(reference["value"], abs=1e-6)
        assert row["random"] == (None if reference["random"] is None else pytest.approx(reference["random"], abs=1e-6))
    assert all((row["random"] is None) == (row["metric"] == "completeness") for row in table)
    assert {row["metric"]: row["better"] for row in table} == {
        "comprehensiveness": "higher", "deletion_auc": "lower", "completeness": "lower"
    }
    assert measurement.error is None and result.explanation.metrics == {}


def test_the_direction_line_names_which_way_is_better_and_the_docs(measurement):
    assert measurement.directions.startswith(
        "Higher is better for comprehensiveness; lower is better for deletion_auc, completeness. *random* is"
    )
    assert measurement.directions.endswith(f"See {app_logic.METRICS_DOCS}.")


def test_deletion_curves_are_drawn_from_each_targets_score(result, measurement):
    curves = measurement.curves()
    assert list(curves) == ["deletion_auc"]
    chart = curves["deletion_auc"]
    assert chart[app_logic.CURVE_AXIS] == pytest.approx([step / 10 for step in range(11)])
    assert list(chart)[1:] == ["NEGATIVE", "POSITIVE"]
    for index, target in enumerate(result.explanation.targets):
        assert chart[target.label] == measurement.explanation.metrics["deletion_auc"]["curves"][index]
        assert chart[target.label][0] == pytest.approx(target.score, abs=1e-5)


def test_the_json_download_holds_the_metrics_measured(result, measurement):
    (measured,) = read_json(result.downloads(measurement)[1].data)
    assert list(measured.metrics) == list(MEASURED)
    assert measured.metrics["comprehensiveness"]["values"] == pytest.approx(measurement.explanation.metrics["comprehensiveness"]["values"])
    assert measured.targets == result.explanation.targets


def test_a_metric_that_cannot_apply_gives_the_reason_and_leaves_the_explanation(sentiment):
    name, _ = sentiment
    windows = request(name, text="I love this movie, it is wonderful and the actors are great too", long_inputs="windows", window_length=8)
    result = app_logic.explain(windows)
    measurement = app_logic.measure(windows, ("comprehensiveness",), result)
    assert measurement.error == (
        "target 'POSITIVE' of the explanation has no matching output in the problem the task prepares again "
        "(inputs explained in windows, or with other settings, cannot be evaluated yet)"
    )
    assert (measurement.table(), measurement.curves()) == ([], {})
    assert result.explanation.predicted_label == "POSITIVE" and result.explanation.metrics == {}
    assert read_json(result.downloads(measurement)[1].data)[0].to_dict() == result.explanation.to_dict()

def test_an_uploaded_image_is_explained_and_drawn(tmp_path):
    model = str(save_vision("vit", tmp_path / "vit", seed=3))
    buffer = BytesIO()
    vision_image(width=40, height=36, seed=1).save(buffer, format="PNG")
    info = app_logic.describe(model)
    assert (info.proposed, app_logic.input_fields(info.proposed)[0].widget, app_logic.default_backend(info.proposed)) == ("image", "image", "ig")
    result = app_logic.explain(Request(model, "image", "ig", (("n_steps", 8),), (("image", buffer.getvalue()),), PREDICTED))
    target = result.explanation.target()
    assert target.label == result.explanation.predicted_label and target.array is not None
    assert target.total == pytest.approx(target.score - target.baseline_score, abs=abs(target.delta) + 1e-6)
    assert Image.open(BytesIO(result.figure)).format == "PNG" and "data:image/png" in result.html


# --- messages ----------------------------------------------------------------------------------------------


def test_errors_become_messages_and_unexpected_ones_are_logged(caplog):
    assert app_logic.error_message(InputError("text is empty")) == "text is empty"
    assert not caplog.records
    with caplog.at_level(logging.ERROR, logger="attrix.app.logic"):
        message = app_logic.error_message(RuntimeError("boom"))
    assert message == "unexpected error (RuntimeError): boom"
    assert caplog.records[0].exc_info[1].args == ("boom",)


# --- the command -------------------------------------------------------------------------------------------


def test_attrix_app_without_streamlit_names_the_extra(monkeypatch, capsys):
    monkeypatch.setattr(app_command.importlib.util, "find_spec", lambda name: None)
    assert main(["app"]) == 1
    assert "error: attrix app needs Streamlit, which is not installed: pip install 'attrix[app]'" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_attrix_app_refuses_a_port_out_of_range(port, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["app", "--port", port])
    assert exit.value.code == 2
    assert f"a port is a number from 1 to 65535, got {port!r}" in capsys.readouterr().err


def test_attrix_app_serves_the_page_headless_without_telemetry_on_the_model_given(monkeypatch):
    calls = []
    monkeypatch.setattr(app_command.subprocess, "call", lambda command, env: calls.append((command, env)) or 0)
    assert main(["app", "--model", "/models/mine", "--port", "8999"]) == 0
    ((command, env),) = calls
    assert command[1:5] == ["-m", "streamlit", "run", str(app_logic.PAGE)] and app_logic.PAGE.is_file()
    flags = dict(zip(command[5::2], command[6::2]))
    assert {"--server.address": "127.0.0.1", "--server.port": "8999", "--server.headless": "true",
            "--browser.gatherUsageStats": "false"}.items() <= flags.items()
    assert env[app_logic.MODEL_ENV_VAR] == "/models/mine"


# --- generation ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def language_model(tmp_path_factory):
    """A tiny GPT-2 saved to a directory, with its description."""
    from helpers.tiny_lms import save_lm

    name = str(save_lm("gpt2", tmp_path_factory.mktemp("lm") / "gpt2", seed=2))
    return name, app_logic.describe(name)


def test_a_causal_lm_gets_the_prompt_form_the_generation_options_and_the_sequence_target(language_model):
    name, info = language_model
    assert info.proposed == "generation"
    assert [field.name for field in app_logic.input_fields("generation")] == ["prompt", "target_text", "contrast_text"]
    options = {field.name: field.default for field in app_logic.task_option_fields("generation")}
    assert options["max_new_tokens"] == 20 and options["do_sample"] is False and options["score"] == "logprob"
    assert app_logic.target_choices(info, "generation", {}) == [PREDICTED, ALL, "sequence"]


def test_a_prompt_is_continued_and_explained_with_the_task_options_given(language_model):
    name, _ = language_model
    inputs = (("prompt", "the food was awful"), ("target_text", ""), ("contrast_text", " "))
    result = app_logic.explain(Request(name, "generation", "layer_ig", (("n_steps", 8), ("max_new_tokens", 3)), inputs, PREDICTED))
    explanation = result.explanation
    assert len(explanation.generation.steps) == len(explanation.targets) == 3 and not explanation.generation.forced
    assert explanation.inputs == {"prompt": "the food was awful"}
    assert "aria-label" in result.html and explanation.generation.steps[0].text in result.html

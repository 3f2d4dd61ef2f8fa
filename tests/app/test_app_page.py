"""The web demo's page through Streamlit's headless test client (streamlit.testing.v1.AppTest)."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import attrix  # noqa: E402
from attrix.app import logic as app_logic  # noqa: E402
from attrix.errors import InputError  # noqa: E402
from helpers.plugins import plugged  # noqa: E402
from helpers.tiny_models import save  # noqa: E402

LOVE = "I love this movie, it is wonderful"
TIMEOUT = 120


@pytest.fixture
def app(default_model_dir_fixture, one_torch_thread, monkeypatch) -> AppTest:
    """The page started on the embedded sentiment model, its *auto* steps switched off for 8 integration steps."""
    monkeypatch.setenv(app_logic.MODEL_ENV_VAR, str(default_model_dir_fixture))
    page = AppTest.from_file(str(app_logic.PAGE), default_timeout=TIMEOUT).run()
    assert not page.exception
    steps = widget(page.toggle, "n_steps: auto")
    assert steps.value is True and not [w for w in page.number_input if w.label == "n_steps"]
    steps.set_value(False)
    page.run()
    widget(page.number_input, "n_steps").set_value(8)
    return page.run()


def widget(widgets, label: str):
    """The one widget of ``widgets`` labelled ``label``."""
    (found,) = [w for w in widgets if w.label == label]
    return found


def explain(page: AppTest, text: str | None = None) -> AppTest:
    """Type ``text`` (if given), press Explain and wait for the page; no exception may escape to it."""
    if text is not None:
        widget(page.text_area, "Text").input(text)
    widget(page.button, "Explain").click()
    page.run()
    assert not page.exception, page.exception
    return page


def shown_html(page: AppTest) -> str:
    """The explanation drawn by the html renderer, as the page embeds it."""
    (frame,) = page.get("iframe")
    return frame.proto.srcdoc


def test_typing_text_and_pressing_explain_shows_the_prediction(app):
    page = explain(app, LOVE)
    assert not page.error
    assert [header.value for header in page.subheader] == ["Prediction: POSITIVE"]
    html = shown_html(page)
    assert "toward POSITIVE" in html and ">wonderful</span>" in html
    delta, seconds = page.metric
    result = page.session_state.outcome
    assert delta.value == f"{result.delta:.2e}" and seconds.value == f"{result.seconds:.2f} s"
    assert [button.label for button in page.download_button][:2] == ["HTML", "JSON"]
    assert result.explanation.settings["n_steps"] == 8


def test_switching_the_target_changes_the_explanation(app):
    page = explain(app, LOVE)
    before = page.session_state.outcome.explanation.target()
    widget(page.selectbox, "Target").select("NEGATIVE")
    page.run()
    assert not page.exception and not page.error
    after = page.session_state.outcome.explanation.target()
    html = shown_html(page)
    assert "toward NEGATIVE" in html and "toward POSITIVE" not in html
    assert (before.label, after.label) == ("POSITIVE", "NEGATIVE")
    assert after.word_scores == pytest.approx([-score for score in before.word_scores], abs=1e-5)


def test_an_empty_text_is_a_message_and_the_page_stays_up(app):
    page = explain(app, "   ")
    assert [error.value for error in page.error] == ["text is empty; give a string with at least one word"]
    assert not page.get("iframe")
    page = explain(page, LOVE)
    assert not page.error and "toward POSITIVE" in shown_html(page)


def test_a_model_path_that_does_not_exist_is_a_message_and_the_page_stays_up(app, default_model_dir_fixture):
    widget(app.text_input, "Model: a local directory or a Hub id").input("/nonexistent/model")
    app.run()
    assert not app.exception
    (error,) = app.error
    assert error.value.startswith("could not load a model from '/nonexistent/model': give a local directory with config.json or a Hub id")
    widget(app.text_input, "Model: a local directory or a Hub id").input(str(default_model_dir_fixture))
    app.run()
    assert not app.error
    assert "toward POSITIVE" in shown_html(explain(app, LOVE))


def test_a_head_that_does_not_fit_the_task_is_a_message(app, tmp_path):
    token_model = save("bert", tmp_path / "token", head="token", num_labels=3, seed=2)
    widget(app.text_input, "Model: a local directory or a Hub id").input(str(token_model))
    app.run()
    task = widget(app.selectbox, "Task")
    assert task.value == "token"
    task.select("sequence")
    page = explain(app.run(), "i love this movie")
    assert [error.value for error in page.error] == [
        "task 'sequence' explains models with a head ending in ForSequenceClassification, "
        "but the model is BertForTokenClassification; tasks that fit it: token"
    ]
    widget(page.selectbox, "Task").select("token")
    page.run()
    assert not page.exception and not page.error and "toward " in shown_html(page)


def test_inputs_follow_the_task(app):
    widget(app.selectbox, "Task").select("qa")
    app.run()
    assert [field.label for field in (*app.main.text_input, *app.main.text_area)] == ["Question", "Context"]
    assert widget(app.selectbox, "Target").options == ["predicted", "all", "start", "end"]
    widget(app.selectbox, "Task").select("zero_shot")
    app.run()
    assert widget(app.text_input, "Candidate labels, comma-separated").value == "sports, politics, music"
    assert widget(app.selectbox, "Target").options == ["predicted", "all", "sports", "politics", "music"]
    widget(app.selectbox, "Task").select("image")
    app.run()
    assert [uploader.label for uploader in app.get("file_uploader")] == ["Image"]


# --- faithfulness metrics ----------------------------------------------------------------------------------


class RefusingMetric(attrix.Metric):
    """A metric that cannot apply to any explanation."""

    name = "refusing"
    higher_is_better = True

    def measure(self, attributions, scorer):
        raise InputError("refusing cannot measure this explanation")


def choose_metrics(page: AppTest, *names: str) -> AppTest:
    widget(page.multiselect, "Faithfulness metrics").set_value(list(names))
    return page.run()


def test_chosen_metrics_show_as_a_table_beside_the_random_reference_with_the_curves(app):
    assert widget(app.multiselect, "Faithfulness metrics").value == []
    page = explain(choose_metrics(app, "comprehensiveness", "deletion_auc"), LOVE)
    assert not page.error
    assert [header.value for header in page.subheader] == ["Prediction: POSITIVE", "Faithfulness metrics"]
    measurement = page.session_state.measurement
    _, table = page.dataframe
    assert list(table.value.columns) == ["target", "metric", "value", "random", "better"]
    assert table.value.to_dict("records") == measurement.table()
    assert [row["metric"] for row in measurement.table()] == ["comprehensiveness", "deletion_auc"]
    (caption,) = page.caption
    assert caption.value == measurement.directions and "docs/metrics.md" in caption.value
    assert len(page.get("vega_lite_chart")) == 1
    assert "toward POSITIVE" in shown_html(page)


def test_choosing_no_metric_runs_no_evaluation(app, monkeypatch):
    def no_evaluation(*args, **kwargs):
        raise AssertionError("evaluated with no metric chosen")

    monkeypatch.setattr(app_logic, "evaluate", no_evaluation)
    page = explain(app, LOVE)
    assert not page.error and not page.get("vega_lite_chart")
    assert [header.value for header in page.subheader] == ["Prediction: POSITIVE"]
    assert page.session_state.measurement is None and len(page.dataframe) == 1


def test_a_metric_that_cannot_apply_is_a_warning_and_the_explanation_still_shows(app):
    with plugged(RefusingMetric):
        page = explain(choose_metrics(app.run(), "refusing"), LOVE)
        assert not page.error
        assert [warning.value for warning in page.warning][-1] == (
            "The metrics could not be measured: refusing cannot measure this explanation"
        )
        assert "toward POSITIVE" in shown_html(page)
        assert [button.label for button in page.download_button] == ["HTML", "JSON", "PNG"]

"""The ``attrix`` command line and loading models by path."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import attrix
from attrix.api.loading import ModelLoadError
from attrix.cli import main
from helpers.tiny_models import save


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=11)


def test_explain_prints_the_prediction_and_top_words(model_dir, capsys):
    assert main(["explain", "--model", str(model_dir), "--n-steps", "8", "--top", "3", "i love this movie"]) == 0
    printed = capsys.readouterr().out
    expected = attrix.Explainer(str(model_dir), n_steps=8)("i love this movie")
    assert f"predicted {expected.predicted_label} ({expected.probabilities[expected.predicted_label]:.3f})" in printed
    words = ", ".join(f"{word} {score:+.3f}" for word, score in expected.top_words(3))
    assert f"toward {expected.predicted_label}: {words}" in printed


def test_explain_colours_words_only_when_asked(model_dir, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    base = ["explain", "--model", str(model_dir), "--n-steps", "4", "i love this movie"]
    assert main(base) == 0
    plain = capsys.readouterr().out
    assert "\x1b[" not in plain and "love[" in plain  # not a terminal: plain words with their scores
    assert main([*base, "--color", "always", "--view", "tokens"]) == 0
    coloured = capsys.readouterr().out
    assert "\x1b[" in coloured and "[CLS]" in coloured


def test_explain_json_is_an_explanation(model_dir, capsys):
    assert main(["explain", "--model", str(model_dir), "--n-steps", "4", "--target", "0", "--json", "the food was awful"]) == 0
    explanation = attrix.Explanation.from_json(capsys.readouterr().out)
    assert explanation.target().index == 0 and explanation.inputs == {"text": "the food was awful"}
    assert explanation.settings["n_steps"] == 4


@pytest.mark.parametrize("arguments, message", [
    (["explain", "--model", "MODEL", ""], "error: text is empty"),
    (["explain", "--model", "MODEL", "--target", "HAPPY", "fine"], "error: unknown label 'HAPPY'; valid: NEGATIVE, POSITIVE"),
    (["explain", "--model", "MODEL", "--backend", "shap", "fine"], "error: unknown backend 'shap'; valid: feature_ablation, grad_x_input, gradient_shap, ig, kernel_shap, layer_ig, lime"),
    (["explain", "--model", "/nonexistent/model", "fine"], "error: could not load a model from '/nonexistent/model'"),
])
def test_refused_input_exits_1_with_the_reason(model_dir, capsys, arguments, message):
    arguments = [str(model_dir) if a == "MODEL" else a for a in arguments]
    assert main(arguments) == 1
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def qa_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("qa") / "bert", head="qa", seed=5)


def test_explain_takes_the_tasks_other_inputs_by_name(qa_dir, capsys):
    question, context = "where does anna live?", "anna lives in berlin and works in paris."
    arguments = ["explain", "--model", str(qa_dir), "--n-steps", "4", "--json", question, "--input", f"context={context}"]
    assert main(arguments) == 0
    explanation = attrix.Explanation.from_json(capsys.readouterr().out)
    assert explanation.task == "qa" and explanation.inputs == {"question": question, "context": context}
    expected = attrix.Explainer(str(qa_dir), n_steps=4)({"question": question, "context": context})
    assert explanation.predicted_label == expected.predicted_label
    assert explanation.target().token_scores == pytest.approx(expected.target().token_scores, abs=1e-6)


@pytest.mark.parametrize("inputs, message", [
    ([], "error: task 'qa' needs --input context=VALUE; the inputs of task 'qa' are question (the question to answer"),
    (["--input", "answer=berlin"], "error: unknown input 'answer' in --input for task 'qa'; valid: context, question"),
    (["--input", "context"], "error: --input takes NAME=VALUE, got 'context'; the inputs of task 'qa' are question"),
    (["--input", "question=who?", "--input", "context=x"], "error: --input question=...: the positional argument already gives it"),
    (["--input", "context=x", "--input", "context=y"], "error: --input context=...: it is given twice; give each input once"),
])
def test_a_wrong_or_missing_input_names_the_tasks_inputs(qa_dir, capsys, inputs, message):
    assert main(["explain", "--model", str(qa_dir), "--n-steps", "2", "where?", *inputs]) == 1
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_bad_usage_exits_2():
    result = subprocess.run([sys.executable, "-m", "attrix.cli", "explain"], capture_output=True, text=True)
    assert result.returncode == 2 and "the following arguments are required: text" in result.stderr


@pytest.mark.slow
def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "attrix.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("plugins", "explain", "demo"):
        assert command in result.stdout


def test_model_path_with_a_head_that_does_not_fit(tmp_path):
    token_model = save("bert", tmp_path / "token", head="token", num_labels=3)
    with pytest.raises(attrix.TaskMismatchError, match="task 'sequence' .* BertForTokenClassification"):
        attrix.Explainer(str(token_model), task="sequence")


def test_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="give a local directory with config.json or a Hub id"):
        attrix.Explainer(str(tmp_path / "missing"))


def test_demo_explains_with_the_embedded_models_and_writes_json_html_and_png(
    default_model_dir_fixture, default_lm_dir_fixture, tmp_path, capsys
):
    from attrix.commands.demo import DEMO_PROMPT, DEMO_TEXTS
    from attrix.drawing.colors import colormap
    from attrix.renderers.generation_figures import generation_figure
    from attrix.renderers.json import read_json
    from attrix.renderers.png import DPI, LEGEND_HEIGHT, WIDTH, text_figure

    assert main(["demo", "--out", str(tmp_path / "out"), "--top", "2"]) == 0
    printed = capsys.readouterr().out
    explanations = read_json((tmp_path / "out" / "explanations.json").read_text())
    sentiment, generation = explanations[:-1], explanations[-1]
    assert [e.inputs["text"] for e in sentiment] == list(DEMO_TEXTS)
    assert sentiment[1].predicted_label == "NEGATIVE" and sentiment[1].top_words(1)[0][0] == "awful"
    assert generation.inputs == {"prompt": DEMO_PROMPT} and generation.generation.text == " Paris."
    assert "France" in [word for word, _ in generation.top_words(2, label=0)]
    assert "toward NEGATIVE: awful" in printed and 'continuation: " Paris."' in printed
    assert f"wrote {len(DEMO_TEXTS) + 1} explanations" in printed
    page = (tmp_path / "out" / "explanations.html").read_text()
    assert all(f'id="explanation-{n}"' in page for n in range(len(explanations)))
    figures = [text_figure(explanation, "words") for explanation in sentiment] + [generation_figure(generation)]
    heights = [round(figure.get_size_inches()[1] * DPI) for figure in figures]
    png = np.asarray(Image.open(tmp_path / "out" / "explanations.png").convert("RGB")).astype(int)
    assert png.shape[:2] == (sum(heights) + LEGEND_HEIGHT, WIDTH)  # the five figures stacked, then the legend
    awful = next(n for n, word in enumerate(sentiment[1].words) if word.text == "awful")
    box = next(p for p in figures[1].axes[0].patches if p.get_gid() == f"piece-0-{awful}").get_window_extent()
    row, column = heights[0] + heights[1] - round((box.y0 + box.y1) / 2), round(box.x0) + 2
    assert np.abs(png[row, column] - np.array(colormap()(1.0)[:3]) * 255).max() <= 2  # "awful" pushes hardest toward NEGATIVE


def test_explain_without_model_uses_the_embedded_model(default_model_dir_fixture, capsys):
    assert main(["explain", "I love this movie, it is wonderful"]) == 0
    assert "predicted POSITIVE" in capsys.readouterr().out

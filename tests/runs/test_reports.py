"""write_reports: several renderers, each with its own options, into one directory; bad names, options and places."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

import attrix
from attrix.experiments.schema import Component
from attrix.renderers.json import read_json
from attrix.renderers.jsonl import read_jsonl
from attrix.runs.reports import write_reports
from helpers.hand_built import text_explanation


@pytest.fixture(scope="module")
def explanations():
    return [text_explanation(), text_explanation(["the", "food", "was", "awful"])]


def test_every_renderer_writes_its_file_with_its_options(tmp_path, explanations):
    directory = tmp_path / "not" / "yet" / "there"
    specs = [
        Component("json", {"indent": None}),
        ("jsonl", {}),
        "html",
        Component("png", {"figure": "text"}),
        ("png", {"figure": "bars", "top_k": 2}),
        Component("terminal", {"color": "never"}),
    ]
    paths = write_reports(explanations, specs, directory, stem="report")
    assert [path.name for path in paths] == [
        "report.json", "report.jsonl", "report.html", "report.png", "report-2.png", "report.txt",
    ]
    assert all(path.parent == directory for path in paths)
    assert "\n" not in paths[0].read_text() and read_json(paths[0].read_text()) == explanations  # indent=None: one line
    assert read_jsonl(paths[1].read_text()) == explanations
    assert all(f'id="explanation-{n}"' in paths[2].read_text() for n in range(2))
    text, bars = (Image.open(BytesIO(path.read_bytes())) for path in paths[3:5])
    assert text.format == bars.format == "PNG" and text.size != bars.size
    assert "awful[-2.000]" in paths[5].read_text() and "\x1b[" not in paths[5].read_text()


def test_an_unknown_renderer_lists_the_registered_ones_and_writes_nothing(tmp_path, explanations):
    with pytest.raises(attrix.UnknownNameError, match="unknown renderer 'pdf'; valid: .*html, json, jsonl, png, terminal"):
        write_reports(explanations, ["json", ("pdf", {})], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_unknown_option_lists_the_renderer_s_options_and_writes_nothing(tmp_path, explanations):
    with pytest.raises(attrix.UnknownNameError, match="unknown option 'top' for renderer 'png'; valid: figure, method, .*top_k, view"):
        write_reports(explanations, ["json", Component("png", {"top": 3})], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_bad_option_value_is_refused_before_writing(tmp_path, explanations):
    with pytest.raises(attrix.UnknownNameError, match="unknown figure 'pie'; valid: auto, bars, image, text"):
        write_reports(explanations, ["json", ("png", {"figure": "pie"})], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_file_where_the_directory_should_be_is_a_clear_error(tmp_path, explanations):
    (tmp_path / "taken").write_text("")
    with pytest.raises(attrix.InputError, match="cannot write reports into .*taken': it is a file, not a directory"):
        write_reports(explanations, ["json"], tmp_path / "taken")
    with pytest.raises(attrix.InputError, match="cannot create the report directory .*taken/below"):
        write_reports(explanations, ["json"], tmp_path / "taken" / "below")


def test_a_renderer_given_as_something_else_is_refused(tmp_path, explanations):
    with pytest.raises(attrix.InputTypeError, match=r"a renderer must be a name, a \(name, options\) pair or a Component, got 42"):
        write_reports(explanations, [42], tmp_path)

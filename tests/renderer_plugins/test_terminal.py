"""The terminal renderer: coloured words in a terminal, plain text elsewhere, and the lines it promises."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import attrix
from attrix.drawing.colors import colormap
from attrix.renderers.terminal import TerminalRenderer
from helpers.hand_built import image_explanation, text_explanation

ANSI = "\x1b["


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def explanation():
    return text_explanation()


def background_of(output: str, word: str) -> np.ndarray:
    """The 24-bit background colour set right before ``word``."""
    match = re.search(r"48;2;(\d+);(\d+);(\d+)m" + re.escape(word), output)
    assert match, f"no background before {word!r}"
    return np.array([int(channel) for channel in match.groups()])


def test_forced_colour_paints_words_by_sign_and_magnitude(explanation):
    output = TerminalRenderer(color="always").render([explanation])
    assert ANSI in output
    green, pink, white = (np.array(colormap()(value)[:3]) * 255 for value in (1.0, 0.0, 0.5))
    assert np.abs(background_of(output, "love") - green).max() <= 1
    assert np.abs(background_of(output, "awful") - pink).max() <= 1
    assert np.abs(background_of(output, "movie") - white).max() <= 1


def test_plain_text_carries_the_scores_instead(explanation):
    output = TerminalRenderer(color="never").render([explanation])
    assert ANSI not in output
    assert "love[+2.000]" in output and "awful[-2.000]" in output  # toward POSITIVE
    assert "love[-2.000]" in output  # toward NEGATIVE


def test_lines_name_the_prediction_top_words_sum_and_delta(explanation):
    lines = TerminalRenderer(color="never", top_k=2, width=200).render([explanation]).splitlines()
    assert lines[0] == explanation.inputs["text"]
    assert lines[1] == "  predicted POSITIVE (0.900)"
    assert lines[2] == "  toward POSITIVE: love +2.000, i +0.100   (sum +0.600, delta +1.0e-03)"
    assert lines[3] == "    " + " ".join(f"{word.text}[{score:+.3f}]" for word, score in zip(explanation.words, explanation.targets[0].word_scores))
    assert lines[4].startswith("  toward NEGATIVE: awful +2.000, movie ")


@pytest.mark.parametrize("no_color, tty, coloured", [("", True, True), ("1", True, False), ("", False, False)])
def test_auto_colours_a_terminal_unless_no_color_is_set(monkeypatch, explanation, no_color, tty, coloured):
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setattr("sys.stdout", Terminal() if tty else io.StringIO())
    assert (ANSI in TerminalRenderer().render([explanation])) is coloured


def test_always_overrides_no_color_and_never_overrides_a_terminal(monkeypatch, explanation):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr("sys.stdout", Terminal())
    assert ANSI in TerminalRenderer(color="always").render([explanation])
    monkeypatch.delenv("NO_COLOR")
    assert ANSI not in TerminalRenderer(color="never").render([explanation])


def test_a_file_is_written_plain_unless_colour_is_forced(tmp_path, monkeypatch, explanation):
    monkeypatch.setattr("sys.stdout", Terminal())
    plain = TerminalRenderer().write([explanation], tmp_path / "out" / "plain.txt").read_text()
    coloured = TerminalRenderer(color="always").write([explanation], tmp_path / "coloured.txt").read_text()
    assert ANSI not in plain and "love[+2.000]" in plain
    assert ANSI in coloured


def test_token_view_and_width(explanation):
    output = TerminalRenderer(color="never", view="tokens", width=30).render([explanation])
    assert "[CLS][+0.000]" in output and "[SEP][+0.000]" in output
    assert max(len(line.rstrip()) for line in output.splitlines()) <= 30


def test_image_explanations_and_answers_without_a_probability():
    image = TerminalRenderer(color="never").render([image_explanation(np.ones((3, 8, 8)).tolist())])
    assert "toward cat: pixel attributions (draw them with the png renderer)   (sum +192.000" in image
    answer = text_explanation(predicted_label="Paris", probabilities={"start": 0.8, "end": 0.7})
    assert "  predicted Paris\n" in TerminalRenderer(color="never").render([answer])


@pytest.mark.parametrize("options, error, message", [
    ({"color": "sometimes"}, attrix.UnknownNameError, "unknown color 'sometimes'; valid: always, auto, never"),
    ({"top_k": -1}, attrix.InputError, "option 'top_k' of renderer 'terminal' must be an integer >= 0, got -1"),
    ({"view": "letters"}, attrix.UnknownNameError, "unknown view 'letters'; valid: tokens, words"),
    ({"width": 5}, attrix.InputError, "option 'width' of renderer 'terminal' must be an integer >= 20 or null, got 5"),
    ({"colour": "always"}, attrix.UnknownNameError, "unknown option 'colour' for renderer 'terminal'; valid: color, top_k, view, width"),
])
def test_bad_options_say_what_is_allowed(options, error, message):
    with pytest.raises(error, match=message):
        attrix.create("renderer", "terminal", **options)

"""Text from the data cannot send escape sequences to the terminal: its control characters are shown escaped."""

from __future__ import annotations

import re

import pytest

from attrix.cli import main
from attrix.renderers.terminal import TerminalRenderer, shown
from helpers.hand_built import text_explanation
from helpers.tiny_models import save

RETITLE = "\x1b]0;pwned\x07"
RECOLOUR = "\x1b[31m"
CSI = "\x9b2J"
RENDERER_SGR = re.compile(r"\x1b\[[0-9;]*m")
"""The renderer's own escape sequences: colours (SGR) only."""


def data_escapes(output: str) -> str:
    """``output`` without the renderer's colour sequences: what is left must hold no control character."""
    return RENDERER_SGR.sub("", output)


@pytest.mark.parametrize("raw, escaped", [
    (RETITLE, "\\x1b]0;pwned\\x07"),
    (RECOLOUR + "red", "\\x1b[31mred"),
    (CSI, "\\x9b2J"),
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("x\u2028y", "x\\u2028y"),
    ("plain café 😀 שלום", "plain café 😀 שלום"),
    ("e\u0301 a\u200db", "e\u0301 a\u200db"),  # combining marks and joiners are text, not controls
])
def test_shown_escapes_control_characters_only(raw, escaped):
    assert shown(raw) == escaped


@pytest.mark.parametrize("color", ["never", "always"])
def test_escape_sequences_in_words_tokens_and_labels_are_shown_escaped(color):
    explanation = text_explanation([RETITLE + "hi", RECOLOUR + "red", "a\nb", CSI, "fine"])
    explanation.targets[0].label = "POS" + RECOLOUR
    explanation.predicted_label = "POS" + RECOLOUR
    for view in ("words", "tokens"):
        output = TerminalRenderer(color=color, view=view, width=300).render([explanation])
        rest = data_escapes(output)
        assert "\x1b" not in rest and "\x07" not in rest and "\x9b" not in rest and "\r" not in rest
        assert "\\x1b]0;pwned\\x07hi" in output and "\\x1b[31mred" in output and "\\x9b2J" in output
        assert "a\\nb" in output and "toward POS\\x1b[31m" in output and "predicted POS\\x1b[31m" in output
        assert output.splitlines()[0].endswith("fine" + ("\x1b[0m" if color == "always" else ""))  # the newline stayed escaped
        if color == "always":
            assert "48;2;" in output and "\x1b[32m" in output  # the renderer's own colours still work
        else:
            assert "\x1b" not in output


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save("bert", tmp_path_factory.mktemp("model") / "bert", seed=11)


@pytest.mark.parametrize("color", ["never", "always"])
def test_attrix_explain_prints_an_escaping_text_escaped(model_dir, capsys, color):
    text = f"{RETITLE}i love {RECOLOUR}this movie"
    assert main(["explain", "--model", str(model_dir), "--n-steps", "2", "--color", color, text]) == 0
    printed = capsys.readouterr().out
    assert "\\x1b]0;pwned\\x07i love \\x1b[31mthis movie" in printed
    rest = data_escapes(printed)
    assert "\x1b" not in rest and "\x07" not in rest
    assert ("\x1b[" in printed) == (color == "always")

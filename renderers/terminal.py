"""``terminal``: explanations as text for a terminal (rich), words coloured by sign and magnitude, or plain.

Per explanation: the input, the prediction, and per target the words that push hardest toward it with their
scores, then every word on the diverging scale of the HTML; for a generation, the prompt, the continuation, and per
explained step its token with the words before it that push hardest toward it. Colour is used when
``color="always"``, or with ``"auto"`` when standard output is a terminal and ``NO_COLOR`` is not set; otherwise
the text is plain and each word carries its score in brackets. ``write`` (to a file) is plain unless ``color="always"``.

Text from the data (the input, tokens, words, labels) is shown with its control characters escaped, ``\\x1b``
for ESC, ``\\n`` for a newline, so that an input cannot move the cursor, recolour or retitle the terminal; only
the renderer's own colours reach it as escape sequences.
"""

from __future__ import annotations

import os
import shutil
import sys
import unicodedata
from io import StringIO
from pathlib import Path
from typing import Annotated, Literal, Sequence

from annotated_types import Ge
from rich.color import Color
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.text import Text

from attrix.contracts.explanation import Explanation, GeneratedToken, TargetAttribution
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.renderer import Renderer
from attrix.drawing.colors import colormap, scale
from attrix.renderers.pieces import (
    Piece,
    heading,
    is_generation,
    is_image,
    pieces,
    prediction,
    sources,
    steps,
    title,
    token_text,
    unconverged,
)

DEFAULT_WIDTH = 100
"""Columns when the width of the terminal cannot be found."""


class TerminalRenderer(Renderer):
    """Text for a terminal: the prediction, the top words per target, and the words coloured by their scores."""

    name = "terminal"
    suffix = ".txt"

    def __init__(
        self,
        *,
        color: Literal["auto", "always", "never"] = "auto",
        top_k: Annotated[int, Ge(0)] = 5,
        view: Literal["words", "tokens"] = "words",
        width: Annotated[int, Ge(20)] | None = None,
    ) -> None:
        self.color, self.top_k, self.view, self.width = color, top_k, view, width

    def render(self, explanations: Sequence[Explanation]) -> str:
        return self.text(explanations, uses_color(self.color))

    def write(self, explanations: Sequence[Explanation], path: str | Path) -> Path:
        """Write plain text unless ``color="always"``: a file is no terminal."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text(explanations, self.color == "always"), encoding="utf-8")
        return path

    def text(self, explanations: Sequence[Explanation], color: bool) -> str:
        """The explanations as text, with ANSI colours when ``color``."""
        console = Console(
            file=StringIO(),
            force_terminal=color,
            no_color=not color,
            color_system="truecolor" if color else None,
            width=self.width or shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns,
            highlight=False,
            emoji=False,
        )
        for number, explanation in enumerate(explanations):
            if number:
                console.print()
            self.print_explanation(console, explanation, color)
        return "".join(line.rstrip() + "\n" for line in console.file.getvalue().split("\n")[:-1])

    def print_explanation(self, console: Console, explanation: Explanation, color: bool) -> None:
        console.print(Text(shown(title(explanation)), style="bold"))
        if is_generation(explanation):
            self.print_generation(console, explanation, color)
            return
        console.print(Text(f"  {shown(prediction(explanation))}"))
        for target in explanation.targets:
            console.print(Padding(self.target_line(explanation, target, color), (0, 0, 0, 2)))
            if not is_image(explanation):
                console.print(Padding(colored(pieces(explanation, target, self.view), color), (0, 0, 0, 4)))

    def target_line(self, explanation: Explanation, target: TargetAttribution, color: bool) -> Text:
        """``toward LABEL: word +0.123, ...   (sum ..., delta ...)``, the words coloured by sign when ``color``."""
        line = Text(f"toward {shown(heading(explanation, target))}: ")
        if is_image(explanation):
            line.append("pixel attributions (draw them with the png renderer)")
        self.append_top(line, pieces(explanation, target, self.view), color)
        line.append(f"   (sum {target.total:+.3f}, delta {target.delta:+.1e})")
        self.mark_unconverged(line, target, color)
        return line

    def print_generation(self, console: Console, explanation: Explanation, color: bool) -> None:
        """The continuation, then a line per explained step."""
        given = " (given)" if explanation.generation.forced else ""
        console.print(Text(f'  continuation{given}: "{shown(explanation.generation.text)}"'))
        for number, (step, target) in enumerate(steps(explanation), 1):
            console.print(Padding(self.step_line(explanation, number, step, target, color), (0, 0, 0, 2)))

    def step_line(
        self, explanation: Explanation, number: int, step: GeneratedToken, target: TargetAttribution, color: bool
    ) -> Text:
        """``step N "TOKEN" (p 0.812): word +0.123, ...   (sum ..., delta ...)``, marked when it has not converged."""
        line = Text(f'step {number} "{shown(token_text(step))}" (p {step.probability:.3f}): ')
        self.append_top(line, sources(explanation, step, target), color)
        line.append(f"   (sum {target.total:+.3f}, delta {target.delta:+.1e})")
        self.mark_unconverged(line, target, color)
        return line

    def mark_unconverged(self, line: Text, target: TargetAttribution, color: bool) -> None:
        """``  not converged`` (red and bold when ``color``) after a target that has not converged."""
        if unconverged(target):
            line.append("  not converged", style=Style(color="red", bold=True) if color else "")

    def append_top(self, line: Text, scored: list[Piece], color: bool) -> None:
        """The ``top_k`` pieces of largest score with their scores, coloured by sign when ``color``."""
        top = sorted(scored, key=lambda piece: -piece.score)[: self.top_k]
        for number, piece in enumerate(top):
            line.append(", " if number else "")
            line.append(f"{shown(piece.text)} {piece.score:+.3f}", style=Style(color="green" if piece.score > 0 else "magenta") if color else "")


def uses_color(color: str) -> bool:
    """Whether output is coloured: ``always``; or ``auto`` with standard output a terminal and ``NO_COLOR`` unset."""
    if color != "auto":
        return color == "always"
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
"""How the common control characters are shown; the others as ``\\xNN`` (``\\uNNNN`` for line separators)."""
CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")
"""Unicode categories shown escaped: C0 and C1 controls (ESC, CSI, BEL, ...) and the line and paragraph separators."""


def shown(text: str) -> str:
    """``text`` with its control characters escaped, so that data cannot send escape sequences to the terminal."""
    if text.isprintable():
        return text
    return "".join(escaped(character) if unicodedata.category(character) in CONTROL_CATEGORIES else character for character in text)


def escaped(character: str) -> str:
    """A control character as text: ``\\n``, ``\\t``, ``\\r``, or its code point (``\\x1b``, ``\\u2028``)."""
    code = ord(character)
    return ESCAPES.get(character) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def colored(scored: list[Piece], color: bool) -> Text:
    """The pieces on backgrounds of the diverging scale when ``color``, else each followed by its score in brackets."""
    bound = max((abs(piece.score) for piece in scored), default=0.0)
    line = Text()
    for number, piece in enumerate(scored):
        line.append(" " if number else "")
        if not color:
            line.append(f"{shown(piece.text)}[{piece.score:+.3f}]")
            continue
        red, green, blue, _ = colormap()(scale(piece.score, bound))
        ink = "white" if bound > 0 and abs(piece.score) > 0.6 * bound else "black"
        line.append(shown(piece.text), style=Style(color=ink, bgcolor=Color.from_rgb(red * 255, green * 255, blue * 255)))
    return line


@hookimpl
def register_renderers(register):
    register(TerminalRenderer)

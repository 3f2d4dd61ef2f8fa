"""The html renderer's view of a generation: the prompt, the continuation with a token to pick per explained step,
and the step × word table.

Picking a generated token (a click, or focus and the arrow keys: each is a radio button) or hovering it colours
the words it draws on by its attributions. Like the rest of the page this is plain CSS, no script: every word
carries its colour toward each step as custom properties (``--g<k>``, and ``--i<k>`` for white ink on a dark one),
and the rules ``step_style`` writes pick the step's with ``:has()``. The first step is picked in the markup, so
the page shows its colours before any interaction, and where ``:has()`` is missing.
"""

from __future__ import annotations

from html import escape

from attrix.contracts.explanation import Explanation, GeneratedToken, TargetAttribution
from attrix.renderers.html_style import DARK_SHARE, colour
from attrix.renderers.pieces import UNCONVERGED_NOTE, before, steps, token_text, unconverged

Steps = list[tuple[GeneratedToken, TargetAttribution]]


def step_style(count: int) -> str:
    """The rules that colour every word by step ``k``'s attributions while its token is picked or hovered, for
    ``count`` steps (a hovered token wins over the picked one: its selector is more specific)."""
    return "".join(
        f".attrix .generation:has(.k{k}:checked) .w, .attrix .generation:has(.k{k} + label:hover) .w "
        f"{{ background: var(--g{k}, transparent); color: var(--i{k}, inherit); }}\n"
        for k in range(count)
    )


def generation_view(explanation: Explanation, name: str) -> str:
    """The prompt and the continuation, its explained tokens the radio buttons ``name``; then the step × word table."""
    explained = steps(explanation)
    bounds = [max((abs(score) for score in target.word_scores), default=0.0) for _, target in explained]
    prompt = "".join(
        _span(word.text, _properties(explanation, explained, bounds, number)) + " "
        for number, word in enumerate(explanation.words)
        if word.sequence == 0
    )
    forced = " (given, not generated)" if explanation.generation.forced else ""
    return (
        f'<div class="generation"><p class="meta">prompt, then continuation{forced}: pick or hover a generated token '
        f"to colour the words by their attributions toward it</p>"
        f'<div class="text prompt">{prompt}</div>'
        f'<div class="text continuation" role="radiogroup" aria-label="generated tokens">'
        f"{_continuation(explanation, explained, bounds, name)}</div></div>{_table(explanation, explained, bounds)}"
    )


def _properties(explanation: Explanation, explained: Steps, bounds: list[float], word: int, after: int = -1) -> str:
    """Word ``word``'s colour toward each step that draws on it (and comes after token ``after``), as custom properties."""
    parts = []
    for k, ((step, target), bound) in enumerate(zip(explained, bounds)):
        if step.position > after and before(explanation.words[word], step.position):
            score = target.word_scores[word]
            ink = f"--i{k}:#fff;" if bound > 0 and abs(score) > DARK_SHARE * bound else ""
            parts.append(f"--g{k}:{colour(score, bound)};{ink}")
    return "".join(parts)


def _span(text: str, properties: str) -> str:
    return f'<span class="w" style="{properties}">{escape(text)}</span>'


def _continuation(explanation: Explanation, explained: Steps, bounds: list[float], name: str) -> str:
    """Every generated token, coloured as its word; an explained one as a radio button and its label, the first picked."""
    picks = {step.position: k for k, (step, _) in enumerate(explained)}
    word_at = {token: number for number, word in enumerate(explanation.words) if word.sequence == 1 for token in word.tokens}
    parts = []
    for step in explanation.generation.steps:
        word = word_at.get(step.position)
        properties = "" if word is None else _properties(explanation, explained, bounds, word, step.position)
        k = picks.get(step.position)
        parts.append(_span(step.text, properties) if k is None else _pick(name, k, step, explained[k][1], properties))
    return "".join(parts)


def _pick(name: str, k: int, step: GeneratedToken, target: TargetAttribution, properties: str) -> str:
    """Step ``k``'s radio button and its label, the token; its probability (and contrast) as the tooltip."""
    checked = " checked" if k == 0 else ""
    contrast = "" if step.contrast is None else f", against {step.contrast!r} ({_probability(step.contrast_probability)})"
    note = " — not converged" if unconverged(target) else ""
    tooltip = f"step {k + 1}: probability {_probability(step.probability)}{contrast}{note}"
    return (
        f'<input type="radio" class="pick k{k}" name="{name}" id="{name}-{k}" '
        f'aria-label="step {k + 1}: {escape(token_text(step))}"{checked}>'
        f'<label class="w" for="{name}-{k}" style="{properties}" title="{escape(tooltip)}">{escape(step.text)}</label>'
    )


def _probability(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _table(explanation: Explanation, explained: Steps, bounds: list[float]) -> str:
    """One row per explained step (its token, probability, score and delta), one coloured cell per word."""
    words = "".join(f'<th class="word">{escape(word.text)}</th>' for word in explanation.words)
    head = f"<tr><th>step</th><th>token</th><th>probability</th>{words}<th>score</th><th>baseline score</th><th>delta</th></tr>"
    rows = "".join(_row(explanation, k, step, target, bound) for k, ((step, target), bound) in enumerate(zip(explained, bounds)))
    caption = (
        "each generated token's attributions (rows) to the words (columns), each row on its own scale; "
        f"⚠: {UNCONVERGED_NOTE}"
    )
    return f'<div class="wide"><table class="steps"><caption>{escape(caption)}</caption>{head}{rows}</table></div>'


def _row(explanation: Explanation, k: int, step: GeneratedToken, target: TargetAttribution, bound: float) -> str:
    cells = "".join(
        _cell(score, bound) if before(word, step.position) else '<td class="cell later"></td>'
        for word, score in zip(explanation.words, target.word_scores)
    )
    late = unconverged(target)
    delta = (
        f'<td class="delta" title="{escape(UNCONVERGED_NOTE)}">⚠ {target.delta:.2e}</td>' if late
        else f'<td class="delta">{target.delta:.2e}</td>'
    )
    return (
        f'<tr class="step{" unconverged" if late else ""}"><td>{k + 1}</td><td>{escape(token_text(step))}</td>'
        f"<td>{_probability(step.probability)}</td>{cells}<td>{target.score:.4g}</td><td>{target.baseline_score:.4g}</td>"
        f"{delta}</tr>"
    )


def _cell(score: float, bound: float) -> str:
    ink = " d" if bound > 0 and abs(score) > DARK_SHARE * bound else ""
    return f'<td class="cell{ink}" style="background:{colour(score, bound)}" title="{score:+.6g}">{score:+.2g}</td>'

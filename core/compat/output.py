"""What the drop-in classes return beside scores: normalised attributions and written HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import PreTrainedModel

from attrix.contracts.explanation import Explanation, TargetAttribution
from attrix.errors import InputError
from attrix.host.registry import create


def normalised(scores: Sequence[float]) -> torch.Tensor:
    """Scores divided by their L2 norm, as transformers-interpret normalises them (zeros stay zeros)."""
    tensor = torch.tensor(list(scores), dtype=torch.float64)
    norm = torch.linalg.vector_norm(tensor)
    return tensor / norm if norm > 0 else tensor


def clean_token(token: str) -> str:
    """A token as transformers-interpret shows it: without the byte-level space marker."""
    return token.replace("Ġ", "")


def custom_id2label(model: PreTrainedModel, custom_labels: list[str] | None) -> dict[int, str]:
    """The model's labels, or ``custom_labels`` in their place (one per output)."""
    model_labels = {int(index): label for index, label in model.config.id2label.items()}
    if custom_labels is None:
        return model_labels
    if len(custom_labels) != len(model_labels):
        raise InputError(
            f"custom_labels has {len(custom_labels)} labels but the model has {len(model_labels)}; "
            f"give one label per model output"
        )
    return dict(enumerate(custom_labels))


@dataclass
class LegacyAttributions:
    """The ``attributions`` attribute of transformers-interpret's explainers: normalised sums and the delta."""

    word_attributions: list[tuple[str, float]]
    attributions_sum: torch.Tensor
    delta: torch.Tensor

    @classmethod
    def of(cls, tokens: Sequence[str], target: TargetAttribution, sign: float = 1.0) -> LegacyAttributions:
        """The legacy view of one target's token scores, optionally with the sign flipped."""
        scores = normalised(target.token_scores) * sign
        pairs = [(clean_token(token), float(score)) for token, score in zip(tokens, scores)]
        return cls(pairs, scores, torch.tensor([target.delta], dtype=torch.float64))


class HTML:
    """Rendered HTML: ``.data`` holds the page; notebooks show it inline."""

    def __init__(self, data: str) -> None:
        self.data = data

    def _repr_html_(self) -> str:
        return self.data


def visualize(explanations: Sequence[Explanation], html_filepath: str | Path | None) -> HTML:
    """Draw ``explanations`` with the html renderer, writing them to ``html_filepath`` (``.html`` added) if given."""
    renderer = create("renderer", "html", index=len(explanations) > 1)
    page = HTML(renderer.render(explanations))
    if html_filepath:
        path = Path(html_filepath)
        path = path if path.suffix == ".html" else path.with_name(path.name + ".html")
        renderer.write(explanations, path)
    return page

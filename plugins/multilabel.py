"""``multilabel``: independent labels, each a sigmoid, all explained together from one problem."""

from __future__ import annotations

import torch
from transformers import PretrainedConfig

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.targets import Target
from attrix.contracts.task import Prepared
from attrix.plugins.sequence import SequenceClassification

THRESHOLD = 0.5
"""A label is predicted when its probability is above this."""


class MultiLabelClassification(SequenceClassification):
    """Multi-label classification: which words push a text toward each label, each label's probability a sigmoid.

    Every label is explained by default (``target=`` restricts them), all in one problem whose forward passes
    serve every label at once. ``predicted_label`` is the most probable label and ``details["predicted_labels"]``
    every label with a probability above 0.5. ``task="auto"`` picks this task for models whose config says
    ``problem_type="multi_label_classification"``; ``task="multilabel"`` explains any sequence classifier this way.
    """

    name = "multilabel"

    @classmethod
    def auto_fits(cls, architecture: str, config: PretrainedConfig) -> bool:
        return cls.accepts(architecture, config) and config.problem_type == "multi_label_classification"

    def probabilities(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Each label's probability, a sigmoid of its logit: ``[batch, n_labels]``."""
        return torch.sigmoid(self.model(**inputs).logits)

    def prepare(self, items: list[str], target: Target) -> Prepared:
        return super().prepare(items, sorted(self.labels) if target is None else target)

    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        explanations = super().explanations(prepared, attributions)
        for explanation in explanations:
            predicted = [label for label, probability in explanation.probabilities.items() if probability > THRESHOLD]
            explanation.details["predicted_labels"] = predicted
        return explanations


@hookimpl
def register_tasks(register):
    register(MultiLabelClassification)

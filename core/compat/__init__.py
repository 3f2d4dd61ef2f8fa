"""Drop-in replacements for the explainer classes of transformers-interpret 0.10.0."""

from attrix.compat.image import ImageClassificationExplainer
from attrix.compat.sequence import SequenceClassificationExplainer

__all__ = ["ImageClassificationExplainer", "SequenceClassificationExplainer"]

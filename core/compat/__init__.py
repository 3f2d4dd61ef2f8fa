"""Drop-in replacements for the explainer classes of transformers-interpret 0.10.0."""

from attrix.compat.image import ImageClassificationExplainer
from attrix.compat.multilabel import MultiLabelClassificationExplainer
from attrix.compat.pairwise import PairwiseSequenceClassificationExplainer
from attrix.compat.qa import QuestionAnsweringExplainer
from attrix.compat.sequence import SequenceClassificationExplainer
from attrix.compat.token import TokenClassificationExplainer
from attrix.compat.zero_shot import ZeroShotClassificationExplainer

__all__ = [
    "ImageClassificationExplainer",
    "MultiLabelClassificationExplainer",
    "PairwiseSequenceClassificationExplainer",
    "QuestionAnsweringExplainer",
    "SequenceClassificationExplainer",
    "TokenClassificationExplainer",
    "ZeroShotClassificationExplainer",
]

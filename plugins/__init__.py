"""Built-in task adapters."""

from attrix.plugins.image import ImageClassification
from attrix.plugins.multilabel import MultiLabelClassification
from attrix.plugins.pairwise import PairwiseClassification
from attrix.plugins.qa import QuestionAnswering
from attrix.plugins.sequence import SequenceClassification
from attrix.plugins.token import TokenClassification
from attrix.plugins.zero_shot import ZeroShotClassification

__all__ = [
    "ImageClassification",
    "MultiLabelClassification",
    "PairwiseClassification",
    "QuestionAnswering",
    "SequenceClassification",
    "TokenClassification",
    "ZeroShotClassification",
]

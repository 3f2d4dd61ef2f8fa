"""Built-in faithfulness metrics."""

from attrix.metrics.completeness import Completeness
from attrix.metrics.comprehensiveness import Comprehensiveness
from attrix.metrics.deletion_auc import DeletionAuc
from attrix.metrics.insertion_auc import InsertionAuc
from attrix.metrics.loo_correlation import LeaveOneOutCorrelation
from attrix.metrics.sufficiency import Sufficiency

__all__ = ["Completeness", "Comprehensiveness", "DeletionAuc", "InsertionAuc", "LeaveOneOutCorrelation", "Sufficiency"]

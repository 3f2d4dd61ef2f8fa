"""Built-in task adapters."""

from attrix.plugins.sequence import SequenceClassification

__all__ = ["SequenceClassification"]

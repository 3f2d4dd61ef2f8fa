"""Importing what an optional extra installs, with an error that says how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType

from attrix.errors import AttrixError


class MissingExtraError(AttrixError, ImportError):
    """An optional dependency that is not installed."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """``module`` imported; if it is missing, an error naming ``pip install 'attrix[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{purpose} needs {module.partition('.')[0]}, which is not installed: pip install 'attrix[{extra}]'"
        ) from None

"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def default_model_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the default model once per session (in a temporary ATTRIX_CACHE_DIR if none is set)."""
    from attrix.default_model import default_model_dir

    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get("ATTRIX_CACHE_DIR"):
            patch.setenv("ATTRIX_CACHE_DIR", str(tmp_path_factory.mktemp("attrix-cache")))
        yield default_model_dir()

"""After each batch the Explainer gives the heap it freed back to the system (glibc), so that resident memory does
not stay at the largest batch's."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import torch

import attrix.api.explainer
from attrix.api.heap import release_free_heap
from attrix.integration.batching import length_batches

STATUS = Path("/proc/self/status")


def resident_mib() -> float:
    return int(re.search(r"VmRSS:\s+(\d+)", STATUS.read_text()).group(1)) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux") or not STATUS.exists(), reason="glibc and /proc are Linux's")
def test_freed_small_blocks_go_back_to_the_system():
    blocks = [torch.ones(4096) for _ in range(20_000)]  # 16 KiB each: malloc's heap, not mmap
    pinned = torch.ones(4096)  # allocated last, so the heap's top stays in use and free() alone cannot shrink it
    full = resident_mib()
    del blocks
    kept = resident_mib()
    assert release_free_heap()
    assert kept - resident_mib() > 200 and full - kept < 100
    del pinned


def test_the_explainer_releases_the_heap_after_every_batch(monkeypatch):
    from helpers.tiny_models import build

    calls = []
    monkeypatch.setattr(attrix.api.explainer, "release_free_heap", lambda: calls.append(True))
    explainer = attrix.api.explainer.Explainer(*build("bert", num_labels=2, seed=1), n_steps=2, batch_size=2)
    texts = ["a", "b c", "d e f g h i j k l m n o p", "q"]
    explainer(texts)
    batches = length_batches([explainer.task.length(text) for text in texts], 2)
    assert len(calls) == len(batches) > 1

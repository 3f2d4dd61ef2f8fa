"""Tiny, randomly initialised, deterministic transformers models with locally built tokenizers, for tests."""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Mapping
from pathlib import Path

import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedModel, PreTrainedTokenizerFast

ARCHITECTURES: tuple[str, ...] = ("bert", "distilbert", "roberta", "deberta-v2")
HEADS: tuple[str, ...] = ("sequence", "token", "qa", "base")

_HIDDEN_SIZE = 32
_NUM_LAYERS = 2
_NUM_HEADS = 4
_INTERMEDIATE_SIZE = 64
_MAX_POSITIONS = 64

# Whole words that are single tokens in every tokenizer ("wonderful" is deliberately not one of them).
_WORDS: tuple[str, ...] = (
    "i", "love", "this", "movie", "it", "is", "the", "food", "was", "awful", "terrible", "great",
    "good", "bad", "not", "a", "an", "and", "or", "but", "very", "film", "book", "plot", "acting",
    "boring", "amazing", "hate", "like", "really", "so", "were", "are", "be", "of", "to", "in", "on",
    "with", "for", "that", "what", "how", "who", "where", "when", "why", "you", "we", "they", "he",
    "she", "my", "me", "story", "actor", "best", "worst", "ever", "all", "no", "at", "as", "by",
    "from", "has", "have", "had", "one", "do", "did", "can", "will", "would", "well", "much", "more",
    "too", "also", "just", "there", "here", "about", "than", "fun", "funny", "sad", "nice", "poor",
    "excellent", "horrible", "music", "scene", "never", "always", "only", "some", "little", "long",
)
# Word-initial stems and word-final suffixes: "wonderful" -> wonder + ful, "movies" -> movie + s, ...
_STEMS: tuple[str, ...] = ("wonder", "interest", "disappoint", "enjoy", "believ", "beauti", "care")
_SUFFIXES: tuple[str, ...] = ("ful", "ing", "ed", "s", "ly", "able", "ness", "er", "est")
_LETTERS: tuple[str, ...] = tuple(string.ascii_lowercase)
_DIGITS: tuple[str, ...] = tuple(string.digits)
_PUNCTUATION: tuple[str, ...] = tuple(string.punctuation)

_CORPUS_SENTENCES: tuple[str, ...] = (
    "I love this movie, it is great!",
    "The food was awful and the acting was terrible.",
    "What a boring plot. I hate it.",
    "This book is really good, but the film is bad.",
    "Why were they so amazing? Who knows.",
    "It's not a very good film; I didn't like it.",
)


def _check_arch(arch: str) -> None:
    """Raise ValueError for an unsupported architecture name."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {ARCHITECTURES}")


def _unique(items: list[str]) -> list[str]:
    """Drop duplicates, keeping first occurrences in order."""
    return list(dict.fromkeys(items))


@functools.cache
def _wordpiece_vocab() -> dict[str, int]:
    """WordPiece vocabulary shared by the BERT and DistilBERT tokenizers."""
    tokens = _unique(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        + list(_PUNCTUATION)
        + list(_DIGITS)
        + list(_LETTERS)
        + list(_WORDS)
        + list(_STEMS)
        + ["##" + piece for piece in _SUFFIXES + _LETTERS + _DIGITS]
    )
    return {token: index for index, token in enumerate(tokens)}


@functools.cache
def _byte_level_bpe() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges of a byte-level BPE trained on a small in-code corpus (RoBERTa)."""
    pieces = _WORDS + _STEMS + _SUFFIXES + _LETTERS + _DIGITS
    pieces += tuple(word.capitalize() for word in _WORDS + _STEMS)
    corpus = list(pieces) + [" " + piece for piece in pieces] + list(_CORPUS_SENTENCES)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    model = json.loads(tokenizer.to_str())["model"]
    vocab: dict[str, int] = dict(model["vocab"])
    vocab["<mask>"] = len(vocab)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return vocab, merges


@functools.cache
def _unigram_vocab() -> list[tuple[str, float]]:
    """SentencePiece-style Unigram vocabulary with hand-set log-probabilities (DeBERTa-v2)."""
    scores: dict[str, float] = {}

    def add(piece: str, score: float) -> None:
        scores[piece] = max(score, scores.get(piece, score))

    for word in _WORDS + _STEMS:
        add("\u2581" + word, -5.0)
        add(word, -6.5)
    for suffix in _SUFFIXES:
        add(suffix, -6.0)
    for char in _LETTERS + _DIGITS + _PUNCTUATION:
        add(char, -8.0)
        add("\u2581" + char, -8.5)
    add("\u2581", -9.0)
    specials = [("[PAD]", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[UNK]", 0.0)]
    return specials + list(scores.items()) + [("[MASK]", 0.0)]


def _model_max_length(arch: str) -> int:
    """Longest input (special tokens included) the tiny model of `arch` can embed."""
    # RoBERTa position ids start at padding_idx + 1 = 2, so two position embeddings are unusable.
    return _MAX_POSITIONS - 2 if arch == "roberta" else _MAX_POSITIONS


def build_tokenizer(arch: str) -> PreTrainedTokenizerFast:
    """Build a fresh fast tokenizer for `arch` from a small local vocabulary."""
    _check_arch(arch)
    max_length = _model_max_length(arch)
    if arch in ("bert", "distilbert"):
        cls = transformers.BertTokenizerFast if arch == "bert" else transformers.DistilBertTokenizerFast
        return cls(vocab=dict(_wordpiece_vocab()), do_lower_case=True, model_max_length=max_length)
    if arch == "roberta":
        vocab, merges = _byte_level_bpe()
        return transformers.RobertaTokenizerFast(
            vocab=dict(vocab), merges=list(merges), add_prefix_space=False, trim_offsets=True,
            model_max_length=max_length,
        )
    return transformers.DebertaV2TokenizerFast(
        vocab=list(_unigram_vocab()), do_lower_case=True, split_by_punct=False, model_max_length=max_length,
    )


def _config(arch: str, tokenizer: PreTrainedTokenizerFast) -> transformers.PretrainedConfig:
    """Tiny model configuration for `arch`, with vocabulary and special ids matching `tokenizer`."""
    common = {"vocab_size": len(tokenizer), "max_position_embeddings": _MAX_POSITIONS,
              "pad_token_id": tokenizer.pad_token_id}
    if arch == "distilbert":
        return transformers.DistilBertConfig(
            dim=_HIDDEN_SIZE, n_layers=_NUM_LAYERS, n_heads=_NUM_HEADS, hidden_dim=_INTERMEDIATE_SIZE, **common
        )
    sizes = {"hidden_size": _HIDDEN_SIZE, "num_hidden_layers": _NUM_LAYERS,
             "num_attention_heads": _NUM_HEADS, "intermediate_size": _INTERMEDIATE_SIZE}
    if arch == "bert":
        return transformers.BertConfig(type_vocab_size=2, **sizes, **common)
    if arch == "roberta":
        return transformers.RobertaConfig(
            type_vocab_size=1, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            **sizes, **common,
        )
    return transformers.DebertaV2Config(
        type_vocab_size=0, relative_attention=True, position_biased_input=False, pos_att_type=["p2c", "c2p"],
        max_relative_positions=-1, position_buckets=32, norm_rel_ebd="layer_norm", share_att_key=True,
        **sizes, **common,
    )


def _labels(head: str, num_labels: int, id2label: Mapping[int, str] | None) -> dict[int, str]:
    """Resolve the id -> label mapping; a given `id2label` fixes the number of labels."""
    if id2label is not None:
        labels = {int(key): str(value) for key, value in id2label.items()}
        if sorted(labels) != list(range(len(labels))) or not labels:
            raise ValueError(f"id2label keys must be 0..n-1, got {sorted(labels)}")
        return labels
    if num_labels < 1:
        raise ValueError(f"num_labels must be positive, got {num_labels}")
    if head == "sequence" and num_labels == 2:
        return {0: "NEGATIVE", 1: "POSITIVE"}
    return {index: f"LABEL_{index}" for index in range(num_labels)}


_AUTO_CLASSES = {
    "sequence": transformers.AutoModelForSequenceClassification,
    "token": transformers.AutoModelForTokenClassification,
    "qa": transformers.AutoModelForQuestionAnswering,
    "base": transformers.AutoModel,
}


def build_model(
    arch: str,
    head: str = "sequence",
    num_labels: int = 2,
    seed: int = 0,
    id2label: Mapping[int, str] | None = None,
) -> PreTrainedModel:
    """Build a tiny randomly initialised model in eval mode; the same seed gives identical weights."""
    _check_arch(arch)
    if head not in _AUTO_CLASSES:
        raise ValueError(f"unknown head {head!r}; expected one of {HEADS}")
    config = _config(arch, build_tokenizer(arch))
    labels = _labels(head, num_labels, id2label)
    config.id2label = labels
    config.label2id = {label: index for index, label in labels.items()}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _AUTO_CLASSES[head].from_config(config)
    return model.eval()


def build(
    arch: str,
    head: str = "sequence",
    num_labels: int = 2,
    seed: int = 0,
    id2label: Mapping[int, str] | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """Build a matching (model, tokenizer) pair."""
    return build_model(arch, head, num_labels, seed, id2label), build_tokenizer(arch)


def build_wide(arch: str = "bert", head: str = "sequence", num_labels: int = 3, seed: int = 3) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A matching pair whose model is in float64, its weights (LayerNorms aside) re-drawn from N(0, 0.3²): far from
    their tiny initial scale, so that its outputs depend on the words."""
    model, tokenizer = build(arch, head=head, num_labels=num_labels, seed=seed)
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" not in name:
                parameter.normal_(0.0, 0.3)
    return model.double(), tokenizer


def save(arch: str, directory: Path | str, **kwargs: object) -> Path:
    """Save a built model and its tokenizer to `directory` for offline `from_pretrained`; return the path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model, tokenizer = build(arch, **kwargs)  # type: ignore[arg-type]
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory

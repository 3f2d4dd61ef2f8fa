"""Tiny, randomly initialised NLI models (entailment / neutral / contradiction heads) of several architectures, for tests."""

from __future__ import annotations

import torch
import transformers
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from helpers.tiny_models import _LETTERS, _WORDS, _unigram_vocab, build, build_tokenizer

NLI_ARCHITECTURES: tuple[str, ...] = ("bert", "roberta", "deberta-v2", "xlm-roberta", "bart")

# Each architecture's labels in output order, in the casings and orders real NLI checkpoints use.
NLI_LABELS: dict[str, tuple[str, ...]] = {
    "bert": ("entailment", "neutral", "contradiction"),
    "roberta": ("CONTRADICTION", "NEUTRAL", "ENTAILMENT"),
    "deberta-v2": ("Entailment", "Neutral", "Contradiction"),
    "xlm-roberta": ("contradiction", "entailment", "neutral"),
    "bart": ("contradiction", "neutral", "entailment"),
}

_SIZES = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}
_MAX_POSITIONS = 64


def _xlm_roberta_tokenizer() -> PreTrainedTokenizerFast:
    """A SentencePiece-style Unigram tokenizer with XLM-R's special tokens (no lower-casing, so capitals are pieces too)."""
    pieces = [piece for piece in _unigram_vocab() if piece[0] not in ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")]
    capitals = [("\u2581" + word.capitalize(), -5.0) for word in _WORDS] + [(letter.upper(), -8.0) for letter in _LETTERS]
    specials = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab = specials + pieces + [piece for piece in capitals if piece[0] not in dict(pieces)] + [("<mask>", 0.0)]
    return transformers.XLMRobertaTokenizer(vocab=vocab, model_max_length=_MAX_POSITIONS - 2)


def _config(arch: str, tokenizer: PreTrainedTokenizerFast) -> transformers.PretrainedConfig:
    """The tiny configuration of the architectures ``tiny_models`` does not build."""
    special = {"pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id}
    if arch == "xlm-roberta":
        return transformers.XLMRobertaConfig(
            vocab_size=len(tokenizer), max_position_embeddings=_MAX_POSITIONS, type_vocab_size=1, **_SIZES, **special
        )
    return transformers.BartConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=_MAX_POSITIONS,
        decoder_start_token_id=tokenizer.eos_token_id, forced_eos_token_id=tokenizer.eos_token_id, **special,
    )


def build_nli(
    arch: str, seed: int = 0, labels: tuple[str, ...] | None = None, std: float | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A tiny NLI ``ForSequenceClassification`` model and its tokenizer; ``std`` re-draws the weights wider (see ``spread``)."""
    labels = labels or NLI_LABELS[arch]
    if arch in ("xlm-roberta", "bart"):
        tokenizer = _xlm_roberta_tokenizer() if arch == "xlm-roberta" else build_tokenizer("roberta")  # BART's tokenizer is RoBERTa's
        config = _config(arch, tokenizer)
        config.id2label = dict(enumerate(labels))
        config.label2id = {label: index for index, label in enumerate(labels)}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = transformers.AutoModelForSequenceClassification.from_config(config).eval()
    else:
        model, tokenizer = build(arch, seed=seed, id2label=dict(enumerate(labels)))
    if std is not None:
        spread(model, std, seed)
    return model, tokenizer


def spread(model: PreTrainedModel, std: float, seed: int) -> None:
    """Re-draw every weight but the LayerNorms' from N(0, std²), in place and deterministically."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" not in name.lower():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)

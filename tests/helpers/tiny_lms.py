"""Tiny, randomly initialised, deterministic language models (GPT-2, Llama, T5, BART) with locally built tokenizers."""

from __future__ import annotations

from pathlib import Path

import torch
import transformers
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from helpers.tiny_models import _byte_level_bpe, _unigram_vocab

LANGUAGE_MODELS: tuple[str, ...] = ("gpt2", "llama", "t5", "bart")
CAUSAL: tuple[str, ...] = ("gpt2", "llama")
SEQ2SEQ: tuple[str, ...] = ("t5", "bart")
_SCALES = {"t5": 0.1}
"""Weight scales other than 0.3: T5 has no embedding scaling or attention temperature, so 0.3 makes it jagged."""
_SIZES = {"hidden": 32, "layers": 2, "heads": 4, "intermediate": 64, "positions": 64}
CHAT_TEMPLATE = (
    "{% for message in messages %}<s>{{ message['role'] }}\n{{ message['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<s>assistant\n{% endif %}"
)


def build_lm_tokenizer(arch: str) -> PreTrainedTokenizerFast:
    """A fresh fast tokenizer: byte-level BPE (GPT-2 without a pad token, Llama adding a BOS, BART) or SentencePiece
    unigram (T5)."""
    if arch == "t5":
        pieces = [(piece, score) for piece, score in _unigram_vocab() if not piece.startswith("[")]
        vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), *pieces]
        return transformers.T5TokenizerFast(vocab=vocab, extra_ids=0, model_max_length=_SIZES["positions"])
    vocab, merges = _byte_level_bpe()
    if arch == "bart":
        return transformers.BartTokenizerFast(vocab=dict(vocab), merges=list(merges), model_max_length=_SIZES["positions"])
    tokenizer = transformers.GPT2TokenizerFast(
        vocab=dict(vocab), merges=list(merges), unk_token="<unk>", bos_token="<s>", eos_token="</s>",
        add_bos_token=arch == "llama", model_max_length=_SIZES["positions"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _config(arch: str, tokenizer: PreTrainedTokenizerFast) -> transformers.PretrainedConfig:
    ids = {"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
           "pad_token_id": tokenizer.pad_token_id}
    h, n, heads, inner, positions = (_SIZES[key] for key in ("hidden", "layers", "heads", "intermediate", "positions"))
    if arch == "gpt2":
        return transformers.GPT2Config(n_embd=h, n_layer=n, n_head=heads, n_inner=inner, n_positions=positions, **ids)
    if arch == "llama":
        return transformers.LlamaConfig(hidden_size=h, num_hidden_layers=n, num_attention_heads=heads, num_key_value_heads=2,
                                        intermediate_size=inner, max_position_embeddings=positions, **ids)
    if arch == "t5":
        return transformers.T5Config(d_model=h, d_kv=h // heads, d_ff=inner, num_layers=n, num_heads=heads,
                                     decoder_start_token_id=tokenizer.pad_token_id, **ids)
    return transformers.BartConfig(d_model=h, encoder_layers=n, decoder_layers=n, encoder_attention_heads=heads,
                                   decoder_attention_heads=heads, encoder_ffn_dim=inner, decoder_ffn_dim=inner,
                                   max_position_embeddings=positions, decoder_start_token_id=tokenizer.eos_token_id, **ids)


def _fresh(arch: str, seed: int) -> PreTrainedModel:
    auto = transformers.AutoModelForCausalLM if arch in CAUSAL else transformers.AutoModelForSeq2SeqLM
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = auto.from_config(_config(arch, build_lm_tokenizer(arch)))
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if "norm" not in name.lower():
                    parameter.normal_(0.0, _SCALES.get(arch, 0.3))
    return model.eval()


def build_lm(arch: str, seed: int = 0, dtype: torch.dtype = torch.float32) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A matching (model, tokenizer) pair; weights (norms aside) drawn from N(0, 0.3²) (T5: 0.1²) so that outputs depend
    on the tokens."""
    if arch not in LANGUAGE_MODELS:
        raise ValueError(f"unknown language model {arch!r}; expected one of {LANGUAGE_MODELS}")
    model = _fresh(arch, seed)
    return model.to(dtype), build_lm_tokenizer(arch)


def save_lm(arch: str, directory: Path | str, seed: int = 0) -> Path:
    """Save a built language model and its tokenizer to ``directory`` for offline ``from_pretrained``; return the path."""
    model, tokenizer = build_lm(arch, seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return Path(directory)

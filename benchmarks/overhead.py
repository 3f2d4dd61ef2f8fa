"""The framework-overhead check: attrix at a fixed n_steps against the bare torch passes it needs."""

from __future__ import annotations

from statistics import median
from typing import Any

import torch
from captum.attr._utils.approximation_methods import approximation_parameters
from cases import LONG_REVIEW, tokens_cut
from measure import alternating, load_average

import attrix
from attrix.api.default_model import default_model_dir


def bare_passes(model: torch.nn.Module, encoding: dict[str, torch.Tensor], baseline_ids: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Integrated gradients written directly in torch: the prediction, f(baseline), one pass along the path and back."""
    embed = model.get_input_embeddings()
    with torch.no_grad():
        probabilities = torch.softmax(model(**encoding).logits, -1)
        target = int(probabilities.argmax())
        torch.softmax(model(**dict(encoding, input_ids=baseline_ids)).logits, -1)
        end, start = embed(encoding["input_ids"]), embed(baseline_ids)
    weights, alphas = (torch.tensor(values(n_steps)) for values in approximation_parameters("gausslegendre"))
    path = (start + alphas.view(-1, 1, 1) * (end - start)).requires_grad_(True)
    rest = {key: value.expand(n_steps, -1) for key, value in encoding.items() if key != "input_ids"}
    scores = torch.softmax(model(inputs_embeds=path, **rest).logits, -1)[:, target]
    (grad,) = torch.autograd.grad(scores.sum(), path)
    return ((grad * weights.view(-1, 1, 1)).sum(0) * (end - start)).sum(-1)


def overhead_ratio(n_steps: int, runs: int) -> dict[str, Any]:
    """attrix's median time for one 138-token text at ``n_steps`` over the bare passes' (with the frozen weights both)."""
    explainer = attrix.Explainer(str(default_model_dir()), n_steps=n_steps)
    model, tokenizer = explainer.model, explainer.task.tokenizer
    text = tokens_cut(tokenizer, LONG_REVIEW, 138)
    encoding = dict(tokenizer(text, return_tensors="pt", return_special_tokens_mask=True))
    special = encoding.pop("special_tokens_mask").bool()
    baseline_ids = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    ours = explainer(text).target()
    theirs = bare_passes(model.requires_grad_(False), encoding, baseline_ids, n_steps)
    if not torch.allclose(torch.tensor(ours.token_scores), theirs, atol=1e-5):
        raise RuntimeError("the bare passes and attrix disagree: the overhead check would compare different work")
    timings = alternating({"attrix": lambda: explainer(text), "bare": lambda: bare_passes(model, encoding, baseline_ids, n_steps)}, runs)
    model.requires_grad_(True)
    attrix_seconds, bare_seconds = median(timings["attrix"]), median(timings["bare"])
    return {"attrix": attrix_seconds, "bare": bare_seconds, "ratio": attrix_seconds / bare_seconds, "load": load_average()}

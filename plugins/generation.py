"""``generation``: decoder-only language models (GPT-2, Llama, Qwen, SmolLM, …), every generated token explained."""

from __future__ import annotations

import inspect

import torch
from transformers import AutoModelForCausalLM

from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.problem import Inputs
from attrix.text.generation import GenerationTask, Layout, Request, Segment


class CausalGeneration(GenerationTask):
    """A continuation of a prompt by a causal language model; features are the prompt's tokens and the earlier
    continuation's (see ``GenerationTask``). One forward pass over prompt + continuation gives every step."""

    name = "generation"
    heads = ("ForCausalLM", "LMHeadModel")
    auto_model = AutoModelForCausalLM

    def generation_inputs(self, prompt: Segment) -> Inputs:
        ids = torch.tensor([prompt.ids])
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def new_tokens(self, output: list[int], prompt: Segment) -> list[int]:
        return output[len(prompt.ids) :]

    def layout(self, request: Request, prompt: Segment, ids: list[int], contrast: list[int]) -> Layout:
        continuation = self.continuation_segment(ids, prompt.ids[-1:])
        joined = Segment(prompt.text, prompt.ids + ids, prompt.spans + continuation.spans, prompt.kept + continuation.kept)
        return Layout(request, [joined], continuation, len(prompt.ids), contrast)

    def word_segments(self, sequence: Layout) -> list[tuple[int, Segment]]:
        first = sequence.first_step
        prompt = sequence.segments[0]
        return [
            (0, Segment(prompt.text, prompt.ids[:first], prompt.spans[:first], prompt.kept[:first])),
            (first, sequence.continuation),
        ]

    def logits(self, score_positions: torch.Tensor, **model_inputs: torch.Tensor) -> torch.Tensor:
        if "logits_to_keep" not in inspect.signature(self.model.forward).parameters:
            logits = self.model(**model_inputs).logits
            return logits.gather(1, score_positions.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))
        kept = torch.unique(score_positions)
        logits = self.model(**model_inputs, logits_to_keep=kept).logits
        index = torch.searchsorted(kept, score_positions)
        return logits.gather(1, index.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))


@hookimpl
def register_tasks(register):
    register(CausalGeneration)

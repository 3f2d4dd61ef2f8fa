"""``seq2seq``: encoder–decoder models (T5, BART, Marian, …), every generated token explained toward the source
tokens and the decoder prefix."""

from __future__ import annotations

import torch
from transformers import AutoModelForSeq2SeqLM, PretrainedConfig

from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.problem import Inputs
from attrix.errors import InputError
from attrix.text.encoding import TokenEmbedding
from attrix.text.generation import GenerationTask, Layout, Request, Segment


class Seq2SeqGeneration(GenerationTask):
    """A continuation (translation, summary, answer) of a source text by an encoder–decoder.

    The source and the decoder's tokens are embedded in one call of the shared token embedding, so one path
    interpolates both: features are the source's tokens (``words`` of sequence 0) and the earlier continuation's
    (sequence 1), kept apart; the decoder's start token keeps its value. See ``GenerationTask``.
    """

    name = "seq2seq"
    heads = ("ForConditionalGeneration", "MTModel")
    auto_model = AutoModelForSeq2SeqLM
    extra_tokens = 1

    @classmethod
    def accepts(cls, architecture: str, config: PretrainedConfig) -> bool:
        return bool(getattr(config, "is_encoder_decoder", False)) and super().accepts(architecture, config)

    @property
    def layer(self) -> torch.nn.Module:
        """Source and decoder tokens embedded in one call (``logits`` splits them), so that one hook sees both."""
        if not hasattr(self, "_joined"):
            self._joined = TokenEmbedding(self.model.get_input_embeddings())
        return self._joined

    @property
    def token_embedding(self) -> torch.nn.Module:
        """The joined embedding: the continuous input is what ``layer`` gives, whatever the model is run on."""
        return self.layer

    def fitted_prompt(self, prompt: Segment, new_tokens: int) -> Segment:
        """The source within the encoder's limit; the decoder reads the continuation within its own."""
        if self.limit is not None and new_tokens > self.limit:
            raise InputError(
                f"{new_tokens - self.extra_tokens} new tokens do not fit the decoder, which reads at most {self.limit} "
                f"tokens; lower max_new_tokens or shorten target_text"
            )
        return super().fitted_prompt(prompt, 0)

    def generation_inputs(self, prompt: Segment) -> Inputs:
        ids = torch.tensor([prompt.ids])
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def new_tokens(self, output: list[int], prompt: Segment) -> list[int]:
        return output[1:]

    def layout(self, request: Request, prompt: Segment, ids: list[int], contrast: list[int]) -> Layout:
        continuation = self.continuation_segment(ids, [])
        start = self.model.config.decoder_start_token_id
        decoder = Segment(continuation.text, [start, *ids], [(0, 0), *continuation.spans], [True, *continuation.kept])
        return Layout(request, [prompt, decoder], continuation, len(prompt.ids) + 1, contrast)

    def extra_inputs(self, rows: int, widths: list[int]) -> Inputs:
        return {"source_length": torch.full((rows,), widths[0])}

    def logits(
        self,
        score_positions: torch.Tensor,
        *,
        attention_mask: torch.Tensor,
        source_length: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        source = int(source_length[0])
        embedded = self.layer(input_ids) if inputs_embeds is None else inputs_embeds
        logits = self.model(
            inputs_embeds=embedded[:, :source],
            attention_mask=attention_mask[:, :source],
            decoder_inputs_embeds=embedded[:, source:],
            decoder_attention_mask=attention_mask[:, source:],
        ).logits
        return logits.gather(1, score_positions.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))


@hookimpl
def register_tasks(register):
    register(Seq2SeqGeneration)

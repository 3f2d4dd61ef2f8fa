"""The documented JSON schema: a golden document, its round trip, and docs/output-schema.md covering every field.

Regenerate the golden file after a deliberate schema change with ``ATTRIX_UPDATE_GOLDEN=1`` (and bump
``SCHEMA_VERSION`` if a field was removed, renamed or changed meaning).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

import attrix
from attrix.contracts.explanation import (
    SCHEMA_VERSION,
    Explanation,
    GeneratedToken,
    Generation,
    TargetAttribution,
    Word,
)
from attrix.renderers.json import JsonRenderer, read_json

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "explanations.json"
DOC = ROOT / "docs" / "output-schema.md"


def documented_explanations() -> list[Explanation]:
    """A pair, a QA, an image and a generation explanation covering every field, with values exact in binary; each
    target's attributions sum to ``score - baseline_score + delta`` and each word's score to its tokens'."""
    pair = Explanation(
        task="pairwise", model="example/nli", inputs={"text": "A dog runs.", "text_pair": "An animal moves."},
        tokens=["[CLS]", "a", "dog", "runs", ".", "[SEP]", "an", "animal", "moves", ".", "[SEP]"],
        words=[Word("A", 0, 1, [1]), Word("dog", 2, 5, [2]), Word("runs.", 6, 11, [3, 4]),
               Word("An", 0, 2, [6], 1), Word("animal", 3, 9, [7], 1), Word("moves.", 10, 16, [8, 9], 1)],
        targets=[TargetAttribution("entailment", 0, [0.0, 0.125, 0.25, 0.0, 0.0, 0.0, 0.0, 0.125, 0.0, -0.125, 0.0],
                                   [0.125, 0.25, 0.0, 0.0, 0.125, -0.125], score=0.875, baseline_score=0.5, delta=0.0,
                                   converged=True)],
        predicted_label="entailment", probabilities={"entailment": 0.875, "neutral": 0.0625, "contradiction": 0.0625},
        method="layer_ig", settings={"n_steps": 16, "baseline": "pad", "embedding": "word"},
    )
    qa = Explanation(
        task="qa", model="example/qa", inputs={"question": "Where?", "context": "In Paris."},
        tokens=["[CLS]", "where", "?", "[SEP]", "in", "paris", ".", "[SEP]"],
        words=[Word("Where?", 0, 6, [1, 2]), Word("In", 0, 2, [4], 1), Word("Paris.", 3, 9, [5, 6], 1)],
        targets=[TargetAttribution(end, index, [0.0, 0.25, 0.0, 0.0, 0.125, 1.5, 0.0, 0.0], [0.25, 0.125, 1.5],
                                   score=2.5, baseline_score=0.5, delta=-0.125, position=5)
                 for index, end in enumerate(("start", "end"))],
        predicted_label="Paris", probabilities={"start": 0.75, "end": 0.75}, method="layer_ig",
        settings={"n_steps": 16}, details={"answer": "Paris", "start": 3, "end": 8, "start_token": 5, "end_token": 5, "score": 0.5625},
    )
    image = Explanation(
        task="image", model="example/vit", inputs={"image": "cat.png"}, tokens=[], words=[],
        targets=[TargetAttribution("cat", 0, [], [], score=0.75, baseline_score=0.25, delta=0.0,
                                   array=[[[0.25, 0.0], [0.0, 0.125]], [[0.0, 0.0], [0.125, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])],
        predicted_label="cat", probabilities={"cat": 0.75, "dog": 0.25}, method="ig", settings={"n_steps": 16},
        details={"image_size": [2, 2], "input_size": [4, 4], "input_mode": "RGB", "converted_to_rgb": False,
                 "attributed_at": "pixel_values", "patch_size": [1, 1], "patch_scores": [[[0.25, 0.0], [0.125, 0.125]]]},
    )
    generation = Explanation(
        task="generation", model="example/lm", inputs={"prompt": "The capital of France is"},
        tokens=["<s>", "The", " capital", " of", " France", " is", " Paris", "."],
        words=[Word("The", 0, 3, [1]), Word("capital", 4, 11, [2]), Word("of", 12, 14, [3]), Word("France", 15, 21, [4]),
               Word("is", 22, 24, [5]), Word("Paris", 1, 6, [6], 1), Word(".", 6, 7, [7], 1)],
        targets=[TargetAttribution(" Paris", 0, [0.0, 0.125, 0.5, 0.0, 2.0, 0.25, 0.0, 0.0],
                                   [0.125, 0.5, 0.0, 2.0, 0.25, 0.0, 0.0], score=-0.25, baseline_score=-3.0625, delta=0.0625,
                                   position=6),
                 TargetAttribution(".", 1, [0.0, 0.0625, -0.25, 0.0, 0.25, 0.125, 0.5, 0.0],
                                   [0.0625, -0.25, 0.0, 0.25, 0.125, 0.5, 0.0], score=-0.75, baseline_score=-1.5, delta=-0.0625,
                                   position=7, converged=False)],
        predicted_label=" Paris.", probabilities={}, method="layer_ig", settings={"n_steps": 16},
        generation=Generation(" Paris.", 6, [GeneratedToken("ĠParis", " Paris", 6342, 6, 0.78125),
                                             GeneratedToken(".", ".", 13, 7, 0.46875)], kept=[0]),
    )
    return [pair, qa, image, generation]


def version_one(data: dict) -> dict:
    """``data`` (an explanation or a document) tagged as schema version 1, as an attrix before generation wrote it:
    its targets without ``converged``."""
    if "targets" in data:
        data = {**data, "targets": [{k: v for k, v in target.items() if k != "converged"} for target in data["targets"]]}
    return {**data, "schema_version": 1}


def test_json_renderer_writes_the_golden_document():
    rendered = JsonRenderer().render(documented_explanations()) + "\n"
    if os.environ.get("ATTRIX_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(rendered, encoding="utf-8")
    assert rendered == GOLDEN.read_text(encoding="utf-8")


def test_the_golden_document_reads_back_into_the_explanations():
    assert read_json(GOLDEN.read_text(encoding="utf-8")) == documented_explanations()
    assert json.loads(GOLDEN.read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION


def test_the_doc_describes_every_field_of_this_version():
    doc = DOC.read_text(encoding="utf-8")
    assert f"**schema version {SCHEMA_VERSION}**" in doc
    for cls in (Explanation, TargetAttribution, Word, Generation, GeneratedToken):
        for field in dataclasses.fields(cls):
            assert f"| `{field.name}` |" in doc, f"{cls.__name__}.{field.name} is not in {DOC.name}"
    assert "| `schema_version` |" in doc


def test_the_doc_example_is_a_valid_explanation():
    example = re.search(r"## Example.*?```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    explanation = Explanation.from_dict(json.loads(example))
    target = explanation.target()
    assert sum(target.token_scores) == pytest.approx(target.score - target.baseline_score + target.delta)
    assert [explanation.tokens[t] for word in explanation.words for t in word.tokens] == ["great", "film"]


@pytest.mark.parametrize("text, message", [
    ("[]", "not an attrix JSON document"),
    ('{"explanations": []}', "the document has no schema_version"),
    (json.dumps({"schema_version": SCHEMA_VERSION + 1, "explanations": []}),
     f"newer than the {SCHEMA_VERSION} this attrix reads: upgrade attrix"),
    (json.dumps({"schema_version": SCHEMA_VERSION, "explanations": [{"schema_version": 1, "task": "x"}]}), "explanation 0 is not an explanation"),
    ("{", "the document is not JSON"),
])
def test_bad_documents_are_refused_with_the_reason(text, message):
    with pytest.raises(attrix.InputError, match=message):
        read_json(text)


def test_the_golden_explanations_are_consistent():
    for explanation in documented_explanations():
        for target in explanation.targets:
            assert target.total == pytest.approx(target.score - target.baseline_score + target.delta)
            for word, score in zip(explanation.words, target.word_scores):
                assert score == pytest.approx(sum(target.token_scores[t] for t in word.tokens))


def test_version_one_documents_without_a_generation_still_read():
    old = [replace(explanation, targets=[replace(target, converged=None) for target in explanation.targets])
           for explanation in documented_explanations() if explanation.generation is None]
    document = version_one({"explanations": [version_one(explanation.to_dict()) for explanation in old]})
    assert SCHEMA_VERSION == 3 and "generation" not in json.dumps(document) and "converged" not in json.dumps(document)
    assert read_json(json.dumps(document)) == old
    assert [Explanation.from_dict(item) for item in document["explanations"]] == old


def test_only_generations_write_the_generation_object():
    written = [explanation.to_dict() for explanation in documented_explanations()]
    assert ["generation" in data for data in written] == [False, False, False, True]


def test_the_golden_generation_is_causal_and_its_steps_match_its_targets():
    generation = documented_explanations()[-1]
    steps = generation.generation.steps
    assert [target.position for target in generation.targets] == [step.position for step in steps]
    assert [target.label for target in generation.targets] == [step.text for step in steps]
    assert "".join(step.text for step in steps) == generation.generation.text == generation.predicted_label
    for target in generation.targets:
        assert not any(target.token_scores[target.position:])
        assert not any(target.token_scores[t] for t in generation.generation.kept)

"""Dataset inputs of runs: JSONL, CSV, Parquet and inline rows, ids, field mapping, limits and bad files."""

from __future__ import annotations

import csv
import dataclasses
import json
import sys

import pytest

import attrix
from attrix.experiments.schema import InputsSpec
from attrix.host.registry import get_registry
from attrix.plugins.pairwise import check_pair
from attrix.plugins.qa import question_and_context
from attrix.runs.dataset import Dataset, Row
from attrix.runs.extras import MissingExtraError

RECORDS = [
    {"key": "a7", "review": "i love this movie", "stars": 5},
    {"key": "b2", "review": "the food was awful", "stars": 1},
    {"key": "c9", "review": "a good plot", "stars": 4},
]


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def write_csv(path, records):
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return path


def write_parquet(path, records):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), path)
    return path


@pytest.mark.parametrize("writer, name", [(write_jsonl, "data.jsonl"), (write_csv, "data.csv"), (write_parquet, "data.parquet")])
def test_each_format_gives_the_mapped_field_under_its_id(tmp_path, writer, name):
    path = writer(tmp_path / name, RECORDS)
    dataset = Dataset(InputsSpec(path=str(path), fields={"text": "review"}, id_field="key"), ("text",))
    assert list(dataset) == [Row("a7", "i love this movie"), Row("b2", "the food was awful"), Row("c9", "a good plot")]
    assert dataset.count() == 3


def test_row_numbers_are_the_ids_without_an_id_field_and_limit_keeps_the_first_rows(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", [{"text": f"text {n}"} for n in range(10)])
    dataset = Dataset(InputsSpec(path=str(path), limit=4), ("text",))
    assert [(row.id, row.input) for row in dataset] == [(n, f"text {n}") for n in range(4)]
    assert dataset.count() == 4


def test_inline_items_are_inputs_as_given(tmp_path):
    items = ("i love it", "", 7, {"text": "mapped from a dict", "label": "POSITIVE"})
    assert list(Dataset(InputsSpec(items=items), ("text",))) == [
        Row(0, "i love it"), Row(1, ""), Row(2, 7), Row(3, "mapped from a dict"),
    ]


def test_tasks_with_several_inputs_get_dicts_their_checks_accept(tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"premise": "a cat sat", "hypothesis": "an animal sat"}])
    (pair,) = Dataset(InputsSpec(path=str(pairs), fields={"text": "premise", "text_pair": "hypothesis"}), ("text", "text_pair"))
    assert check_pair(pair.input) == ("a cat sat", "an animal sat")
    questions = write_csv(tmp_path / "qa.csv", [{"q": "who sat?", "c": "the cat sat"}])
    (question,) = Dataset(InputsSpec(path=str(questions), fields={"question": "q", "context": "c"}), get_registry().get("task", "qa").obj.inputs)
    assert question_and_context(question.input) == ("who sat?", "the cat sat")


def test_input_names_of_the_builtin_tasks():
    names = {name: entry.obj.input_names() for name, entry in get_registry().entries["task"].items()}
    assert names["qa"] == ("question", "context") and names["pairwise"] == ("text", "text_pair")
    assert names["zero_shot"] == ("text", "candidate_labels") and names["image"] == ("image",)
    assert names["sequence"] == names["multilabel"] == names["token"] == ("text",)


def test_image_paths_are_read_relative_to_the_inputs_file(tmp_path):
    (tmp_path / "images").mkdir()
    path = write_csv(tmp_path / "images" / "list.csv", [{"file": "cat.png"}, {"file": "/abs/dog.png"}])
    rows = list(Dataset(InputsSpec(path=str(path), fields={"image": "file"}), get_registry().get("task", "image").obj.inputs))
    assert [row.input for row in rows] == [str(tmp_path / "images" / "cat.png"), "/abs/dog.png"]


def test_the_declaration_not_the_name_says_which_paths_are_read_relative_to_the_file(tmp_path):
    path = write_csv(tmp_path / "list.csv", [{"image": "cat.png", "caption": "a cat"}])
    photo = attrix.InputField("photo", str, "an image file", "image", relative_path=True)
    (row,) = Dataset(InputsSpec(path=str(path), fields={"photo": "image"}), (photo, attrix.InputField("caption")))
    assert row.input == {"photo": str(tmp_path / "cat.png"), "caption": "a cat"}
    (plain,) = Dataset(InputsSpec(path=str(path)), ("image",))  # a plain text input that happens to be called image
    assert plain.input == "cat.png"


def test_a_row_missing_a_declared_input_names_the_column_and_the_tasks_inputs(tmp_path):
    qa = get_registry().get("task", "qa").obj.inputs
    path = write_jsonl(tmp_path / "qa.jsonl", [{"question": "who sat?", "context": "the cat sat"}, {"question": "who ran?", "text": "a dog ran"}])
    good, missing = Dataset(InputsSpec(path=str(path)), qa)
    assert good == Row(0, {"question": "who sat?", "context": "the cat sat"})
    assert missing == Row(1, {"question": "who ran?", "text": "a dog ran"}, "the row has no field 'context'; the task's inputs are "
                          "question, context (inputs.fields maps input names to columns); its fields are question, text")
    (mapped,) = Dataset(InputsSpec(path=str(write_csv(tmp_path / "qa.csv", [{"q": "who?", "body": "x"}])), fields={"question": "q", "context": "c"}), qa)
    assert mapped.problem == ("the row has no field 'c'; the task's inputs are question (column 'q'), context (column 'c') "
                              "(inputs.fields maps input names to columns); its fields are q, body")


def test_an_optional_input_may_be_left_out_of_a_row(tmp_path):
    zero_shot = get_registry().get("task", "zero_shot").obj.inputs
    path = write_jsonl(tmp_path / "zs.jsonl", [{"text": "we won"}, {"text": "it rained", "candidate_labels": ["sports", "weather"]}, {"labels": "x"}])
    only_text, both, neither = Dataset(InputsSpec(path=str(path)), zero_shot)
    assert (only_text.input, only_text.problem) == ({"text": "we won"}, None)
    assert both.input == {"text": "it rained", "candidate_labels": ["sports", "weather"]}
    assert neither.problem.startswith("the row has no field 'text'; the task's inputs are text, candidate_labels")


def test_a_row_without_the_field_and_a_line_that_is_not_json_become_problem_rows(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "fine"}\n{"body": "no text field"}\n{"text": broken\n\n{"text": "after"}\n')
    rows = list(Dataset(InputsSpec(path=str(path)), ("text",)))
    assert [row.id for row in rows] == [0, 1, 2, 3]
    assert rows[0] == Row(0, "fine") and rows[3] == Row(3, "after")
    assert rows[1].problem == "the row has no field 'text'; its fields are body"
    assert rows[2].input == '{"text": broken' and rows[2].problem.startswith("line 3 of data.jsonl is not JSON")


def test_repeated_or_missing_ids_are_refused_before_any_work(tmp_path):
    repeated = write_jsonl(tmp_path / "repeated.jsonl", [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}, {"id": 1, "text": "c"}])
    with pytest.raises(attrix.InputError, match="row 2 repeats the id '1' of an earlier row"):
        Dataset(InputsSpec(path=str(repeated), id_field="id"), ("text",)).count()
    missing = write_jsonl(tmp_path / "missing.jsonl", [{"id": 1, "text": "a"}, {"text": "b"}])
    with pytest.raises(attrix.InputError, match="row 1 has no id field 'id'"):
        Dataset(InputsSpec(path=str(missing), id_field="id"), ("text",)).count()


@pytest.mark.parametrize("spec, error, message", [
    (InputsSpec(), attrix.InputError, "inputs need either items"),
    (InputsSpec(items=("a",), path="x.jsonl"), attrix.InputError, "not both or neither"),
    (InputsSpec(items=("a",), fields={"txt": "review"}), attrix.UnknownNameError, "unknown input name 'txt' in inputs.fields .*valid: text"),
    (InputsSpec(path="MISSING.jsonl"), attrix.InputError, "no inputs file at"),
    (InputsSpec(path="DATA.txt"), attrix.InputError, "cannot tell the format of .*DATA.txt.* jsonl, csv, parquet"),
    (InputsSpec(path="DATA.txt", format="xml"), attrix.UnknownNameError, "unknown inputs format 'xml'; valid: csv, jsonl, parquet"),
    (InputsSpec(items=("a",), limit=-1), attrix.InputError, "inputs.limit must be a non-negative integer, got -1"),
])
def test_bad_specs_are_clear_errors(tmp_path, spec, error, message):
    (tmp_path / "DATA.txt").write_text("text\n")
    if spec.path is not None:
        spec = dataclasses.replace(spec, path=str(tmp_path / spec.path))
    with pytest.raises(error, match=message):
        Dataset(spec, ("text",))


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    path = write_parquet(tmp_path / "data.parquet", RECORDS)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(MissingExtraError, match=r"reading Parquet inputs needs pyarrow, which is not installed: pip install 'attrix\[parquet\]'"):
        list(Dataset(InputsSpec(path=str(path), fields={"text": "review"}), ("text",)))

"""Checking the JSON sdistmaker reads back: each part of the type later steps expect, or
WrongShape naming the part, what it must be, and what it is."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sdistmaker.shapes import WrongShape, fields, mapping, of, of_str, shown, strings


def wrong(check: Callable[[], object]) -> str:
    with pytest.raises(WrongShape) as error:
        check()
    return str(error.value)


def test_fields_are_string_fields_all_required_unless_said_otherwise() -> None:
    record = {"url": "file:///r", "identity": "3"}
    assert fields(record, "tag", {"url", "identity"}) == record
    assert fields({"url": "u"}, "tag", {"url", "identity"}, {"url"}) == {"url": "u"}
    assert wrong(lambda: fields({"url": "u"}, "tag", {"url", "identity"})) == (
        'tag lacks "identity"'
    )
    assert wrong(lambda: fields({**record, "colour": "red"}, "tag", {"url", "identity"})) == (
        'tag holds an unknown field "colour"'
    )
    assert wrong(lambda: fields({**record, "identity": 3}, "tag", {"url", "identity"})) == (
        'tag["identity"] must be a string, not 3'
    )


def test_a_part_deep_down_is_named_by_its_path() -> None:
    data = json.loads('{"p": {"1.0": ["a", null]}}')
    assert wrong(lambda: mapping(data, "yanked", lambda v, w: mapping(v, w, strings))) == (
        'yanked["p"]["1.0"][1] must be a string, not null'
    )
    assert wrong(lambda: mapping({"ö": 1}, "state", of_str)) == 'state["ö"] must be a string, not 1'


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (dict, [], "state must be an object, not []"),
        (list, {"a": 1}, 'state must be an array, not {"a": 1}'),
        (str, None, "state must be a string, not null"),
        (bool, 1, "state must be true or false, not 1"),
    ],
)
def test_a_value_of_another_kind_says_what_it_must_be(
    kind: type, value: object, message: str
) -> None:
    assert wrong(lambda: of(kind, value, "state")) == message
    assert of(kind, kind(), "state") == kind()


def test_a_long_value_is_shown_cut_short() -> None:
    assert shown("x" * 58) == json.dumps("x" * 58)
    assert shown("x" * 59) == '"' + "x" * 56 + "..."
    assert len(shown(list(range(100)))) == 60

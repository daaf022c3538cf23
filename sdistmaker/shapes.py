"""Checking JSON that sdistmaker wrote and reads back (its state): every value of the type
later steps expect, or WrongShape naming the part that is not, and how."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TypeVar

_T = TypeVar("_T")
_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}


class WrongShape(Exception):
    """Part of the data is not as sdistmaker writes it; the message says which, and how."""


def fields(
    value: object, where: str, names: set[str], required: set[str] | None = None
) -> dict[str, str]:
    """An object of string fields: those in ``names``, all of ``required`` (by default all)."""
    record = mapping(value, where, of_str)
    holds(record, where, names, names if required is None else required)
    return record


def holds(record: Mapping[str, object], where: str, names: set[str], required: set[str]) -> None:
    missing = sorted(required - record.keys())
    if missing:
        raise WrongShape(f"{where} lacks {shown(missing[0])}")
    unknown = sorted(record.keys() - names)
    if unknown:
        raise WrongShape(f"{where} holds an unknown field {shown(unknown[0])}")


def mapping(value: object, where: str, item: Callable[[object, str], _T]) -> dict[str, _T]:
    """An object (its keys are strings, as JSON's always are) of values ``item`` checks."""
    return {
        key: item(entry, f"{where}[{json.dumps(key, ensure_ascii=False)}]")
        for key, entry in of(dict, value, where).items()
    }


def strings(value: object, where: str) -> list[str]:
    return [of_str(item, f"{where}[{n}]") for n, item in enumerate(of(list, value, where))]


def of_str(value: object, where: str) -> str:
    return of(str, value, where)


def of(kind: type[_T], value: object, where: str) -> _T:
    if not isinstance(value, kind):
        raise WrongShape(f"{where} must be {_KINDS[kind]}, not {shown(value)}")
    return value


def shown(value: object) -> str:
    """``value`` as JSON writes it, cut short: a few words of the line that names it."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else f"{text[:57]}..."

"""Checks of the values a defaults file gives its settings: each returns the value, checked, or
raises Invalid saying what is wrong with it (the caller names the file, line and setting)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sdistmaker.urls import public_url


class Invalid(Exception):
    pass


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {type(value).__name__}")
    if "\0" in value:
        # No path, URL or argument can hold one: the system would refuse it later, mid-run.
        raise Invalid(f"holds a NUL character: {value!r}")
    return value


def url(value: Any) -> str:
    text = string(value)
    try:
        urlsplit(text)
    except ValueError as error:
        raise Invalid(f"is no valid URL ({error}): {public_url(text)}") from None
    return text


def url_list(value: Any) -> tuple[str, ...]:
    return tuple(url(item) for item in strings(value))


def strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise Invalid(f"must be a list of strings, not {type(value).__name__}")
    for item in value:
        if not isinstance(item, str):
            raise Invalid(f"must be a list of strings, but holds {item!r}")
        string(item)
    return tuple(value)


def known_keys(value: dict[Any, Any], known: set[str]) -> None:
    """Refuse a dict holding a key not in ``known``, naming the first and those it may hold."""
    unknown = set(value) - known
    if unknown:
        raise Invalid(
            f"unknown key {sorted(unknown, key=str)[0]!r} (known: {', '.join(sorted(known))})"
        )


def string_at(value: dict[Any, Any], key: str) -> str:
    """The string a dict holds at ``key``; empty when it holds none."""
    if not isinstance(value.get(key, ""), str):
        raise Invalid(f"{key!r} must be a string, not {type(value[key]).__name__}")
    return string(value.get(key, ""))


def subdirectory(value: dict[Any, Any]) -> str:
    """The folder inside a repository a dict names at ``subdirectory``, as a relative path
    (slashes around it dropped)."""
    folder = string_at(value, "subdirectory").strip("/")
    if {".", ".."} & set(folder.split("/")):
        raise Invalid(f"'subdirectory' must be a folder inside the repository, not {folder!r}")
    return folder

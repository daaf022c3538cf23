"""What a store the index is published to is, and the registry of their kinds, by URL scheme."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sdistmaker.errors import SdistmakerError
from sdistmaker.values import Invalid


class PublishError(SdistmakerError):
    """A store refused an object or could not be reached; the message names neither
    credentials nor more than one line."""


class Target(abc.ABC):
    """A store of objects by key, such as a bucket below a prefix."""

    url: str
    """The store as PUBLISH_TO names it (no credentials), to name it in reports and records."""
    keys: tuple[str, ...] = ("url",)
    """The keys its entry in PUBLISH_TO may give."""

    @abc.abstractmethod
    def put(self, key: str, path: Path, content_type: str, cache_control: str) -> None:
        """Store the file at ``path`` as ``key`` (below the store's prefix), with the headers
        it is to be served with; raise PublishError."""


_KINDS: dict[str, Callable[[Mapping[str, str]], Target]] = {}


def register(scheme: str, kind: Callable[[Mapping[str, str]], Target]) -> None:
    _KINDS[scheme] = kind


def target_for(entry: Mapping[str, str]) -> Target:
    """The store an entry of PUBLISH_TO (checked) names."""
    return _KINDS[urlsplit(entry["url"]).scheme](entry)


def check(value: Any) -> tuple[dict[str, str], ...]:
    """PUBLISH_TO: a list of entries, each a dict of strings with a ``url`` of a known kind,
    as that kind takes it; raise Invalid naming what is wrong."""
    entries = [value] if isinstance(value, dict) else value
    if not isinstance(entries, (list, tuple)):
        raise Invalid(f"must be a list of stores ({{'url': 's3://bucket/prefix'}}), not {value!r}")
    checked = []
    for entry in entries:
        if not isinstance(entry, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in entry.items()
        ):
            raise Invalid(f"must hold dicts of strings, not {entry!r}")
        scheme = urlsplit(entry.get("url", "")).scheme
        if scheme not in _KINDS:
            known = ", ".join(f"{s}://" for s in sorted(_KINDS))
            raise Invalid(f"names {entry.get('url', '')!r}: a store's url starts with {known}")
        target = _KINDS[scheme](entry)
        unknown = sorted(set(entry) - set(target.keys))
        if unknown:
            raise Invalid(
                f"gives {', '.join(unknown)} for {target.url}, which takes {', '.join(target.keys)}"
            )
        checked.append(dict(entry))
    return tuple(checked)

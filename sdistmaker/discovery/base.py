"""What every discovery source shares: what it finds, the settings every source takes (which
repositories to keep, and how to read each), and the interface of a source."""

from __future__ import annotations

import abc
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sdistmaker import values


@dataclass(frozen=True)
class Found:
    """A repository a source found."""

    url: str
    """Where it is read (it may hold credentials)."""
    address: str
    """How people address it: its public URL, in pages, messages and its tags' URLs."""
    path: str
    """Its path within the source (``team/app.git``), which ``include`` and ``exclude`` match."""
    activity: str | None = None
    """What changes whenever its tags may have (its refs' times on disk, a forge's time of the
    last push); None when the source cannot tell, and the repository is read each run."""


class Discovery(abc.ABC):
    """One kind of source, named in a setting by its ``kind`` key."""

    kind: ClassVar[str]
    keys: ClassVar[frozenset[str]] = frozenset()
    """The keys it takes besides its own and those every source takes."""
    systems: ClassVar[frozenset[str] | None] = None
    """The version-control systems whose repositories it finds (their names); None: any."""

    @classmethod
    @abc.abstractmethod
    def of(cls, value: dict[Any, Any]) -> Discovery:
        """The source a setting's entry names, checked (values.Invalid says what is wrong)."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """The source, as messages name it."""

    @property
    def folder(self) -> Path | None:
        """The folder on this machine's disk holding the repositories it finds (which builds
        must not read); None for a source elsewhere."""
        return None

    @abc.abstractmethod
    def find(self, marks: tuple[str, ...], deadline: float) -> list[Found]:
        """Every repository the source holds, by ``deadline`` (``time.monotonic()``); ``marks``
        tell a repository's own folder (what only it holds). Raises SdistmakerError, naming the
        source, when it cannot be read."""


_COMMON_KEYS = {"include", "exclude", "subdirectory", "tags"}


@dataclass(frozen=True)
class Discovered:
    """An entry naming a source: the source, which of its repositories to read, and how."""

    source: Discovery
    include: tuple[str, ...] = ("*",)
    """Globs on repositories' paths: only those matching one are read."""
    exclude: tuple[str, ...] = ()
    subdirectory: str = ""
    tags: str = "*"

    @classmethod
    def of(cls, value: dict[Any, Any], kind: type[Discovery]) -> Discovered:
        values.known_keys(value, {kind.kind, *kind.keys, *_COMMON_KEYS})
        source = kind.of(value)
        return cls(
            source,
            include=values.strings(value.get("include", ["*"])),
            exclude=values.strings(value.get("exclude", [])),
            subdirectory=values.subdirectory(value),
            tags=values.string_at(value, "tags") or "*",
        )

    def wanted(self, found: Found) -> bool:
        """Whether ``found`` is to be read: its path matches ``include`` and not ``exclude``."""

        def matches(globs: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(found.path, glob) for glob in globs)

        return matches(self.include) and not matches(self.exclude)

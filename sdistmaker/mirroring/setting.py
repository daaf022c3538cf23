"""The MIRROR setting: which upstream index, which requirements, for which environments."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sdistmaker import values
from sdistmaker.urls import public_url

_KEYS = {"index", "requirements", "private_dependencies", "environments", "exclude"}
_ENVIRONMENT_KEYS = {"python_version", "platform"}


@dataclass(frozen=True)
class Environment:
    """Where the mirrored packages are to be installed (uv's --python-version and
    --python-platform); both empty: everywhere (uv's --universal)."""

    python_version: str = ""
    platform: str = ""


@dataclass(frozen=True)
class Mirror:
    index: str
    """The upstream index's simple API URL."""
    requirements: tuple[str, ...] = ()
    private_dependencies: bool = False
    """Mirror the dependencies of every private release too."""
    environments: tuple[Environment, ...] = (Environment(),)
    exclude: tuple[str, ...] = ()
    """Globs of file names left out (``*-win_amd64.whl``)."""

    def excludes(self, filename: str) -> bool:
        return any(fnmatch.fnmatchcase(filename, glob) for glob in self.exclude)


def check(value: Any) -> Mirror:
    if not isinstance(value, dict):
        raise values.Invalid(f"must be a dict with an 'index', not {type(value).__name__}")
    values.known_keys(value, _KEYS)
    if "index" not in value:
        raise values.Invalid("needs an 'index': the upstream index's URL")
    index = values.url(value["index"])
    if urlsplit(index).scheme not in ("https", "http", "file"):
        raise values.Invalid(f"'index' must be an http(s) or file URL, not {public_url(index)!r}")
    private = value.get("private_dependencies", False)
    if not isinstance(private, bool):
        raise values.Invalid(f"'private_dependencies' must be True or False, not {private!r}")
    return Mirror(
        index=index,
        requirements=tuple(
            _requirement(text) for text in values.strings(value.get("requirements", []))
        ),
        private_dependencies=private,
        environments=_environments(value.get("environments", [{}])),
        exclude=values.strings(value.get("exclude", [])),
    )


def _requirement(text: str) -> str:
    # Only here: a defaults file without MIRROR (a commit hook's) does without the parser.
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise values.Invalid(f"'requirements' holds {text!r}, no requirement: {error}") from None
    if requirement.url:
        raise values.Invalid(
            f"'requirements' holds {text!r}, a direct reference: mirrored are names from the index"
        )
    return str(requirement)


def _environments(value: Any) -> tuple[Environment, ...]:
    if not isinstance(value, list) or not value:
        raise values.Invalid("'environments' must be a list of dicts (python_version, platform)")
    found = []
    for item in value:
        if not isinstance(item, dict) or set(item) - _ENVIRONMENT_KEYS:
            raise values.Invalid(
                f"'environments' holds {item!r}: each a dict of python_version and platform"
            )
        found.append(
            Environment(
                values.string(item.get("python_version", "")),
                values.string(item.get("platform", "")),
            )
        )
    return tuple(found)

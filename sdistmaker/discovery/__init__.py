"""Discovery: repositories found rather than listed. Each kind of source (a folder of
repositories on this machine, a forge's group or organisation) is one module registering itself
here; a setting that lists repositories (GIT_REPOSITORIES) takes, beside URLs, a dict naming one
of them by its key (``{"folder": "/srv/git/**/*.git"}``, ``{"gitlab": "https://…"}``).
"""

from __future__ import annotations

from typing import Any

from sdistmaker import values
from sdistmaker.discovery.base import Discovered, Discovery, Found

__all__ = ["Discovered", "Discovery", "Found", "entry", "kinds", "register"]

_kinds: dict[str, type[Discovery]] = {}


def register(kind: type[Discovery]) -> None:
    _kinds[kind.kind] = kind


def kinds() -> list[str]:
    """The keys naming each kind of source in a setting, in the order they registered."""
    return list(_kinds)


def entry(value: dict[Any, Any], system: str) -> Discovered | None:
    """The source of ``system``'s repositories an entry of a list of them names, checked; None
    when it names none (it is one repository)."""
    named = [kind for kind in _kinds if kind in value]
    if not named:
        return None
    if len(named) > 1:
        raise values.Invalid(f"an entry names one source, not {' and '.join(map(repr, named))}")
    kind = _kinds[named[0]]
    if kind.systems is not None and system not in kind.systems:
        finds = " and ".join(sorted(kind.systems))
        raise values.Invalid(f"{kind.kind!r} finds {finds} repositories, not {system} ones")
    return Discovered.of(value, kind)


from sdistmaker.discovery import folder, gitlab, gitea, github  # noqa: E402, F401, I001

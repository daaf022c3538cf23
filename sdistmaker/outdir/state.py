"""sdistmaker's state: what happened to every tag, who publishes each distribution, what was
reported; one JSON file in OUTDIR/.sdistmaker/, checked whole when read."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from sdistmaker import shapes, vcs
from sdistmaker.errors import StoreError
from sdistmaker.outdir.atomic import write_atomically
from sdistmaker.shapes import WrongShape

STATE_VERSION = 1


@dataclass
class TagRecord:
    """What happened to one tag, keyed in the state by ``Tag.key``."""

    project: str
    name: str
    version: str
    identity: str
    status: str
    """"built", "failed", or "skipped": a discovered repository's tag holding no Python
    project, not tried again until it moves."""
    when: str
    file: str = ""
    """Path of the published file, relative to OUTDIR."""
    distribution: str = ""
    route: str = ""
    reason: str = ""
    log: str = ""
    retagged: str = ""
    """The newer identity of a built tag that was moved, once reported."""
    project_key: str = ""
    """The VCS project the tag belongs to (``Tag.project_key``)."""
    wheel: str = ""
    """Path of the wheel published with the sdist, relative to OUTDIR."""


@dataclass
class State:
    tags: dict[str, TagRecord] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    """Distribution name -> the VCS project (``Tag.project_key``) that publishes it."""
    problems: dict[str, str] = field(default_factory=dict)
    """Repository location or stored file -> the error last reported for it."""
    uploads: dict[str, list[str]] = field(default_factory=dict)
    """Published file (relative to OUTDIR) -> the repositories it was uploaded to."""
    projects: dict[str, str] = field(default_factory=dict)
    """Normalised name -> key of every VCS project that claims it: one the crawl found with a
    release tag that may hold a Python project."""
    unindexed: list[str] = field(default_factory=list)
    """Projects a file was published to since the index was last brought up to date."""
    unpublished: list[str] = field(default_factory=list)
    """Projects whose pages changed since the index was last copied to every store of
    PUBLISH_TO."""
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Version-control system's name -> what its last crawl kept, to read less the next time
    (in the state file under the system's name)."""
    unsandboxed: bool = False
    """The last builds ran without a sandbox, and that was said."""
    folders_recorded: bool = False
    """Every project folder of an owner has its record (see published.py); OUTDIRs from
    before records get theirs once."""
    hidden: str = ""
    """Why other users could not read OUTDIR at the last run, as it was said; empty when they
    could."""
    mirrored: list[str] = field(default_factory=list)
    """The private releases (``name==version``) whose dependencies are mirrored (MIRROR's
    private_dependencies): each is resolved once."""
    requirements_mirrored: dict[str, str] = field(default_factory=dict)
    """MIRROR's settings (a fingerprint) -> when what their requirements need was last mirrored
    whole, as yyyy-mm-ddThh:mm:ssZ."""
    upstream_yanked: dict[str, dict[str, str]] = field(default_factory=dict)
    """Every mirrored project -> the versions its upstream index yanks, with the reason given
    ("" for none), as last read there."""


def load(state_file: Path) -> State:
    """The state recorded in ``state_file``: empty when there is none, StoreError when it is
    unreadable."""
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return State()
    except (OSError, ValueError) as error:
        raise StoreError(f"{state_file}: unreadable state: {error}") from None
    if isinstance(data, dict) and data.get("version") != STATE_VERSION:
        raise StoreError(f"{state_file}: unknown state version {data.get('version')!r}")
    try:
        return _state(data)
    except WrongShape as error:
        raise StoreError(f"{state_file}: unreadable state: {error}") from None


def save(recorded: State, state_file: Path, staging: Path) -> None:
    data = {"version": STATE_VERSION, **asdict(recorded)}
    data.update(data.pop("memory"))
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    write_atomically(state_file, text.encode(), staging)


_TAG_FIELDS = {f.name for f in fields(TagRecord)}
_REQUIRED_TAG_FIELDS = {f.name for f in fields(TagRecord) if f.default is MISSING}
_STATUSES = ("built", "failed", "skipped")


def _state(data: object) -> State:
    """The state ``data`` (parsed JSON) holds; raises WrongShape where it holds anything else,
    so that no later step meets a value of a type it does not expect."""
    top = shapes.of(dict, data, "the top level")
    for required in ("tags", "owners"):
        if required not in top:
            raise WrongShape(f"{shapes.shown(required)} is missing")
    return State(
        tags=shapes.mapping(top["tags"], "tags", _tag_record),
        owners=shapes.mapping(top["owners"], "owners", shapes.of_str),
        problems=shapes.mapping(top.get("problems", {}), "problems", shapes.of_str),
        uploads=shapes.mapping(top.get("uploads", {}), "uploads", shapes.strings),
        projects=shapes.mapping(top.get("projects", {}), "projects", shapes.of_str),
        unindexed=shapes.strings(top.get("unindexed", []), "unindexed"),
        unpublished=shapes.strings(top.get("unpublished", []), "unpublished"),
        memory={
            system.name: system.check_memory(top[system.name], system.name)
            for system in vcs.systems()
            if system.name in top
        },
        unsandboxed=shapes.of(bool, top.get("unsandboxed", False), "unsandboxed"),
        folders_recorded=shapes.of(bool, top.get("folders_recorded", False), "folders_recorded"),
        hidden=shapes.of_str(top.get("hidden", ""), "hidden"),
        mirrored=shapes.strings(top.get("mirrored", []), "mirrored"),
        requirements_mirrored=shapes.mapping(
            top.get("requirements_mirrored", {}), "requirements_mirrored", shapes.of_str
        ),
        upstream_yanked=shapes.mapping(
            top.get("upstream_yanked", {}), "upstream_yanked", _reasons_by_version
        ),
    )


def _reasons_by_version(value: object, where: str) -> dict[str, str]:
    return shapes.mapping(value, where, shapes.of_str)


def _tag_record(value: object, where: str) -> TagRecord:
    record = TagRecord(**shapes.fields(value, where, _TAG_FIELDS, _REQUIRED_TAG_FIELDS))
    if record.status not in _STATUSES:
        statuses = ", ".join(f'"{status}"' for status in _STATUSES)
        raise WrongShape(
            f'{where}["status"] must be one of {statuses}, not {shapes.shown(record.status)}'
        )
    return record

"""What a project's folder records of itself, beside its files: which VCS project publishes it,
and when each file was published.

sdistmaker's state says the same, but the state can be lost (deleted, not in a backup), and
then a project's name would go to whichever repository is crawled first. Kept in the folder,
with the files it speaks for, the record comes back with them from a backup, and keeps the
upload time installers see (PEP 700, uv's ``--exclude-newer``) from moving with the files'
times when they are restored. A dot file: the web server configurations serve none.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sdistmaker.dists.names import is_distribution
from sdistmaker.outdir.atomic import write_atomically

RECORD = ".sdistmaker-published.json"


MIRROR = "mirror:"
"""How the owner of a mirrored project's folder starts; the upstream index follows."""


@dataclass
class Record:
    owner: str = ""
    """The VCS project (``Tag.project_key``) that publishes the project, or ``MIRROR`` and the
    upstream index it is mirrored from; empty: not known."""
    published: dict[str, str] = field(default_factory=dict)
    """File name -> when it was published, as yyyy-mm-ddThh:mm:ssZ."""
    provenance: dict[str, dict[str, str]] = field(default_factory=dict)
    """File name -> where and how it was built (repository, tag, revision, route, backend)."""

    @property
    def mirrored_from(self) -> str:
        """The upstream index the project is mirrored from; empty when it is built here."""
        return self.owner.removeprefix(MIRROR) if self.owner.startswith(MIRROR) else ""


def read(folder: Path) -> Record:
    """The folder's record; an empty one where there is none, or none that can be read (a
    record is written whole or not at all: one that cannot be read was not written here)."""
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        owner, published = data["owner"], data["published"]
    except (OSError, ValueError, TypeError, KeyError):
        return Record()
    if not isinstance(owner, str) or not isinstance(published, dict):
        return Record()
    provenance = data.get("provenance")
    return Record(
        owner,
        {k: v for k, v in published.items() if isinstance(v, str)},
        {
            file: {k: v for k, v in facts.items() if isinstance(v, str)}
            for file, facts in (provenance if isinstance(provenance, dict) else {}).items()
            if isinstance(facts, dict)
        },
    )


def write(folder: Path, record: Record, staging: Path) -> None:
    data: dict[str, object] = {
        "owner": record.owner,
        "published": dict(sorted(record.published.items())),
    }
    if record.provenance:
        data["provenance"] = dict(sorted(record.provenance.items()))
    text = json.dumps(data, indent=1) + "\n"
    write_atomically(folder / RECORD, text.encode(), staging)


def record_files_of(folder: Path, owner: str, staging: Path) -> None:
    """Give a folder from before records (a version of sdistmaker that wrote none) its record:
    published by ``owner``, each file when its time says now."""
    if read(folder).owner:
        return
    times = {
        entry.name: timestamp(entry.stat().st_mtime)
        for entry in os.scandir(folder)
        if is_distribution(entry.name) and entry.is_file(follow_symlinks=False)
    }
    write(folder, Record(owner, times), staging)


def now() -> str:
    return timestamp(time.time())


_PEP_700 = "%Y-%m-%dT%H:%M:%SZ"


def timestamp(seconds: float) -> str:
    """A time as PEP 700 writes it: yyyy-mm-ddThh:mm:ssZ."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime(_PEP_700)


def seconds(stamp: str) -> float:
    """``stamp`` (as ``timestamp`` writes it) in seconds since the epoch."""
    return datetime.strptime(stamp, _PEP_700).replace(tzinfo=timezone.utc).timestamp()


def seconds_since(stamp: str) -> float:
    """Seconds from ``stamp`` (as ``timestamp`` writes it) to now."""
    return time.time() - seconds(stamp)

"""Project names: which names can be a project's, and so a folder in OUTDIR.

Every folder in OUTDIR is a project's, named by its normalised name (PEP 503), and a web
server maps ``/simple/<name>/`` to it. Only a valid distribution name (PEP 508) normalised is
taken: ``+`` (the folder of the pages for people), ``..``, a path, a name with a dot in front
would each make a folder of something that is no project's.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

_NORMALISED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def is_project_name(name: str) -> bool:
    """Whether ``name`` is a normalised valid distribution name: the name of a project folder."""
    return _NORMALISED.fullmatch(name) is not None


def project_name(name: str) -> str | None:
    """The project folder's name for a distribution (or a VCS project) named ``name``; None
    when no distribution can be named so."""
    normalised = canonicalize_name(name)
    return normalised if is_project_name(normalised) else None

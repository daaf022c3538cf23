"""What a build sees of the environment: what it needs to run, BUILD_ENVIRONMENT, and its
version; never a secret of sdistmaker's."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from sdistmaker.building import sandbox


def build_environment(
    tmp: Path, version: str, name: str, given: Mapping[str, str | None]
) -> dict[str, str]:
    """The variables a build of release ``version`` of ``name`` runs with: ``tmp`` its own
    temporary folder, ``given`` BUILD_ENVIRONMENT."""
    tmp.mkdir(parents=True, exist_ok=True)
    sandbox.hand_over(tmp)
    suffix = re.sub(r"[-_.]+", "_", name).upper()
    return dict(
        _inherited(),
        **_given(given),
        TMPDIR=str(tmp),
        # An exported tree has no VCS metadata: tell setuptools-scm and hatch-vcs the version.
        SETUPTOOLS_SCM_PRETEND_VERSION=version,
        **{f"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_{suffix}": version},
    )


def _inherited() -> dict[str, str]:
    """What a build gets of sdistmaker's environment: what it needs to run at all (where
    programs are, the home folder, the language and time zone), nothing else. Builds run code
    from tags, and a variable's name does not tell whether it holds a secret (a signing key, a
    job token, a webhook's URL)."""
    return {
        name: value
        for name, value in os.environ.items()
        if name in _INHERITED or name.startswith("LC_")
    }


_INHERITED = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ"})


def _given(variables: Mapping[str, str | None]) -> dict[str, str]:
    """BUILD_ENVIRONMENT's variables; one set to None has its value in sdistmaker's environment,
    or is left out when it has none there."""
    return {
        name: os.environ[name] if value is None else value
        for name, value in variables.items()
        if value is not None or name in os.environ
    }


def network_environment(given: Mapping[str, str | None]) -> dict[str, str]:
    """What a process reaching the network for sdistmaker itself (an installer resolving what
    to mirror) runs with: what it needs to run, and BUILD_ENVIRONMENT (an index, a proxy,
    certificates)."""
    return {**_inherited(), **_given(given)}

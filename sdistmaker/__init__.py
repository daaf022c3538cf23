"""sdistmaker: a private Python package index built from release tags in svn and git."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdistmaker.config import Config, load_defaults
    from sdistmaker.errors import BuildError, ConfigError, SdistmakerError, VcsError
    from sdistmaker.outdir.lock import Busy
    from sdistmaker.pipeline.job import Summary
    from sdistmaker.pipeline.one_tag import make_sdist
    from sdistmaker.pipeline.run import run
    from sdistmaker.repository import Distribution, DownloadError, Repository, UploadError
    from sdistmaker.vcs.git import GitRepository

# Imported on first use: a commit hook that only asks svnlook must not pay for the whole pipeline.
_WHERE = {
    "Config": "config",
    "GitRepository": "vcs.git",
    "load_defaults": "config",
    "BuildError": "errors",
    "ConfigError": "errors",
    "SdistmakerError": "errors",
    "VcsError": "errors",
    "Summary": "pipeline.job",
    "make_sdist": "pipeline.one_tag",
    "run": "pipeline.run",
    "Busy": "outdir.lock",
    "Distribution": "repository",
    "DownloadError": "repository",
    "Repository": "repository",
    "UploadError": "repository",
}

__all__ = [
    "BuildError",
    "Busy",
    "Config",
    "ConfigError",
    "Distribution",
    "DownloadError",
    "GitRepository",
    "Repository",
    "SdistmakerError",
    "Summary",
    "UploadError",
    "VcsError",
    "load_defaults",
    "make_sdist",
    "run",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sdistmaker' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sdistmaker.{_WHERE[name]}"), name)

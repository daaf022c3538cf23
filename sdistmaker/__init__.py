"""sdistmaker: a private Python package index built from release tags in svn and git."""

from sdistmaker.config import Config, GitRepository, load_defaults
from sdistmaker.errors import BuildError, ConfigError, SdistmakerError, VcsError
from sdistmaker.pipeline import Summary, make_sdist, run
from sdistmaker.store import Busy
from sdistmaker.upload import Repository, UploadError

__all__ = [
    "BuildError",
    "Busy",
    "Config",
    "ConfigError",
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

"""Errors sdistmaker reports to its user as one line each."""


class SdistmakerError(Exception):
    """A problem the user can act on; its message is the whole report."""


class ConfigError(SdistmakerError):
    """The defaults file, or a template in its TEMPLATES, is wrong; the message starts with
    file:line."""


class VcsError(SdistmakerError):
    """A repository could not be read; the message names its URL."""


class BuildError(SdistmakerError):
    """A tag did not build into a valid sdist; the message says why."""


class NotAProject(BuildError):
    """A tag's tree holds no Python project at all (no pyproject.toml, setup.py or setup.cfg):
    a failure in a repository the defaults file lists, none in one found by discovery."""


class TemplateError(SdistmakerError):
    """A template failed while rendering a page; the message starts with its file:line."""


class StoreError(SdistmakerError):
    """OUTDIR cannot be written, or its state not read."""

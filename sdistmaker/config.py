"""The defaults file: a Python file of UPPERCASE settings, as in sdistmaker 1.4."""

from __future__ import annotations

import ast
import difflib
import math
import os
import re
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from sdistmaker import publishing, vcs
from sdistmaker.errors import ConfigError
from sdistmaker.mirroring import setting as mirroring
from sdistmaker.mirroring.setting import Mirror
from sdistmaker.urls import public_url
from sdistmaker.values import Invalid, string, strings


@dataclass(frozen=True)
class Config:
    outdir: Path
    vcs_settings: dict[str, Any] = field(default_factory=dict)
    """The version-control systems' settings the defaults file gives (BASE, GIT_REPOSITORIES,
    …), by name, checked; each system reads its own (``Setting.of``)."""
    build_timeout: float = 600.0
    read_timeout: float = 600.0
    """Seconds one command reading a repository (a listing, a fetch, a clone) may take."""
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """How many tags are built at once."""
    legacy_python: str = ""
    build_environment: dict[str, str | None] = field(default_factory=dict)
    """Variables every build gets: an index URL, a proxy, certificates; None for one given as
    sdistmaker's environment has it."""
    yanked: dict[str, dict[str, str]] = field(default_factory=dict)
    """Normalised project name -> normalised version -> reason (PEP 592)."""
    upload_to: tuple[str, ...] = ()
    """Upload URLs of repositories every newly built file goes to."""
    publish_to: tuple[dict[str, str], ...] = ()
    """Stores the whole index is copied to after each run (``{"url": "s3://bucket/prefix"}``)."""
    private_names: tuple[str, ...] = ()
    """Globs of names that must never be looked up upstream."""
    wheels: bool = False
    """Build a wheel from every new sdist and publish it beside it."""
    mirror: Mirror | None = None
    """What to mirror from an upstream index (MIRROR)."""
    access: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Reader (a user or a group of the web server's) -> globs of the projects it may read; a
    project no glob matches is every reader's."""
    templates: Path | None = None
    """A folder whose templates override the shipped ones."""
    source: Path | None = field(default=None, compare=False)
    """The defaults file this was loaded from."""

    def local_repositories(self) -> list[tuple[str, Path]]:
        """The repositories sdistmaker reads from this machine's disk: the setting naming each,
        and its folder."""
        return [pair for system in vcs.systems() for pair in system.local_repositories(self)]


def _name_globs(value: Any) -> tuple[str, ...]:
    globs = strings(value)
    for glob in globs:
        if not _NAME_GLOB.fullmatch(glob):
            raise Invalid(
                f"holds {glob!r}: project names and globs take letters, digits, -_. and the "
                "wildcards * and ?"
            )
    return globs


_NAME_GLOB = re.compile(r"[A-Za-z0-9._*?-]+")
"""What PRIVATE_NAMES may hold: names and wildcards, nothing the web servers' rules would take
for syntax of their own (a quote, a brace)."""


def _access(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise Invalid(f"must map readers to lists of project globs, not {value!r}")
    access = {}
    for reader, globs in value.items():
        if not isinstance(reader, str) or not _READER.fullmatch(reader):
            raise Invalid(
                f"names the reader {reader!r}: users and groups take letters, digits and -_.@, "
                "a letter or digit first"
            )
        try:
            access[reader] = _name_globs(globs)
        except Invalid as error:
            raise Invalid(f"for {reader!r} {error}") from None
    return access


_READER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
"""A user or group name as both web servers' rules can hold it."""


def _path(value: Any) -> str:
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise Invalid("must be a non-empty path")
    return string(os.fsdecode(value))


def _variables(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise Invalid(f"must map variable names to strings or None, not {value!r}")
    for name, text in value.items():
        if "=" in name or "\0" in name:
            raise Invalid(f"holds {name!r}, which no variable can be named")
        if text is not None and "\0" in text:
            raise Invalid(f"gives {name} a NUL character, which no variable can hold")
    return dict(value)


def _urls(value: Any) -> tuple[str, ...]:
    urls = (value,) if isinstance(value, str) else strings(value)
    for url in urls:
        try:
            address = urlsplit(string(url))
            usable = address.scheme in ("https", "http") and bool(address.hostname)
        except ValueError:
            usable = False
        if not usable:
            raise Invalid(f"must be http(s) upload URLs with a host, not {public_url(url)!r}")
    return urls


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be True or False, not {value!r}")
    return value


def _interpreter(value: Any) -> str:
    if string(value) and not shutil.which(value):
        raise Invalid(f"names no interpreter that can be run: {value!r}")
    return str(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid(f"must be a whole number from 1 up, not {value!r}")
    return value


def _seconds(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise Invalid(f"must be a positive number of seconds, not {value!r}")
    return float(value)


def _yanked(value: Any) -> dict[str, dict[str, str]]:
    shape = "must map project names to {version: reason}"
    if not isinstance(value, dict):
        raise Invalid(f"{shape}, not {type(value).__name__}")
    yanked: dict[str, dict[str, str]] = {}
    for project, versions in value.items():
        if not isinstance(project, str) or not isinstance(versions, dict):
            raise Invalid(f"{shape}, but holds {project!r}: {versions!r}")
        for version, reason in versions.items():
            if not isinstance(version, str) or not isinstance(reason, str):
                raise Invalid(f"{shape}, but {project!r} holds {version!r}: {reason!r}")
            try:
                normalised = str(Version(version))
            except InvalidVersion:
                raise Invalid(f"{shape}: {version!r} of {project} is no PEP 440 version") from None
            yanked.setdefault(canonicalize_name(project), {})[normalised] = reason
    return yanked


# Setting name -> (Config field, validator); the version-control systems' own come from them.
SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "OUTDIR": ("outdir", _path),
    "BUILD_TIMEOUT": ("build_timeout", _seconds),
    "REPOSITORY_TIMEOUT": ("read_timeout", _seconds),
    "JOBS": ("jobs", _count),
    "LEGACY_PYTHON": ("legacy_python", _interpreter),
    "BUILD_ENVIRONMENT": ("build_environment", _variables),
    "YANKED": ("yanked", _yanked),
    "WHEELS": ("wheels", _boolean),
    "PRIVATE_NAMES": ("private_names", _name_globs),
    "ACCESS": ("access", _access),
    "UPLOAD_TO": ("upload_to", _urls),
    "PUBLISH_TO": ("publish_to", publishing.check),
    "MIRROR": ("mirror", mirroring.check),
    "TEMPLATES": ("templates", _path),
}

DEFAULT_OUTDIR = "var/private"


def load_defaults(path: str | os.PathLike[str]) -> Config:
    """Read a defaults file; any mistake raises ConfigError naming file:line."""
    path = Path(path)
    tree, namespace = _executed(path)
    lines = _assignment_lines(tree)
    values: dict[str, Any] = {"outdir": DEFAULT_OUTDIR, "vcs_settings": {}}
    for name, value in namespace.items():
        if name.isupper() and not name.startswith("_"):
            attribute, checked = _setting(path, lines.get(name, 1), name, value)
            if attribute is None:
                values["vcs_settings"][name] = checked
            else:
                values[attribute] = checked
    values["outdir"] = (path.parent / values["outdir"]).resolve()
    if values["outdir"] == Path(values["outdir"].anchor):
        line = lines.get("OUTDIR", 1)
        raise ConfigError(f"{path}:{line}: OUTDIR is the root folder: name a folder of its own")
    if "templates" in values:
        values["templates"] = (path.parent / values["templates"]).resolve()
        if not values["templates"].is_dir():
            line = lines.get("TEMPLATES", 1)
            raise ConfigError(f"{path}:{line}: TEMPLATES names no folder: {values['templates']}")
    config = Config(source=path, **values)
    overlap = _repository_overlapping(config)
    if overlap:
        raise ConfigError(f"{path}:{lines.get('OUTDIR', 1)}: {overlap}")
    return config


def _executed(path: Path) -> tuple[ast.Module, dict[str, Any]]:
    """The defaults file's syntax tree, and the names it defines when run."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the defaults file: {error}") from None
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise ConfigError(f"{path}:{error.lineno}: syntax error: {error.msg}") from None
    namespace: dict[str, Any] = {"__file__": str(path), "__name__": "sdistmaker_defaults"}
    try:
        exec(compile(tree, str(path), "exec"), namespace)
    except (Exception, SystemExit) as error:  # a defaults file has no business ending the run
        line = _failing_line(error, path)
        said = f": {error}" if str(error) else ""
        raise ConfigError(f"{path}:{line}: {type(error).__name__}{said}") from None
    return tree, namespace


def _setting(path: Path, line: int, name: str, value: Any) -> tuple[str | None, Any]:
    """The Config field setting ``name`` (given at ``line``) sets (None: a version-control
    system's), and its checked value."""
    systems = {setting.name: setting for setting in vcs.settings()}
    if name in systems:
        attribute, validate = None, systems[name].check
    elif name in SETTINGS:
        attribute, validate = SETTINGS[name]
    else:
        close = difflib.get_close_matches(name, [*SETTINGS, *systems], n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(f"{path}:{line}: unknown setting {name}{hint}")
    try:
        return attribute, validate(value)
    except Invalid as error:
        raise ConfigError(f"{path}:{line}: {name} {error}") from None


def _repository_overlapping(config: Config) -> str | None:
    """Why OUTDIR may not be where it is: inside a repository sdistmaker reads, where it would
    write into the repository's own folder, or around one, whose sources its web server would
    then serve. None when it is apart from all of them."""
    outdir = config.outdir
    for setting, folder in config.local_repositories():
        if outdir.is_relative_to(folder):
            return f"OUTDIR {outdir} lies inside {folder}, a repository of {setting}"
        if folder.is_relative_to(outdir):
            return f"OUTDIR {outdir} holds {folder}, a repository of {setting}: it would be served"
    return None


def _assignment_lines(tree: ast.Module) -> dict[str, int]:
    """Where each top-level name was last assigned, to point errors at it."""
    lines: dict[str, int] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    lines[name.id] = node.lineno
    return lines


def _failing_line(error: BaseException, path: Path) -> int:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
    return frames[-1].lineno or 1 if frames else 1

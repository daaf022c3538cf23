"""Build a tag into a verified sdist: export it, build it with PyPA build, check its metadata.

Old tags are why sdistmaker exists, so a setup.py-only project that current setuptools cannot
build gets two more routes: old setuptools (use_2to3, ez_setup, ``1.0dev-r1234`` versions), then
LEGACY_PYTHON's own ``setup.py sdist`` (Python 2 syntax).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from build import BuildBackendException, BuildException, ProjectBuilder
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from sdistmaker.building import processes, sandbox
from sdistmaker.building.environments import Environments, installed
from sdistmaker.building.variables import build_environment
from sdistmaker.dists import archives
from sdistmaker.dists.archives import ArchiveError
from sdistmaker.dists.distributions import check_file_name, check_release_name, read_metadata
from sdistmaker.errors import BuildError, NotAProject, VcsError
from sdistmaker.models import Tag
from sdistmaker.outdir.published import timestamp

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROUTE_BUILD = "build"
ROUTE_OLD_SETUPTOOLS = "setuptools<58"
ROUTE_LEGACY_PYTHON = "legacy-python"
_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
"""What makes a tree a Python project's, whether it builds or not."""


@dataclass(frozen=True)
class Sdist:
    path: Path
    name: str
    version: str
    route: str
    backend: str = ""
    """What built it, as pages show it: ``hatchling.build (hatchling 1.27.0)``."""
    tagged: float | None = None
    """When its tag was made (seconds since the epoch), as the tag's system tells it."""

    def provenance(self, tag: Tag) -> dict[str, str]:
        """Where and how it was built, for the index to show beside each file of it."""
        facts = {
            "repository": tag.location,
            "tag": tag.name,
            "revision": tag.identity,
            "route": self.route,
            "backend": self.backend,
        }
        return facts | ({"tagged": timestamp(self.tagged)} if self.tagged is not None else {})


@dataclass(frozen=True)
class BuildSettings:
    timeout: float = 600.0
    """Seconds one tag's build may take, all routes together."""
    legacy_python: str = ""
    """An interpreter for the last route of old setup.py projects; empty: no such route."""
    environment: Mapping[str, str | None] = field(default_factory=dict)
    """Variables every build gets besides the few every build needs (index, proxy,
    certificates); None for one of sdistmaker's own, given as it is there."""
    environments: Environments | None = None
    """Where build environments are kept between builds; None: made anew for each build."""
    hidden: tuple[Path, ...] = ()
    """Files and folders builds must not read: the defaults file (it may hold passwords),
    sdistmaker's records, the repositories on this machine."""


class _RouteFailed(Exception):
    pass


@dataclass(frozen=True)
class _Route:
    """One way of building a tag, tried by every step it takes: where the steps may write (the
    tag's source, output and temporary files), what they run with, by when, logging where."""

    name: str
    workdir: Path
    environment: dict[str, str]
    settings: BuildSettings
    deadline: float
    log: Path

    def run(self, command: Sequence[str], cwd: Path, extra: Mapping[str, str] = {}) -> None:
        """Run one step confined to ``workdir``, its output kept in the log up to a limit; at
        the deadline kill its whole process group, backends included."""
        if time.monotonic() >= self.deadline:
            raise BuildError("build timed out")
        confined = sandbox.confined(command, self.workdir, self.settings.hidden)
        if confined is None and sandbox.build_user() is not None:
            raise BuildError(sandbox.REFUSED_AS_ROOT)
        note = "" if confined else " (not sandboxed: bubblewrap is not available)"
        heading = f"route {self.name}: {' '.join(command)}{note}"
        variables = {**self.environment, **extra}
        with open(self.log, "ab") as output:
            output.write(f"=== {heading}\n".encode())
            output.flush()
            code = processes.logged(confined or command, variables, output, self.deadline, cwd)
        if code is None:
            raise BuildError(f"build timed out ({self.name}), process tree killed")
        _refuse_what_is_no_plain_file(command)
        if code:
            raise _RouteFailed(_reason(self.log, code))


def build_tag(tag: Tag, workdir: Path, settings: BuildSettings, log: Path) -> Sdist:
    """Export ``tag`` into ``workdir`` and build it; the sdist is left in ``workdir/dist``."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "source"
    # The export counts against the build's time: what it fetches (svn:externals) may hang.
    deadline = time.monotonic() + settings.timeout
    try:
        tagged = tag.export(source, deadline)
    except VcsError as error:
        raise BuildError(f"export failed: {error}") from None
    sdist = build_sdist(
        source,
        workdir / "dist",
        version=tag.version,
        project=tag.project,
        settings=settings,
        log=log,
        deadline=deadline,
    )
    return replace(sdist, tagged=tagged)


def build_sdist(  # noqa: PLR0913 (keyword-only: the tree, the release it must make)
    source: Path,
    outdir: Path,
    *,
    version: str,
    project: str,
    settings: BuildSettings,
    log: Path,
    deadline: float | None = None,
) -> Sdist:
    """Build the tree in ``source`` into an sdist of ``version``, trying each route in turn, by
    ``deadline`` (by default BUILD_TIMEOUT from now)."""
    _refuse_what_is_no_project(source)
    # What the build needs to know of the tree is read before any of its code runs: a route's
    # backend may leave any file of it replaced (by a pipe, or a link to the server's files).
    routes = [ROUTE_BUILD]
    if _setup_py_only(source):
        routes.append(ROUTE_OLD_SETUPTOOLS)
        if settings.legacy_python:
            routes.append(ROUTE_LEGACY_PYTHON)
    name = _distribution_name(source, project)
    declared = _declared_backend(source)
    deadline = deadline or time.monotonic() + settings.timeout
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    # The build may run as another user (nobody, when sdistmaker is root): the tree it builds
    # is its own; no code of the tag's has run yet.
    sandbox.hand_over(source, recursive=True)
    failures: dict[str, list[str]] = {}
    for route in routes:
        _fresh_folder(outdir)
        sandbox.hand_over(outdir)
        environment = build_environment(outdir.parent / "tmp", version, name, settings.environment)
        steps = _Route(route, outdir.parent, environment, settings, deadline, log)
        try:
            if route == ROUTE_LEGACY_PYTHON:
                command = [settings.legacy_python, "setup.py", "sdist", "--formats=gztar"]
                steps.run([*command, "--dist-dir", str(outdir)], source)
                backend = f"setup.py sdist ({Path(settings.legacy_python).name})"
            else:
                python = _backend_build(source, outdir, "sdist", steps)
                backend = _backend(declared, python)
        except _RouteFailed as error:
            failures.setdefault(str(error), []).append(route)
            continue
        sdist = _inspect(_only_sdist(outdir), route, backend)
        if sdist.version != version:
            raise BuildError(
                f"built version {sdist.version} but the tag is version {version} "
                f"({sdist.path.name})"
            )
        return sdist
    raise BuildError("; ".join(f"{', '.join(tried)}: {why}" for why, tried in failures.items()))


def build_wheel(sdist: Sdist, workdir: Path, settings: BuildSettings, log: Path) -> Path:
    """Build a wheel from what the sdist holds, the way the sdist was built.

    Building from the sdist, not the tag, also proves the sdist complete: a file the tag has but
    the sdist lacks (a forgotten MANIFEST.in line) fails here instead of on a user's machine.
    """
    if sdist.route == ROUTE_LEGACY_PYTHON:
        raise BuildError("wheel: not built for sdists that needed LEGACY_PYTHON")
    # A new folder of its own, beside the checked sdist's: the backend writes to it alone (the
    # sandbox lets it write to its folder), so it cannot replace the sdist after its check. Its
    # name is new: the sdist's build, which could write there, cannot have prepared it.
    workdir = Path(tempfile.mkdtemp(prefix="wheel-", dir=workdir))
    unpacked = workdir / "unpacked"
    try:
        # Only a checked sdist gets here: it unpacks within the limits of its check.
        archives.unpack(sdist.path, unpacked)
    except ArchiveError as error:
        raise BuildError(f"wheel: cannot unpack {sdist.path.name}: {error}") from None
    [source] = [entry for entry in unpacked.iterdir() if entry.is_dir()] or [unpacked]
    outdir = workdir / "wheel"
    outdir.mkdir()
    name = _distribution_name(source, sdist.name)
    environment = build_environment(workdir / "tmp", sdist.version, name, settings.environment)
    sandbox.hand_over(workdir, recursive=True)
    deadline = time.monotonic() + settings.timeout
    try:
        route = _Route(sdist.route, workdir, environment, settings, deadline, log)
        _backend_build(source, outdir, "wheel", route)
    except _RouteFailed as error:
        raise BuildError(f"wheel: {error}") from None
    wheels = sorted(outdir.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"wheel: expected one wheel, the build made {[p.name for p in wheels]}")
    try:
        name, version = _checked(wheels[0])
    except BuildError as error:
        raise BuildError(f"wheel: {error}") from None
    if (name, version) != (sdist.name, sdist.version):
        raise BuildError(
            f"wheel: {wheels[0].name} is {name} {version}, not {sdist.name} {sdist.version}"
        )
    return wheels[0]


def _refuse_what_is_no_project(source: Path) -> None:
    """Refuse, before any of its code runs, a tree that holds no Python project (NotAProject:
    no failure in a discovered repository), or one PyPA build cannot take."""
    present = [name for name in _PROJECT_FILES if (source / name).exists()]
    if not present:
        raise NotAProject("holds no Python project: no pyproject.toml, setup.py or setup.cfg")
    if present == ["setup.cfg"]:
        raise BuildError("setup.cfg alone: PyPA build needs a pyproject.toml or a setup.py")


def _setup_py_only(source: Path) -> bool:
    if not (source / "setup.py").exists():
        return False
    return "build-system" not in _pyproject(source)


def _pyproject(source: Path) -> dict[str, object]:
    try:
        with open(source / "pyproject.toml", "rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _backend_build(
    source: Path, outdir: Path, distribution: Literal["sdist", "wheel"], route: _Route
) -> Path:
    """Build with the project's backend in a kept environment of its build requirements;
    return that environment's interpreter.

    Each backend call is still a process of its own (nothing leaks from one tag to the next),
    run by the route: logged, and killed with its children at the deadline.
    """
    constraints = "setuptools<58\n" if route.name == ROUTE_OLD_SETUPTOOLS else ""
    environments = route.settings.environments or Environments(outdir.parent / "environments")
    environment, log, deadline = route.environment, route.log, route.deadline

    def runner(
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        route.run(cmd, Path(cwd or source), extra_environ or {})

    try:
        requirements = set(ProjectBuilder(source, runner=runner).build_system_requires)
        python = environments.python(requirements, constraints, environment, log, deadline=deadline)
        builder = ProjectBuilder(source, python_executable=str(python), runner=runner)
        extra = builder.get_requires_for_build(distribution)
        if extra - requirements:
            python = environments.python(
                requirements | extra, constraints, environment, log, deadline=deadline
            )
            builder = ProjectBuilder(source, python_executable=str(python), runner=runner)
        builder.build(distribution, outdir)
        return python
    except BuildBackendException as error:
        # An OSError is the machine's (a full or read-only disk under the log), not the tag's:
        # it must stop the run, not be recorded as the tag's failure and never tried again.
        if isinstance(error.exception, (BuildError, _RouteFailed, OSError)):
            raise error.exception from None
        raise _RouteFailed(str(error)) from None
    except BuildException as error:
        raise _RouteFailed(str(error)) from None


def _declared_backend(source: Path) -> str:
    """The backend pyproject.toml names, as PyPA build takes it (setuptools' legacy one when
    it names none); read before any code of the tree runs."""
    system = _pyproject(source).get("build-system")
    backend = system.get("build-backend") if isinstance(system, dict) else None
    return str(backend or "setuptools.build_meta:__legacy__")


def _backend(backend: str, python: Path) -> str:
    """The backend as pages show it: its object, and the package it comes from at the version
    the environment of ``python`` holds, when that tells it: ``hatchling.build (hatchling
    1.27.0)``."""
    packages = installed(python)
    top = canonicalize_name(backend.split(":")[0].split(".")[0])
    candidates = [top, *sorted(name for name in packages if name.startswith(f"{top}-"))]
    found = next((name for name in candidates if name in packages), None)
    return f"{backend} ({found} {packages[found]})" if found else backend


def _distribution_name(source: Path, project: str) -> str:
    """The name the tree's pyproject.toml gives its distribution; else ``project``'s."""
    project_table = _pyproject(source).get("project")
    name = project_table.get("name") if isinstance(project_table, dict) else None
    return str(name or project)


def _fresh_folder(folder: Path) -> None:
    """``folder`` made anew, empty, whatever an earlier route's backend left in its place (a
    link to a folder of the server's, a file)."""
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
    elif os.path.lexists(folder):
        folder.unlink()
    folder.mkdir()


def _refuse_what_is_no_plain_file(command: Sequence[str]) -> None:
    """What a step leaves in the folders its command names is read by sdistmaker: PyPA build's
    hook runner reads the backend's answer there, as root maybe. Only a plain file is read: a
    pipe would hold the run for ever, a link would have it read a file of the server's (and
    take its content for build requirements). The step's processes are all gone by now."""
    for argument in command[1:]:
        folder = Path(argument)
        if not os.path.isabs(argument) or folder.is_symlink() or not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.is_file(follow_symlinks=False):
                    raise BuildError(f"the build left {entry.name}, no plain file, to be read")


_EXCEPTION_LINE = re.compile(r"^\s*(?:[\w.]+(?:Error|Exception)|error)\b:?\s.*", re.IGNORECASE)


def _reason(log: Path, code: int) -> str:
    """The most telling line of the last route's output: its last exception or error line."""
    text = log.read_text(encoding="utf-8", errors="replace")
    lines = text.rsplit("=== route ", 1)[-1].splitlines()[1:]
    errors = [line.strip() for line in lines if _EXCEPTION_LINE.match(line)]
    errors = [line for line in errors if "Backend subprocess exited" not in line] or errors
    return errors[-1] if errors else f"exited with status {code}"


def _only_sdist(outdir: Path) -> Path:
    found = sorted(p for p in outdir.iterdir() if p.name.endswith((".tar.gz", ".zip")))
    if len(found) != 1:
        raise BuildError(f"expected one sdist, the build made {[p.name for p in found]}")
    return found[0]


def _inspect(path: Path, route: str, backend: str) -> Sdist:
    """Read name and version from the sdist's PKG-INFO; a broken sdist is a BuildError."""
    return Sdist(path, *_checked(path), route, backend)


def _checked(path: Path) -> tuple[str, str]:
    """The normalised name and version of the sdist or wheel a build made at ``path``, once its
    file name, its archive and its metadata passed the checks of ``distributions``."""
    try:
        check_file_name(path.name)
    except ArchiveError as error:
        raise BuildError(f"{path.name!r}: {error}") from None
    if not stat.S_ISREG(path.lstat().st_mode):  # a FIFO would block its reader
        raise BuildError(f"{path.name}: not a regular file")
    try:
        metadata = read_metadata(path)
    except ArchiveError as error:
        raise BuildError(f"{path.name}: {error}") from None
    try:
        version = str(Version(metadata.version))
    except InvalidVersion:
        raise BuildError(
            f"{path.name}: version {metadata.version!r} is not a PEP 440 version"
        ) from None
    try:
        # Valid names only: the name becomes the project's folder in OUTDIR.
        name = canonicalize_name(metadata.name, validate=True)
    except InvalidName:
        raise BuildError(f"{path.name}: {metadata.name!r} is no valid distribution name") from None
    try:
        check_release_name(path.name, name, version)
    except ArchiveError as error:
        raise BuildError(f"{path.name}: {error}") from None
    return name, version

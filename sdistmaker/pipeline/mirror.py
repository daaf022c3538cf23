"""Mirror what MIRROR asks for into OUTDIR: files once there are never changed or removed, and a
name private here is never taken from upstream."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import time
from typing import TYPE_CHECKING

from sdistmaker.errors import SdistmakerError
from sdistmaker.outdir import published, temporaries
from sdistmaker.outdir.store import AlreadyPublished
from sdistmaker.pipeline.job import Job
from sdistmaker.urls import public_url, without_credentials

if TYPE_CHECKING:
    from collections.abc import Collection, Container

    from sdistmaker.mirroring.setting import Mirror
    from sdistmaker.repository import Distribution, Repository

logger = logging.getLogger("sdistmaker")

PROBLEM = "(mirror) "
"""Prefix of the problem keys of mirroring, beside those of repositories and stored files."""


def mirror(job: Job) -> None:
    """Bring the mirror up to date: what MIRROR's requirements need now, and what each private
    release not mirrored for yet needs, that OUTDIR lacks."""
    settings = job.config.mirror
    if settings is None:
        return
    due = _due(job, settings)
    releases = _unmirrored_releases(job) if settings.private_dependencies else {}
    if not (due or releases):
        return  # a run with nothing new: nothing to ask upstream, nothing more to import
    from sdistmaker.building.private_names import PrivateNames

    known = frozenset(job.state.owners) | frozenset(job.state.projects)
    private = PrivateNames(job.config.private_names, known)
    wanted: dict[str, tuple[str, ...]] = {}
    if due:
        wanted["requirements"] = settings.requirements
    wanted.update(_private_needs(job, releases, private))
    upstream = _upstream(settings, _network(job))
    mirrored_before = set(job.state.upstream_yanked)
    whole = [
        needing
        for needing, needs in wanted.items()
        if _mirror_all(job, upstream, private, needing, needs)
    ]
    # Upstream may yank a version after it was mirrored: read again as often as the
    # requirements are resolved, and at once for a project mirrored for the first time.
    mirrored = set(job.state.upstream_yanked)
    _read_yanked(job, upstream, mirrored if "requirements" in whole else mirrored - mirrored_before)


def _mirror_all(
    job: Job,
    upstream: Repository,
    private: Container[str],
    needing: str,
    requirements: tuple[str, ...],
) -> bool:
    """Mirror every file ``requirements`` (MIRROR's, or what the private release ``needing``
    declares) need; whether all are here now (what failed is reported)."""
    settings = job.config.mirror
    assert settings is not None
    files = _resolved(job, settings, upstream, needing, requirements)
    if files is None:
        return False
    wanted_files = [f for f in files if not settings.excludes(f.filename) and f.name not in private]
    if not all([_mirror(job, upstream, file) for file in wanted_files]):
        return False
    if needing == "requirements":
        job.state.requirements_mirrored = {_fingerprint(settings): published.now()}
    else:
        job.state.mirrored.append(needing)
    job.store.save_state(job.state)
    return True


AGAIN_AFTER = 3600
"""Seconds after which MIRROR's requirements are resolved again, for new upstream versions: a
run with nothing new does not ask upstream each time (a change of MIRROR is resolved at once)."""


def _due(job: Job, settings: Mirror) -> bool:
    """Whether MIRROR's requirements are to be resolved this run."""
    last = job.state.requirements_mirrored.get(_fingerprint(settings))
    if last is None:
        return True
    return published.seconds_since(last) >= AGAIN_AFTER


def _fingerprint(settings: Mirror) -> str:
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def _unmirrored_releases(job: Job) -> dict[str, str]:
    """Each published private release not mirrored for yet (``name==version``): a file of it."""
    releases: dict[str, str] = {}
    for record in job.state.tags.values():
        release = f"{record.distribution}=={record.version}"
        if record.status == "built" and release not in job.state.mirrored:
            releases.setdefault(release, record.file)
    return releases


def _private_needs(
    job: Job, releases: dict[str, str], private: Container[str]
) -> dict[str, tuple[str, ...]]:
    """The requirements on public names each of ``releases`` declares in its published file."""
    from packaging.requirements import Requirement

    from sdistmaker.dists.distributions import read_metadata

    needs: dict[str, tuple[str, ...]] = {}
    for release, file in releases.items():
        try:
            declared = read_metadata(job.config.outdir / file).raw.get("requires_dist", [])
        except (SdistmakerError, OSError):
            continue  # the index reports a file it cannot read
        needs[release] = tuple(r for r in declared if Requirement(r).name not in private)
    return needs


def _resolved(
    job: Job, settings: Mirror, upstream: Repository, needing: str, requirements: tuple[str, ...]
) -> list[Distribution] | None:
    """Every file ``requirements`` need in every environment, resolved by uv reaching
    ``upstream`` as sdistmaker does; None when that cannot be told (reported, as what
    ``needing`` needs)."""
    if not requirements:
        return []
    from sdistmaker.mirroring.resolve import resolve

    variables = upstream.network
    assert variables is not None  # _upstream gives it
    found: set[Distribution] = set()
    key = PROBLEM + needing
    for environment in settings.environments:
        deadline = time.monotonic() + job.config.read_timeout
        try:
            found.update(resolve(settings, requirements, environment, variables, deadline))
        except SdistmakerError as error:
            doing = "mirroring" if needing == "requirements" else f"mirroring for {needing}"
            job.problem(key, doing, str(error))
            return None
    job.state.problems.pop(key, None)
    return sorted(found, key=lambda file: (file.name, file.filename))


def _network(job: Job) -> dict[str, str]:
    """What reaching upstream runs with, uv and sdistmaker alike: what installers get of
    BUILD_ENVIRONMENT (a proxy, certificates)."""
    from sdistmaker.building.installers import installer_environment
    from sdistmaker.building.variables import network_environment

    return installer_environment(network_environment(job.config.build_environment), None)


def _upstream(settings: Mirror, network: dict[str, str]) -> Repository:
    """The upstream index, its credentials (if its URL holds some) apart."""
    from sdistmaker.repository import Repository

    address, credentials = without_credentials(settings.index)
    username, password = (credentials.username, credentials.password) if credentials else ("", "")
    return Repository(address, username or None, password or None, address, network)


def _mirror(job: Job, upstream: Repository, file: Distribution) -> bool:
    """Mirror ``file`` from ``upstream`` unless OUTDIR has it; False when that failed
    (reported)."""
    present = (job.config.outdir / file.name / file.filename).exists()
    if not (present or _download(job, upstream, file)):
        return False
    job.state.upstream_yanked.setdefault(file.name, {})
    return True


def _download(job: Job, upstream: Repository, file: Distribution) -> bool:
    """Download ``file`` from ``upstream`` and publish it; False when that failed
    (reported)."""
    key = PROBLEM + public_url(file.url)
    # A folder of sdistmaker's (removed by the next run if this one is killed) keeps the file
    # under its own name until it is published.
    folder = temporaries.new_folder(job.store.private, file.filename)
    try:
        downloaded = upstream.download(file, folder, job.config.read_timeout)
        job.store.publish(downloaded, file.name, file.version, published.MIRROR + upstream.name)
    except AlreadyPublished:
        return True
    except SdistmakerError as error:
        job.problem(key, "mirroring", str(error))
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    job.state.problems.pop(key, None)
    if file.name not in job.state.unindexed:
        job.state.unindexed.append(file.name)
    job.store.save_state(job.state)
    logger.info("mirrored %s/%s", file.name, file.filename)
    return True


def _read_yanked(job: Job, upstream: Repository, names: Collection[str]) -> None:
    """Which versions of the mirrored projects ``names`` upstream yanks, for the pages."""
    from packaging.version import InvalidVersion, Version

    for name in sorted(names):
        key = PROBLEM + public_url(upstream.simple) + name
        try:
            offered = upstream.distributions(name, job.config.read_timeout)
        except SdistmakerError as error:
            job.problem(key, "mirroring", str(error))
            continue
        job.state.problems.pop(key, None)
        yanked: dict[str, str] = {}
        for file in offered:
            with contextlib.suppress(InvalidVersion):
                if file.yanked is not None:
                    yanked[str(Version(file.version))] = file.yanked
        job.state.upstream_yanked[name] = yanked
    if names:
        job.store.save_state(job.state)

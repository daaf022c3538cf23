"""Mirror what MIRROR asks for into OUTDIR: files once there are never changed or removed, and a
name private here is never taken from upstream."""

from __future__ import annotations

import logging
import shutil
import time
from typing import TYPE_CHECKING

from sdistmaker.errors import SdistmakerError
from sdistmaker.outdir import temporaries
from sdistmaker.outdir.store import AlreadyPublished
from sdistmaker.pipeline.job import Job
from sdistmaker.urls import public_url

if TYPE_CHECKING:
    from sdistmaker.mirroring.resolve import UpstreamFile
    from sdistmaker.mirroring.setting import Mirror

logger = logging.getLogger("sdistmaker")

PROBLEM = "(mirror) "
"""Prefix of the problem keys of mirroring, beside those of repositories and stored files."""


def mirror(job: Job) -> None:
    """Bring the mirror up to date: what the requirements need now, that OUTDIR lacks."""
    settings = job.config.mirror
    if settings is None:
        return
    # Only here: what mirroring needs (uv's resolution, downloads) takes longer to import than
    # a run with nothing new.
    from sdistmaker.building.private_names import PrivateNames

    wanted = _wanted(job, settings)
    if wanted is None:
        return
    known = frozenset(job.state.owners) | frozenset(job.state.projects)
    private = PrivateNames(job.config.private_names, known)
    owner = f"mirror:{public_url(settings.index)}"
    for file in wanted:
        if settings.excludes(file.filename) or file.name in private:
            continue
        if (job.config.outdir / file.name / file.filename).exists():
            continue
        _mirror_file(job, file, owner)


def _wanted(job: Job, settings: Mirror) -> list[UpstreamFile] | None:
    """Every file the requirements need in every environment; None when that cannot be told
    (reported)."""
    from sdistmaker.building.installers import installer_environment
    from sdistmaker.building.variables import network_environment
    from sdistmaker.mirroring.resolve import resolve

    variables = installer_environment(network_environment(job.config.build_environment), None)
    found: set[UpstreamFile] = set()
    key = PROBLEM + "resolving"
    for environment in settings.environments:
        deadline = time.monotonic() + job.config.read_timeout
        try:
            found.update(resolve(settings, settings.requirements, environment, variables, deadline))
        except SdistmakerError as error:
            job.problem(key, "mirroring", str(error))
            return None
    job.state.problems.pop(key, None)
    return sorted(found)


def _mirror_file(job: Job, file: UpstreamFile, owner: str) -> None:
    from sdistmaker.mirroring.download import download

    key = PROBLEM + public_url(file.url)
    deadline = time.monotonic() + job.config.read_timeout
    # A folder of sdistmaker's (removed by the next run if this one is killed) keeps the file
    # under its own name until it is published.
    folder = temporaries.new_folder(job.store.private, file.filename)
    try:
        downloaded = download(file, folder, deadline)
        job.store.publish(downloaded, file.name, file.version, owner)
    except AlreadyPublished:
        return
    except SdistmakerError as error:
        job.problem(key, "mirroring", str(error))
        return
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    job.state.problems.pop(key, None)
    if file.name not in job.state.unindexed:
        job.state.unindexed.append(file.name)
    job.store.save_state(job.state)
    logger.info("mirrored %s/%s", file.name, file.filename)

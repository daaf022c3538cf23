"""Publish what a worker made of a tag into OUTDIR, recording it in the state; upload it to the
repositories of UPLOAD_TO."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sdistmaker.dists.names import is_distribution
from sdistmaker.errors import BuildError, NotAProject, SdistmakerError
from sdistmaker.models import Release, Tag
from sdistmaker.outdir import published
from sdistmaker.outdir.published import now
from sdistmaker.outdir.state import TagRecord
from sdistmaker.outdir.store import AlreadyPublished
from sdistmaker.pipeline.job import Job

if TYPE_CHECKING:
    from sdistmaker.building.build import Sdist
    from sdistmaker.pipeline.workers import Made

logger = logging.getLogger("sdistmaker")


def accept(job: Job, tag: Tag, made: Made) -> None:
    """Publish what was made of ``tag``, or record why it failed."""
    record = TagRecord(
        project=tag.project,
        name=tag.name,
        version=tag.version,
        identity=tag.identity,
        status="failed",
        when=now(),
        log=str(made.log.relative_to(job.config.outdir)),
        project_key=tag.project_key,
    )
    job.state.tags[tag.key] = record
    try:
        release = _publish(job, tag, made)
    except SdistmakerError as error:
        record.reason = str(error)
        if tag.discovered and isinstance(error, NotAProject):
            record.status = "skipped"
            job.skip(tag.culprit, record.reason)
        else:
            job.fail(tag.culprit, f"{error} (log: {made.log})", new=True)
        return
    record.status = "built"
    record.file = str(release.path.relative_to(job.config.outdir))
    record.distribution = release.distribution
    record.route = release.route
    job.summary.built.append(release)
    logger.info("built %s -> %s", tag, record.file)
    if release.wheel:
        record.wheel = str(release.wheel.relative_to(job.config.outdir))
        logger.info("built %s -> %s", tag, record.wheel)
    logger.debug("%s was built by route %s", record.file, release.route)


def _publish(job: Job, tag: Tag, made: Made) -> Release:
    if made.error is not None:
        raise made.error
    assert made.sdist is not None
    sdist = made.sdist
    earlier = sorted(d for d, key in job.state.owners.items() if key == tag.project_key)
    _claim(job, sdist.name, tag.project_key)
    if earlier and sdist.name not in earlier:
        # Allowed (projects do get renamed), but installers see a new project: say so.
        logger.warning(
            "renamed %s: publishes %s, earlier tags %s; each keeps its own pages",
            tag.culprit,
            sdist.name,
            ", ".join(earlier),
        )
    if sdist.name not in job.state.unindexed:
        job.state.unindexed.append(sdist.name)
    path = _store(job, sdist.path, sdist, tag)
    return Release(tag, path, sdist.name, sdist.route, _publish_wheel(job, tag, made))


def _claim(job: Job, distribution: str, key: str) -> None:
    """Let the VCS project ``key`` publish ``distribution``, unless another does: as the
    state says, or else the record in the project's folder (the state may be lost). A
    folder holding files of a project neither names is not given to a new one."""
    folder = job.config.outdir / distribution
    owner = job.state.owners.get(distribution) or published.read(folder).owner
    if not owner and any(is_distribution(p.name) for p in _entries(folder)):
        raise BuildError(
            f"distribution {distribution} is published already, but neither the state nor "
            f"{folder / published.RECORD} says from which project: not from {key}"
        )
    if owner and owner != key:
        raise BuildError(
            f"distribution {distribution} is already published from {owner}, not from {key}"
        )
    job.state.owners[distribution] = key


def _publish_wheel(job: Job, tag: Tag, made: Made) -> Path | None:
    """A wheel that does not build is reported; the sdist stays published all the same."""
    try:
        if made.wheel_error is not None:
            raise made.wheel_error
        if made.wheel is None or made.sdist is None:
            return None
        return _store(job, made.wheel, made.sdist, tag)
    except SdistmakerError as error:
        job.fail(tag.culprit, f"{error} (log: {made.log})", new=True)
        return None


def _store(job: Job, built: Path, sdist: Sdist, tag: Tag) -> Path:
    """Publish ``built``, of ``sdist``'s release. A file of its name that no tag's record
    claims was left by a run killed before it saved the state (files are published first),
    or put there by hand: it is kept and recorded as this tag's, instead of the tag failing
    for good."""
    try:
        provenance = sdist.provenance(tag)
        if built != sdist.path:
            provenance["built_from"] = sdist.path.name
        return job.store.publish(built, sdist.name, sdist.version, tag.project_key, provenance)
    except AlreadyPublished as taken:
        relative = str(taken.path.relative_to(job.config.outdir))
        if any(relative in (r.file, r.wheel) for r in job.state.tags.values()):
            raise
        logger.info("kept %s, published before this tag was recorded", relative)
        return taken.path


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except FileNotFoundError:
        return []


def upload(job: Job) -> None:
    """Upload every built file each repository lacks; what fails is tried again next run."""
    if not job.config.upload_to:
        return
    # Only here: twine and what it needs take longer to import than a run with nothing new.
    from sdistmaker.repository import Repository, UploadError, UploadTimedOut

    repositories = [Repository(url) for url in job.config.upload_to]
    silent: set[str] = set()
    """Repositories that did not answer in time: not asked again this run."""
    built = [r for r in job.state.tags.values() if r.status == "built"]
    for relative in [f for record in built for f in (record.file, record.wheel) if f]:
        done = job.state.uploads.setdefault(relative, [])
        for repository in repositories:
            if repository.name in done or repository.name in silent:
                continue
            try:
                repository.upload(job.config.outdir / relative, job.config.read_timeout)
            except UploadError as error:
                if isinstance(error, UploadTimedOut):
                    silent.add(repository.name)
                job.fail(f"uploading {relative}", str(error), new=True)
                continue
            done.append(repository.name)
            job.store.save_state(job.state)
            logger.info("uploaded %s to %s", relative, repository.name)

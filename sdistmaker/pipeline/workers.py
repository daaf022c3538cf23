"""Build the planned tags in JOBS workers, each in a folder of its own; publish here, in order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sdistmaker.building import processes
from sdistmaker.crawl import withdraw_skipped
from sdistmaker.errors import SdistmakerError
from sdistmaker.models import Tag
from sdistmaker.outdir.temporaries import BuildFolder
from sdistmaker.pipeline.job import Job
from sdistmaker.pipeline.publish import accept

if TYPE_CHECKING:
    from sdistmaker.building.build import BuildSettings, Sdist

logger = logging.getLogger("sdistmaker")

Progress = Callable[[int, int, Tag], None]
SANDBOX = "(sandbox)"
"""The problem key of builds refused for want of a sandbox."""


@dataclass
class Made:
    """What a worker made of one tag, in its own folder, before anything is published."""

    folder: BuildFolder
    log: Path
    sdist: Sdist | None = None
    error: SdistmakerError | None = None
    wheel: Path | None = None
    wheel_error: SdistmakerError | None = None


def build_all(job: Job, todo: list[Tag], progress: Progress | None) -> None:
    """Build in JOBS workers; publish and record here, one tag at a time, in crawl order
    (so that a run's result never depends on which build happened to finish first)."""
    if not todo or not _may_build(job):
        return
    # Only here: PyPA build and the thread pool take longer to import than a run with
    # nothing to build.
    from concurrent.futures import Future, ThreadPoolExecutor

    settings = _settings(job)
    pool = ThreadPoolExecutor(max_workers=job.config.jobs)
    futures: list[tuple[Tag, Future[Made]]] = []
    try:
        futures = [(tag, pool.submit(_make, job, tag, settings)) for tag in todo]
        for number, (tag, future) in enumerate(futures, 1):
            if progress:
                progress(number, len(todo), tag)
            made = future.result()
            try:
                accept(job, tag, made)
            finally:
                made.folder.remove()
            job.store.save_state(job.state)
        # Once every tag is recorded: a project's first tag may hold no Python project, a
        # later one may.
        withdraw_skipped(job.state, todo)
    except BaseException:
        # An interrupt or a full disk: the builds still going are of no use now.
        processes.stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        processes.resume()
        # A run stopped by an error leaves no build folders behind (accepted ones are gone).
        for _, future in futures:
            if future.done() and not future.cancelled() and future.exception() is None:
                future.result().folder.remove()


def _settings(job: Job) -> BuildSettings:
    from sdistmaker.building.build import BuildSettings
    from sdistmaker.building.environments import Environments
    from sdistmaker.building.private_names import PrivateNames

    known = frozenset(job.state.owners) | frozenset(job.state.projects)
    private = PrivateNames(job.config.private_names, known, job.config.outdir)
    return BuildSettings(
        job.config.build_timeout,
        job.config.legacy_python,
        job.config.build_environment,
        Environments(job.store.environments, private=private),
        hidden=_hidden(job),
    )


def _may_build(job: Job) -> bool:
    """Whether tags may be built here. That builds run without a sandbox is said as loud as a
    new failure, so that quiet runs say it too (cron mails it), once while it stays so;
    later runs say it as a warning. Nothing failed: the exit status is not changed. As root,
    nothing is built without a sandbox (a tag's code never runs as root): a problem of the
    run, reported once while it lasts, the tags left for a run that can build them."""
    from sdistmaker.building import sandbox

    sandboxed = sandbox.bubblewrap() is not None
    if not sandboxed and sandbox.build_user() is not None:
        job.problem(SANDBOX, "building", sandbox.REFUSED_AS_ROOT)
        return False
    job.state.problems.pop(SANDBOX, None)
    if sandboxed:
        job.state.unsandboxed = False
        return True
    level = logging.WARNING if job.state.unsandboxed else logging.ERROR
    logger.log(level, "builds are not sandboxed: bubblewrap (bwrap) is not available")
    job.state.unsandboxed = True
    return True


def _hidden(job: Job) -> tuple[Path, ...]:
    """What builds must not read: the defaults file (it may hold passwords), sdistmaker's
    records (the state, other tags' logs, the git mirrors of every repository with all
    their branches, the build environments: a build is given back its own) and the
    repositories read from this machine's disk."""
    local = [folder for _, folder in job.config.local_repositories()]
    folders = [job.config.source, job.store.private, *local]
    return tuple(folder for folder in folders if folder is not None)


def _make(job: Job, tag: Tag, settings: BuildSettings) -> Made:
    """Export and build one tag in a folder of its own. Runs in a worker: touches no state."""
    from sdistmaker.building.build import build_tag, build_wheel

    # Not below OUTDIR: backends look upwards for .gitignore files that are not the tag's.
    made = Made(BuildFolder(), job.store.log_path(tag.project, tag.name))
    try:
        try:
            # A folder the build may own (nobody, when sdistmaker is root), in one only
            # sdistmaker's user may enter.
            made.sdist = build_tag(tag, made.folder.path / "tag", settings, made.log)
        except SdistmakerError as error:
            made.error = error
            return made
        if job.config.wheels:
            try:
                made.wheel = build_wheel(made.sdist, made.folder.path, settings, made.log)
            except SdistmakerError as error:
                made.wheel_error = error
    except BaseException:  # a full disk stops the run: the tag's folder goes with it
        made.folder.remove()
        raise
    return made

"""Plan a run: every release tag the repositories hold, and which of them to build."""

from __future__ import annotations

import logging

from sdistmaker.crawl import crawl
from sdistmaker.dists.names import is_project_name
from sdistmaker.errors import SdistmakerError
from sdistmaker.models import Tag
from sdistmaker.outdir import published
from sdistmaker.outdir.state import TagRecord
from sdistmaker.pipeline.job import Job

logger = logging.getLogger("sdistmaker")


def record_folders(job: Job) -> None:
    """Once: give the folders of an OUTDIR from before records theirs, so that the state's
    loss does not lose who publishes them."""
    if job.state.folders_recorded:
        return
    for distribution, owner in job.state.owners.items():
        folder = job.config.outdir / distribution
        if is_project_name(distribution) and folder.is_dir():
            published.record_files_of(folder, owner, job.store.private)
    job.state.folders_recorded = True
    job.store.save_state(job.state)


def to_build(job: Job, retry_failed: bool) -> list[Tag]:
    """The tags to build, in crawl order: new ones, and failed ones that changed (every failed
    one with ``retry_failed``, which also walks every repository anew)."""

    def read(location: str, error: SdistmakerError | None) -> None:
        """A repository could (error None) or could not be read: reported once while the same."""
        if error is None:
            job.state.problems.pop(location, None)
        else:
            job.problem(location, "reading", str(error))

    tags = crawl(job.config, job.state, job.store.private, read, walk=retry_failed)
    return [tag for tag in tags if _needs_build(job, tag, retry_failed)]


def _needs_build(job: Job, tag: Tag, retry_failed: bool) -> bool:
    record = job.state.tags.get(tag.key)
    if record is None:
        return True
    if record.status == "built":
        if record.identity != tag.identity:
            # A release must never change under its users: keep the published file.
            new = record.retagged != tag.identity
            record.retagged = tag.identity
            job.fail(
                tag.culprit,
                f"re-tagged (was {record.identity}, now {tag.identity}); "
                f"the published {record.file} is kept",
                new,
            )
        else:
            job.summary.up_to_date += 1
            logger.debug("up to date %s (%s)", tag, record.file)
        return False
    if record.status == "skipped":
        return _skipped_before(job, tag, record)
    if record.identity != tag.identity or retry_failed:
        return True
    job.fail(tag.culprit, record.reason, new=False)
    return False


def _skipped_before(job: Job, tag: Tag, record: TagRecord) -> bool:
    """Whether a tag skipped before is built now: once it moves, or once its repository is
    listed rather than discovered (holding no Python project is a failure there)."""
    if tag.discovered and record.identity == tag.identity:
        job.skip(tag.culprit, record.reason)
        return False
    return True

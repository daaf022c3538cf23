"""One run, as the pipeline reads: crawl, plan, build, publish, upload, render, publish the
index."""

from __future__ import annotations

import logging

from sdistmaker import index
from sdistmaker.building import processes
from sdistmaker.config import Config
from sdistmaker.models import Tag
from sdistmaker.outdir.store import Store, disk_problem
from sdistmaker.outdir.temporaries import own_temporary_folder, remove_abandoned_build_folders
from sdistmaker.pipeline.job import Failure, Job, Summary
from sdistmaker.pipeline.mirror import mirror
from sdistmaker.pipeline.plan import record_folders, to_build
from sdistmaker.pipeline.publish import upload
from sdistmaker.pipeline.publish_index import publish_index
from sdistmaker.pipeline.render import render
from sdistmaker.pipeline.workers import Progress, build_all

__all__ = ["Failure", "Progress", "Summary", "run"]

logger = logging.getLogger("sdistmaker")


def run(  # noqa: PLR0913 (the command line's options, by keyword)
    config: Config,
    *,
    dry_run: bool = False,
    retry_failed: bool = False,
    render_only: bool = False,
    wait: float = 0,
    progress: Progress | None = None,
) -> Summary:
    """Build every new release tag the defaults describe and render the index.

    ``render_only`` renders the index without crawling. Raises Busy when another run is going
    (Stalled when it has not got on for longer than it may), ConfigError (before anything is
    built) when a template in TEMPLATES is wrong.
    """
    store = Store(config.outdir)
    # A run gets on at least once in its longest step (each has a deadline), and in what it
    # does between them (rendering, hashing): a run holding the lock longer without is stuck.
    stalled_after = max(config.build_timeout, config.read_timeout) + 600
    with store.lock(wait, stalled_after) as lock, processes.telling(lock.getting_on):
        job = Job(config, store, store.load_state())
        try:
            # What killed runs left, found with a look at a few folders: a run with nothing new
            # stays quick.
            store.remove_leftovers()
            remove_abandoned_build_folders()
            if config.templates is not None:
                index.check_templates(store.private, config.templates)
            if render_only:
                render(job, everything=True)
                publish_index(job)
                return job.summary
            if not dry_run:
                record_folders(job)
            todo = to_build(job, retry_failed)
            if dry_run:
                return _would_build(job, todo)
            with own_temporary_folder():
                build_all(job, todo, progress)
            mirror(job)
            upload(job)
            render(job)
            publish_index(job)
            return job.summary
        except OSError as error:
            # A full or read-only disk stops the run: nothing half-done is published or recorded
            # (files and state are staged, then renamed), so the next run does what this could not.
            raise disk_problem(error, config.outdir) from None


def _would_build(job: Job, todo: list[Tag]) -> Summary:
    for tag in todo:
        logger.info("would build %s (%s)", tag, tag.location)
    job.summary.would_build = todo
    return job.summary

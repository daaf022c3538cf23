"""Copy the index, once it is up to date, to the stores of PUBLISH_TO."""

from __future__ import annotations

import logging

from sdistmaker import publishing
from sdistmaker.pipeline.job import Job
from sdistmaker.publishing.copying import publish

logger = logging.getLogger("sdistmaker")


def publish_index(job: Job) -> None:
    """Copy to each store what changed since it was last given the whole index: the projects
    whose pages changed, and the root pages. A store that fails is one line, the run exits 1,
    and the next run copies what it still lacks."""
    if not job.config.publish_to:
        job.state.unpublished = []
        return
    failed = False
    for entry in job.config.publish_to:
        target = publishing.target_for(entry)
        try:
            copied = publish(job.config.outdir, job.store.private, target, job.state.unpublished)
        except publishing.PublishError as error:
            job.fail(f"publishing to {target.url}", str(error), new=True)
            failed = True
            continue
        if copied:
            logger.info("published %d objects to %s", copied, target.url)
    if not failed:
        job.state.unpublished = []
    job.store.save_state(job.state)

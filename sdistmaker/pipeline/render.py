"""Bring the index and the web servers' rules up to date with what the store holds."""

from __future__ import annotations

import logging

from sdistmaker import index
from sdistmaker.index import rules
from sdistmaker.index.pages import TagFailure
from sdistmaker.pipeline.job import Job, Summary

logger = logging.getLogger("sdistmaker")

FILE = "(file) "
"""Prefix of the problem keys of stored files, beside those of repositories (their URLs: no
URL starts with a parenthesis, while ``file:`` would be a repository's too)."""


def render(job: Job, everything: bool = False) -> Summary:
    """Render every project folder, or (``everything`` False) those that runs published to
    since the last render."""
    unlisted = [glob for globs in job.config.access.values() for glob in globs]
    shown = index.Shown(
        _yanked(job), job.config.templates, _tag_failures(job), _placeholders(job), unlisted
    )
    changed = None if everything else job.state.unindexed
    result = index.update(job.config.outdir, job.store.private, shown, changed)
    job.state.unindexed = []
    if job.config.publish_to:  # copied to the stores next, or by a later run
        job.state.unpublished = sorted({*job.state.unpublished, *result.rendered})
    rules.write_server_rules(
        job.store.private,
        job.config.private_names,
        job.config.source,
        _known_names(job, result.projects),
        job.config.access,
    )
    _say_whether_hidden(job)
    for relative, message in result.problems.items():
        job.problem(FILE + relative, "indexing", message)
    for key, message in [(k, m) for k, m in job.state.problems.items() if k.startswith(FILE)]:
        relative = key[len(FILE) :]
        if relative.split("/")[0] not in result.examined:
            job.problem(key, "indexing", message)  # still there: its project is unchanged
        elif relative not in result.problems:
            del job.state.problems[key]
    job.store.save_state(job.state)
    return job.summary


def _yanked(job: Job) -> dict[str, dict[str, str]]:
    """YANKED, over what upstream indexes yank of the projects mirrored from them."""
    yanked = {name: dict(versions) for name, versions in job.state.upstream_yanked.items()}
    for name, versions in job.config.yanked.items():
        yanked.setdefault(name, {}).update(versions)
    return {name: versions for name, versions in yanked.items() if versions}


def _known_names(job: Job, indexed: list[str] | None) -> set[str]:
    """Every project sdistmaker knows: those that claim their names, those that publish, and
    those the index lists (``indexed``, None when the index did not look at them)."""
    if indexed is None:
        indexed = index.projects(job.store.private)
    return {*job.state.projects, *job.state.owners, *indexed}


def _say_whether_hidden(job: Job) -> None:
    """That a web server cannot read OUTDIR is said as loud as a new failure, once while
    it stays so (so that quiet runs say it too: cron mails it); later runs say it as a
    warning. Nothing failed, and the index serves its own user (file://): the exit status
    is not changed."""
    hidden = rules.hidden_from_others(job.config.outdir)
    if hidden:
        level = logging.WARNING if hidden == job.state.hidden else logging.ERROR
        logger.log(level, "%s", hidden)
    job.state.hidden = hidden


def _placeholders(job: Job) -> set[str]:
    """Projects that claim their names and publish nothing yet, by their VCS name."""
    publishing = set(job.state.owners.values())
    return {name for name, key in job.state.projects.items() if key not in publishing}


def _tag_failures(job: Job, most: int = 10) -> dict[str, list[TagFailure]]:
    """The latest tags that did not build, per distribution their project publishes."""
    distributions = {owner: name for name, owner in job.state.owners.items()}
    failures: dict[str, list[TagFailure]] = {}
    records = sorted(job.state.tags.values(), key=lambda r: r.when, reverse=True)
    for record in records:
        name = distributions.get(record.project_key)
        if record.status == "failed" and name and len(failures.get(name, ())) < most:
            failure = TagFailure(record.name, record.version, record.reason, record.when)
            failures.setdefault(name, []).append(failure)
    return failures

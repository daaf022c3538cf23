"""What every step of a run shares: the summary it reports, and problems said once."""

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, write_defaults
from helpers.repositories import GitRepository
from sdistmaker.config import load_defaults
from sdistmaker.crawl import crawl
from sdistmaker.outdir.store import Store
from sdistmaker.pipeline.job import Failure, Job, Summary

MakeGit = Callable[[str], GitRepository]


def new_job(outdir: Path) -> Job:
    """A job as a run starts it: the defaults, the store and the state as last saved."""
    config = load_defaults(write_defaults(outdir.parent, OUTDIR=outdir.name))
    store = Store(config.outdir)
    return Job(config, store, store.load_state())


def test_only_a_new_failure_makes_the_exit_status_1() -> None:
    assert Summary().exit_status == 0
    old = Failure("p 1.0 (url)", "broken", new=False)
    assert Summary(failures=[old, old]).exit_status == 0
    assert Summary(failures=[old, Failure("q 2.0 (url)", "broken", new=True)]).exit_status == 1


def test_the_summary_counts_what_was_built_up_to_date_and_failed() -> None:
    failures = [Failure("a", "x", new=False), Failure("b", "y", new=True)]
    summary = Summary(up_to_date=3, failures=failures)
    assert str(summary) == "built 0, up to date 3, failed 2 (new 1)"
    assert summary.new_failures == failures[1:]


def test_a_dry_run_summary_says_what_it_would_build(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    repo.tag("1.1")
    config = load_defaults(write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url]))
    tags = crawl(config, Store(config.outdir).load_state(), tmp_path / "private", lambda *_: None)
    assert str(Summary(would_build=tags, up_to_date=1)) == (
        "would build 2, up to date 1, failed 0 (new 0)"
    )


def test_a_failure_is_an_error_when_new_and_a_debug_line_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sdistmaker")
    job = new_job(tmp_path / "out")
    job.fail("p 1.0 (url)", "broken", new=True)
    job.fail("p 1.1 (url)", "broken too", new=False)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "failed p 1.0 (url): broken"),
        (logging.DEBUG, "still failing p 1.1 (url): broken too"),
    ]
    assert job.summary.failures == [
        Failure("p 1.0 (url)", "broken", True),
        Failure("p 1.1 (url)", "broken too", False),
    ]


def test_a_problem_is_new_once_while_it_stays_the_same_across_runs(tmp_path: Path) -> None:
    first = new_job(tmp_path / "out")
    first.problem("file:///repo", "reading", "file:///repo: no such repository")
    assert first.summary.exit_status == 1
    first.store.save_state(first.state)

    second = new_job(tmp_path / "out")
    second.problem("file:///repo", "reading", "file:///repo: no such repository")
    assert second.summary.failures == [
        Failure("reading", "file:///repo: no such repository", new=False)
    ]
    assert second.summary.exit_status == 0

    second.problem("file:///repo", "reading", "file:///repo: permission denied")
    assert second.summary.failures[-1].new
    assert second.state.problems == {"file:///repo": "file:///repo: permission denied"}


def test_problems_of_different_culprits_are_each_new(tmp_path: Path) -> None:
    job = new_job(tmp_path / "out")
    job.problem("file:///one", "reading", "the same words")
    job.problem("file:///two", "reading", "the same words")
    assert [failure.new for failure in job.summary.failures] == [True, True]

"""Planning a run: which crawled tags to build, and the records an older OUTDIR lacks."""

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from helpers.projects import crafted_project, sdist, write_defaults
from helpers.repositories import GitRepository
from sdistmaker.config import load_defaults
from sdistmaker.crawl import crawl
from sdistmaker.models import Tag
from sdistmaker.outdir import published
from sdistmaker.outdir.store import Store
from sdistmaker.outdir.temporaries import own_temporary_folder
from sdistmaker.pipeline import plan
from sdistmaker.pipeline.job import Failure, Job
from sdistmaker.pipeline.plan import record_folders, to_build
from sdistmaker.pipeline.workers import build_all

MakeGit = Callable[[str], GitRepository]


def next_run(tmp_path: Path, *repositories: str) -> Job:
    """The job of a run of OUTDIR tmp_path/out over these git repositories."""
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=list(repositories), OUTDIR="out", JOBS=1)
    config = load_defaults(defaults)
    store = Store(config.outdir)
    return Job(config, store, store.load_state())


def build_what_is_planned(job: Job) -> None:
    with own_temporary_folder():
        build_all(job, to_build(job, retry_failed=False), None)


def names(tags: list[Tag]) -> list[str]:
    return [str(tag) for tag in tags]


def only_key(job: Job) -> str:
    [key] = job.state.tags
    return key


def test_new_tags_are_planned_and_built_ones_are_up_to_date(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("p")
    repo.commit(crafted_project())
    repo.tag("1.0")
    build_what_is_planned(next_run(tmp_path, repo.url))
    repo.tag("1.1")
    repo.tag("latest")  # no version: never planned
    job = next_run(tmp_path, repo.url)
    assert names(to_build(job, retry_failed=False)) == ["p 1.1"]
    assert (job.summary.up_to_date, job.summary.failures) == (1, [])


def test_a_re_tagged_built_tag_is_reported_once_and_its_file_kept(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("p")
    first = repo.commit(crafted_project())
    repo.tag("1.0")
    build_what_is_planned(next_run(tmp_path, repo.url))
    file = tmp_path / "out" / "alpha" / "alpha-1.0.tar.gz"
    original = file.read_bytes()
    moved = repo.commit({"more.txt": "changed\n"})
    repo.tag("1.0", force=True)

    job = next_run(tmp_path, repo.url)
    assert to_build(job, retry_failed=False) == []
    reason = f"re-tagged (was {first}, now {moved}); the published alpha/alpha-1.0.tar.gz is kept"
    assert job.summary.failures == [Failure(f"p 1.0 (git+{repo.url}@1.0)", reason, new=True)]
    job.store.save_state(job.state)

    again = next_run(tmp_path, repo.url)
    assert to_build(again, retry_failed=True) == []
    assert [(f.reason, f.new) for f in again.summary.failures] == [(reason, False)]
    [record] = again.state.tags.values()
    assert (record.status, record.identity, record.file) == (
        "built",
        first,
        "alpha/alpha-1.0.tar.gz",
    )
    assert file.read_bytes() == original


def test_a_failed_tag_is_retried_when_it_changed_or_when_asked(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("p")
    repo.commit(crafted_project(sdist="1/0"))
    repo.tag("1.0")
    build_what_is_planned(next_run(tmp_path, repo.url))

    job = next_run(tmp_path, repo.url)
    assert to_build(job, retry_failed=False) == []
    [failure] = job.summary.failures
    assert (failure.new, failure.reason) == (False, job.state.tags[only_key(job)].reason)
    assert "ZeroDivisionError" in failure.reason
    assert names(to_build(next_run(tmp_path, repo.url), retry_failed=True)) == ["p 1.0"]

    repo.commit(crafted_project())
    repo.tag("1.0", force=True)
    assert names(to_build(next_run(tmp_path, repo.url), retry_failed=False)) == ["p 1.0"]


def discovering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans find the repositories as discovery would: each tag of theirs is discovered."""

    def discovered(*arguments: Any, **options: Any) -> list[Tag]:
        return [replace(tag, discovered=True) for tag in crawl(*arguments, **options)]

    monkeypatch.setattr(plan, "crawl", discovered)


def test_a_skipped_tag_is_tried_again_once_it_moves_or_its_repository_is_listed(
    make_git: MakeGit,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = make_git("docs")
    repo.commit({"index.md": "# Docs\n"})
    repo.tag("1.0")
    discovering(monkeypatch)
    build_what_is_planned(next_run(tmp_path, repo.url))

    job = next_run(tmp_path, repo.url)
    record = job.state.tags[only_key(job)]
    assert record.status == "skipped"
    caplog.set_level(logging.DEBUG, logger="sdistmaker")
    assert to_build(job, retry_failed=True) == []  # it failed nothing
    assert (job.summary.up_to_date, job.summary.failures) == (0, [])
    culprit = f"docs 1.0 (git+{repo.url}@1.0)"
    assert caplog.messages == [f"skipped {culprit}: {record.reason}"]

    monkeypatch.undo()  # listed: a tag holding no Python project fails there
    assert names(to_build(next_run(tmp_path, repo.url), retry_failed=False)) == ["docs 1.0"]
    discovering(monkeypatch)
    repo.commit({"pyproject.toml": "[project]\n"})
    repo.tag("1.0", force=True)
    assert names(to_build(next_run(tmp_path, repo.url), retry_failed=False)) == ["docs 1.0"]


def test_an_unreadable_repository_is_reported_once_and_forgotten_once_read(
    make_git: MakeGit, tmp_path: Path
) -> None:
    missing = str(tmp_path / "git" / "later")
    job = next_run(tmp_path, missing)
    assert to_build(job, retry_failed=False) == []
    [failure] = job.summary.failures
    assert (failure.subject, failure.new) == ("reading", True)
    assert failure.reason.startswith(f"{missing}: ")
    job.store.save_state(job.state)

    job = next_run(tmp_path, missing)
    to_build(job, retry_failed=False)
    assert [f.new for f in job.summary.failures] == [False]
    job.store.save_state(job.state)

    repo = make_git("later")
    repo.commit(crafted_project())
    repo.tag("1.0")
    job = next_run(tmp_path, missing)
    assert names(to_build(job, retry_failed=False)) == ["later 1.0"]
    assert (job.summary.failures, job.state.problems) == ([], {})


def test_folders_from_before_records_get_theirs_once(tmp_path: Path) -> None:
    older = next_run(tmp_path)  # a version of sdistmaker that wrote no records in folders
    folder = tmp_path / "out" / "p"
    folder.mkdir(parents=True)
    sdist(folder, "Metadata-Version: 2.1\nName: p\nVersion: 1.0\n", "p-1.0.tar.gz")
    older.state.owners.update({"p": "git:/srv/p#", "gone": "git:/srv/gone#"})
    older.store.save_state(older.state)

    record_folders(next_run(tmp_path))
    record = published.read(folder)
    assert (record.owner, list(record.published)) == ("git:/srv/p#", ["p-1.0.tar.gz"])
    assert not (tmp_path / "out" / "gone").exists()
    saved = json.loads((tmp_path / "out" / ".sdistmaker" / "state.json").read_text())
    assert saved["folders_recorded"] is True

    (folder / published.RECORD).unlink()
    record_folders(next_run(tmp_path))
    assert not (folder / published.RECORD).exists()

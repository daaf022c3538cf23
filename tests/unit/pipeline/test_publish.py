"""Publishing what a worker made of a tag: the files, their records, the names they claim."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from helpers.projects import crafted_project, sdist, write_defaults
from helpers.repositories import GitRepository
from sdistmaker.building.build import Sdist
from sdistmaker.config import load_defaults
from sdistmaker.crawl import crawl
from sdistmaker.errors import BuildError, NotAProject, SdistmakerError
from sdistmaker.models import Tag
from sdistmaker.outdir import published
from sdistmaker.outdir.state import TagRecord
from sdistmaker.outdir.store import Store
from sdistmaker.outdir.temporaries import BuildFolder
from sdistmaker.pipeline.job import Job
from sdistmaker.pipeline.publish import accept, upload
from sdistmaker.pipeline.workers import Made

MakeGit = Callable[[str], GitRepository]
MakeFor = Callable[..., Made]


def run_job(tmp_path: Path, **settings: object) -> Job:
    """The job of a run over OUTDIR tmp_path/out, its state as the last run saved it."""
    config = load_defaults(write_defaults(tmp_path, OUTDIR="out", **settings))
    store = Store(config.outdir)
    job = Job(config, store, store.load_state())
    store.save_state(job.state)  # as a run does first, holding the lock: OUTDIR is there
    return job


def tags(make_git: MakeGit, project: str, *names: str) -> list[Tag]:
    """The release tags ``names`` of a new git repository ``project``, as a crawl finds them."""
    repo = make_git(project)
    repo.commit(crafted_project())
    for name in names:
        repo.tag(name)
    config = load_defaults(write_defaults(repo.root.parent, GIT_REPOSITORIES=[repo.url]))
    found = crawl(config, Store(config.outdir).load_state(), repo.root.parent, lambda *_: None)
    return sorted(found, key=lambda tag: tag.name)


@pytest.fixture
def made_for() -> Iterator[MakeFor]:
    """What a worker makes of a tag: its sdist (of distribution alpha and the tag's version,
    holding ``content``), a wheel, or the errors of either; removed at the end as workers'
    folders are."""
    folders: list[BuildFolder] = []

    def make(  # noqa: PLR0913 (what a worker may make of a tag)
        job: Job,
        tag: Tag,
        content: str = "",
        error: SdistmakerError | None = None,
        wheel: Path | None = None,
        wheel_error: SdistmakerError | None = None,
    ) -> Made:
        folder = BuildFolder()
        folders.append(folder)
        pkg_info = f"Metadata-Version: 2.1\nName: alpha\nVersion: {tag.version}\n{content}"
        path = sdist(folder.path, pkg_info, f"alpha-{tag.version}.tar.gz")
        built = Sdist(path, "alpha", tag.version, "build")
        log = job.store.log_path(tag.project, tag.name)
        return Made(folder, log, built, error, wheel, wheel_error)

    yield make
    for folder in folders:
        folder.remove()


def in_folder(outdir: Path, project: str) -> list[str]:
    return sorted(p.name for p in (outdir / project).glob("alpha-*"))


def test_a_built_tag_is_published_and_recorded(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path
) -> None:
    [tag] = tags(make_git, "p", "1.0")
    job = run_job(tmp_path)
    made = made_for(job, tag)
    assert made.sdist is not None
    accept(job, tag, made)
    file = tmp_path / "out" / "alpha" / "alpha-1.0.tar.gz"
    assert file.read_bytes() == made.sdist.path.read_bytes()
    record = job.state.tags[tag.key]
    assert (record.status, record.file, record.distribution, record.route, record.wheel) == (
        "built",
        "alpha/alpha-1.0.tar.gz",
        "alpha",
        "build",
        "",
    )
    assert (record.identity, record.log) == (tag.identity, ".sdistmaker/logs/p/1.0.log")
    assert job.state.owners == {"alpha": tag.project_key}
    assert published.read(file.parent).owner == tag.project_key
    assert job.state.unindexed == ["alpha"]
    assert [release.path for release in job.summary.built] == [file]
    assert job.summary.failures == []


NO_PROJECT = "holds no Python project: no pyproject.toml, setup.py or setup.cfg"


def test_a_discovered_tag_holding_no_python_project_is_skipped_said_only_with_v(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [listed, later] = tags(make_git, "docs", "1.0", "2.0")
    discovered = replace(later, discovered=True)
    job = run_job(tmp_path)
    caplog.set_level(logging.DEBUG, logger="sdistmaker")
    accept(job, discovered, made_for(job, discovered, error=NotAProject(NO_PROJECT)))
    record = job.state.tags[discovered.key]
    assert (record.status, record.reason, record.file) == ("skipped", NO_PROJECT, "")
    assert job.summary.failures == []
    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert said == [(logging.DEBUG, f"skipped {discovered.culprit}: {NO_PROJECT}")]

    # A listed repository's tag holding no Python project is a failure, as ever.
    made = made_for(job, listed, error=NotAProject(NO_PROJECT))
    accept(job, listed, made)
    assert job.state.tags[listed.key].status == "failed"
    [failure] = job.summary.failures
    assert (failure.reason, failure.new) == (f"{NO_PROJECT} (log: {made.log})", True)


def test_a_tag_that_did_not_build_is_recorded_as_failed_and_claims_no_name(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path
) -> None:
    [tag] = tags(make_git, "p", "1.0")
    job = run_job(tmp_path)
    made = made_for(job, tag, error=BuildError("build: RuntimeError: broken"))
    accept(job, tag, made)
    record = job.state.tags[tag.key]
    assert (record.status, record.reason, record.file) == (
        "failed",
        "build: RuntimeError: broken",
        "",
    )
    [failure] = job.summary.failures
    assert (failure.subject, failure.new) == (tag.culprit, True)
    assert failure.reason == f"build: RuntimeError: broken (log: {made.log})"
    assert (job.state.owners, job.state.unindexed, job.summary.built) == ({}, [], [])
    assert not (tmp_path / "out" / "alpha").exists()


def test_a_distribution_another_project_publishes_is_refused_in_one_line(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path
) -> None:
    [mine] = tags(make_git, "p", "1.0")
    [theirs] = tags(make_git, "fork", "2.0")
    job = run_job(tmp_path)
    accept(job, mine, made_for(job, mine))
    accept(job, theirs, made_for(job, theirs))
    [failure] = job.summary.failures
    assert failure.reason.startswith(
        f"distribution alpha is already published from {mine.project_key}, "
        f"not from {theirs.project_key} (log: "
    )
    assert "\n" not in failure.reason
    assert job.state.tags[theirs.key].status == "failed"
    assert job.state.owners == {"alpha": mine.project_key}
    assert in_folder(tmp_path / "out", "alpha") == ["alpha-1.0.tar.gz"]


def test_without_the_state_the_folders_record_says_who_publishes(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path
) -> None:
    first, second = tags(make_git, "p", "1.0", "1.1")
    [theirs] = tags(make_git, "fork", "2.0")
    job = run_job(tmp_path)
    accept(job, first, made_for(job, first))
    job.store.state_file.unlink()  # lost: not in the backup

    job = run_job(tmp_path)
    accept(job, theirs, made_for(job, theirs))
    accept(job, second, made_for(job, second))
    assert [(t.status, t.version) for t in job.state.tags.values()] == [
        ("failed", "2.0"),
        ("built", "1.1"),
    ]
    assert job.state.owners == {"alpha": first.project_key}
    assert in_folder(tmp_path / "out", "alpha") == ["alpha-1.0.tar.gz", "alpha-1.1.tar.gz"]


def test_files_that_neither_state_nor_record_speak_for_are_given_to_no_project(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path
) -> None:
    [tag] = tags(make_git, "p", "1.0")
    job = run_job(tmp_path)
    folder = tmp_path / "out" / "alpha"
    folder.mkdir()
    sdist(folder, "Metadata-Version: 2.1\nName: alpha\nVersion: 0.9\n", "alpha-0.9.tar.gz")
    accept(job, tag, made_for(job, tag))
    [failure] = job.summary.failures
    assert failure.reason.startswith(
        f"distribution alpha is published already, but neither the state nor "
        f"{folder / published.RECORD} says from which project: not from {tag.project_key}"
    )
    assert (job.state.owners, in_folder(tmp_path / "out", "alpha")) == ({}, ["alpha-0.9.tar.gz"])


def test_a_file_no_record_claims_is_kept_and_recorded_and_one_claimed_is_not(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path
) -> None:
    """A run killed after it published 1.0 but before it saved the state left its file: the
    next run records it as it is. Tag v1.0, another tag of that release, still fails."""
    [tag, again] = tags(make_git, "p", "1.0", "v1.0")
    job = run_job(tmp_path)
    killed = made_for(job, tag, "Summary: the killed run's\n")
    assert killed.sdist is not None
    file = job.store.publish(killed.sdist.path, "alpha", "1.0", tag.project_key)
    before = file.read_bytes()

    accept(job, tag, made_for(job, tag, "Summary: this run's\n"))
    assert job.summary.failures == []
    assert (job.state.tags[tag.key].status, job.state.tags[tag.key].file) == (
        "built",
        "alpha/alpha-1.0.tar.gz",
    )
    assert file.read_bytes() == before

    accept(job, again, made_for(job, again))
    [failure] = job.summary.failures
    assert failure.reason.startswith(f"{file} is already published; it is kept as it is (log: ")
    assert job.state.tags[again.key].status == "failed"
    assert file.read_bytes() == before


def test_a_wheel_is_published_beside_its_sdist_and_one_that_failed_leaves_the_sdist(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path
) -> None:
    first, second = tags(make_git, "p", "1.0", "1.1")
    job = run_job(tmp_path, WHEELS=True)
    wheel = tmp_path / "alpha-1.0-py3-none-any.whl"
    wheel.write_bytes(b"a wheel, as far as publishing goes")
    accept(job, first, made_for(job, first, wheel=wheel))
    broken = BuildError("wheel: FileNotFoundError: CHANGES.txt")
    made = made_for(job, second, wheel_error=broken)
    accept(job, second, made)

    assert job.state.tags[first.key].wheel == "alpha/alpha-1.0-py3-none-any.whl"
    assert (job.state.tags[second.key].status, job.state.tags[second.key].wheel) == ("built", "")
    assert [(release.path.name, release.wheel) for release in job.summary.built] == [
        ("alpha-1.0.tar.gz", tmp_path / "out" / "alpha" / wheel.name),
        ("alpha-1.1.tar.gz", None),
    ]
    assert sorted(p.name for p in (tmp_path / "out" / "alpha").glob("alpha-*")) == [
        "alpha-1.0-py3-none-any.whl",
        "alpha-1.0.tar.gz",
        "alpha-1.1.tar.gz",
    ]
    [failure] = job.summary.failures
    assert (failure.subject, failure.new) == (second.culprit, True)
    assert failure.reason == f"{broken} (log: {made.log})"


def test_a_project_publishing_under_a_new_name_is_told_and_keeps_both(
    make_git: MakeGit, made_for: MakeFor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = tags(make_git, "p", "1.0", "2.0")
    job = run_job(tmp_path)
    accept(job, first, made_for(job, first))
    made = made_for(job, second)
    assert made.sdist is not None
    renamed = made.sdist.path.with_name("beta-2.0.tar.gz")
    made.sdist.path.rename(renamed)
    made.sdist = Sdist(renamed, "beta", "2.0", "build")
    accept(job, second, made)
    assert (
        f"renamed {second.culprit}: publishes beta, earlier tags alpha; each keeps its own pages"
        in caplog.messages
    )
    assert job.state.owners == {"alpha": first.project_key, "beta": first.project_key}
    assert job.state.unindexed == ["alpha", "beta"]


def test_uploads_go_to_each_repository_lacking_a_file_and_what_failed_waits(
    tmp_path: Path,
) -> None:
    down = "http://127.0.0.1:9/"
    job = run_job(tmp_path, UPLOAD_TO=[down])
    (tmp_path / "out" / "alpha").mkdir()
    for version in ("1.0", "1.1"):
        pkg_info = f"Metadata-Version: 2.1\nName: alpha\nVersion: {version}\n"
        file = sdist(tmp_path / "out" / "alpha", pkg_info, f"alpha-{version}.tar.gz")
        relative = str(file.relative_to(tmp_path / "out"))
        job.state.tags[version] = TagRecord("p", version, version, "c0", "built", "", relative)
    job.state.uploads["alpha/alpha-1.0.tar.gz"] = [down]  # it has that one already
    upload(job)
    [failure] = job.summary.failures
    assert (failure.subject, failure.new) == ("uploading alpha/alpha-1.1.tar.gz", True)
    assert failure.reason.startswith(f"{down}: alpha-1.1.tar.gz not uploaded: ")
    assert job.state.uploads == {"alpha/alpha-1.0.tar.gz": [down], "alpha/alpha-1.1.tar.gz": []}


def test_without_upload_to_nothing_is_uploaded(tmp_path: Path) -> None:
    job = run_job(tmp_path)
    job.state.tags["1.0"] = TagRecord("p", "1.0", "1.0", "c0", "built", "", "alpha/a-1.0.tar.gz")
    upload(job)
    assert (job.summary.failures, job.state.uploads) == ([], {})

"""Building planned tags in workers, each published and recorded in crawl order."""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from helpers.projects import crafted_project, write_defaults
from helpers.repositories import GitRepository
from sdistmaker.config import load_defaults
from sdistmaker.crawl import crawl
from sdistmaker.index.rules import NGINX_RULES
from sdistmaker.models import Tag
from sdistmaker.outdir.store import Store
from sdistmaker.outdir.temporaries import own_temporary_folder
from sdistmaker.pipeline.job import Job
from sdistmaker.pipeline.render import render
from sdistmaker.pipeline.workers import Progress, build_all

MakeGit = Callable[[str], GitRepository]


def build(
    tmp_path: Path, repo: GitRepository, progress: Progress | None = None, **settings: object
) -> tuple[Job, list[Tag]]:
    """Build the new tags of ``repo`` into OUTDIR tmp_path/out as a run does; the run's job
    and the tags, in crawl order."""
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url], OUTDIR="out", **settings)
    config = load_defaults(defaults)
    store = Store(config.outdir)
    job = Job(config, store, store.load_state())
    store.save_state(job.state)
    tags = crawl(config, job.state, store.private, lambda *_: None)
    with own_temporary_folder():
        build_all(job, [tag for tag in tags if tag.key not in job.state.tags], progress)
    return job, tags


def test_builds_finishing_in_any_order_are_published_in_crawl_order(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("p")
    slow = "[__import__('time').sleep(1.5), good_sdist(directory)][-1]"
    repo.commit(crafted_project(sdist=slow))
    repo.tag("1.0")
    repo.commit(crafted_project())
    repo.tag("1.1")
    told: list[tuple[int, int, str]] = []
    job, _ = build(
        tmp_path, repo, lambda number, total, tag: told.append((number, total, str(tag))), JOBS=2
    )
    assert told == [(1, 2, "p 1.0"), (2, 2, "p 1.1")]
    assert [release.path.name for release in job.summary.built] == [
        "alpha-1.0.tar.gz",
        "alpha-1.1.tar.gz",
    ]
    saved = job.store.load_state()
    assert [(record.name, record.status) for record in saved.tags.values()] == [
        ("1.0", "built"),
        ("1.1", "built"),
    ]


def test_a_tag_that_fails_keeps_its_log_and_the_others_are_built(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("p")
    repo.commit(crafted_project(sdist="1/0"))
    repo.tag("1.0")
    repo.commit(crafted_project())
    repo.tag("1.1")
    job, tags = build(tmp_path, repo, JOBS=2)
    [failure] = job.summary.failures
    log = tmp_path / "out" / ".sdistmaker" / "logs" / "p" / "1.0.log"
    assert failure.subject == tags[0].culprit
    assert failure.reason.endswith(f"ZeroDivisionError: division by zero (log: {log})")
    assert "ZeroDivisionError" in log.read_text()
    saved = Store(tmp_path / "out").load_state().tags
    assert [(r.name, r.status, r.log) for r in saved.values()] == [
        ("1.0", "failed", ".sdistmaker/logs/p/1.0.log"),
        ("1.1", "built", ".sdistmaker/logs/p/1.1.log"),
    ]
    assert [p.name for p in (tmp_path / "out" / "alpha").glob("*.tar.gz")] == ["alpha-1.1.tar.gz"]


def test_a_wheel_is_built_only_when_wheels_asks_for_one(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("p")
    repo.commit(crafted_project(wheel='wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO})'))
    repo.tag("1.0")
    build(tmp_path, repo, JOBS=1)
    repo.tag("1.1")
    job, _ = build(tmp_path, repo, JOBS=1, WHEELS=True)
    assert sorted(p.name for p in (tmp_path / "out" / "alpha").glob("alpha-*")) == [
        "alpha-1.0.tar.gz",
        "alpha-1.1-py3-none-any.whl",
        "alpha-1.1.tar.gz",
    ]
    assert [(r.name, r.wheel) for r in job.state.tags.values()] == [
        ("1.0", ""),
        ("1.1", "alpha/alpha-1.1-py3-none-any.whl"),
    ]
    assert job.summary.failures == []


def test_a_discovered_repository_holding_no_python_project_claims_no_name(
    make_git: MakeGit, tmp_path: Path
) -> None:
    """Discovered: docs, whose every tag holds no Python project; mixed, whose 0.1 holds none
    and whose 1.0 fails; p, whose 0.1 holds none and whose 1.0 publishes alpha. Only docs gives
    up its name; nothing that holds no project fails, on the pages for people either."""
    docs, mixed, p = make_git("docs"), make_git("mixed"), make_git("p")
    for repo in (docs, mixed, p):
        repo.commit({"index.md": "# Notes\n"})
        repo.tag("0.1")
    docs.tag("0.2")
    mixed.commit(crafted_project(sdist="1/0"))
    mixed.tag("1.0")
    p.commit(crafted_project())
    p.tag("1.0")
    listed = [repo.url for repo in (docs, mixed, p)]
    config = load_defaults(write_defaults(tmp_path, GIT_REPOSITORIES=listed, OUTDIR="out"))
    store = Store(config.outdir)
    job = Job(config, store, store.load_state())
    store.save_state(job.state)
    tags = crawl(config, job.state, store.private, lambda *_: None)
    assert sorted(job.state.projects) == ["docs", "mixed", "p"]
    with own_temporary_folder():
        build_all(job, [replace(tag, discovered=True) for tag in tags], None)
    render(job)

    assert [(str(r.project), r.name, r.status) for r in job.state.tags.values()] == [
        ("docs", "0.1", "skipped"),
        ("docs", "0.2", "skipped"),
        ("mixed", "0.1", "skipped"),
        ("mixed", "1.0", "failed"),
        ("p", "0.1", "skipped"),
        ("p", "1.0", "built"),
    ]
    assert [failure.subject for failure in job.summary.failures] == [tags[3].culprit]
    assert sorted(job.state.projects) == ["mixed", "p"]
    outdir = tmp_path / "out"
    folders = sorted(path.name for path in outdir.iterdir() if path.is_dir())
    assert folders == ["+", ".sdistmaker", "alpha", "mixed"]  # mixed: a placeholder
    assert 'class="failed"' not in (outdir / "+" / "alpha.html").read_text()
    rules = (outdir / ".sdistmaker" / NGINX_RULES).read_text()
    assert '"^(?:alpha|mixed|p)$"' in rules

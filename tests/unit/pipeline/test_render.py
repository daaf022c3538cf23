"""Rendering at the end of a run: the index, the web servers' rules, what they report."""

import logging
from pathlib import Path

import pytest

from helpers.projects import sdist, write_defaults
from sdistmaker.config import load_defaults
from sdistmaker.index.rules import NGINX_RULES
from sdistmaker.outdir.state import TagRecord
from sdistmaker.outdir.store import Store
from sdistmaker.pipeline.job import Failure, Job
from sdistmaker.pipeline.render import render


def next_run(root: Path, **settings: object) -> Job:
    """The job of a run over OUTDIR root/out with ``settings``, holding OUTDIR as a run does."""
    config = load_defaults(write_defaults(root, OUTDIR="out", **settings))
    store = Store(config.outdir)
    job = Job(config, store, store.load_state())
    store.save_state(job.state)
    return job


def stored(outdir: Path, name: str, version: str, damaged: bool = False) -> Path:
    """A file of release ``name`` ``version`` in its folder, as a run or a person put it."""
    (outdir / name).mkdir(parents=True, exist_ok=True)
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    path = sdist(outdir / name, pkg_info, f"{name}-{version}.tar.gz")
    if damaged:
        path.write_bytes(b"not a tar file")
    return path


def test_problems_of_stored_files_are_kept_until_their_project_is_looked_at_again(
    tmp_path: Path,
) -> None:
    outdir = tmp_path / "out"
    stored(outdir, "p", "1.0")
    mended = stored(outdir, "p", "1.1", damaged=True)
    stored(outdir, "q", "1.0", damaged=True)
    job = next_run(tmp_path)
    render(job, everything=True)
    assert [(f.subject, f.new) for f in job.summary.failures] == [("indexing", True)] * 2
    assert sorted(job.state.problems) == ["(file) p/p-1.1.tar.gz", "(file) q/q-1.0.tar.gz"]
    still = job.state.problems["(file) q/q-1.0.tar.gz"]
    assert still.startswith(f"{outdir}/q/q-1.0.tar.gz: ")

    mended.unlink()
    job = next_run(tmp_path)
    job.state.problems["file:///repository"] = "file:///repository: unreadable"
    job.state.unindexed = ["p"]  # what this run published to: q is not looked at
    render(job)
    assert job.summary.failures == [Failure("indexing", still, new=False)]
    saved = job.store.load_state()
    assert saved.problems == {
        "(file) q/q-1.0.tar.gz": still,
        "file:///repository": "file:///repository: unreadable",
    }
    assert saved.unindexed == []


def test_pages_show_what_upstream_yanks_of_mirrored_projects_and_yanked_over_it(
    tmp_path: Path,
) -> None:
    outdir = tmp_path / "out"
    stored(outdir, "left-pad", "1.3")
    stored(outdir, "left-pad", "1.4")
    yanked = {"left-pad": {"1.4": "ours"}}
    job = next_run(tmp_path, YANKED=yanked)
    job.state.upstream_yanked = {"left-pad": {"1.3": "broken", "1.4": ""}}
    render(job, everything=True)
    page = (outdir / "left-pad" / "index.html").read_text()
    assert 'data-yanked="broken">left-pad-1.3.tar.gz' in page
    assert 'data-yanked="ours">left-pad-1.4.tar.gz' in page
    # Upstream takes the yank back: the page says so at the next run, nothing published.
    job = next_run(tmp_path, YANKED=yanked)
    job.state.upstream_yanked = {"left-pad": {}}
    render(job)
    page = (outdir / "left-pad" / "index.html").read_text()
    assert '">left-pad-1.3.tar.gz' in page and "broken" not in page


def test_crawled_projects_that_publish_nothing_get_a_placeholder(tmp_path: Path) -> None:
    stored(tmp_path / "out", "alpha", "1.0")
    job = next_run(tmp_path)
    job.state.projects.update({"fresh": "svn:/srv/fresh", "p": "git:/srv/p#"})
    job.state.owners["alpha"] = "git:/srv/p#"  # project p publishes distribution alpha
    render(job, everything=True)
    assert "Links for fresh" in (tmp_path / "out" / "fresh" / "index.html").read_text()
    assert (tmp_path / "out" / "fresh" / "index.json").exists()
    assert not (tmp_path / "out" / "p").exists()
    assert "alpha-1.0.tar.gz" in (tmp_path / "out" / "alpha" / "index.html").read_text()


def test_the_rules_name_every_project_known_also_when_nothing_was_indexed(
    tmp_path: Path,
) -> None:
    stored(tmp_path / "out", "by-hand", "1.0")
    job = next_run(tmp_path)
    job.state.projects.update({"fresh": "svn:/srv/fresh", "p": "git:/srv/p#"})
    job.state.owners["alpha"] = "git:/srv/p#"
    render(job, everything=True)
    rules = tmp_path / "out" / ".sdistmaker" / NGINX_RULES
    written = rules.read_text()
    assert "the projects it knows (4)" in written
    assert 'if ($sdistmaker_project ~ "^(?:alpha|by-hand|fresh|p)$")' in written

    before = rules.stat().st_mtime_ns
    render(next_run(tmp_path))  # nothing published: the index looks at no folder
    assert (rules.read_text(), rules.stat().st_mtime_ns) == (written, before)


def test_a_project_page_shows_the_latest_ten_tags_that_did_not_build(tmp_path: Path) -> None:
    stored(tmp_path / "out", "alpha", "1.0")
    job = next_run(tmp_path)
    job.state.owners["alpha"] = "git:/srv/p#"
    for number in range(1, 13):
        name = f"t{number:02}"
        when = f"2024-01-{number:02}T00:00:00Z"
        record = TagRecord("p", name, f"2.{number}", "c0", "failed", when, reason="broken")
        record.project_key = "git:/srv/p#"
        job.state.tags[name] = record
    other = TagRecord("q", "t99", "9.9", "c1", "failed", "2024-02-01T00:00:00Z", reason="no")
    job.state.tags["other"] = other
    render(job, everything=True)
    page = (tmp_path / "out" / "+" / "alpha.html").read_text()
    shown = [f"t{number:02}" for number in range(1, 13) if f"<td>t{number:02}</td>" in page]
    assert shown == [f"t{number:02}" for number in range(3, 13)]
    assert "<td>t99</td>" not in page


def test_an_outdir_other_users_cannot_reach_is_said_loud_once_and_softly_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    said = f"{closed / 'out'} is hidden from other users (a web server): {closed} lacks o+x"
    levels = []
    for _ in range(2):
        caplog.clear()
        job = next_run(closed)
        render(job)
        levels += [r.levelno for r in caplog.records if r.getMessage() == said]
        assert (job.state.hidden, job.summary.exit_status) == (said, 0)
    assert levels == [logging.ERROR, logging.WARNING]

    closed.chmod(0o755)
    caplog.clear()
    job = next_run(closed)
    render(job)
    assert (job.state.hidden, caplog.messages) == ("", [])

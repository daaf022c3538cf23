"""One run as a whole: which steps it takes for each option, and how it stops."""

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import crafted_project, sdist, write_defaults
from helpers.repositories import GitRepository
from sdistmaker.config import Config, load_defaults
from sdistmaker.errors import ConfigError, StoreError
from sdistmaker.outdir.store import Store
from sdistmaker.pipeline.run import run

MakeGit = Callable[[str], GitRepository]


def settings(tmp_path: Path, *repositories: str, **more: object) -> Config:
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=list(repositories), OUTDIR="out", **more)
    return load_defaults(defaults)


def releases(outdir: Path) -> list[str]:
    return sorted(p.name for p in (outdir / "alpha").glob("alpha-*.tar.gz"))


@pytest.fixture
def repo(make_git: MakeGit) -> GitRepository:
    """A repository whose tag 1.0 builds alpha 1.0."""
    repo = make_git("p")
    repo.commit(crafted_project())
    repo.tag("1.0")
    return repo


def test_a_run_builds_what_is_new_and_renders_it(repo: GitRepository, tmp_path: Path) -> None:
    config = settings(tmp_path, repo.url)
    assert str(run(config)) == "built 1, up to date 0, failed 0 (new 0)"
    assert "alpha-1.0.tar.gz" in (config.outdir / "alpha" / "index.html").read_text()
    assert str(run(config)) == "built 0, up to date 1, failed 0 (new 0)"


def test_a_dry_run_lists_what_it_would_build_and_changes_nothing(
    repo: GitRepository, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sdistmaker")
    config = settings(tmp_path, repo.url)
    run(config)
    repo.tag("1.1")
    store = Store(config.outdir)
    older = store.load_state()
    older.folders_recorded = False  # as a version of sdistmaker that wrote no records left it
    store.save_state(older)
    state = store.state_file.read_bytes()
    summary = run(config, dry_run=True)
    assert [str(tag) for tag in summary.would_build] == ["p 1.1"]
    assert str(summary) == "would build 1, up to date 1, failed 0 (new 0)"
    assert f"would build p 1.1 ({repo.url})" in caplog.messages
    assert releases(config.outdir) == ["alpha-1.0.tar.gz"]
    assert store.state_file.read_bytes() == state


def test_render_only_reads_no_repository_and_looks_at_every_folder(tmp_path: Path) -> None:
    missing = str(tmp_path / "git" / "missing")
    config = settings(tmp_path, missing)
    (config.outdir / "alpha").mkdir(parents=True)
    for version in ("1.0", "1.1"):
        pkg_info = f"Metadata-Version: 2.1\nName: alpha\nVersion: {version}\n"
        sdist(config.outdir / "alpha", pkg_info, f"alpha-{version}.tar.gz")  # by hand
        summary = run(config, render_only=True)
        assert (summary.failures, summary.exit_status) == ([], 0)
        page = (config.outdir / "alpha" / "index.html").read_text()
        assert f"alpha-{version}.tar.gz" in page
    assert Store(config.outdir).load_state().problems == {}
    assert run(config).exit_status == 1  # a run reads it, and says it cannot


def test_a_disk_error_stops_the_run_in_one_line_and_the_next_run_does_the_rest(
    repo: GitRepository, tmp_path: Path
) -> None:
    config = settings(tmp_path, repo.url)
    blocking = config.outdir / "alpha"
    blocking.parent.mkdir()
    blocking.write_text("a file where the project's folder goes\n")
    with pytest.raises(StoreError) as stopped:
        run(config)
    assert str(stopped.value) == f"{blocking}: cannot write: Not a directory"
    assert Store(config.outdir).load_state().tags == {}

    blocking.unlink()
    assert str(run(config)) == "built 1, up to date 0, failed 0 (new 0)"
    assert releases(config.outdir) == ["alpha-1.0.tar.gz"]


def test_a_wrong_template_stops_the_run_before_anything_is_built(
    repo: GitRepository, tmp_path: Path
) -> None:
    templates = tmp_path / "templates" / "browse"
    templates.mkdir(parents=True)
    (templates / "index.html").write_text("{% if %}\n")
    config = settings(tmp_path, repo.url, TEMPLATES="templates")
    with pytest.raises(ConfigError, match=r"browse/index\.html:1: syntax error: "):
        run(config)
    assert not (config.outdir / "alpha").exists()
    assert Store(config.outdir).load_state().tags == {}

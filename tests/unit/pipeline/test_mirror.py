"""The mirroring step of a run (sdistmaker/pipeline/mirror.py): what it takes from upstream,
what it never takes, and what it says when upstream cannot be read."""

import time
from pathlib import Path

import pytest

from helpers.projects import write_defaults
from helpers.servers import free_port, make_wheel, upstream_index
from sdistmaker.config import load_defaults
from sdistmaker.outdir import published
from sdistmaker.outdir.state import TagRecord
from sdistmaker.outdir.store import Store
from sdistmaker.pipeline.job import Job
from sdistmaker.pipeline.mirror import AGAIN_AFTER, mirror


def run_with(root: Path, **settings: object) -> Job:
    """The job of a run over OUTDIR root/out with ``settings``."""
    config = load_defaults(write_defaults(root, OUTDIR="out", **settings))
    store = Store(config.outdir)
    job = Job(config, store, store.load_state())
    store.save_state(job.state)
    return job


@pytest.fixture
def wheels(tmp_path: Path) -> dict[str, list[Path]]:
    folder = tmp_path / "wheels"
    folder.mkdir()
    return {
        "acme-app": [make_wheel(folder, "acme-app", "1.0", requires=("acme-lib", "left-pad"))],
        "acme-lib": [make_wheel(folder, "acme-lib", "1.0")],
        "left-pad": [
            make_wheel(folder, "left-pad", "1.3"),
            make_wheel(folder, "left-pad", "1.3", tag="cp311-cp311-win_amd64"),
        ],
    }


def mirrored(outdir: Path) -> list[str]:
    return sorted(str(p.relative_to(outdir)) for p in outdir.glob("*/*.whl"))


def test_private_names_and_excluded_files_are_never_taken(
    tmp_path: Path, wheels: dict[str, list[Path]]
) -> None:
    """acme-lib is a name of this company's (PRIVATE_NAMES): a public index offering it is no
    source for it, whatever it holds."""
    with upstream_index(wheels) as index:
        job = run_with(
            tmp_path,
            PRIVATE_NAMES=["acme-lib"],
            MIRROR={"index": index, "requirements": ["acme-app"], "exclude": ["*win_amd64*"]},
        )
        mirror(job)
    assert mirrored(job.config.outdir) == [
        "acme-app/acme_app-1.0-py3-none-any.whl",
        "left-pad/left_pad-1.3-py3-none-any.whl",
    ]
    assert job.summary.failures == []
    assert sorted(job.state.unindexed) == ["acme-app", "left-pad"]
    # Each folder records who publishes it: the mirror, so that no tag may claim it.
    assert published.read(job.config.outdir / "left-pad").owner == f"mirror:{index}"


def test_an_upstream_that_cannot_be_read_is_said_once_while_it_stays_so(
    tmp_path: Path, wheels: dict[str, list[Path]]
) -> None:
    down = f"http://127.0.0.1:{free_port()}/simple"
    settings = {"index": down, "requirements": ["acme-app"]}
    first = run_with(tmp_path, MIRROR=settings)
    mirror(first)
    [failure] = first.summary.failures
    assert (failure.subject, failure.new) == ("mirroring", True)
    assert failure.reason.startswith(f"{down}: ")
    first.store.save_state(first.state)
    again = run_with(tmp_path, MIRROR=settings)
    mirror(again)
    assert [f.new for f in again.summary.failures] == [False]
    with upstream_index(wheels) as index:  # the same requirements, from an index that answers
        back = run_with(tmp_path, MIRROR={**settings, "index": index})
        mirror(back)
    assert back.summary.failures == []
    assert not [key for key in back.state.problems if down in key]
    assert mirrored(back.config.outdir)


def test_nothing_is_asked_of_upstream_without_mirror(tmp_path: Path) -> None:
    job = run_with(tmp_path)
    mirror(job)
    assert job.summary.failures == [] and not (tmp_path / "out" / "acme-app").exists()


def test_what_private_releases_need_is_mirrored_once_each(
    tmp_path: Path, wheels: dict[str, list[Path]]
) -> None:
    """private_dependencies: the public requirements each published private release declares,
    resolved once per release (the state remembers), its private ones left to this index."""
    outdir = tmp_path / "out"
    make_wheel(tmp_path, "acme-app", "1.0", requires=("acme-lib", "left-pad>=1"))
    settings: dict[str, object] = {"requirements": [], "private_dependencies": True}
    settings["exclude"] = ["*win*"]
    job = run_with(tmp_path)
    job.store.publish(tmp_path / "acme_app-1.0-py3-none-any.whl", "acme-app", "1.0", "git:app")
    job.state.owners["acme-app"] = "git:app"
    job.state.owners["acme-lib"] = "git:lib"
    job.state.tags["git:app@1.0"] = TagRecord(
        "app", "1.0", "1.0", "a" * 40, "built", "2026-12-06T00:00:00Z",
        file="acme-app/acme_app-1.0-py3-none-any.whl", distribution="acme-app",
    )  # fmt: skip
    job.store.save_state(job.state)
    with upstream_index(wheels) as index:
        job = run_with(tmp_path, MIRROR={**settings, "index": index})
        mirror(job)
        assert job.summary.failures == []
        assert mirrored(outdir) == [
            "acme-app/acme_app-1.0-py3-none-any.whl",
            "left-pad/left_pad-1.3-py3-none-any.whl",
        ]
        assert job.state.mirrored == ["acme-app==1.0"]
        job.store.save_state(job.state)
    # Upstream gone: the release is not resolved again.
    again = run_with(tmp_path, MIRROR={**settings, "index": index})
    mirror(again)
    assert again.summary.failures == []


def test_requirements_mirrored_whole_are_not_resolved_again_within_the_hour(
    tmp_path: Path, wheels: dict[str, list[Path]]
) -> None:
    """A run with nothing new stays quick: MIRROR's requirements are resolved again after
    AGAIN_AFTER, or at once when MIRROR changes."""
    with upstream_index(wheels) as index:
        settings = {"index": index, "requirements": ["left-pad"]}
        first = run_with(tmp_path, MIRROR=settings)
        mirror(first)
        assert first.summary.failures == []
    [(fingerprint, when)] = first.state.requirements_mirrored.items()
    # Upstream gone: within the hour nothing is asked of it, so nothing fails.
    quiet = run_with(tmp_path, MIRROR=settings)
    mirror(quiet)
    assert (quiet.summary.failures, quiet.state.requirements_mirrored) == ([], {fingerprint: when})
    changed = run_with(tmp_path, MIRROR={**settings, "requirements": ["left-pad", "acme-lib"]})
    mirror(changed)
    assert [f.subject for f in changed.summary.failures] == ["mirroring"]
    late = run_with(tmp_path, MIRROR=settings)
    an_hour_ago = published.timestamp(time.time() - AGAIN_AFTER)
    late.state.requirements_mirrored = {fingerprint: an_hour_ago}
    mirror(late)  # resolved again (uv may answer from its cache while upstream is gone)
    assert late.state.requirements_mirrored[fingerprint] != an_hour_ago or late.summary.failures


def test_what_upstream_yanks_is_read_with_the_requirements_and_for_new_projects(
    tmp_path: Path, wheels: dict[str, list[Path]]
) -> None:
    """pylock.toml says nothing of yanks: each mirrored project's upstream page does, read when
    it is first mirrored (a pinned version may be yanked already) and whenever MIRROR's
    requirements are resolved again (upstream yanked a version since)."""
    pinned = {"left_pad-1.3-py3-none-any.whl": "broken"}
    with upstream_index(wheels, yanked=pinned) as index:
        settings = {"index": index, "requirements": ["left-pad==1.3"], "exclude": ["*win*"]}
        first = run_with(tmp_path, MIRROR=settings)
        mirror(first)
    assert first.summary.failures == []
    assert first.state.upstream_yanked == {"left-pad": {"1.3": "broken"}}
    assert first.store.load_state().upstream_yanked == first.state.upstream_yanked
    with upstream_index(wheels) as index:  # the yank taken back
        late = run_with(tmp_path, MIRROR={**settings, "index": index})
        late.state.requirements_mirrored = {
            key: published.timestamp(time.time() - AGAIN_AFTER)
            for key in late.state.requirements_mirrored
        }
        mirror(late)
    assert late.summary.failures == []
    assert late.state.upstream_yanked == {"left-pad": {}}

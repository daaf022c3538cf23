"""Mercurial repositories that cannot be read (unreachable, no repository), a release re-tagged
there, a tag holding no Python project: as for svn and git, one line each naming the culprit,
and what was published stays."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.catalogue import Arranged, Case, Catalogue, Expect, World, distributions, run_and_check
from helpers.projects import setup_py_project
from helpers.repositories import HgRepository
from helpers.servers import free_port
from helpers.system import require

bad_input = Catalogue()


def published_with_hg(world: World) -> tuple[HgRepository, Path]:
    """World's releases, and gamma 1.0 from a Mercurial repository, published."""
    require("hg")
    gamma = HgRepository(world.root / "hg" / "gamma")
    gamma.commit(setup_py_project("gamma", "1.0"))
    gamma.tag("1.0")
    world.publish()
    defaults = world.defaults(HG_REPOSITORIES=[gamma.url])
    result = world.run(defaults)
    assert (result.code, result.output) == (0, ""), result.output
    assert "gamma/gamma-1.0.tar.gz" in distributions(world.outdir)
    return gamma, defaults


@bad_input
def hg_repository_that_cannot_be_reached(world: World) -> Arranged:
    gamma, _ = published_with_hg(world)
    unreachable = f"http://127.0.0.1:{free_port()}/acme"
    defaults = world.defaults(HG_REPOSITORIES=[gamma.url, unreachable])
    line = rf"failed reading: {re.escape(unreachable)}: abort: error: Connection refused"
    yield Expect(1, [line], defaults)
    assert world.run(defaults).code == 0  # reported once


@bad_input
def hg_repository_that_is_none(world: World) -> Arranged:
    gamma, _ = published_with_hg(world)
    folder = world.root / "hg" / "plain"
    folder.mkdir()
    defaults = world.defaults(HG_REPOSITORIES=[folder.as_uri(), gamma.url])
    reason = r"abort: repository .*plain not found"
    yield Expect(1, [rf"failed reading: {re.escape(folder.as_uri())}: {reason}"], defaults)
    assert "gamma/gamma-1.0.tar.gz" in distributions(world.outdir)


@bad_input
def hg_release_re_tagged_with_other_content(world: World) -> Arranged:
    gamma, defaults = published_with_hg(world)
    moved = gamma.commit({"CHANGES.txt": "changed after the release\n"})
    gamma.tag("1.0", "--force", "--rev", moved)
    url = re.escape(f"gamma 1.0 (hg+{gamma.url}@1.0)")
    kept = "the published gamma/gamma-1.0.tar.gz is kept"
    yield Expect(1, [rf"failed {url}: re-tagged \(was \w+, now \w+\); {kept}"], defaults)
    assert world.run(defaults).code == 0  # reported once


@bad_input
def hg_tag_holding_no_python_project(world: World) -> Arranged:
    gamma, defaults = published_with_hg(world)
    gamma.hg("remove", "-q", "setup.py")
    gamma.commit({"README.txt": "the project moved elsewhere\n"})
    gamma.tag("2.0")
    url = f"hg+{gamma.url}@2.0"
    reason = "holds no Python project: no pyproject.toml, setup.py or setup.cfg"
    yield Expect(1, [world.fails("gamma", "2.0", url, re.escape(reason))], defaults)
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "beta/beta-1.0.tar.gz",
        "gamma/gamma-1.0.tar.gz",
    ]


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

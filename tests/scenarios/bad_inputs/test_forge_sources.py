"""Forges that GIT_REPOSITORIES names a group, organisation or user of, and that cannot be read:
an unknown group, a token refused, a forge out of reach. Each is one line naming the source,
status 1, reported once; what the other sources release is built."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from helpers.catalogue import (
    SECRET,
    Arranged,
    Case,
    Catalogue,
    Expect,
    World,
    distributions,
    run_and_check,
)
from helpers.forges import Forge, Hosted, forge
from helpers.projects import setup_py_project
from helpers.servers import free_port

bad_input = Catalogue()


@contextmanager
def gitlab_with_a_release(world: World) -> Iterator[Forge]:
    """A private GitLab whose group acme/python holds a released project; OUTDIR publishes what
    the world's repositories release, and beta releases 1.1 since."""
    with forge("gitlab", world.root / "gitlab", [Hosted("acme/python/app")]) as served:
        world.publish()
        world.git.commit(setup_py_project("beta", "1.1"))
        world.git.tag("1.1")
        yield served


def reading_fails(
    world: World, source: Mapping[str, object], env: dict[str, str], line: str
) -> Arranged:
    """The run with ``source`` beside the world's repositories: ``line`` alone, status 1; beta
    1.1 is built all the same, and the next run says nothing more."""
    defaults = world.defaults(GIT_REPOSITORIES=[world.git.url, source])
    yield Expect(1, [re.escape(f"failed reading: {line}")], defaults, env)
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)
    again = world.run(defaults, env)
    assert (again.code, again.output) == (0, "")
    state = (world.outdir / ".sdistmaker" / "state.json").read_text()
    assert SECRET not in state


@bad_input
def forge_group_that_does_not_exist(world: World) -> Arranged:
    with gitlab_with_a_release(world) as gitlab:
        source = {"gitlab": gitlab.url, "group": "acme/pyhton", "token": "GITLAB_TOKEN"}
        line = f"{gitlab.url}/acme/pyhton: no such group acme/pyhton (404 Not Found)"
        yield from reading_fails(world, source, {"GITLAB_TOKEN": gitlab.token}, line)


@bad_input
def forge_refusing_the_token(world: World) -> Arranged:
    """The token is never shown: not in the line, not in the state."""
    with gitlab_with_a_release(world) as gitlab:
        source = {"gitlab": gitlab.url, "group": "acme/python", "token": "GITLAB_TOKEN"}
        line = (
            f"{gitlab.url}/acme/python: the forge refused the token in GITLAB_TOKEN "
            "(401 Unauthorized)"
        )
        yield from reading_fails(world, source, {"GITLAB_TOKEN": SECRET}, line)
        assert gitlab.git_requests == []


@bad_input
def forge_out_of_reach(world: World) -> Arranged:
    with gitlab_with_a_release(world):
        url = f"http://127.0.0.1:{free_port()}"
        source = {"gitea": url, "org": "acme"}
        line = f"{url}/acme: cannot be reached (Connection refused)"
        yield from reading_fails(world, source, {}, line)


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

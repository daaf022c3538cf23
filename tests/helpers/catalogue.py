"""The catalogue of bad inputs: each entry one test, run end to end by one harness, this module.
The entries are in tests/scenarios/bad_inputs/, a module for each kind of thing that goes wrong,
each entering its cases in a ``Catalogue`` of its own.

Every case arranges one bad input (in the defaults file, a tag, the machine) next to an OUTDIR
that already publishes releases, then runs ``sdists_from_tags -q`` as cron does: stdin at
/dev/null, no terminal, a session of its own. For every case the harness checks the same rules:

- the exit status the case names (2: the defaults file or command line must be fixed; 1: the run
  could not do all its work, something failed for the first time; 0: nothing new went wrong);
- the output: exactly the lines the case names (a bad input gets one line naming its culprit:
  file:line for the defaults file, the tag and its URL for a build, the path or URL otherwise),
  no traceback, no prompt, no hang, no password;
- nothing published lost or changed: every file OUTDIR served before is there, byte for byte;
  every page parses and lists only complete files with the hashes it gives;
- no build folder left in the temporary folder.

Then each case checks what is its own (what was built, what was not, what the next run does).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers.index_checks import assert_consistent
from helpers.projects import setup_py_project, write_defaults
from helpers.repositories import GitRepository, SvnRepository
from helpers.servers import tarpit
from sdistmaker.dists.names import is_distribution

COMMAND = str(Path(sys.executable).parent / "sdists_from_tags")
SECRET = "s3cret-pa55word"
# A refused login takes well under a second; a run waiting for a password never ends.
QUICK = 10.0
PROMPTS = ("Username:", "Username for", "Password for", "Authentication realm", "password:")


@dataclass
class Result:
    code: int
    output: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


@dataclass(frozen=True)
class Stop:
    """A signal sent to the run once ``when`` holds: to its process group, as a terminal sends
    Ctrl-C, or to sdistmaker alone, as systemd and ``timeout`` send SIGTERM."""

    signal: signal.Signals
    when: Callable[[], bool]
    to_group: bool = False


@dataclass
class Expect:
    """What a run on a bad input must do."""

    code: int
    lines: list[str] = field(default_factory=list)
    """Regular expressions, one per line of output, each matching its whole line."""
    defaults: Path | None = None
    """The defaults file to run with, when not the world's usual one."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables the run gets besides the test's own."""
    quiet: bool = True
    """False: run without -q, as a person does, to see what a run says besides failures."""
    umask: int = -1
    """The umask the run starts with; -1: the test's own."""
    index_intact: bool = True
    """False where the case itself damaged sdistmaker's records or put foreign files in OUTDIR,
    so that the index cannot be checked as a whole."""
    stop: Stop | None = None
    """A signal the run gets midway."""


class World:
    """An svn repository (BASE) with project alpha and a git repository with project beta,
    both released as 1.0, and the defaults file and OUTDIR that publish them."""

    def __init__(self, root: Path, request: pytest.FixtureRequest, environments: Path) -> None:
        self.root = root
        self.request = request
        self.environments = environments
        """Build environments every case's OUTDIR shares, as an admin may link them: made once,
        the cases' runs spend their time on what each is about."""
        self.svn = SvnRepository(root / "svn")
        self.svn.add_project("libs/alpha", setup_py_project("alpha", "1.0"))
        self.svn.tag("libs/alpha", "1.0")
        self.git = GitRepository(root / "git" / "beta")
        self.git.commit(setup_py_project("beta", "1.0"))
        self.git.tag("1.0")
        self.outdir = root / "out"
        self.scratch = root / "tmp"
        """The runs' TMPDIR, to see that builds leave nothing there."""
        self.scratch.mkdir()

    def defaults(self, **changes: object) -> Path:
        settings: dict[str, object] = {
            "BASE": self.svn.url,
            "GIT_REPOSITORIES": [self.git.url],
            "OUTDIR": str(self.outdir),
        }
        return write_defaults(self.root, **{**settings, **changes})

    def defaults_text(self, text: str) -> Path:
        """A defaults file written by hand: ``text``, after a first line setting OUTDIR."""
        path = self.root / "mine.py"
        path.write_text("OUTDIR = 'out'\n" + text)
        return path

    def run(  # noqa: PLR0913 (what a case may ask of the run)
        self,
        defaults: Path | None = None,
        env: dict[str, str] | None = None,
        quiet: bool = True,
        stop: Stop | None = None,
        umask: int = -1,
        options: tuple[str, ...] = (),
    ) -> Result:
        started = time.monotonic()
        with subprocess.Popen(
            [COMMAND, *(["-q"] if quiet else []), *options, "-d", str(defaults or self.defaults())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TMPDIR": str(self.scratch), **(env or {})},
            start_new_session=True,
            umask=umask,
        ) as process:
            deadline = started + 120  # a hang fails the test instead of stopping the suite
            if stop is not None:
                while not stop.when():
                    assert process.poll() is None, "the run ended before it was to be stopped"
                    assert time.monotonic() < deadline, "the moment to stop the run never came"
                    time.sleep(0.05)
                (os.killpg if stop.to_group else os.kill)(process.pid, stop.signal)
            try:
                output, _ = process.communicate(timeout=max(deadline - time.monotonic(), 1))
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        return Result(process.returncode, output, time.monotonic() - started)

    def publish(self) -> None:
        """Publish what the repositories release now, checking that it goes well."""
        if not self.outdir.exists():
            (self.outdir / ".sdistmaker").mkdir(parents=True)
            (self.outdir / ".sdistmaker" / "environments").symlink_to(self.environments)
        result = self.run()
        assert (result.code, result.output) == (0, ""), result.output
        assert distributions(self.outdir), "nothing published"

    def published(self) -> dict[str, bytes]:
        """The files published in OUTDIR, which may never change (pages may), with their content."""
        return {
            name: content
            for name, content in published_files(self.outdir).items()
            if is_distribution(Path(name).name) or name.endswith(".metadata")
        }

    def log(self, project: str, tag: str) -> Path:
        return self.outdir / ".sdistmaker" / "logs" / project / f"{tag}.log"

    def svn_tag_url(self, project: str, tag: str) -> str:
        return f"{self.svn.url}/libs/{project}/tags/{tag}"

    def fails(self, project: str, tag: str, url: str, reason: str) -> str:
        """The line a tag that failed to build is reported with."""
        log = re.escape(str(self.log(project, tag)))
        return rf"failed {re.escape(f'{project} {tag} ({url})')}: {reason} \(log: {log}\)"


def published_files(outdir: Path) -> dict[str, bytes]:
    """Every file a web server serves from OUTDIR (none of sdistmaker's own), with its content."""
    if not outdir.is_dir():
        return {}
    return {
        str(p.relative_to(outdir)): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(outdir).parts)
    }


def distributions(outdir: Path) -> list[str]:
    return sorted(name for name in published_files(outdir) if is_distribution(Path(name).name))


Arranged = Generator[Expect, Result, None]
Case = Callable[[World], Arranged]


class Catalogue:
    """The bad inputs of one module of the catalogue, and the test that runs each of them."""

    def __init__(self) -> None:
        self.cases: list[Case] = []

    def __call__(self, case: Case) -> Case:
        """Enter ``case``: a generator that arranges the bad input and yields what the run must
        do, is sent the run's result to check what is its own, and cleans up after."""
        self.cases.append(case)
        return case

    def each(self) -> pytest.MarkDecorator:
        """Parametrize a test with every case entered so far, each under its name."""
        return pytest.mark.parametrize("case", self.cases, ids=[c.__name__ for c in self.cases])


@pytest.fixture(scope="session")
def environments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("environments")
    folder.chmod(0o755)  # builds may run as nobody
    return folder


@pytest.fixture
def world(tmp_path: Path, request: pytest.FixtureRequest, environments: Path) -> World:
    return World(tmp_path, request, environments)


# Servers that accept a connection and never answer: each command reading a repository is killed
# at REPOSITORY_TIMEOUT, the repository reported, the others read; so is an upload.


@pytest.fixture
def hanging_port() -> Iterator[int]:
    with tarpit() as port:
        yield port


def run_and_check(case: Case, world: World) -> None:
    """Run ``case`` as cron does, hold it to the rules every case is checked for (this module's
    docstring gives them), then let it check what is its own."""
    arrange = case(world)
    try:
        expect = next(arrange)
        before = world.published()
        result = world.run(expect.defaults, expect.env, expect.quiet, expect.stop, expect.umask)

        assert "Traceback" not in result.output, result.output
        assert result.code == expect.code, result.output
        assert len(result.lines) == len(expect.lines), result.output
        for line, pattern in zip(result.lines, expect.lines, strict=True):
            assert re.fullmatch(pattern, line), f"{line!r} does not match {pattern!r}"
        assert not [prompt for prompt in PROMPTS if prompt in result.output]
        assert SECRET not in result.output

        after = world.published()
        changed = [name for name in before if after.get(name) != before[name]]
        assert not changed, f"published files lost or changed: {changed}"
        if expect.index_intact:
            assert_consistent(world.outdir)
        assert list(world.scratch.iterdir()) == []

        with contextlib.suppress(StopIteration):
            arrange.send(result)
            raise AssertionError(f"{case.__name__} yields more than once")
    finally:
        arrange.close()

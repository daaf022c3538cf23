"""Guarantees under stress: killed runs, runs at the same time, secrets in URLs."""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from helpers.index_checks import assert_consistent, listed, state, visible
from helpers.projects import write_defaults
from helpers.repositories import GitRepository, SvnRepository, install_hook
from helpers.servers import http_server
from helpers.system import NETWORK

MakeGit = Callable[[str], GitRepository]
COMMAND = str(Path(sys.executable).parent / "sdists_from_tags")
UNEXPECTED = ("failed ", "still failing ", "kept ", "Traceback")
"""Lines of a run's output that tell of a failure, or of a file another run published first
(the same tag built twice)."""


ROUNDS = [
    ("1.0", "2.0", 0.0),
    ("1.1", "2.1", 0.0),
    ("1.2", "2.2", 1.0),
    ("1.3", "2.3", 0.3),
    ("1.4", "2.4", 1.5),
]
"""Per round: the svn tag and the git tag made in it, and the seconds waited before it (for the
clients of the round before, never for its runs), so that rounds meet the runs of earlier rounds
at different stages: waiting for the lock, crawling, building, rendering."""
CRON_WAIT = 60
"""Seconds a cron-style run waits for the lock before it leaves the work to the run holding it."""
RUNS_END_WITHIN = 120
"""Seconds every run, in the background or not, gets to end after the last round."""


def reporting_project(name: str, version: str, counter: str) -> dict[str, str]:
    """A setup.py project whose build tells the counter at ``counter`` (host:port) each time it
    makes an sdist: a second build of a tag is seen even where the product throws its sdist away
    (the file is already published) and logs nothing of it (a quiet run, a build log truncated)."""
    return {
        "setup.py": textwrap.dedent(f"""\
            import sys
            import urllib.request
            from setuptools import setup
            if "sdist" in sys.argv:  # the build itself, not the backend asked what it needs
                # No proxy from the environment: the counter is on this machine.
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
                opener.open("http://{counter}/{name}/{version}", timeout=30).close()
            setup(name={name!r}, version={version!r})
            """),
    }


@contextlib.contextmanager
def build_counter() -> Iterator[tuple[str, list[str]]]:
    """Where reporting projects report their builds (host:port), and the list of their reports
    (``name/version``), as they arrive."""
    reports: list[str] = []

    class Report(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reports.append(self.path.strip("/"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Report) as address:
        yield address, reports


def sdistmaker_processes(defaults: Path) -> dict[int, str]:
    """Every process started for ``defaults``, by process id: hooks, the runs they leave in the
    background (in sessions of their own, children of nobody here) and cron-style runs."""
    names = {str(defaults).encode(), str(defaults.resolve()).encode()}
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes()
        except OSError:  # it ended meanwhile
            continue
        if any(name in words for name in names):  # an ended one's is empty, even as a zombie
            found[int(cmdline.parent.name)] = words.replace(b"\0", b" ").decode()
    return found


def wait_for_every_run_to_end(defaults: Path, deadline: float) -> None:
    while running := sdistmaker_processes(defaults):
        if time.monotonic() > deadline:
            for session in running:  # each leads its session: its builds go with it
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(session, signal.SIGKILL)
            raise AssertionError(f"runs still going: {sorted(running.values())}")
        time.sleep(0.1)


def start(*command: str | Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    """A client or a run, in a session of its own as cron starts its jobs."""
    return subprocess.Popen(
        [str(word) for word in command],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        start_new_session=True,
    )


def test_hook_and_cron_runs_started_together_round_after_round_build_each_tag_once(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    with build_counter() as (counter, builds):
        svn = svn_repository
        svn.add_project("p", reporting_project("p", "0.dev0", counter))
        # Each release is on trunk beforehand, so that in a round its tag is a single commit.
        trunk_at = {}
        for svn_version, _, _ in ROUNDS:
            svn.commit_files("p/trunk", reporting_project("p", svn_version, counter))
            trunk_at[svn_version] = svn.youngest()
        work = make_git("g")
        work.commit(reporting_project("g", "0.dev0", counter))
        bare = tmp_path / "server" / "g.git"
        work.add_server(bare)
        for _, git_version, _ in ROUNDS:  # tagged here, pushed in its round
            work.commit(reporting_project("g", git_version, counter))
            work.tag(git_version)
        defaults = write_defaults(
            tmp_path,
            BASE=svn.url,
            GIT_REPOSITORIES=[str(bare)],
            OUTDIR="out",
            BUILD_ENVIRONMENT=NETWORK,
        )
        install_hook(svn.root / "hooks", "post-commit", defaults, '--svn-commit "$1" "$2"')
        install_hook(bare / "hooks", "post-receive", defaults, "--git-push")
        outdir = tmp_path / "out"

        crons = []
        try:
            for svn_version, git_version, pause in ROUNDS:
                time.sleep(pause)
                tag_url = f"{svn.url}/p/tags/{svn_version}"
                trunk = f"{svn.url}/p/trunk@{trunk_at[svn_version]}"
                clients = [
                    start("svn", "copy", "-q", "-m", "release", trunk, tag_url),
                    start("git", "push", "-q", "server", git_version, cwd=work.root),
                ]
                crons.append(start(COMMAND, "-v", "--wait", str(CRON_WAIT), "-d", defaults))
                for client in clients:
                    # Hooks report what goes wrong to the client: the commit, the push.
                    assert client.communicate(timeout=60) == ("", ""), client.args
                    assert client.returncode == 0, client.args
        finally:
            # Also when a round failed: no run outlives the test.
            wait_for_every_run_to_end(defaults, time.monotonic() + RUNS_END_WITHIN)
        # They have ended: what they wrote is all in their pipes.
        outputs = [cron.communicate() for cron in crons]

        made = [f"p/{version}" for version, _, _ in ROUNDS]
        made += [f"g/{version}" for _, version, _ in ROUNDS]
        # Each tag built exactly once, by whichever run: none twice, none lost.
        assert dict(Counter(builds)) == dict.fromkeys(made, 1)
        # Nothing failed, nothing was reported: background runs are quiet but for failures.
        assert (outdir / ".sdistmaker" / "hook.log").read_text() == ""
        assert [cron.returncode for cron in crons] == [0] * len(crons), outputs
        for out, err in outputs:
            assert out == "", out
            lines = err.splitlines()
            assert not [line for line in lines if line.startswith(UNEXPECTED)], err
            assert lines[-1].endswith(("failed 0 (new 0)", "it is doing the work, leaving")), err
        files_built = [
            line.split(" -> ")[1]
            for _, err in outputs
            for line in err.splitlines()
            if line.startswith("built ") and " -> " in line
        ]
        assert len(files_built) == len(set(files_built)), files_built
        # No tag lost: each recorded as built, and listed by its project's page.
        assert_consistent(outdir)
        now = state(outdir)
        records = {f"{r['project']}/{r['name']}": r for r in now["tags"].values()}
        assert {tag: r["status"] for tag, r in records.items()} == dict.fromkeys(made, "built")
        assert (now["problems"], now["unindexed"]) == ({}, [])
        pages = {project: sorted(files) for project, files in listed(outdir).items()}
        assert pages == {
            "g": sorted(f"g-{version}.tar.gz" for _, version, _ in ROUNDS),
            "p": sorted(f"p-{version}.tar.gz" for version, _, _ in ROUNDS),
        }

        # What a later run finds: nothing to do.
        before = visible(outdir)
        again = subprocess.run([COMMAND, "-d", str(defaults)], capture_output=True, text=True)
        assert (again.returncode, again.stdout, again.stderr) == (
            0,
            "",
            f"built 0, up to date {len(made)}, failed 0 (new 0)\n",
        )
        assert visible(outdir) == before
        assert dict(Counter(builds)) == dict.fromkeys(made, 1)


def test_a_password_in_a_repository_url_shows_nowhere(tmp_path: Path) -> None:
    secret = "s3cret-t0ken"
    defaults = write_defaults(
        tmp_path,
        OUTDIR="out",
        GIT_REPOSITORIES=[f"https://builder:{secret}@127.0.0.1:9/acme/private.git"],
    )
    result = subprocess.run([COMMAND, "-v", "-d", str(defaults)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "https://127.0.0.1:9/acme/private.git" in result.stderr
    assert secret not in result.stdout + result.stderr
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written  # state, pages
    assert not [p for p in written if secret.encode() in p.read_bytes()]

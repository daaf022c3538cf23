"""The two commands end to end, over real repositories and real builds."""

import contextlib
import json
import os
import pty
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, scm_project, setup_py_project, write_defaults
from helpers.repositories import GitRepository, SvnRepository
from helpers.system import ROOT
from sdistmaker.cli import make_sdist, sdists_from_tags
from sdistmaker.dists.names import is_distribution
from sdistmaker.outdir.store import Store

MakeGit = Callable[[str], GitRepository]


def published(outdir: Path) -> list[str]:
    """The distribution files in OUTDIR (not its pages, nor sdistmaker's own folder)."""
    return sorted(
        str(p.relative_to(outdir))
        for p in outdir.rglob("*")
        if is_distribution(p.name) and ".sdistmaker" not in p.parts
    )


def state(outdir: Path) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = json.loads(
        (outdir / ".sdistmaker" / "state.json").read_text()
    )["tags"]
    return tags


@pytest.fixture
def repositories(svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path) -> Path:
    """An svn repository with two projects and a git repository; returns the defaults file."""
    svn_repository.add_project("libs/acme.utils", setup_py_project("acme.utils", "1.0"))
    svn_repository.tag("libs/acme.utils", "1.0")
    svn_repository.tag("libs/acme.utils", "1.1", setup_py_project("acme.utils", "1.1"))
    svn_repository.add_project("apps/report", hatchling_project("acme-report", "0.1"))
    svn_repository.tag("apps/report", "0.1")
    svn_repository.tag("apps/report", "latest")
    web = make_git("acme-web")
    web.commit(hatchling_project("Acme_Web", "2.0"))
    web.tag("v2.0", annotated=True)
    web.commit(hatchling_project("Acme_Web", "2.1"))
    web.tag("2.1")
    return write_defaults(
        tmp_path, BASE=svn_repository.url, GIT_REPOSITORIES=[web.url], OUTDIR="out"
    )


def test_the_main_job_builds_every_release_once(
    repositories: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = tmp_path / "out"
    assert sdists_from_tags(["--defaults-file", str(repositories)]) == 0
    assert published(outdir) == [
        "acme-report/acme_report-0.1.tar.gz",
        "acme-utils/acme_utils-1.0.tar.gz",
        "acme-utils/acme_utils-1.1.tar.gz",
        "acme-web/acme_web-2.0.tar.gz",
        "acme-web/acme_web-2.1.tar.gz",
    ]
    err = capsys.readouterr().err
    assert "built acme.utils 1.0 -> acme-utils/acme_utils-1.0.tar.gz" in err
    assert err.splitlines()[-1] == "built 5, up to date 0, failed 0 (new 0)"
    assert {r["route"] for r in state(outdir).values()} == {"build"}

    assert sdists_from_tags(["--defaults-file", str(repositories)]) == 0
    assert capsys.readouterr().err == "built 0, up to date 5, failed 0 (new 0)\n"
    assert sdists_from_tags(["-q", "--defaults-file", str(repositories)]) == 0
    assert capsys.readouterr() == ("", "")


def test_verbose_shows_the_route_and_what_is_up_to_date(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    assert sdists_from_tags(["-v", "-d", str(defaults)]) == 0
    assert "p/p-1.0.tar.gz was built by route build" in capsys.readouterr().err
    assert sdists_from_tags(["-v", "-d", str(defaults)]) == 0
    assert "up to date p 1.0 (p/p-1.0.tar.gz)" in capsys.readouterr().err


def test_dry_run_lists_what_would_be_built_and_builds_nothing(
    repositories: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sdists_from_tags(["--dry-run", "-d", str(repositories)]) == 0
    err = capsys.readouterr().err
    assert "would build acme.utils 1.1 (file://" in err
    assert err.splitlines()[-1] == "would build 5, up to date 0, failed 0 (new 0)"
    assert published(tmp_path / "out") == []
    assert not (tmp_path / "out" / ".sdistmaker" / "state.json").exists()


def test_a_failing_tag_is_reported_once_and_not_rebuilt(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    svn_repository.tag("p", "1.1", {"setup.py": "raise RuntimeError('broken release')\n"})
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")

    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    tag_url = f"{svn_repository.url}/p/tags/1.1"
    assert line.startswith(
        f"failed p 1.1 ({tag_url}): build, setuptools<58: RuntimeError: broken release"
    )
    assert line.endswith("/out/.sdistmaker/logs/p/1.1.log)")
    assert published(tmp_path / "out") == ["p/p-1.0.tar.gz"]

    log = tmp_path / "out" / ".sdistmaker" / "logs" / "p" / "1.1.log"
    before = log.stat().st_mtime_ns
    assert sdists_from_tags(["-d", str(defaults)]) == 0
    assert capsys.readouterr().err == "built 0, up to date 1, failed 1 (new 0)\n"
    assert log.stat().st_mtime_ns == before

    assert sdists_from_tags(["-q", "--retry-failed", "-d", str(defaults)]) == 1
    assert "broken release" in capsys.readouterr().err
    assert log.stat().st_mtime_ns != before

    # A fixed tag (a new identity) is built without being asked.
    svn_repository.commit_files("p/tags/1.1", setup_py_project("p", "1.1"))
    assert sdists_from_tags(["-d", str(defaults)]) == 0
    assert "built 1, up to date 1, failed 0 (new 0)" in capsys.readouterr().err
    assert published(tmp_path / "out") == ["p/p-1.0.tar.gz", "p/p-1.1.tar.gz"]


def test_a_version_other_than_the_tags_is_not_published(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0.1")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    assert (
        f"failed p 1.0.1 ({svn_repository.url}/p/tags/1.0.1): "
        "built version 1.0 but the tag is version 1.0.1" in capsys.readouterr().err
    )
    assert published(tmp_path / "out") == []


def test_a_re_tagged_release_is_reported_and_the_published_file_kept(
    make_git: MakeGit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url], OUTDIR="out")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    original = (tmp_path / "out" / "p" / "p-1.0.tar.gz").read_bytes()

    repo.commit({"p/__init__.py": "changed = True\n"})
    repo.tag("1.0", force=True)
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    message = capsys.readouterr().err
    assert f"failed p 1.0 (git+{repo.url}@1.0): re-tagged (was " in message
    assert "the published p/p-1.0.tar.gz is kept" in message
    assert (tmp_path / "out" / "p" / "p-1.0.tar.gz").read_bytes() == original

    assert sdists_from_tags(["-d", str(defaults)]) == 0
    assert capsys.readouterr().err == "built 0, up to date 0, failed 1 (new 0)\n"


def test_two_projects_publishing_one_distribution_is_an_error_naming_both(
    svn_repository: SvnRepository,
    make_git: MakeGit,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    svn_repository.add_project("p", setup_py_project("same.name", "1.0"))
    svn_repository.tag("p", "1.0")
    repo = make_git("fork")
    repo.commit(hatchling_project("Same-Name", "2.0"))
    repo.tag("2.0")
    defaults = write_defaults(
        tmp_path, BASE=svn_repository.url, GIT_REPOSITORIES=[repo.url], OUTDIR="out"
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    message = capsys.readouterr().err
    assert (
        f"failed fork 2.0 (git+{repo.url}@2.0): distribution same-name is already published from "
        f"svn:{svn_repository.url}/p, not from git:{repo.url}#" in message
    )
    assert published(tmp_path / "out") == ["same-name/same_name-1.0.tar.gz"]


def test_an_unreadable_repository_is_reported_once_and_the_rest_still_built(
    make_git: MakeGit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    missing = str(tmp_path / "missing.git")
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[missing, repo.url], OUTDIR="out")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"failed reading: {missing}: ")
    assert published(tmp_path / "out") == ["p/p-1.0.tar.gz"]
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    assert capsys.readouterr().err == ""


def test_a_run_while_another_holds_the_lock_leaves_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    defaults = write_defaults(tmp_path, OUTDIR="out")
    with Store(tmp_path / "out").lock():
        assert sdists_from_tags(["-d", str(defaults)]) == 0
        assert (
            "another sdistmaker run holds the lock; it is doing the work" in capsys.readouterr().err
        )
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
        assert capsys.readouterr().err == ""
        assert sdists_from_tags(["--wait", "0.2", "-d", str(defaults)]) == 0
        assert "holds the lock" in capsys.readouterr().err


def test_a_bad_defaults_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    defaults = tmp_path / "mine.py"
    defaults.write_text("OUTDIR = 'out'\nBLACKLST = []\n")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 2
    assert (
        capsys.readouterr().err
        == f"{defaults}:2: unknown setting BLACKLST; did you mean BLACKLIST?\n"
    )


def test_the_defaults_file_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        sdists_from_tags([])
    assert exit.value.code == 2
    assert "--defaults-file is required" in capsys.readouterr().err


def test_make_sdist_builds_one_svn_tag_into_dest(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svn_repository.add_project("g/Acme.Utils", setup_py_project("Acme.Utils", "1.0"))
    svn_repository.tag("g/Acme.Utils", "1.0")
    url = f"{svn_repository.url}/g/Acme.Utils/tags/1.0"
    dest = tmp_path / "new" / "dest"
    assert make_sdist([url, str(dest)]) == 0
    expected = dest / "acme-utils" / "acme_utils-1.0.tar.gz"
    assert capsys.readouterr().out == f"{expected}\n"
    assert expected.exists()

    assert make_sdist([url, str(dest)]) == 1
    assert "acme_utils-1.0.tar.gz is already published; it is kept" in capsys.readouterr().err


def test_make_sdist_builds_a_git_tag_from_a_subdirectory(
    make_git: MakeGit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_git("mono")
    repo.commit({f"web/{k}": v for k, v in hatchling_project("web", "3.0").items()})
    repo.tag("web-3.0")
    assert make_sdist([f"git+file://{repo.url}@web-3.0#subdirectory=web", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'web' / 'web-3.0.tar.gz'}\n"


def test_make_sdist_names_the_tag_url_when_the_build_fails(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svn_repository.add_project("p", {"setup.py": "raise RuntimeError('nope')\n"})
    svn_repository.tag("p", "1.0")
    url = f"{svn_repository.url}/p/tags/1.0"
    assert make_sdist([url, str(tmp_path / "dest")]) == 1
    assert capsys.readouterr().err == f"{url}: build, setuptools<58: RuntimeError: nope\n"
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize("taken", ["DEST", "DEST/p"])
def test_make_sdist_into_a_file_says_so_in_one_line(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str], taken: str
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    destination = tmp_path / "dest"
    path = Path(taken.replace("DEST", str(destination)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a file where a folder should be\n")
    assert make_sdist([f"{svn_repository.url}/p/tags/1.0", str(destination)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert re.fullmatch(rf"{re.escape(str(destination))}/p(/\S+)?: cannot write: .*", line)


@pytest.mark.parametrize(
    "arguments",
    [
        ["sdists_from_tags", "-d", "defaults.py", "--wait", "nan"],
        ["sdists_from_tags", "-d", "defaults.py", "--wait", "-1"],
        ["make_sdist", "svn://x/p/tags/1.0", "dest", "--timeout", "inf"],
    ],
)
def test_seconds_on_the_command_line_are_finite(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    command = {"sdists_from_tags": sdists_from_tags, "make_sdist": make_sdist}[arguments[0]]
    with pytest.raises(SystemExit) as exit:
        command(arguments[1:])
    assert exit.value.code == 2
    assert "not a number of seconds" in capsys.readouterr().err


def test_a_git_hook_with_its_input_closed_starts_nothing(tmp_path: Path) -> None:
    defaults = write_defaults(tmp_path, OUTDIR="out")
    command: list[str | Path] = [
        Path(sys.executable).parent / "sdists_from_tags",
        "-d",
        defaults,
        "--git-push",
    ]
    result = subprocess.run(command, capture_output=True, text=True, preexec_fn=lambda: os.close(0))
    assert (result.returncode, result.stderr) == (0, "")
    assert not (tmp_path / "out" / ".sdistmaker" / "hook.log").exists()


def test_the_console_scripts_are_installed() -> None:
    bin_dir = Path(sys.executable).parent
    output = subprocess.run(
        [bin_dir / "sdists_from_tags", "--print-example-defaults"],
        capture_output=True,
        check=True,
    ).stdout
    assert output == (ROOT / "defaults_example.py").read_bytes()
    usage = subprocess.run([bin_dir / "make_sdist"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert "TAG_URL" in usage.stderr


def test_a_setuptools_scm_project_from_git_gets_its_version_and_every_tracked_file(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("scm")
    repo.commit({**scm_project("scm-thing", ""), "NOTES.txt": "only setuptools-scm adds me"})
    repo.tag("v1.2", annotated=True)
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url], OUTDIR="out")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    with tarfile.open(tmp_path / "out" / "scm-thing" / "scm_thing-1.2.tar.gz") as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert "NOTES.txt" in names


def test_progress_is_drawn_on_a_terminal_only(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    svn_repository.tag("p", "1.1", setup_py_project("p", "1.1"))
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    command: list[str | Path] = [Path(sys.executable).parent / "sdists_from_tags", "-d", defaults]

    controller, terminal = pty.openpty()
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=terminal) as process:
        os.close(terminal)
        output = read_all(controller)
    assert process.returncode == 0
    assert "[1/2] p 1.0" in output
    assert "[2/2] p 1.1" in output

    svn_repository.tag("p", "1.2", setup_py_project("p", "1.2"))
    piped = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    assert "[1/1]" not in piped
    assert piped.splitlines()[-1] == "built 1, up to date 2, failed 0 (new 0)"


def read_all(descriptor: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 4096)
        except OSError:  # the terminal's other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(descriptor)
    return b"".join(chunks).decode()


RENDEZVOUS = """\
import os, socket
# Built one after the other, this never ends well. Builds are confined each to its own folder:
# they meet over the network.
with socket.create_connection(("127.0.0.1", int(os.environ["RENDEZVOUS"])), timeout=60) as s:
    s.sendall(b"{me}")
    if s.recv(2) != b"go":
        raise SystemExit("{me} was built alone")
from setuptools import setup
setup(name="p", version="{me}")
"""


def meeting_point() -> tuple[socket.socket, threading.Thread]:
    """A server that answers each caller once callers of two names came (each setup.py is run
    more than once per build)."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: set[bytes] = set()
    waiting: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):  # closed: the test is over
            while True:
                connection, _ = server.accept()
                seen.add(connection.recv(16))
                waiting.append(connection)
                if len(seen) == 2:
                    for caller in waiting:
                        caller.sendall(b"go")
                        caller.close()
                    waiting.clear()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_jobs_build_tags_at_the_same_time_each_with_its_own_log(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("p", {"setup.py": RENDEZVOUS.format(me="1.0")})
    svn_repository.tag("p", "1.0")
    svn_repository.tag("p", "1.1", {"setup.py": RENDEZVOUS.format(me="1.1")})
    server, thread = meeting_point()
    defaults = write_defaults(
        tmp_path,
        BASE=svn_repository.url,
        OUTDIR="out",
        JOBS=2,
        BUILD_ENVIRONMENT={"RENDEZVOUS": str(server.getsockname()[1])},
    )
    try:
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    finally:
        server.shutdown(socket.SHUT_RDWR)  # wakes the waiting accept
        server.close()
        thread.join()
    assert published(tmp_path / "out") == ["p/p-1.0.tar.gz", "p/p-1.1.tar.gz"]
    logs = tmp_path / "out" / ".sdistmaker" / "logs" / "p"
    assert "Writing p-1.0/setup.cfg" in (logs / "1.0.log").read_text()
    assert "p-1.1/" not in (logs / "1.0.log").read_text()
    assert "Writing p-1.1/setup.cfg" in (logs / "1.1.log").read_text()


def test_a_run_with_nothing_new_below_base_costs_one_svn_call(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    for name in ("a", "b"):
        svn_repository.add_project(f"libs/{name}", setup_py_project(name, "1.0"))
        svn_repository.tag(f"libs/{name}", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    calls = tmp_path / "svn-calls.log"
    wrapper = tmp_path / "bin" / "svn"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {shutil.which("svn")} "$@"\n')
    wrapper.chmod(0o755)
    environment = {**os.environ, "PATH": f"{wrapper.parent}:{os.environ['PATH']}"}
    command: list[str | Path] = [
        Path(sys.executable).parent / "sdists_from_tags",
        "-q",
        "-d",
        defaults,
    ]

    def run_counting() -> list[str]:
        calls.unlink(missing_ok=True)
        subprocess.run(command, env=environment, check=True)
        return calls.read_text().splitlines()

    assert len(run_counting()) > 3  # the first run walks the tree
    assert published(tmp_path / "out") == ["a/a-1.0.tar.gz", "b/b-1.0.tar.gz"]
    [only] = run_counting()
    assert only.startswith("--non-interactive ") and " info --xml " in only

    svn_repository.tag("libs/b", "1.1", setup_py_project("b", "1.1"))
    assert len(run_counting()) > 1
    assert "b/b-1.1.tar.gz" in published(tmp_path / "out")

    # A tag the last crawl found but no run recorded (a run killed before building it) is
    # still built when nothing changed below BASE since.
    state_file = tmp_path / "out" / ".sdistmaker" / "state.json"
    state = json.loads(state_file.read_text())
    del state["tags"][f"svn:{svn_repository.url}/libs/a/tags/1.0"]
    state_file.write_text(json.dumps(state))
    (tmp_path / "out" / "a" / "a-1.0.tar.gz").rename(tmp_path / "a-1.0.tar.gz")
    # The revision check, then the export: its externals are looked for, then it is exported,
    # then when the tag was made is asked (the last crawl's listing said, but is not kept).
    assert len(run_counting()) == 4
    assert "a/a-1.0.tar.gz" in published(tmp_path / "out")

"""What the version-control systems share: ssh's options, a tag's tree extracted from an
archive, links out of it refused, and a crawl that goes on past a repository it cannot read."""

from __future__ import annotations

import io
import shlex
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from helpers.system import require
from sdistmaker.config import Config
from sdistmaker.errors import SdistmakerError, VcsError
from sdistmaker.vcs.base import (
    STALL_SECONDS,
    Crawl,
    extract_tree,
    refuse_link_out_of,
    refuse_links_out_of,
    ssh_options,
)


def test_ssh_options_are_ones_ssh_takes_and_never_let_it_ask_or_hang() -> None:
    require("ssh")
    # ssh -G prints the settings it would connect with, and connects nowhere.
    command = ["ssh", "-G", *shlex.split(ssh_options()), "git.example.invalid"]
    printed = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    settings = dict(line.split(" ", 1) for line in printed.splitlines())
    assert settings["batchmode"] == "yes"
    assert settings["connecttimeout"] == str(STALL_SECONDS)
    silent = int(settings["serveraliveinterval"]) * int(settings["serveralivecountmax"])
    assert silent == STALL_SECONDS


def tree_with_links(tmp_path: Path, links: dict[str, str]) -> Path:
    tree = tmp_path / "tree"
    (tree / "docs" / "api").mkdir(parents=True)
    (tree / "docs" / "index.txt").write_text("x")
    for name, target in links.items():
        (tree / name).symlink_to(target)
    return tree


def test_links_within_the_tree_are_kept(tmp_path: Path) -> None:
    links = {"README.txt": "docs/index.txt", "docs/api/up": "..", "manual": "docs/"}
    tree = tree_with_links(tmp_path, links)
    refuse_links_out_of(tree)
    assert (tree / "docs" / "api" / "up" / "index.txt").read_text() == "x"


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("docs/api/escape", "../../../secret"),
        ("docs/api/escape", "../../../tree.old/setup.py"),  # beside the tree, its name longer
        ("docs/api/escape", "/etc/passwd"),
        # Absolute is out of the tag wherever it points: the tree is not where it will be built.
        ("docs/api/escape", "{tree}/docs/index.txt"),
        ("docs/api/folder", "/etc"),
    ],
)
def test_a_link_out_of_the_tree_anywhere_in_it_is_refused(
    tmp_path: Path, link: str, target: str
) -> None:
    target = target.format(tree=tmp_path / "tree")
    tree = tree_with_links(tmp_path, {link: target})
    with pytest.raises(VcsError) as error:
        refuse_links_out_of(tree)
    assert str(error.value) == f"link {link} points out of the tag, to {target}"


def test_refuse_link_out_of_reads_a_target_through_links_already_there(tmp_path: Path) -> None:
    tree = tree_with_links(tmp_path, {"api": "docs/api"})
    # Through api (docs/api) and up twice: the top, not the folder above it.
    refuse_link_out_of(tree, tree / "new", "api/../../docs/index.txt")
    with pytest.raises(VcsError) as error:
        refuse_link_out_of(tree, tree / "new", "api/../../..")
    assert str(error.value) == "link new points out of the tag, to api/../../.."


def archive(*members: tuple[tarfile.TarInfo, bytes]) -> io.BytesIO:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for member, content in members:
            member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
    data.seek(0)
    return data


def file(name: str, content: bytes = b"x", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    member = tarfile.TarInfo(name)
    member.mode = mode
    return member, content


def link(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    member = tarfile.TarInfo(name)
    member.type = tarfile.SYMTYPE
    member.linkname = target
    return member, b""


def test_a_subdirectory_is_extracted_as_the_top_of_the_tree(tmp_path: Path) -> None:
    tar = archive(
        file("pyproject.toml"),
        file("web/pyproject.toml", b"web"),
        file("web/src/web.py"),
        file("webapp/pyproject.toml", b"another project"),
    )
    extract_tree(tar, tmp_path / "tree", "web")
    found = sorted(str(p.relative_to(tmp_path / "tree")) for p in (tmp_path / "tree").rglob("*"))
    assert found == ["pyproject.toml", "src", "src/web.py"]
    assert (tmp_path / "tree" / "pyproject.toml").read_bytes() == b"web"


def test_a_link_out_of_the_tree_is_refused_before_anything_is_written_through_it(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    tar = archive(link("escape", str(outside)), file("escape/planted.txt"))
    with pytest.raises(VcsError, match=f"^link escape points out of the tag, to {outside}$"):
        extract_tree(tar, tmp_path / "tree")
    assert list(outside.iterdir()) == []


def test_what_no_release_tarball_holds_is_refused_or_made_harmless(tmp_path: Path) -> None:
    extract_tree(archive(file("tool", mode=0o4777)), tmp_path / "tree")
    mode = (tmp_path / "tree" / "tool").stat().st_mode
    assert not mode & (stat.S_ISUID | stat.S_IWOTH)
    fifo = tarfile.TarInfo("pipe")
    fifo.type = tarfile.FIFOTYPE
    with pytest.raises(tarfile.SpecialFileError):
        extract_tree(archive((fifo, b"")), tmp_path / "again")


def crawl_reporting(reports: list[tuple[str, SdistmakerError | None]], tmp_path: Path) -> Crawl:
    config = Config(outdir=tmp_path / "out")
    return Crawl(config, tmp_path, {}, False, lambda *report: reports.append(report), print)


def test_a_crawl_reports_every_repository_and_goes_on_past_one_it_cannot_read(
    tmp_path: Path,
) -> None:
    reports: list[tuple[str, SdistmakerError | None]] = []
    crawl = crawl_reporting(reports, tmp_path)
    problem = VcsError("https://svn.example.com/gone: svn: E170000: no such repository")

    def unreadable() -> list[str]:
        raise problem

    assert crawl.read("https://svn.example.com/gone", unreadable) == ([], False)
    assert crawl.read("https://svn.example.com/repos", lambda: ("p", "q")) == (["p", "q"], True)
    assert reports == [
        ("https://svn.example.com/gone", problem),
        ("https://svn.example.com/repos", None),
    ]


def test_a_crawl_lets_a_fault_of_its_own_through(tmp_path: Path) -> None:
    reports: list[tuple[str, SdistmakerError | None]] = []

    def faulty() -> list[str]:
        raise KeyError("p")

    with pytest.raises(KeyError):
        crawl_reporting(reports, tmp_path).read("https://svn.example.com/repos", faulty)
    assert reports == []

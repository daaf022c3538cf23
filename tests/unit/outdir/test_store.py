import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from sdistmaker.errors import StoreError
from sdistmaker.outdir import published
from sdistmaker.outdir.store import Store, make_served_folder, publish
from sdistmaker.outdir.temporaries import PREFIX


def test_publish_puts_a_complete_readable_file_in_the_project_folder(tmp_path: Path) -> None:
    built = tmp_path / "p-1.0.tar.gz"
    built.write_bytes(b"sdist")
    store = Store(tmp_path / "out")
    with store.lock():
        path = store.publish(built, "p", "1.0", "svn:p")
    assert path == tmp_path / "out" / "p" / "p-1.0.tar.gz"
    assert path.read_bytes() == b"sdist"
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in (tmp_path / "out" / "p").iterdir()) == [
        published.RECORD,
        "p-1.0.tar.gz",
    ]
    record = published.read(tmp_path / "out" / "p")
    assert record.owner == "svn:p"
    assert list(record.published) == ["p-1.0.tar.gz"]
    assert not [p for p in store.private.iterdir() if p.name.startswith(PREFIX)]


def test_a_published_file_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "dest" / "p").mkdir(parents=True)
    (tmp_path / "dest" / "p" / "p-1.0.tar.gz").write_bytes(b"original")
    built = tmp_path / "p-1.0.tar.gz"
    built.write_bytes(b"rebuilt")
    with pytest.raises(StoreError, match=r"p-1\.0\.tar\.gz is already published; it is kept"):
        publish(built, tmp_path / "dest", "p", "1.0", "svn:p")
    assert (tmp_path / "dest" / "p" / "p-1.0.tar.gz").read_bytes() == b"original"
    assert [p.name for p in (tmp_path / "dest" / "p").iterdir()] == ["p-1.0.tar.gz"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.symlink_to("/etc/passwd"), "is a link, not a regular file"),
        (os.mkfifo, "is not a regular file"),
        (lambda path: path.mkdir(), "is not a regular file"),
    ],
    ids=["link", "pipe", "folder"],
)
def test_only_a_regular_file_is_published(
    tmp_path: Path, make: Callable[[Path], None], message: str
) -> None:
    """A tag builds the file: a link in its place would publish the server's files, a pipe
    would be copied without end."""
    built = tmp_path / "p-1.0.tar.gz"
    make(built)
    with pytest.raises(StoreError, match=re.escape(f"p-1.0.tar.gz {message}")):
        publish(built, tmp_path / "dest", "p", "1.0", "svn:p", staging=tmp_path)
    assert list((tmp_path / "dest" / "p").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "p-1.0.tar.gz"]


def test_an_outdir_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with (
        pytest.raises(StoreError, match="cannot create OUTDIR"),
        Store(tmp_path / "file" / "out").lock(),
    ):
        pass


@pytest.mark.parametrize("name", ["/tmp/elsewhere", "a/b", "..", "Not-Normalised", "+", ""])
def test_only_a_normalised_distribution_name_names_a_folder(tmp_path: Path, name: str) -> None:
    built = tmp_path / "p-1.0.tar.gz"
    built.write_bytes(b"sdist")
    with pytest.raises(StoreError, match="is no normalised distribution name"):
        publish(built, tmp_path / "out", name, "1.0", "svn:p")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "existing", ["Alpha.Thing-1.0.tar.gz", "alpha_thing-1.0.0.tar.gz", "alpha-thing-1.0.zip"]
)
def test_a_release_is_published_once(tmp_path: Path, existing: str) -> None:
    """However its file is named: the name in another case or with other separators, the
    version written otherwise (``1.0.0`` is ``1.0``)."""
    (tmp_path / "dest" / "alpha-thing").mkdir(parents=True)
    (tmp_path / "dest" / "alpha-thing" / existing).write_bytes(b"first")
    built = tmp_path / "alpha_thing-1.0.tar.gz"
    built.write_bytes(b"second")
    with pytest.raises(
        StoreError,
        match=rf"^alpha-thing 1\.0 is published already, as alpha-thing/{re.escape(existing)}$",
    ):
        publish(built, tmp_path / "dest", "alpha-thing", "1.0", "svn:p")
    assert [p.name for p in (tmp_path / "dest" / "alpha-thing").iterdir()] == [existing]


def test_a_release_gets_a_wheel_beside_its_sdist(tmp_path: Path) -> None:
    for name in ("alpha_thing-1.0.tar.gz", "alpha_thing-1.0-py3-none-any.whl"):
        (tmp_path / name).write_bytes(b"built")
        publish(tmp_path / name, tmp_path / "dest", "alpha-thing", "1.0", "svn:p")
    wheel = tmp_path / "alpha_thing-1.0-py2.py3-none-any.whl"
    wheel.write_bytes(b"another")
    with pytest.raises(StoreError, match="published already"):
        publish(wheel, tmp_path / "dest", "alpha-thing", "1.0", "svn:p")


def test_wheels_of_a_release_for_other_platforms_are_its_own(tmp_path: Path) -> None:
    """A mirrored release has a wheel per platform: none is another's twin."""
    for name in (
        "alpha_thing-1.0-py3-none-any.whl",
        "alpha_thing-1.0-cp311-cp311-win_amd64.whl",
        "alpha_thing-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    ):
        (tmp_path / name).write_bytes(name.encode())
        publish(tmp_path / name, tmp_path / "dest", "alpha-thing", "1.0", "mirror:https://p/")
    again = tmp_path / "alpha_thing-1.0-cp311-abi3-win_amd64.whl"
    again.write_bytes(b"another for Windows")
    publish(again, tmp_path / "dest", "alpha-thing", "1.0", "mirror:https://p/")
    twin = tmp_path / "alpha_thing-1.0-py2.py3-none-any.whl"
    twin.write_bytes(b"another for everywhere")
    with pytest.raises(StoreError, match="published already"):
        publish(twin, tmp_path / "dest", "alpha-thing", "1.0", "mirror:https://p/")


def test_a_folder_another_project_publishes_is_not_published_to(tmp_path: Path) -> None:
    """Its record says who publishes it, whatever the state says (the state may be lost)."""
    built = tmp_path / "p-1.0.tar.gz"
    built.write_bytes(b"sdist")
    publish(built, tmp_path / "dest", "p", "1.0", "svn:p")
    again = tmp_path / "p-2.0.tar.gz"
    again.write_bytes(b"another's")
    with pytest.raises(StoreError, match=r"^p is published from svn:p, not from git:elsewhere#$"):
        publish(again, tmp_path / "dest", "p", "2.0", "git:elsewhere#")
    assert not (tmp_path / "dest" / "p" / "p-2.0.tar.gz").exists()


def test_folders_made_to_be_served_are_open_to_every_user_whatever_the_umask(
    tmp_path: Path,
) -> None:
    """The folders above too (a new OUTDIR's parent): a web server runs as a user of its own.
    A folder that was there keeps its mode: it is not sdistmaker's to set."""
    (tmp_path / "srv").mkdir(mode=0o750)
    before = os.umask(0o077)
    try:
        make_served_folder(tmp_path / "srv" / "pypi" / "acme-lib")
    finally:
        os.umask(before)
    modes = [
        (tmp_path / p).stat().st_mode & 0o777 for p in ("srv", "srv/pypi", "srv/pypi/acme-lib")
    ]
    assert modes == [0o750, 0o755, 0o755]


@pytest.mark.parametrize(
    "name",
    ["index.html", ".sdistmaker-published.json", "p-2.0.tar.gz", "q-1.0.tar.gz", "p-1.0.txt"],
)
def test_only_a_file_named_as_the_release_is_published(tmp_path: Path, name: str) -> None:
    """A file named otherwise (a page, the folder's record, another release's) could replace
    what the index writes, or pass for what it is not: refused, whoever made it (a build, an
    upstream index being mirrored)."""
    built = tmp_path / name
    built.write_bytes(b"anything")
    with pytest.raises(StoreError, match=r"names no distribution file of p 1\.0"):
        publish(built, tmp_path / "out", "p", "1.0", "mirror:https://p/")
    assert not (tmp_path / "out" / "p").exists()

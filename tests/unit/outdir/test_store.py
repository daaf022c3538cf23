import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from sdistmaker.errors import StoreError
from sdistmaker.outdir import published
from sdistmaker.outdir.lock import Busy
from sdistmaker.outdir.state import State, TagRecord
from sdistmaker.outdir.store import Store, make_served_folder, publish
from sdistmaker.outdir.temporaries import PREFIX
from sdistmaker.vcs.svn import SvnProject, remember


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


def test_the_state_survives_a_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    state = State()
    state.tags["svn:file:///r/p/tags/1.0"] = TagRecord(
        "p", "1.0", "1.0", "7", "built", "2026-01-01T00:00:00Z", file="p/p-1.0.tar.gz"
    )
    state.owners["p"] = "svn:file:///r/p"
    state.problems["https://g/x.git"] = "gone"
    store.save_state(state)
    assert store.load_state() == state
    assert Store(tmp_path / "fresh").load_state() == State()


def test_a_damaged_state_is_an_error_naming_the_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.private.mkdir()
    store.state_file.write_text("{ half a file")
    with pytest.raises(StoreError, match=r"state\.json: unreadable state"):
        store.load_state()


def a_written_state() -> dict[str, Any]:
    """A state as a run that read svn and git writes it, as parsed JSON."""
    project = SvnProject("p", "file:///r/p", "file:///r/p")
    tag = project.tag("1.0", "1.0", "7")
    state = State(memory={"svn": {**remember([project], [tag]), "read": ["file:///r", "7"]}})
    state.tags[tag.key] = TagRecord(
        "p", "1.0", "1.0", "7", "built", "2026-01-01T00:00:00Z", file="p/p-1.0.tar.gz"
    )
    state.tags["git:file:///g#@2.0"] = TagRecord(
        "g", "2.0", "2.0", "ab12", "failed", "2026-01-01T00:00:00Z", reason="no setup.py"
    )
    state.owners["p"] = tag.project_key
    state.problems["https://g/x.git"] = "gone"
    state.uploads["p/p-1.0.tar.gz"] = ["https://upload.example.com/"]
    state.projects["p"] = tag.project_key
    state.unindexed.append("p")
    state.unsandboxed = True
    written = {"version": 1, **asdict(state)}
    written.update(written.pop("memory"))  # each system's memory under its name
    return written


def test_a_state_as_runs_write_it_loads_as_it_was(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.private.mkdir()
    store.state_file.write_text(json.dumps(a_written_state()))
    state = store.load_state()
    store.save_state(state)
    assert json.loads(store.state_file.read_text()) == a_written_state()


def _changed(change: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], object]:
    """A state as runs write it, changed by ``change`` (which returns nothing: in place)."""

    def changed(state: dict[str, Any]) -> object:
        change(state)
        return state

    return changed


def _replaced(**values: object) -> Callable[[dict[str, Any]], object]:
    return _changed(lambda state: state.update(values))


def _tag(**values: object) -> Callable[[dict[str, Any]], object]:
    return _changed(lambda state: state["tags"]["svn:file:///r/p/tags/1.0"].update(values))


_TAG = re.escape('tags["svn:file:///r/p/tags/1.0"]')
WRONG_SHAPES: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "an array": (lambda state: [], r"the top level must be an object, not \[\]"),
    "null": (lambda state: None, "the top level must be an object, not null"),
    "a string": (lambda state: "tags", 'the top level must be an object, not "tags"'),
    "a version alone": (lambda state: {"version": 1}, '"tags" is missing'),
    "no owners": (_changed(lambda state: state.pop("owners")), '"owners" is missing'),
    "tags an array": (_replaced(tags=[]), r"tags must be an object, not \[\]"),
    "owners null": (_replaced(owners=None), "owners must be an object, not null"),
    "a tag a number": (
        _changed(lambda state: state["tags"].update({"svn:file:///r/p/tags/1.0": 5})),
        f"{_TAG} must be an object, not 5",
    ),
    "a tag's field a number": (_tag(when=5), f'{_TAG}\\["when"\\] must be a string, not 5'),
    "a tag's field missing": (
        _changed(lambda state: state["tags"]["svn:file:///r/p/tags/1.0"].pop("identity")),
        f'{_TAG} lacks "identity"',
    ),
    "a tag's field unknown": (_tag(colour="red"), f'{_TAG} holds an unknown field "colour"'),
    "a tag's status unknown": (
        _tag(status="done"),
        f'{_TAG}\\["status"\\] must be "built" or "failed", not "done"',
    ),
    "a problem a number": (
        _replaced(problems={"x": 1}),
        r'problems\["x"\] must be a string, not 1',
    ),
    "an upload a string": (
        _replaced(uploads={"p/p-1.0.tar.gz": "https://upload.example.com/"}),
        r'uploads\["p/p-1.0.tar.gz"\] must be an array, not "https://upload.example.com/"',
    ),
    "an upload's repository null": (
        _replaced(uploads={"p/p-1.0.tar.gz": [None]}),
        r'uploads\["p/p-1.0.tar.gz"\]\[0\] must be a string, not null',
    ),
    "projects an array": (_replaced(projects=["p"]), r'projects must be an object, not \["p"\]'),
    "unindexed a string": (_replaced(unindexed="p"), 'unindexed must be an array, not "p"'),
    "unindexed holding an object": (
        _replaced(unindexed=[{}]),
        r"unindexed\[0\] must be a string, not \{\}",
    ),
    "svn a string": (_replaced(svn="x"), 'svn must be an object, not "x"'),
    "svn's read missing": (
        _changed(lambda state: state["svn"].pop("read")),
        'svn lacks "read"',
    ),
    "svn's project an array": (
        _changed(lambda state: state["svn"]["projects"].append([])),
        r'svn\["projects"\]\[1\] must be an object, not \[\]',
    ),
    "svn's tag of no project": (
        _changed(lambda state: state["svn"]["projects"].clear()),
        r'svn\["tags"\]\[0\] names no project of svn\["projects"\]: "file:///r/p"',
    ),
    "svn's read one string": (
        _changed(lambda state: state["svn"].update(read=["file:///r"])),
        r'svn\["read"\] must hold a URL and a revision, not \["file:///r"\]',
    ),
    "unsandboxed a string": (
        _replaced(unsandboxed="no"),
        'unsandboxed must be true or false, not "no"',
    ),
    "a long value": (
        _replaced(owners="x" * 100),
        'owners must be an object, not "x{56}\\.\\.\\.',
    ),
}


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=list(WRONG_SHAPES))
def test_a_state_of_the_wrong_shape_is_unreadable_saying_what_is_wrong(
    tmp_path: Path, shape: str
) -> None:
    """Valid JSON that is not what runs write is a damaged state as much as half a file is:
    one error naming the file and the part that is wrong, never an exception of another kind
    from a later step."""
    change, reason = WRONG_SHAPES[shape]
    store = Store(tmp_path)
    store.private.mkdir()
    store.state_file.write_text(json.dumps(change(a_written_state())))
    with pytest.raises(StoreError) as raised:
        store.load_state()
    assert re.fullmatch(
        re.escape(f"{store.state_file}: unreadable state: ") + reason, str(raised.value)
    ), str(raised.value)


def test_a_second_run_finds_outdir_busy(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with (
        store.lock(),
        pytest.raises(Busy, match="another sdistmaker run holds the lock"),
        Store(tmp_path).lock(),
    ):
        pass


def test_wait_takes_the_lock_once_the_other_run_ends(tmp_path: Path) -> None:
    store = Store(tmp_path)
    holding = threading.Event()
    release = threading.Event()

    def other_run() -> None:
        with Store(tmp_path).lock():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=other_run)
    thread.start()
    holding.wait(5)
    threading.Timer(0.3, release.set).start()
    with store.lock(wait=10):
        pass
    thread.join()


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

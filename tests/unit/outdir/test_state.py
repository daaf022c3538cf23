"""sdistmaker's state: read whole and checked, or refused in one line naming what is wrong."""

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from sdistmaker.errors import StoreError
from sdistmaker.outdir.state import STATE_VERSION, State, TagRecord, load, save
from sdistmaker.outdir.store import Store
from sdistmaker.vcs.svn import SvnProject, remember


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
    # A discovered repository's tag holding no Python project: not tried again until it moves.
    state.tags["git:file:///docs#@1.0"] = TagRecord(
        "docs", "1.0", "1.0", "cd34", "skipped", "2026-01-01T00:00:00Z", reason="no project"
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
        f'{_TAG}\\["status"\\] must be one of "built", "failed", "skipped", not "done"',
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
    "git's remembered tag no pair": (
        _replaced(git={"repositories": {"k": {"activity": "a", "tags": [["1.0"]]}}}),
        r'git\["repositories"\]\["k"\]\["tags"\]\[0\] must hold a name and an identity',
    ),
    "git's remembered activity missing": (
        _replaced(git={"repositories": {"k": {"tags": []}}}),
        r'git\["repositories"\]\["k"\] lacks "activity"',
    ),
    "a yank's reason a number": (
        _replaced(upstream_yanked={"left-pad": {"1.3": 5}}),
        r'upstream_yanked\["left-pad"\]\["1.3"\] must be a string, not 5',
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


@pytest.mark.parametrize(("version", "shown"), [(2, "2"), ("1", "'1'"), (None, "None")])
def test_a_state_of_another_version_is_refused_naming_its_version(
    tmp_path: Path, version: object, shown: str
) -> None:
    """A state a newer sdistmaker wrote is not read as if it were this one's."""
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps({**a_written_state(), "version": version}))
    with pytest.raises(StoreError) as raised:
        load(state_file)
    assert str(raised.value) == f"{state_file}: unknown state version {shown}"


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b""], ids=["not UTF-8", "empty"])
def test_a_state_that_is_no_json_text_is_unreadable_in_one_line(
    tmp_path: Path, content: bytes
) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_bytes(content)
    with pytest.raises(StoreError) as raised:
        load(state_file)
    assert str(raised.value).startswith(f"{state_file}: unreadable state: ")
    assert "\n" not in str(raised.value)


def test_a_state_is_saved_whole_leaving_nothing_beside_it(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    state_file = tmp_path / "state.json"
    state_file.write_text("an older state\n")
    recorded = State(owners={"p": "svn:file:///r/p"}, unindexed=["p"])
    save(recorded, state_file, staging)
    assert json.loads(state_file.read_text())["version"] == STATE_VERSION
    assert load(state_file) == recorded
    assert list(staging.iterdir()) == []

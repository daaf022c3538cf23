import threading
from pathlib import Path

import pytest

from sdistmaker.store import Busy, State, Store, StoreError, TagRecord, publish
from sdistmaker.temporaries import PREFIX


def test_publish_puts_a_complete_readable_file_in_the_project_folder(tmp_path: Path) -> None:
    built = tmp_path / "p-1.0.tar.gz"
    built.write_bytes(b"sdist")
    store = Store(tmp_path / "out")
    with store.lock():
        path = store.publish(built, "p")
    assert path == tmp_path / "out" / "p" / "p-1.0.tar.gz"
    assert path.read_bytes() == b"sdist"
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in (tmp_path / "out" / "p").iterdir()] == ["p-1.0.tar.gz"]
    assert not [p for p in store.private.iterdir() if p.name.startswith(PREFIX)]


def test_a_published_file_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "dest" / "p").mkdir(parents=True)
    (tmp_path / "dest" / "p" / "p-1.0.tar.gz").write_bytes(b"original")
    built = tmp_path / "p-1.0.tar.gz"
    built.write_bytes(b"rebuilt")
    with pytest.raises(StoreError, match=r"p-1\.0\.tar\.gz is already published; it is kept"):
        publish(built, tmp_path / "dest", "p")
    assert (tmp_path / "dest" / "p" / "p-1.0.tar.gz").read_bytes() == b"original"
    assert [p.name for p in (tmp_path / "dest" / "p").iterdir()] == ["p-1.0.tar.gz"]


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
        publish(built, tmp_path / "out", name)
    assert not (tmp_path / "out").exists()

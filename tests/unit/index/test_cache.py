from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sdistmaker.index.cache import Entry, IndexCache, Overview, Record, Settings

names = st.text("abc-", min_size=1, max_size=3).filter(lambda n: n[0] != "-")
entries = st.builds(
    Entry,
    st.integers(min_value=0),
    st.text("0123456789abcdef", max_size=4),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.text(max_size=20),
)
operations = st.lists(st.tuples(names, st.none() | entries), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(names, entries), operations)
def test_the_overview_behaves_like_a_sorted_mapping_through_a_round_trip(
    start: dict[str, Entry], changes: list[tuple[str, Entry | None]]
) -> None:
    overview = Overview()
    for name, first in start.items():
        overview.set(name, first)
    overview = Overview.from_bytes(overview.to_bytes()) or Overview()
    model = dict(start)
    for name, entry in changes:
        rows_before = overview.rows()
        names_before = overview.names()
        if entry is None:
            overview.remove(name)
            model.pop(name, None)
        else:
            overview.set(name, entry)
            model[name] = entry
        assert overview.rows_changed >= (overview.rows() != rows_before)
        assert overview.names_changed >= (overview.names() != names_before)
        overview = Overview.from_bytes(overview.to_bytes()) or Overview()

    expected = {n: e._replace(row=e.row.replace("\0", "\ufffd")) for n, e in model.items()}
    assert overview.names() == sorted(expected)
    assert {n: overview.get(n) for n in overview.names()} == expected
    assert overview.rows() == "".join(expected[n].row for n in sorted(expected))


def test_an_overview_tells_what_changed() -> None:
    overview = Overview()
    overview.set("b", Entry(1, "f", {}, "<tr>b</tr>"))
    overview.set("a", Entry(1, "f", {}, "<tr>a</tr>"))
    read = Overview.from_bytes(overview.to_bytes())
    assert read is not None
    assert (read.changed, read.names_changed, read.rows_changed) == (False, False, False)
    read.set("a", Entry(1, "f", {}, "<tr>a</tr>"))
    assert not read.changed
    read.set("a", Entry(2, "f", {"a-1.0.tar.gz": "unreadable"}, "<tr>a</tr>"))
    assert (read.changed, read.names_changed, read.rows_changed) == (True, False, False)
    read.set("b", Entry(1, "f", {}, "<tr>b 2.0</tr>"))
    assert (read.names_changed, read.rows_changed) == (False, True)
    assert read.rows() == "<tr>a</tr><tr>b 2.0</tr>"


def test_damaged_or_foreign_files_count_as_unknown(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    assert (cache.settings(), cache.overview()) == (None, None)
    assert cache.record("p") == Record()
    cache.records.mkdir(parents=True)
    for path, content in [
        (cache.settings_file, b'{"version": 4, "signature": "s"}'),
        (cache.overview_file, b"sdistmaker index overview 4\na\x001\x00"),
        (cache.records / "p.json", b"{not json"),
    ]:
        path.write_bytes(content)
    assert (cache.settings(), cache.overview()) == (None, None)
    assert cache.record("p") == Record()
    cache.overview_file.write_bytes(b"sdistmaker index overview 3\n")
    assert cache.overview() is None


def test_what_is_saved_is_read_back(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    cache.save_settings(Settings("signature", {"p": "other"}))
    assert cache.settings() == Settings("signature", {"p": "other"})
    overview = Overview()
    overview.set("p", Entry(5, "f", {"p-1.0.tar.gz": "unreadable"}, "<tr>p</tr>\n"))
    cache.save_overview(overview)
    read = cache.overview()
    assert read is not None
    assert read.get("p") == Entry(5, "f", {"p-1.0.tar.gz": "unreadable"}, "<tr>p</tr>\n")
    cache.save_record("p", Record({}))
    assert cache.record("p") == Record({})
    cache.forget("p")
    assert cache.record("p") == Record()

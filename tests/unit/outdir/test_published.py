"""What a project's folder records of itself: who publishes it, when each file was published."""

import json
import os
import time
from pathlib import Path

import pytest

from sdistmaker.outdir import published
from sdistmaker.outdir.published import RECORD, Record


def test_a_record_reads_back_as_it_was_written(tmp_path: Path) -> None:
    record = Record(
        "svn:file:///r/p",
        {"p-1.1.tar.gz": "2026-02-01T00:00:00Z", "p-1.0.tar.gz": "2026-01-01T00:00:00Z"},
    )
    published.write(tmp_path, record, staging=tmp_path)
    assert published.read(tmp_path) == record
    assert [path.name for path in tmp_path.iterdir()] == [RECORD]
    written = json.loads((tmp_path / RECORD).read_text())
    assert list(written["published"]) == ["p-1.0.tar.gz", "p-1.1.tar.gz"]


@pytest.mark.parametrize(
    ("content", "record"),
    [
        (None, Record()),
        ('{"owner": "svn:p", "publ', Record()),
        ("[]", Record()),
        ('{"owner": 5, "published": {}}', Record()),
        ('{"owner": "svn:p", "published": []}', Record()),
        ('{"owner": "svn:p"}', Record()),
        (
            '{"owner": "svn:p", "published": {"p-1.0.tar.gz": 5, "p-1.1.tar.gz": "2026"}}',
            Record("svn:p", {"p-1.1.tar.gz": "2026"}),
        ),
    ],
    ids=["none", "half", "an array", "owner a number", "times an array", "no times", "a time"],
)
def test_a_record_that_cannot_be_read_is_an_empty_one(
    tmp_path: Path, content: str | None, record: Record
) -> None:
    """Written whole or not at all: one that cannot be read was not written by sdistmaker."""
    if content is not None:
        (tmp_path / RECORD).write_text(content)
    assert published.read(tmp_path) == record


def test_a_folder_from_before_records_gets_one_from_its_files_times(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("p-1.0.tar.gz", "p-1.0-py3-none-any.whl", "index.html", ".p-2.0.tar.gz"):
        (folder / name).write_bytes(b"x")
        os.utime(folder / name, (0, 0))
    (folder / "p-3.0.tar.gz").symlink_to(folder / "p-1.0.tar.gz")
    published.record_files_of(folder, "svn:p", staging=tmp_path)
    assert published.read(folder) == Record(
        "svn:p",
        {"p-1.0-py3-none-any.whl": "1970-01-01T00:00:00Z", "p-1.0.tar.gz": "1970-01-01T00:00:00Z"},
    )


def test_a_folder_with_a_record_keeps_it(tmp_path: Path) -> None:
    record = Record("git:file:///g#", {"p-1.0.tar.gz": "2026-01-01T00:00:00Z"})
    published.write(tmp_path, record, staging=tmp_path)
    (tmp_path / "p-1.1.tar.gz").write_bytes(b"x")
    published.record_files_of(tmp_path, "svn:p", staging=tmp_path)
    assert published.read(tmp_path) == record


def test_times_are_written_as_pep_700_writes_them_whatever_the_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert published.timestamp(1_700_000_000.9) == "2023-11-14T22:13:20Z"
    finally:
        monkeypatch.undo()
        time.tzset()

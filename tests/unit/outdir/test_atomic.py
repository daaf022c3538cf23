"""Files replaced in one step: a reader sees the old content or the new, never a part."""

import subprocess
import sys
from pathlib import Path

import pytest

from sdistmaker.outdir.atomic import write_atomically

SIZE = 4 << 20

REWRITE = f"""\
import sys
from pathlib import Path
from sdistmaker.outdir.atomic import write_atomically
path, staging = Path(sys.argv[1]), Path(sys.argv[2])
for turn in range(200):
    write_atomically(path, bytes([65 + turn % 2]) * {SIZE}, staging, durable=False)
"""


def test_a_reader_sees_the_old_content_or_the_new_never_a_part(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_bytes(b"A" * SIZE)
    writer = subprocess.Popen([sys.executable, "-c", REWRITE, str(path), str(tmp_path)])
    seen = set()
    while writer.poll() is None:
        content = path.read_bytes()
        seen.add(content[:1])
        assert content in (b"A" * SIZE, b"B" * SIZE), f"{len(content)} bytes read"
    assert writer.returncode == 0
    assert seen == {b"A", b"B"}  # it read while the file changed


def test_the_new_content_is_readable_by_all_and_nothing_is_left_beside_it(
    tmp_path: Path,
) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    path = tmp_path / "state.json"
    path.write_text("old")
    path.chmod(0o600)
    write_atomically(path, b"new", staging)
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o644
    assert list(staging.iterdir()) == []


def test_a_write_that_fails_keeps_nothing_of_it(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "gone" / "state.json", b"new", staging)
    assert list(staging.iterdir()) == []

"""One file from upstream (sdistmaker/mirroring/download.py): kept only whole and as upstream's
hash says, else one line naming it and nothing left."""

import hashlib
import re
from pathlib import Path

import pytest

from helpers.servers import make_wheel, upstream_index
from helpers.system import soon
from sdistmaker.mirroring.download import download
from sdistmaker.mirroring.resolve import MirrorError, UpstreamFile


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    (tmp_path / "wheels").mkdir()
    return make_wheel(tmp_path / "wheels", "acme-certs", "1.1")


def test_a_file_whose_hash_is_upstreams_is_kept_under_its_name(wheel: Path, tmp_path: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with upstream_index({"acme-certs": [wheel]}) as index:
        url = f"{index}/acme-certs/{wheel.name}"
        path = download(UpstreamFile("acme-certs", "1.1", url, digest), tmp_path, soon())
    assert path == tmp_path / wheel.name
    assert path.read_bytes() == wheel.read_bytes()


def test_another_hash_is_refused_and_nothing_is_left(wheel: Path, tmp_path: Path) -> None:
    file = UpstreamFile("acme-certs", "1.1", wheel.as_uri(), "0" * 64)
    with pytest.raises(MirrorError, match=rf"^{re.escape(wheel.as_uri())}: sha256 \w+, not 0+ as"):
        download(file, tmp_path / "wheels" / "..", soon())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wheels"]


def test_a_file_that_cannot_be_had_is_one_line_without_a_password(tmp_path: Path) -> None:
    url = "http://mirror:s3cret@127.0.0.1:9/simple/acme-certs/acme_certs-1.1-py3-none-any.whl"
    with pytest.raises(MirrorError) as error:
        download(UpstreamFile("acme-certs", "1.1", url, "0" * 64), tmp_path, soon())
    assert str(error.value).startswith("http://127.0.0.1:9/simple/acme-certs/")
    assert "s3cret" not in str(error.value)
    assert list(tmp_path.iterdir()) == []

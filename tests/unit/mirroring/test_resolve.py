"""What the requirements need (sdistmaker/mirroring/resolve.py), resolved by uv against an
upstream index served on 127.0.0.1 (standing in for PyPI)."""

import os
import re
from pathlib import Path

import pytest

from helpers.servers import make_wheel, upstream_index
from helpers.system import soon
from sdistmaker.mirroring.resolve import MirrorError, resolve
from sdistmaker.mirroring.setting import Environment, Mirror
from sdistmaker.repository import Distribution


@pytest.fixture
def wheels(tmp_path: Path) -> dict[str, list[Path]]:
    folder = tmp_path / "wheels"
    folder.mkdir()
    return {
        "acme-http": [
            make_wheel(folder, "acme-http", "1.0"),
            make_wheel(folder, "acme-http", "2.0", requires=("acme-certs",)),
        ],
        "acme-certs": [
            make_wheel(folder, "acme-certs", "1.1"),
            make_wheel(folder, "acme-certs", "1.1", tag="cp311-cp311-win_amd64"),
        ],
    }


def names(files: list[Distribution]) -> list[str]:
    return sorted(f"{file.name} {file.version} {file.filename}" for file in files)


def test_every_file_of_every_package_the_requirements_need(wheels: dict[str, list[Path]]) -> None:
    with upstream_index(wheels) as index:
        found = resolve(Mirror(index), ["acme-http"], Environment(), dict(os.environ), soon())
    assert names(found) == [
        "acme-certs 1.1 acme_certs-1.1-cp311-cp311-win_amd64.whl",
        "acme-certs 1.1 acme_certs-1.1-py3-none-any.whl",
        "acme-http 2.0 acme_http-2.0-py3-none-any.whl",
    ]
    assert all(re.fullmatch("[0-9a-f]{64}", file.sha256) for file in found)


def test_a_requirement_no_version_satisfies_is_one_line_naming_the_index(
    wheels: dict[str, list[Path]],
) -> None:
    with upstream_index(wheels) as index, pytest.raises(MirrorError) as error:
        resolve(Mirror(index), ["acme-http>=9"], Environment(), dict(os.environ), soon())
    message = str(error.value)
    assert message.startswith(f"{index}: ")
    assert "acme-http" in message
    assert "\n" not in message


def test_a_named_environment_gets_the_files_that_install_there(
    wheels: dict[str, list[Path]],
) -> None:
    linux = Environment("3.11", "linux")
    with upstream_index(wheels) as index:
        found = resolve(Mirror(index), ["acme-http"], linux, dict(os.environ), soon())
    assert names(found) == [
        "acme-certs 1.1 acme_certs-1.1-py3-none-any.whl",
        "acme-http 2.0 acme_http-2.0-py3-none-any.whl",
    ]

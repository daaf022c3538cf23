"""The library's public names: each imported from where it lives, on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import sdistmaker


@pytest.mark.parametrize("name", sdistmaker.__all__)
def test_every_public_name_is_the_one_its_module_defines(name: str) -> None:
    found = getattr(sdistmaker, name)
    assert found.__name__ == name
    assert getattr(importlib.import_module(found.__module__), name) is found


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError) as error:
        sdistmaker.Store  # noqa: B018 (the access is the test)
    assert str(error.value) == "module 'sdistmaker' has no attribute 'Store'"


def test_the_hooks_and_the_library_import_lazily() -> None:
    code = (
        "import sys, sdistmaker.cli\n"
        "heavy = {'git', 'twine', 'jinja2', 'build', 'sdistmaker.pipeline.run'}\n"
        "heavy &= set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "from sdistmaker import Repository, make_sdist, run, ConfigError\n"
        "assert 'sdistmaker.pipeline.run' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

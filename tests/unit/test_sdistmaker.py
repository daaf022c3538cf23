"""The library's public names: each imported from where it lives, on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

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
        "heavy = {'git', 'twine', 'jinja2', 'build', 'requests', 'sdistmaker.pipeline.run'}\n"
        "heavy &= set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "from sdistmaker import Repository, make_sdist, run, ConfigError\n"
        "assert 'sdistmaker.pipeline.run' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_run_that_reads_no_forge_and_mirrors_nothing_imports_no_http_client(
    tmp_path: Path,
) -> None:
    """requests takes longer to import than a run with nothing new (W2, W4) takes in all."""
    (tmp_path / "defaults.py").write_text("OUTDIR = 'out'\nGIT_REPOSITORIES = []\n")
    code = (
        "import sys\n"
        "from sdistmaker.cli import sdists_from_tags\n"
        f"assert sdists_from_tags(['-q', '-d', {str(tmp_path / 'defaults.py')!r}]) == 0\n"
        "assert 'requests' not in sys.modules\n"
        "assert 'sdistmaker.vcs.git' in sys.modules  # the crawl did run\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

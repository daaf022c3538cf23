"""``python -m sdistmaker``: sdists_from_tags, where only an interpreter is at hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.system import ROOT


def sdistmaker(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sdistmaker", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_help_is_sdists_from_tags_help() -> None:
    done = sdistmaker("--help")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("usage: sdists_from_tags ")
    assert "--defaults-file FILE" in done.stdout


def test_it_prints_the_example_defaults() -> None:
    done = sdistmaker("--print-example-defaults")
    assert done.returncode == 0
    assert done.stdout == (ROOT / "sdistmaker" / "defaults_example.py").read_text()


def test_its_exit_status_is_the_commands(tmp_path: Path) -> None:
    defaults = tmp_path / "mine.py"
    defaults.write_text("OUTDIR = 'out'\nBLACKLST = []\n")
    done = sdistmaker("-q", "-d", str(defaults))
    assert done.returncode == 2
    assert done.stderr == f"{defaults}:2: unknown setting BLACKLST; did you mean BLACKLIST?\n"
    done = sdistmaker()
    assert done.returncode == 2
    assert "--defaults-file is required" in done.stderr

"""The example defaults file: the one README links to and ``--print-example-defaults`` prints,
which loads as it is and, its placeholders filled in, shows every setting there is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers.system import ROOT
from sdistmaker import vcs
from sdistmaker.cli import example_defaults
from sdistmaker.config import SETTINGS, Config, load_defaults
from sdistmaker.vcs.svn import BASE

# A commented-out setting (``# JOBS = 2``) or entry of one (``#     "acme-*",``).
PLACEHOLDER = re.compile(r'^(\s*)# ((?:[A-Z_]+ = |"|\{).*)$')
ASSIGNMENT = re.compile(r"^([A-Z_]+) = ")
SYSTEMS = {setting.name: setting for setting in vcs.settings()}
"""The settings of the version-control systems: each its own, kept by name."""


def value(config: Config, name: str) -> object:
    """What ``config`` holds for the setting ``name``."""
    if name in SYSTEMS:
        return SYSTEMS[name].of(config)
    return getattr(config, SETTINGS[name][0])


def test_the_printed_example_is_the_shipped_file_byte_for_byte() -> None:
    assert example_defaults() == (ROOT / "defaults_example.py").read_text()


def test_the_example_defaults_load_as_they_are() -> None:
    config = load_defaults(ROOT / "defaults_example.py")
    assert BASE.of(config) == ""
    assert config.outdir == ROOT / "var" / "private"


def filled_in(text: str) -> tuple[str, set[str]]:
    """The example with every placeholder in it uncommented, and the settings they are of."""
    lines, settings, setting = [], set(), ""
    for line in text.splitlines():
        placeholder = PLACEHOLDER.match(line)
        if placeholder:
            line = placeholder[1] + placeholder[2]
        assignment = ASSIGNMENT.match(line)
        setting = assignment[1] if assignment else setting
        if placeholder:
            settings.add(setting)
        lines.append(line + "\n")
    return "".join(lines), settings


def filled_example(folder: Path) -> tuple[Path, set[str]]:
    text, settings = filled_in(example_defaults())
    (folder / "defaults.py").write_text(text)
    (folder / "templates").mkdir()  # TEMPLATES names it
    return folder / "defaults.py", settings


def test_every_placeholder_of_the_example_loads_as_it_reads(tmp_path: Path) -> None:
    path, filled = filled_example(tmp_path)
    assert {"JOBS", "TEMPLATES", "GIT_REPOSITORIES", "BUILD_ENVIRONMENT"} <= filled
    config = load_defaults(path)
    # Each filled-in setting is read: none is left empty.
    assert [name for name in sorted(filled) if not value(config, name)] == []
    assert config.templates == tmp_path / "templates"


def shown_settings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }


def test_every_setting_the_example_shows_is_one_sdistmaker_knows(tmp_path: Path) -> None:
    path, _ = filled_example(tmp_path)
    shown = shown_settings(path)
    assert shown <= SETTINGS.keys() | SYSTEMS.keys()
    # Each named by its field too: no setting maps to what another already sets.
    fields = [SETTINGS[name][0] for name in shown if name in SETTINGS]
    assert len(set(fields)) == len(fields)
    assert set(fields) <= Config.__dataclass_fields__.keys()
    assert not SETTINGS.keys() & SYSTEMS.keys()


def test_every_setting_sdistmaker_knows_is_shown_in_the_example(tmp_path: Path) -> None:
    path, _ = filled_example(tmp_path)
    assert sorted((SETTINGS.keys() | SYSTEMS.keys()) - shown_settings(path)) == []

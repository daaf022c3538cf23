"""The svn command: run never interactively, with a deadline, its errors one line naming the URL."""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from sdistmaker.errors import VcsError
from sdistmaker.urls import public_url, redact
from sdistmaker.vcs.base import READ_TIMEOUT, STALL_SECONDS, Command, ssh_options


def svn(*args: str, url: str, deadline: float) -> str:
    """Run svn, never interactively, English messages, UTF-8 names, killed at ``deadline``
    (``time.monotonic()``); errors name ``url``."""
    # An http(s) server that stops sending is given up after a while; svn:// has no such option.
    stall = f"servers:global:http-timeout={STALL_SECONDS}"
    environment = {**os.environ, "LC_ALL": "C.UTF-8", "SVN_SSH": _ssh_command()}
    command = Command("svn", public_url(url), environment, _last_line)
    written = command.run(["--non-interactive", "--config-option", stall], args, deadline)
    return written.decode("utf-8", "replace")


def _last_line(errors: bytes, code: int) -> str:
    """What went wrong, in svn's words: its last line (an ``svn: E…`` one)."""
    lines = [line for line in errors.decode("utf-8", "replace").splitlines() if line.strip()]
    return redact(lines[-1] if lines else f"svn exited with {code}")


def _ssh_command() -> str:
    """The command svn+ssh:// URLs are tunnelled through: the user's SVN_SSH (a key, a login
    name), else svn's own default, made to fail rather than ask for a password, a passphrase or
    whether to trust a host key (``--non-interactive`` does not reach ssh, which asks on the
    terminal). Options the user's command sets itself come first, and win."""
    return f"{os.environ.get('SVN_SSH') or 'ssh -q -o ControlMaster=no'} {ssh_options()}"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    revision: str
    """The entry's last-changed revision."""
    changed_at: float | None = None
    """When that revision was made, in seconds since the epoch."""


def list_folder(url: str, timeout: float = READ_TIMEOUT) -> list[Entry]:
    root = ET.fromstring(svn("list", "--xml", url, url=url, deadline=deadline_in(timeout)))
    return [
        Entry(entry.findtext("name", ""), entry.get("kind", ""), _revision(entry), _seconds(entry))
        for entry in root.iter("entry")
    ]


def deadline_in(timeout: float) -> float:
    return time.monotonic() + timeout


def _revision(entry: ET.Element) -> str:
    commit = entry.find("commit")
    return "" if commit is None else commit.get("revision", "")


@dataclass(frozen=True)
class Info:
    kind: str
    last_changed: str
    """The last revision that changed anything at or below it."""
    root: str
    """The URL of its repository."""
    changed_at: float | None = None
    """When that revision was made, in seconds since the epoch."""


def info(url: str, deadline: float) -> Info:
    entry = ET.fromstring(svn("info", "--xml", url, url=url, deadline=deadline)).find("entry")
    if entry is None:
        raise VcsError(f"{public_url(url)}: svn info told nothing")
    root = entry.findtext("repository/root", "")
    return Info(entry.get("kind", ""), _revision(entry), root, _seconds(entry))


def _seconds(entry: ET.Element) -> float | None:
    """svn's date of the entry's last change (``2024-05-01T12:00:00.123456Z``) in seconds."""
    try:
        return datetime.fromisoformat(
            entry.findtext("commit/date", "").replace("Z", "+00:00")
        ).timestamp()
    except ValueError:
        return None

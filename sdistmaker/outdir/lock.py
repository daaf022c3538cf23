"""One run at a time on an OUTDIR, and a word when the run holding it seems to hang.

Runs overlap freely: one that finds OUTDIR locked leaves (the holder does the work). But a
holder that hangs would keep every later run leaving, quietly, while the index stops
changing. So the holder says who it is in a file beside the lock, and touches that file
whenever it gets on (a command or a build step ends, a tag is recorded): every step has a
deadline, so a holder that has not got on for longer than its longest step is stuck, and the
runs that find it so say it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import filelock

from sdistmaker.errors import SdistmakerError
from sdistmaker.outdir import published

LOCK = "lock"
HOLDER = "lock-holder.json"


class LockError(SdistmakerError):
    """OUTDIR cannot be locked (a read-only file system)."""


class Busy(SdistmakerError):
    """Another run holds the lock on OUTDIR."""


class Stalled(SdistmakerError):
    """Another run holds the lock on OUTDIR and has not got on for longer than it may."""


class RunLock:
    def __init__(self, outdir: Path, private: Path) -> None:
        self.outdir = outdir
        self.lock = filelock.FileLock(private / LOCK)
        self.holder = private / HOLDER
        self._touched = 0.0

    @contextlib.contextmanager
    def hold(self, wait: float = 0, stalled_after: float = 3600) -> Iterator[None]:
        """Hold OUTDIR for one run; raise Busy when another run holds it past ``wait``
        seconds, Stalled when that run has not got on for ``stalled_after`` seconds (by its
        own measure)."""
        try:
            self.lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise self._taken() from None
        except OSError as error:  # e.g. OUTDIR on a file system mounted read-only
            raise LockError(
                f"{self.outdir}: cannot lock OUTDIR: {error.strerror or error}"
            ) from None
        try:
            self._introduce(stalled_after)
            yield
        finally:
            self.lock.release()

    def getting_on(self) -> None:
        """Tell runs that find OUTDIR locked that this one is not stuck (at most every few
        seconds: a write of a file's time)."""
        now = time.monotonic()
        if now - self._touched > 5:
            self._touched = now
            with contextlib.suppress(OSError):
                os.utime(self.holder)

    def _introduce(self, stalled_after: float) -> None:
        started = published.now()
        command = " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]])
        holder = {"pid": os.getpid(), "since": started, "command": command}
        self.holder.write_text(json.dumps({**holder, "stalled_after": stalled_after}) + "\n")
        self._touched = time.monotonic()

    def _taken(self) -> SdistmakerError:
        """Busy, or Stalled naming the holder when it has not got on for longer than it may."""
        taken = f"{self.outdir}: another sdistmaker run holds the lock"
        try:
            holder = json.loads(self.holder.read_text())
            quiet = time.time() - self.holder.stat().st_mtime
            stuck = quiet > float(holder["stalled_after"])
            who = f"pid {int(holder['pid'])}, since {holder['since']}: {holder['command']}"
        except (OSError, ValueError, TypeError, KeyError):
            return Busy(taken)  # one that says nothing of itself (yet)
        if not stuck:
            return Busy(taken)
        return Stalled(f"{taken} ({who}) and has not got on for {_duration(quiet)}: it may hang")


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"

"""What every step of a run works on (the settings, the store, its state) and what it reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sdistmaker.config import Config
from sdistmaker.models import Release, Tag
from sdistmaker.outdir.state import State
from sdistmaker.outdir.store import Store

logger = logging.getLogger("sdistmaker")


@dataclass
class Failure:
    subject: str
    """The tag (``project tag``) or repository that failed."""
    reason: str
    new: bool


@dataclass
class Summary:
    built: list[Release] = field(default_factory=list)
    up_to_date: int = 0
    failures: list[Failure] = field(default_factory=list)
    would_build: list[Tag] = field(default_factory=list)

    @property
    def new_failures(self) -> list[Failure]:
        return [failure for failure in self.failures if failure.new]

    @property
    def exit_status(self) -> int:
        """0 when nothing new failed, 1 when something failed for the first time."""
        return 1 if self.new_failures else 0

    def __str__(self) -> str:
        built = (
            f"would build {len(self.would_build)}"
            if self.would_build
            else f"built {len(self.built)}"
        )
        failed = f"failed {len(self.failures)} (new {len(self.new_failures)})"
        return f"{built}, up to date {self.up_to_date}, {failed}"


@dataclass
class Job:
    config: Config
    store: Store
    state: State
    summary: Summary = field(default_factory=Summary)

    def fail(self, subject: str, reason: str, new: bool) -> None:
        self.summary.failures.append(Failure(subject, reason, new))
        if new:
            logger.error("failed %s: %s", subject, reason)
        else:
            logger.debug("still failing %s: %s", subject, reason)

    def skip(self, subject: str, reason: str) -> None:
        """A tag of a repository found by discovery holds no Python project: nothing failed,
        said only with -v."""
        logger.debug("skipped %s: %s", subject, reason)

    def problem(self, key: str, doing: str, message: str) -> None:
        """Report a problem that is not a tag's, said once while it stays the same; ``message``
        names its culprit."""
        new = self.state.problems.get(key) != message
        self.state.problems[key] = message
        self.fail(doing, message, new)

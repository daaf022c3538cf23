"""One run: crawl every configured repository, build the new tags, store them, report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sdistmaker import index, processes, published, serve
from sdistmaker.config import Config
from sdistmaker.crawl import crawl
from sdistmaker.errors import BuildError, SdistmakerError
from sdistmaker.models import Release, Tag
from sdistmaker.names import is_distribution, is_project_name
from sdistmaker.pages import TagFailure
from sdistmaker.published import now
from sdistmaker.store import PRIVATE, AlreadyPublished, State, Store, StoreError, TagRecord, publish
from sdistmaker.temporaries import (
    BuildFolder,
    own_temporary_folder,
    remove_abandoned_build_folders,
)
from sdistmaker.vcs.urls import local_folder, public_url

if TYPE_CHECKING:
    from sdistmaker.build import BuildSettings, Sdist

logger = logging.getLogger("sdistmaker")

Progress = Callable[[int, int, Tag], None]
_FILE = "(file) "
"""Prefix of the problem keys of stored files, beside those of repositories (their URLs: no
URL starts with a parenthesis, while ``file:`` would be a repository's too)."""
_SANDBOX = "(sandbox)"
"""The problem key of builds refused for want of a sandbox."""


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


def run(  # noqa: PLR0913 (the command line's options, by keyword)
    config: Config,
    *,
    dry_run: bool = False,
    retry_failed: bool = False,
    render_only: bool = False,
    wait: float = 0,
    progress: Progress | None = None,
) -> Summary:
    """Build every new release tag the defaults describe and render the index.

    ``render_only`` renders the index without crawling. Raises Busy when another run is going
    (Stalled when it has not got on for longer than it may), ConfigError (before anything is
    built) when a template in TEMPLATES is wrong.
    """
    store = Store(config.outdir)
    # A run gets on at least once in its longest step (each has a deadline), and in what it
    # does between them (rendering, hashing): a run holding the lock longer without is stuck.
    stalled_after = max(config.build_timeout, config.read_timeout) + 600
    with store.lock(wait, stalled_after) as lock, processes.telling(lock.getting_on):
        job = _Run(config, store, dry_run=dry_run, retry_failed=retry_failed)
        try:
            # What killed runs left, found with a look at a few folders: a run with nothing new
            # stays quick.
            store.remove_leftovers()
            remove_abandoned_build_folders()
            if config.templates is not None:
                index.check_templates(store.private, config.templates)
            return job.render(everything=True) if render_only else job.go(progress)
        except OSError as error:
            # A full or read-only disk stops the run: nothing half-done is published or recorded
            # (files and state are staged, then renamed), so the next run does what this could not.
            raise StoreError(_disk_problem(error, config.outdir)) from None


def _disk_problem(error: OSError, outdir: Path) -> str:
    """One line naming the path written to: the target of a copy or rename, else the file,
    else OUTDIR (a failed write or flush names no file; sdistmaker writes below OUTDIR)."""
    path = error.filename2 or error.filename or outdir
    return f"{path}: cannot write: {error.strerror or error}"


class _Run:
    def __init__(self, config: Config, store: Store, *, dry_run: bool, retry_failed: bool) -> None:
        self.config = config
        self.store = store
        self.dry_run = dry_run
        self.retry_failed = retry_failed
        self.state: State = store.load_state()
        self.summary = Summary()

    def go(self, progress: Progress | None) -> Summary:
        if not self.dry_run:
            self._record_folders()
        todo = [tag for tag in self._crawl() if self._needs_build(tag)]
        if self.dry_run:
            for tag in todo:
                logger.info("would build %s (%s)", tag, tag.location)
            self.summary.would_build = todo
        else:
            with own_temporary_folder():
                self._build_all(todo, progress)
            self._upload()
            return self.render()
        return self.summary

    def _record_folders(self) -> None:
        """Once: give the folders of an OUTDIR from before records theirs, so that the state's
        loss does not lose who publishes them."""
        if self.state.folders_recorded:
            return
        for distribution, owner in self.state.owners.items():
            folder = self.config.outdir / distribution
            if is_project_name(distribution) and folder.is_dir():
                published.record_files_of(folder, owner, self.store.private)
        self.state.folders_recorded = True
        self.store.save_state(self.state)

    def _upload(self) -> None:
        """Upload every built file each repository lacks; what fails is tried again next run."""
        if not self.config.upload_to:
            return
        # Only here: twine and what it needs take longer to import than a run with nothing new.
        from sdistmaker.upload import Repository, UploadError, UploadTimedOut

        repositories = [Repository(url) for url in self.config.upload_to]
        silent: set[str] = set()
        """Repositories that did not answer in time: not asked again this run."""
        built = [r for r in self.state.tags.values() if r.status == "built"]
        for relative in [f for record in built for f in (record.file, record.wheel) if f]:
            done = self.state.uploads.setdefault(relative, [])
            for repository in repositories:
                if repository.name in done or repository.name in silent:
                    continue
                try:
                    repository.upload(self.config.outdir / relative, self.config.read_timeout)
                except UploadError as error:
                    if isinstance(error, UploadTimedOut):
                        silent.add(repository.name)
                    self._fail(f"uploading {relative}", str(error), new=True)
                    continue
                done.append(repository.name)
                self.store.save_state(self.state)
                logger.info("uploaded %s to %s", relative, repository.name)

    def render(self, everything: bool = False) -> Summary:
        """Bring the index pages up to date with what the store holds: every project folder,
        or (``everything`` False) those that runs published to since the last render."""
        shown = index.Shown(
            self.config.yanked, self.config.templates, self._tag_failures(), self._placeholders()
        )
        changed = None if everything else self.state.unindexed
        result = index.update(self.config.outdir, self.store.private, shown, changed)
        self.state.unindexed = []
        serve.write_server_rules(
            self.store.private,
            self.config.private_names,
            self.config.source,
            self._known_names(result.projects),
        )
        self._say_whether_hidden()
        for relative, message in result.problems.items():
            self._problem(_FILE + relative, "indexing", message)
        for key, message in [(k, m) for k, m in self.state.problems.items() if k.startswith(_FILE)]:
            relative = key[len(_FILE) :]
            if relative.split("/")[0] not in result.examined:
                self._problem(key, "indexing", message)  # still there: its project is unchanged
            elif relative not in result.problems:
                del self.state.problems[key]
        self.store.save_state(self.state)
        return self.summary

    def _crawl(self) -> list[Tag]:
        return crawl(
            self.config, self.state, self.store.private, self._read, walk=self.retry_failed
        )

    def _read(self, location: str, error: SdistmakerError | None) -> None:
        """A repository could (error None) or could not be read: reported once while the same."""
        if error is None:
            self.state.problems.pop(location, None)
        else:
            self._problem(location, "reading", str(error))

    def _known_names(self, indexed: list[str] | None) -> set[str]:
        """Every project sdistmaker knows: those the crawl has seen, those that publish, and
        those the index lists (``indexed``, None when the index did not look at them)."""
        if indexed is None:
            indexed = index.projects(self.store.private)
        return {*self.state.projects, *self.state.owners, *indexed}

    def _say_whether_hidden(self) -> None:
        """That a web server cannot read OUTDIR is said as loud as a new failure, once while
        it stays so (so that quiet runs say it too: cron mails it); later runs say it as a
        warning. Nothing failed, and the index serves its own user (file://): the exit status
        is not changed."""
        hidden = serve.hidden_from_others(self.config.outdir)
        if hidden:
            level = logging.WARNING if hidden == self.state.hidden else logging.ERROR
            logger.log(level, "%s", hidden)
        self.state.hidden = hidden

    def _placeholders(self) -> set[str]:
        """Projects the crawl has seen that publish nothing yet, by their VCS name."""
        publishing = set(self.state.owners.values())
        return {name for name, key in self.state.projects.items() if key not in publishing}

    def _tag_failures(self, most: int = 10) -> dict[str, list[TagFailure]]:
        """The latest tags that did not build, per distribution their project publishes."""
        distributions = {owner: name for name, owner in self.state.owners.items()}
        failures: dict[str, list[TagFailure]] = {}
        records = sorted(self.state.tags.values(), key=lambda r: r.when, reverse=True)
        for record in records:
            name = distributions.get(record.project_key)
            if record.status == "failed" and name and len(failures.get(name, ())) < most:
                failure = TagFailure(record.name, record.version, record.reason, record.when)
                failures.setdefault(name, []).append(failure)
        return failures

    def _problem(self, key: str, doing: str, message: str) -> None:
        """Report a problem that is not a tag's; ``message`` names its culprit."""
        new = self.state.problems.get(key) != message
        self.state.problems[key] = message
        self._fail(doing, message, new)

    def _fail(self, subject: str, reason: str, new: bool) -> None:
        self.summary.failures.append(Failure(subject, reason, new))
        if new:
            logger.error("failed %s: %s", subject, reason)
        else:
            logger.debug("still failing %s: %s", subject, reason)

    def _needs_build(self, tag: Tag) -> bool:
        record = self.state.tags.get(tag.key)
        if record is None:
            return True
        if record.status == "built":
            if record.identity != tag.identity:
                # A release must never change under its users: keep the published file.
                new = record.retagged != tag.identity
                record.retagged = tag.identity
                self._fail(
                    tag.culprit,
                    f"re-tagged (was {record.identity}, now {tag.identity}); "
                    f"the published {record.file} is kept",
                    new,
                )
            else:
                self.summary.up_to_date += 1
                logger.debug("up to date %s (%s)", tag, record.file)
            return False
        if record.identity != tag.identity or self.retry_failed:
            return True
        self._fail(tag.culprit, record.reason, new=False)
        return False

    def _build_all(self, todo: list[Tag], progress: Progress | None) -> None:
        """Build in JOBS workers; publish and record here, one tag at a time, in crawl order
        (so that a run's result never depends on which build happened to finish first)."""
        if not todo:
            return
        # Only here: PyPA build and the thread pool take longer to import than a run with
        # nothing to build.
        from concurrent.futures import Future, ThreadPoolExecutor

        from sdistmaker.build import BuildSettings
        from sdistmaker.environments import Environments, PrivateNames

        if not self._may_build():
            return
        known = frozenset(self.state.owners) | frozenset(self.state.projects)
        private = PrivateNames(self.config.private_names, known, self.config.outdir)
        settings = BuildSettings(
            self.config.build_timeout,
            self.config.legacy_python,
            self.config.build_environment,
            Environments(self.store.environments, private=private),
            hidden=self._hidden(),
        )
        pool = ThreadPoolExecutor(max_workers=self.config.jobs)
        futures: list[tuple[Tag, Future[_Made]]] = []
        try:
            futures = [(tag, pool.submit(self._make, tag, settings)) for tag in todo]
            for number, (tag, future) in enumerate(futures, 1):
                if progress:
                    progress(number, len(todo), tag)
                made = future.result()
                try:
                    self._accept(tag, made)
                finally:
                    made.folder.remove()
                self.store.save_state(self.state)
        except BaseException:
            # An interrupt or a full disk: the builds still going are of no use now.
            processes.stop_all()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            processes.resume()
            # A run stopped by an error leaves no build folders behind (accepted ones are gone).
            for _, future in futures:
                if future.done() and not future.cancelled() and future.exception() is None:
                    future.result().folder.remove()

    def _may_build(self) -> bool:
        """Whether tags may be built here. That builds run without a sandbox is said as loud as a
        new failure, so that quiet runs say it too (cron mails it), once while it stays so;
        later runs say it as a warning. Nothing failed: the exit status is not changed. As root,
        nothing is built without a sandbox (a tag's code never runs as root): a problem of the
        run, reported once while it lasts, the tags left for a run that can build them."""
        from sdistmaker import sandbox

        sandboxed = sandbox.bubblewrap() is not None
        if not sandboxed and sandbox.build_user() is not None:
            self._problem(_SANDBOX, "building", sandbox.REFUSED_AS_ROOT)
            return False
        self.state.problems.pop(_SANDBOX, None)
        if sandboxed:
            self.state.unsandboxed = False
            return True
        level = logging.WARNING if self.state.unsandboxed else logging.ERROR
        logger.log(level, "builds are not sandboxed: bubblewrap (bwrap) is not available")
        self.state.unsandboxed = True
        return True

    def _hidden(self) -> tuple[Path, ...]:
        """What builds must not read: the defaults file (it may hold passwords), sdistmaker's
        records (the state, other tags' logs, the git mirrors of every repository with all
        their branches, the build environments: a build is given back its own) and the
        repositories read from this machine's disk."""
        local = [folder for _, folder in self.config.local_repositories()]
        folders = [self.config.source, self.store.private, *local]
        return tuple(folder for folder in folders if folder is not None)

    def _make(self, tag: Tag, settings: BuildSettings) -> _Made:
        """Export and build one tag in a folder of its own. Runs in a worker: touches no state."""
        from sdistmaker.build import build_tag, build_wheel

        # Not below OUTDIR: backends look upwards for .gitignore files that are not the tag's.
        made = _Made(BuildFolder(), self._log(tag))
        try:
            try:
                # A folder the build may own (nobody, when sdistmaker is root), in one only
                # sdistmaker's user may enter.
                made.sdist = build_tag(tag, made.folder.path / "tag", settings, made.log)
            except SdistmakerError as error:
                made.error = error
                return made
            if self.config.wheels:
                try:
                    made.wheel = build_wheel(made.sdist, made.folder.path, settings, made.log)
                except SdistmakerError as error:
                    made.wheel_error = error
        except BaseException:  # a full disk stops the run: the tag's folder goes with it
            made.folder.remove()
            raise
        return made

    def _log(self, tag: Tag) -> Path:
        return self.store.log_path(tag.project, tag.name)

    def _accept(self, tag: Tag, made: _Made) -> None:
        record = TagRecord(
            project=tag.project,
            name=tag.name,
            version=tag.version,
            identity=tag.identity,
            status="failed",
            when=now(),
            log=str(made.log.relative_to(self.config.outdir)),
            project_key=tag.project_key,
        )
        self.state.tags[tag.key] = record
        try:
            release = self._publish(tag, made)
        except SdistmakerError as error:
            record.reason = str(error)
            self._fail(tag.culprit, f"{error} (log: {made.log})", new=True)
            return
        record.status = "built"
        record.file = str(release.path.relative_to(self.config.outdir))
        record.distribution = release.distribution
        record.route = release.route
        self.summary.built.append(release)
        logger.info("built %s -> %s", tag, record.file)
        if release.wheel:
            record.wheel = str(release.wheel.relative_to(self.config.outdir))
            logger.info("built %s -> %s", tag, record.wheel)
        logger.debug("%s was built by route %s", record.file, release.route)

    def _publish(self, tag: Tag, made: _Made) -> Release:
        if made.error is not None:
            raise made.error
        assert made.sdist is not None
        sdist = made.sdist
        earlier = sorted(d for d, key in self.state.owners.items() if key == tag.project_key)
        self._claim(sdist.name, tag.project_key)
        if earlier and sdist.name not in earlier:
            # Allowed (projects do get renamed), but installers see a new project: say so.
            logger.warning(
                "renamed %s: publishes %s, earlier tags %s; each keeps its own pages",
                tag.culprit,
                sdist.name,
                ", ".join(earlier),
            )
        if sdist.name not in self.state.unindexed:
            self.state.unindexed.append(sdist.name)
        path = self._store(sdist.path, sdist, tag)
        return Release(tag, path, sdist.name, sdist.route, self._publish_wheel(tag, made))

    def _claim(self, distribution: str, key: str) -> None:
        """Let the VCS project ``key`` publish ``distribution``, unless another does: as the
        state says, or else the record in the project's folder (the state may be lost). A
        folder holding files of a project neither names is not given to a new one."""
        folder = self.config.outdir / distribution
        owner = self.state.owners.get(distribution) or published.read(folder).owner
        if not owner and any(is_distribution(p.name) for p in _entries(folder)):
            raise BuildError(
                f"distribution {distribution} is published already, but neither the state nor "
                f"{folder / published.RECORD} says from which project: not from {key}"
            )
        if owner and owner != key:
            raise BuildError(
                f"distribution {distribution} is already published from {owner}, not from {key}"
            )
        self.state.owners[distribution] = key

    def _publish_wheel(self, tag: Tag, made: _Made) -> Path | None:
        """A wheel that does not build is reported; the sdist stays published all the same."""
        try:
            if made.wheel_error is not None:
                raise made.wheel_error
            if made.wheel is None or made.sdist is None:
                return None
            return self._store(made.wheel, made.sdist, tag)
        except SdistmakerError as error:
            self._fail(tag.culprit, f"{error} (log: {made.log})", new=True)
            return None

    def _store(self, built: Path, sdist: Sdist, tag: Tag) -> Path:
        """Publish ``built``, of ``sdist``'s release. A file of its name that no tag's record
        claims was left by a run killed before it saved the state (files are published first),
        or put there by hand: it is kept and recorded as this tag's, instead of the tag failing
        for good."""
        try:
            return self.store.publish(built, sdist.name, sdist.version, tag.project_key)
        except AlreadyPublished as taken:
            relative = str(taken.path.relative_to(self.config.outdir))
            if any(relative in (r.file, r.wheel) for r in self.state.tags.values()):
                raise
            logger.info("kept %s, published before this tag was recorded", relative)
            return taken.path


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except FileNotFoundError:
        return []


@dataclass
class _Made:
    """What a worker made of one tag, in its own folder, before anything is published."""

    folder: BuildFolder
    log: Path
    sdist: Sdist | None = None
    error: SdistmakerError | None = None
    wheel: Path | None = None
    wheel_error: SdistmakerError | None = None


def make_sdist(
    tag_url: str, destination: str | Path, *, timeout: float = 600, legacy_python: str = ""
) -> Path:
    """Build the tag at ``tag_url`` (svn URL or ``git+URL@TAG``) into ``destination/<project>/``."""
    # Imported here, as in crawl.py: PyPA build loads only when used.
    from sdistmaker import vcs
    from sdistmaker.build import BuildSettings, build_tag

    destination = Path(destination)
    remove_abandoned_build_folders()
    with own_temporary_folder(), BuildFolder() as workdir:
        tag = vcs.for_url(tag_url).tag_from_url(tag_url, workdir)
        log = workdir / "build.log"
        # As in a run: nothing of sdistmaker's records, if the destination is an OUTDIR, nor of
        # the repository, when it is on this machine's disk.
        hidden = [destination / PRIVATE, local_folder(tag.location)]
        settings = BuildSettings(
            timeout, legacy_python, hidden=tuple(path for path in hidden if path is not None)
        )
        try:
            sdist = build_tag(tag, workdir / "work", settings, log)
        except BuildError as error:
            raise BuildError(f"{public_url(tag_url)}: {error}") from None
        try:
            return publish(sdist.path, destination, sdist.name, sdist.version, tag.project_key)
        except OSError as error:
            raise StoreError(_disk_problem(error, destination)) from None

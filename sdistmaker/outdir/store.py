"""The store: published files under OUTDIR/<project>/, and sdistmaker's private state beside them.

Published files are never overwritten or deleted, and appear only complete (copied to a private
temporary name on the same file system, then hard-linked into place). Everything private lives in
OUTDIR/.sdistmaker/, one folder a web server can deny as a whole; no project name can clash with it.
Whatever a run writes in OUTDIR under a temporary name, it writes there too (or in its folders of
environments and git mirrors), so that the next run removes what a killed one left with a look
at three folders.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from sdistmaker import vcs
from sdistmaker.dists.names import is_distribution, is_project_name, names_release
from sdistmaker.errors import StoreError
from sdistmaker.outdir import published, state, temporaries
from sdistmaker.outdir.lock import RunLock
from sdistmaker.outdir.state import State

PRIVATE = ".sdistmaker"


def disk_problem(error: OSError, outdir: Path) -> StoreError:
    """One line naming the path written to: the target of a copy or rename, else the file,
    else OUTDIR (a failed write or flush names no file; sdistmaker writes below OUTDIR)."""
    path = error.filename2 or error.filename or outdir
    return StoreError(f"{path}: cannot write: {error.strerror or error}")


class AlreadyReleased(StoreError):
    """Another file of that kind is published for the same release; it is kept as it is."""


class AlreadyPublished(StoreError):
    """A file of that name is published already; it is kept as it is."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is already published; it is kept as it is")
        self.path = path


class Store:
    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.private = outdir / PRIVATE
        self.state_file = self.private / "state.json"
        self.environments = self.private / "environments"
        self.logs = self.private / "logs"

    def _prepare(self) -> None:
        try:
            make_served_folder(self.outdir)
            self.private.mkdir(exist_ok=True)
        except OSError as error:
            raise StoreError(f"{self.outdir}: cannot create OUTDIR: {error.strerror}") from None

    @contextlib.contextmanager
    def lock(self, wait: float = 0, stalled_after: float = 3600) -> Iterator[RunLock]:
        """Hold OUTDIR for one run (see RunLock.hold): the lock, to say the run gets on."""
        self._prepare()
        lock = RunLock(self.outdir, self.private)
        with lock.hold(wait, stalled_after):
            yield lock

    def remove_leftovers(self) -> None:
        """Remove what runs killed midway left: files being written or published, environments
        and mirrors being made or deleted. For the lock's holder only: no other run writes
        here meanwhile, so every temporary it finds is a dead run's."""
        temporaries.remove_leftovers(self.private)
        # An admin may link these elsewhere, and share them.
        for shared in [self.environments, *(self.private / s.name for s in vcs.systems())]:
            temporaries.remove_leftovers(shared, guarded=True)

    def log_path(self, project: str, tag_name: str) -> Path:
        """The build log of one tag: each (project, tag) its own, below ``logs`` whatever the
        names hold."""
        return self.logs / _file_name(project) / f"{_file_name(tag_name)}.log"

    def load_state(self) -> State:
        return state.load(self.state_file)

    def save_state(self, recorded: State) -> None:
        self._prepare()
        state.save(recorded, self.state_file, self.private)

    def publish(
        self,
        built: Path,
        distribution: str,
        version: str,
        owner: str,
        provenance: Mapping[str, str] | None = None,
    ) -> Path:
        return publish(
            built, self.outdir, distribution, version, owner, self.private, provenance=provenance
        )


def _file_name(name: str) -> str:
    """``name`` (from a VCS: never empty, anything else) as a file name no other name gets.

    What is not ``[A-Za-z0-9._-]`` is percent-encoded (``%`` too, so the encoding is
    reversible), and so is a leading dot: no ``/`` or ``..`` climbs out, no name is hidden.
    A name longer than a file system takes keeps its start, then ``~`` (which the encoding
    never leaves) and a digest of the whole.
    """
    encoded = _NOT_IN_FILE_NAMES.sub(_percent_encoded, name)
    if len(encoded) <= _LONGEST_NAME:
        return encoded
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{encoded[: _LONGEST_NAME - len(digest) - 1]}~{digest}"


_NOT_IN_FILE_NAMES = re.compile(r"^\.|[^A-Za-z0-9._-]")
_LONGEST_NAME = 200
"""Characters: file systems take 255 bytes, and a suffix (``.log``) may follow."""


def _percent_encoded(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


def make_served_folder(folder: Path) -> None:
    """Make ``folder``, and the folders above it that are missing, readable and searchable by
    every user (0755) whatever the umask: a web server serves them as a user of its own."""
    missing = []
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            made.mkdir()
        except FileExistsError:  # another process made it meanwhile: its mode is not ours to set
            continue
        os.chmod(made, 0o755)


def publish(  # noqa: PLR0913 (a file, where, of which release, whose, from where)
    built: Path,
    root: Path,
    distribution: str,
    version: str,
    owner: str,
    staging: Path | None = None,
    *,
    provenance: Mapping[str, str] | None = None,
) -> Path:
    """Put ``built``, a distribution file of release ``distribution`` ``version``, at
    ``root/<distribution>/<name>``: complete or not at all, never replacing, only where no
    other file of its kind (an sdist, a wheel) is that release's, and only where ``owner`` (a
    VCS project's key) publishes, as the folder's record says, with its ``provenance``. It is
    copied into ``staging`` first (on the same file system; by default the project's
    folder)."""
    if not is_project_name(distribution):  # never a path: it names a folder in root
        raise StoreError(f"{distribution!r} is no normalised distribution name")
    # Nor a page, a record or a hidden file of the folder: a file of that release, by its name.
    if not is_distribution(built.name) or not names_release(built.name, distribution, version):
        raise StoreError(f"{built.name!r} names no distribution file of {distribution} {version}")
    folder = root / distribution
    target = folder / built.name
    if target.exists():
        raise AlreadyPublished(target)
    _refuse_another_of_the_release(built.name, folder, distribution, version)
    make_served_folder(folder)
    staging = staging or folder
    with _regular_file(built) as reading:
        _record(folder, built.name, owner, staging, provenance)
        descriptor, partial = temporaries.new_file(staging, built.name)
        try:
            with open(descriptor, "wb") as writing:
                shutil.copyfileobj(reading, writing)
            os.chmod(partial, 0o644)
            _fsync(partial)
            os.link(partial, target)
        except FileExistsError:
            raise AlreadyPublished(target) from None
        finally:
            os.unlink(partial)
    return target


def _record(
    folder: Path, filename: str, owner: str, staging: Path, provenance: Mapping[str, str] | None
) -> None:
    """Note in the folder's record who publishes ``filename``, when, and how it was built,
    before it is published: a record names no file that was not published, or is being
    published (a kill may leave that one out: it shows the file's time)."""
    record = published.read(folder)
    if record.owner and record.owner != owner:
        raise StoreError(f"{folder.name} is published from {record.owner}, not from {owner}")
    record.owner = owner
    record.published.setdefault(filename, published.now())
    if provenance and filename not in record.provenance:
        record.provenance[filename] = dict(provenance)
    published.write(folder, record, staging)


def _refuse_another_of_the_release(
    filename: str, folder: Path, distribution: str, version: str
) -> None:
    """A release is published once: a second sdist of it (tags ``1.0`` and ``v1.0``, or
    ``1.0.0``; a name in another case), or a second wheel for any of the same platforms, would
    hold other content, and which one ``==1.0`` installs would depend on the order installers
    list them. Wheels of one release for other platforms are its own (a mirrored release has
    many)."""
    kind = _kind(filename)
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            if (
                is_distribution(entry.name)
                and _kind(entry.name) & kind
                and names_release(entry.name, distribution, version)
            ):
                raise AlreadyReleased(
                    f"{distribution} {version} is published already, as {folder.name}/{entry.name}"
                )


def _kind(filename: str) -> frozenset[str]:
    """What a distribution file is for: an sdist for everywhere, a wheel for its platforms."""
    if not filename.endswith(".whl"):
        return frozenset({"sdist"})
    try:
        return frozenset(str(tag) for tag in parse_wheel_filename(filename)[3])
    except InvalidWheelFilename:
        return frozenset({filename})


@contextlib.contextmanager
def _regular_file(built: Path) -> Iterator[BinaryIO]:
    """``built`` opened for reading, when it is a regular file: a tag builds it, and a link or
    a pipe in its place would publish the server's files, or a copy without end."""
    try:
        descriptor = os.open(built, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise StoreError(f"{built.name} is a link, not a regular file") from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise StoreError(f"{built.name} is not a regular file")
    with open(descriptor, "rb") as reading:
        yield reading


def _fsync(path: str) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())

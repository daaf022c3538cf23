"""Another package repository: what it offers (its simple index, read with pypi-simple), a
file of it downloaded and checked, and uploads of what sdistmaker built (with twine).

Credentials follow twine's conventions (TWINE_USERNAME and TWINE_PASSWORD, keyring, or given
here); they never reach a log, a page, the state or an error message.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import socket
import ssl
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

import requests
from packaging.version import Version

from sdistmaker.errors import SdistmakerError
from sdistmaker.urls import public_url, redact
from sdistmaker.vcs.base import STALL_SECONDS

if TYPE_CHECKING:
    from pypi_simple import ProjectPage

logger = logging.getLogger(__name__)


class UploadError(SdistmakerError):
    """An upload failed; the message names the repository, never a password."""


class DownloadError(SdistmakerError):
    """Reading a repository failed; the message names it, never a password."""


class UploadTimedOut(UploadError):
    """The repository did not answer in time: its other files wait for the next run."""


@contextlib.contextmanager
def _silence_limited(seconds: float) -> Iterator[None]:
    """Sockets made meanwhile give up after ``seconds`` without a byte (requests, and so twine,
    set no timeout of their own and take the default)."""
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)


@dataclass(frozen=True)
class Distribution:
    """One file a repository offers."""

    name: str
    """The project's normalised name."""
    version: str
    filename: str
    url: str
    sha256: str
    requires_python: str = ""
    yanked: str | None = None
    """Why it was yanked ("" when no reason was given); None when it was not."""


@dataclass(frozen=True)
class Repository:
    """A package repository: its upload URL (what twine calls --repository-url) and, to read
    what it offers, its simple index (by default the upload URL's ``simple/``, as pypiserver,
    devpi's ``+simple`` aside, and most others have it)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    index: str = ""
    network: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    """How to reach it: proxies and certificates in the variables installers are given
    (BUILD_ENVIRONMENT's), so that sdistmaker reaches it as they do; None: as this process's
    environment says."""

    @property
    def name(self) -> str:
        return public_url(self.url)

    @property
    def simple(self) -> str:
        return self.index or self.url.rstrip("/") + "/simple/"

    def distributions(self, requirement: str, timeout: float = 600) -> list[Distribution]:
        """The files the repository offers of the releases ``requirement`` (``"celery>=3.0.15"``)
        allows, oldest first, each with its sha256 (files without one are left out: they could
        not be checked)."""
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name
        from pypi_simple import NoSuchProjectError, PyPISimple

        try:
            wanted = Requirement(requirement)
        except InvalidRequirement as error:
            raise DownloadError(f"{requirement!r} is no requirement: {error}") from None
        try:
            if urlsplit(self.simple).scheme == "file":  # an index on this machine's disk
                page = _page_on_disk(self.simple, canonicalize_name(wanted.name))
            else:
                session = self._session(self.simple)
                with PyPISimple(self.simple, auth=self._credentials(), session=session) as client:
                    page = client.get_project_page(wanted.name, timeout=min(timeout, STALL_SECONDS))
        except (NoSuchProjectError, FileNotFoundError, NotADirectoryError):
            return []
        except (requests.RequestException, ValueError, OSError) as error:
            raise DownloadError(f"{public_url(self.simple)}: {self._said(error)}") from None
        offered = [
            Distribution(
                canonicalize_name(wanted.name),
                package.version,
                package.filename,
                package.url,
                package.digests["sha256"],
                package.requires_python or "",
                (package.yanked_reason or "") if package.is_yanked else None,
            )
            for package in page.packages
            if package.version is not None
            and "sha256" in package.digests
            and wanted.specifier.contains(package.version, prereleases=True)
        ]
        return sorted(offered, key=lambda d: (_version(d.version), d.filename))

    def download(self, distribution: Distribution, folder: Path, timeout: float = 600) -> Path:
        """``distribution`` as ``folder/<its file name>``, whole and of the sha256 the index gave,
        or not at all (DownloadError)."""
        target = folder / distribution.filename
        partial = folder / f".{distribution.filename}.part"
        deadline = time.monotonic() + timeout
        try:
            if urlsplit(distribution.url).scheme == "file":  # an index on this machine's disk
                local = url2pathname(urlsplit(distribution.url).path)
                with open(local, "rb") as reading:
                    digest = _copied(iter(lambda: reading.read(1 << 16), b""), partial, deadline)
            else:
                with self._session(distribution.url) as session:
                    # The index's credentials go to the index's host alone (PyPI's files, for
                    # one, are on another).
                    same = urlsplit(distribution.url).netloc == urlsplit(self.simple).netloc
                    session.auth = self._credentials() if same else None
                    response = session.get(distribution.url, stream=True, timeout=STALL_SECONDS)
                    response.raise_for_status()
                    digest = _copied(response.iter_content(1 << 16), partial, deadline)
        except (requests.RequestException, OSError) as error:
            partial.unlink(missing_ok=True)
            raise DownloadError(f"{public_url(distribution.url)}: {self._said(error)}") from None
        if digest != distribution.sha256:
            partial.unlink()
            raise DownloadError(
                f"{public_url(distribution.url)}: sha256 {digest}, not {distribution.sha256} as "
                "the index says: refused"
            )
        partial.rename(target)
        return target

    def _session(self, url: str) -> requests.Session:
        """A session for ``url``, reaching it as ``network`` says when given."""
        session = requests.Session()
        if self.network is not None:
            # Hooks and cron start with an almost empty environment: only what the run was
            # given counts, as for the installers.
            session.trust_env = False
            session.proxies = _proxies(url, self.network)
            session.verify = _certificates(self.network)
        return session

    def _credentials(self) -> tuple[str, str] | None:
        username = self.username or os.environ.get("TWINE_USERNAME")
        password = self.password or os.environ.get("TWINE_PASSWORD")
        if username and password:
            return (username, password)
        # A token given as the user name alone (https://TOKEN@host/), sent as pip sends it.
        return (self.username, "") if self.username else None

    def _said(self, error: BaseException) -> str:
        """What went wrong, in one line, without a password."""
        reason = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
        password = self.password or os.environ.get("TWINE_PASSWORD")
        return reason.replace(password, "***") if password else reason

    def upload(self, path: Path, timeout: float = 600) -> None:
        """Upload ``path``; a file the repository already has counts as uploaded. Raise
        UploadTimedOut after ``timeout`` seconds, or when the repository stays silent for a
        minute: twine waits for ever for a server that accepts a connection and never answers.
        An upload given up on goes on in the background as long as the run does; the next run
        finds the file there, or tries again."""
        failed: list[UploadError] = []

        def attempt() -> None:
            try:
                self._upload(path)
            except UploadError as error:
                failed.append(error)

        with _silence_limited(min(timeout, STALL_SECONDS)):
            worker = threading.Thread(target=attempt, daemon=True)
            worker.start()
            worker.join(timeout)
        if worker.is_alive():
            raise UploadTimedOut(f"{self.name}: {path.name} not uploaded: timed out")
        if failed:
            raise failed[0]

    def _upload(self, path: Path) -> None:
        # Only here: twine takes longer to import than a run with nothing to upload.
        from twine.commands import upload as twine_upload
        from twine.exceptions import TwineException
        from twine.package import PackageFile
        from twine.settings import Settings

        # As twine's command line does: given values first, then its variables (then keyring,
        # asked by twine as it uploads: a password missing everywhere is its NonInteractive).
        password = self.password or os.environ.get("TWINE_PASSWORD")
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                settings = Settings(
                    repository_url=self.url,
                    username=self.username or os.environ.get("TWINE_USERNAME"),
                    password=password,
                    non_interactive=True,
                    disable_progress_bar=True,
                )
                twine_upload.upload(settings, [str(path)])
        except requests.HTTPError as error:
            response = error.response
            if response is None:
                raise UploadError(f"{self.name}: {path.name} refused") from None
            # twine's own rule for "the repository has this file already" (its --skip-existing
            # is refused for repositories other than PyPI).
            if twine_upload.skip_upload(response, True, PackageFile.from_filename(str(path), None)):
                logger.debug("%s has %s already", self.name, path.name)
                return
            status = f"{response.status_code} {response.reason}"
            raise UploadError(f"{self.name}: {path.name} refused: {status}") from None
        except (
            requests.RequestException,
            TwineException,
            OSError,
            ValueError,
            tarfile.TarError,
            zipfile.BadZipFile,
        ) as error:
            reason = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
            if password:
                reason = reason.replace(password, "***")
            raise UploadError(f"{self.name}: {path.name} not uploaded: {reason}") from None
        finally:
            logger.debug("twine said: %s", output.getvalue().strip())


def _proxies(url: str, variables: Mapping[str, str]) -> dict[str, str]:
    """The proxy ``variables`` name for ``url``, as curl, pip and uv read them (lower case
    first; NO_PROXY's hosts and domains reached directly)."""

    def given(name: str) -> str:
        return variables.get(name.lower()) or variables.get(name.upper()) or ""

    scheme = urlsplit(url).scheme
    proxy = given(f"{scheme}_proxy") or given("all_proxy")
    direct = given("no_proxy")
    if not proxy or (direct and requests.utils.should_bypass_proxies(url, no_proxy=direct)):
        return {}
    return {scheme: proxy}


def _certificates(variables: Mapping[str, str]) -> str | bool:
    """The certificates ``variables`` name (requests', then OpenSSL's variables), else the
    system's store, as uv is told to use it and pip does."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        if variables.get(name):
            return variables[name]
    system = ssl.get_default_verify_paths()
    for path in (system.cafile, system.capath):
        if path and os.path.exists(path):
            return path
    return True


def _version(text: str) -> Version:
    return Version(text)


def _page_on_disk(simple: str, name: str) -> ProjectPage:
    """The project page of ``name`` in the index at the file URL ``simple``: its
    ``index.html``, as pip and uv read an index on disk."""
    from pypi_simple import ProjectPage

    url = f"{simple.rstrip('/')}/{name}/"
    html = Path(url2pathname(urlsplit(url).path), "index.html").read_bytes()
    return ProjectPage.from_html(name, html, base_url=url)


def _copied(chunks: Iterator[bytes], partial: Path, deadline: float) -> str:
    """Write ``chunks`` into ``partial`` by ``deadline`` (``time.monotonic()``); their sha256."""
    digest = hashlib.sha256()
    with open(partial, "wb") as writing:
        for chunk in chunks:
            if time.monotonic() > deadline:
                raise OSError("download timed out")
            digest.update(chunk)
            writing.write(chunk)
    return digest.hexdigest()

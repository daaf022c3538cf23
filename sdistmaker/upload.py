"""Publishing: upload what sdistmaker built to other package repositories, with twine.

Credentials follow twine's conventions (TWINE_USERNAME and TWINE_PASSWORD, keyring, or given
here); they never reach a log, a page, the state or an error message.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
from twine.commands import upload as twine_upload
from twine.exceptions import TwineException
from twine.package import PackageFile
from twine.settings import Settings

from sdistmaker.errors import SdistmakerError
from sdistmaker.urls import public_url, redact
from sdistmaker.vcs.base import STALL_SECONDS

logger = logging.getLogger(__name__)


class UploadError(SdistmakerError):
    """An upload failed; the message names the repository, never a password."""


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
class Repository:
    """A package repository's upload URL (what twine calls --repository-url)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return public_url(self.url)

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

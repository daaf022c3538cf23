"""One file from the upstream index: downloaded by a deadline, kept only when its hash is the one
upstream gave."""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.request
from pathlib import Path

from sdistmaker.mirroring.resolve import MirrorError, UpstreamFile
from sdistmaker.urls import public_url
from sdistmaker.vcs.base import STALL_SECONDS


def download(file: UpstreamFile, folder: Path, deadline: float) -> Path:
    """``file``, downloaded into ``folder`` under its own name. Raises MirrorError naming the URL
    when it cannot be had whole and as upstream said, leaving nothing."""
    path = folder / file.filename
    digest = hashlib.sha256()
    try:
        with (
            open(path, "xb") as writing,
            urllib.request.urlopen(file.url, timeout=STALL_SECONDS) as reading,
        ):
            while chunk := reading.read(1 << 16):
                if time.monotonic() > deadline:
                    raise MirrorError(f"{public_url(file.url)}: download timed out")
                digest.update(chunk)
                writing.write(chunk)
        if digest.hexdigest() != file.sha256:
            raise MirrorError(
                f"{public_url(file.url)}: sha256 {digest.hexdigest()}, not {file.sha256} as the "
                "index says: refused"
            )
    except (OSError, urllib.error.URLError) as error:
        path.unlink(missing_ok=True)
        raise MirrorError(f"{public_url(file.url)}: {error}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path

"""Files replaced in one step: a reader sees the old content or the new, never a part."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sdistmaker.outdir import temporaries


def write_atomically(path: Path, data: bytes, staging: Path, durable: bool = True) -> None:
    """Replace ``path`` in one step: readers see the old content or the new, never a part.

    The new content is written in ``staging`` first, a folder on the same file system (OUTDIR's
    private one, where the next run finds what a killed one was writing, however many folders
    it writes to). ``durable`` also waits for the disk; pages, which can always be rendered
    again, skip that.
    """
    descriptor, partial = temporaries.new_file(staging, path.name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise

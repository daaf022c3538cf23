"""One tag, given by its URL, built into a destination folder (``make_sdist``)."""

from __future__ import annotations

from pathlib import Path

from sdistmaker.errors import BuildError
from sdistmaker.outdir.store import PRIVATE, disk_problem, publish
from sdistmaker.outdir.temporaries import (
    BuildFolder,
    own_temporary_folder,
    remove_abandoned_build_folders,
)
from sdistmaker.urls import public_url


def make_sdist(
    tag_url: str, destination: str | Path, *, timeout: float = 600, legacy_python: str = ""
) -> Path:
    """Build the tag at ``tag_url`` (as a registered version-control system takes it: an svn tag
    URL, ``git+URL@TAG``) into ``destination/<project>/``."""
    # Imported here, as in crawl.py: PyPA build loads only when used.
    from sdistmaker import vcs
    from sdistmaker.building.build import BuildSettings, build_tag

    destination = Path(destination)
    remove_abandoned_build_folders()
    with own_temporary_folder(), BuildFolder() as workdir:
        system = vcs.for_url(tag_url)
        tag = system.tag_from_url(tag_url, workdir)
        log = workdir / "build.log"
        # As in a run: nothing of sdistmaker's records, if the destination is an OUTDIR, nor of
        # the repository, when it is on this machine's disk.
        hidden = [destination / PRIVATE, system.local_folder(tag.location)]
        settings = BuildSettings(
            timeout, legacy_python, hidden=tuple(path for path in hidden if path is not None)
        )
        try:
            sdist = build_tag(tag, workdir / "work", settings, log)
        except BuildError as error:
            raise BuildError(f"{public_url(tag_url)}: {error}") from None
        try:
            return publish(
                sdist.path,
                destination,
                sdist.name,
                sdist.version,
                tag.project_key,
                provenance=sdist.provenance(tag),
            )
        except OSError as error:
            raise disk_problem(error, destination) from None

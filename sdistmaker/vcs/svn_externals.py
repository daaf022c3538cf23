"""svn:externals, checked before an export follows them: only the tag's own repository, and those
SVN_EXTERNALS_FROM names, may bring content into a tag."""

from __future__ import annotations

import functools
import posixpath
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from sdistmaker.errors import VcsError
from sdistmaker.urls import public_url
from sdistmaker.vcs.svn_command import svn


class Externals:
    """The svn:externals a tag's export would follow, checked first: one from another
    repository would bring into the sdist what sdistmaker can read there, which the tag's
    committer may not. Externals in the tag's repository are followed, and checked in turn."""

    DEEPEST = 8

    def __init__(
        self,
        location: str,
        deadline: float,
        roots: Callable[[float], tuple[str, ...]],
        externals_from: Sequence[str],
    ) -> None:
        self.location = location
        """The tag's, for messages."""
        self.deadline = deadline
        self._roots = roots
        """The repository's URL as read, and as BASE names it, asked by a deadline."""
        self.externals_from = externals_from
        """SVN_EXTERNALS_FROM."""
        self.seen: set[str] = set()

    @functools.cached_property
    def roots(self) -> tuple[str, ...]:
        # Asked only of a tag that has externals: most have none.
        return self._roots(self.deadline)

    @functools.cached_property
    def allowed(self) -> list[str]:
        urls = [*self.roots, *self.externals_from]
        return [_comparable(url).rstrip("/") for url in urls]

    def refuse_any_from_elsewhere(
        self, target: str, revision: Sequence[str] = (), depth: int = 0
    ) -> None:
        if target in self.seen:
            return
        self.seen.add(target)
        command = ("propget", "-R", "--xml", *revision, "svn:externals", target)
        listing = ET.fromstring(svn(*command, url=self.location, deadline=self.deadline))
        for found in listing.iter("target"):
            folder = found.get("path", "")
            for url, operative in _definitions(found.findtext("property", "")):
                external = _absolute(url, folder, self.roots[0])
                if not self._allowed(external):
                    raise VcsError(
                        f"{self.location}: svn:externals on {public_url(folder)} bring in "
                        f"{public_url(_without_peg(external))} from another repository: refused "
                        "(SVN_EXTERNALS_FROM names those that may)"
                    )
                if depth == self.DEEPEST:
                    raise VcsError(f"{self.location}: svn:externals nested too deep")
                self.refuse_any_from_elsewhere(external, operative, depth + 1)

    def _allowed(self, url: str) -> bool:
        address = _comparable(_without_peg(url))
        return any(address == prefix or address.startswith(prefix + "/") for prefix in self.allowed)


def _definitions(value: str) -> Iterator[tuple[str, list[str]]]:
    """Each definition of an svn:externals value: its URL (perhaps relative, perhaps with a peg
    revision) and the operative revision's arguments (``-r N``). Both of svn's formats: ``[-r N]
    URL[@PEG] PATH`` and, from before svn 1.5, ``PATH [-r N] URL``."""
    for line in value.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            raise VcsError(f"an svn:externals line svn cannot read either: {line!r}") from None
        revision: list[str] = []
        rest: list[str] = []
        for word in words:
            if revision == ["-r"]:
                revision.append(word)
            elif word.startswith("-r"):
                revision = ["-r", word[2:]] if word != "-r" else ["-r"]
            else:
                rest.append(word)
        if len(rest) != 2:
            raise VcsError(f"an svn:externals line svn cannot read either: {line!r}")
        yield (rest[0] if _is_url(rest[0]) else rest[1]), revision


def _is_url(word: str) -> bool:
    return "://" in word or word.startswith(("^/", "../", "/"))


def _absolute(url: str, folder: str, root: str) -> str:
    """``url`` from an svn:externals property of ``folder``, made absolute as svn does: ``^/``
    from the repository's root, ``../`` from the folder, ``//`` with its scheme, ``/`` on its
    server; ``..`` resolved."""
    if url.startswith("^/"):
        joined = f"{root}/{url[2:]}"
    elif url.startswith("../"):
        joined = f"{folder}/{url}"
    elif url.startswith("//"):
        joined = f"{urlsplit(folder).scheme}:{url}"
    elif url.startswith("/"):
        parts = urlsplit(folder)
        joined = f"{parts.scheme}://{parts.netloc}{url}"
    else:
        joined = url
    parts = urlsplit(joined)
    path = posixpath.normpath(parts.path) if parts.path else ""
    return urlunsplit(parts._replace(path="" if path == "." else path))


def _without_peg(url: str) -> str:
    """``url`` without its peg revision (``…/lib@1234``): svn's last ``@`` after the last ``/``."""
    at = url.rfind("@")
    return url[:at] if at > url.rfind("/") else url


def _comparable(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))

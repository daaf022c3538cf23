"""The serve stage: what the web server configurations in apache/ and nginx/ read from OUTDIR.

They serve OUTDIR as it is; sdistmaker writes them only the rules that come from what it knows:
the names that must never be looked up upstream even when no folder of that name is in sight.
Those are the names PRIVATE_NAMES matches, and every project sdistmaker knows: a folder the
server cannot read, or one missing while OUTDIR is restored, must not send its installers to a
public index that may hold a project of that name (dependency confusion).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from sdistmaker.dists.names import is_project_name
from sdistmaker.outdir.atomic import write_atomically

APACHE_RULES = "private-names.apache.conf"
NGINX_RULES = "private-names.nginx.conf"
APACHE_ACCESS = "access.apache.conf"
PATTERN_LENGTH = 3000
"""The longest pattern of known names: nginx takes no parameter of 4 KiB or more, and PCRE no
pattern compiling to more than 64 KiB. A name is matched against as many as it takes."""


def name_pattern(globs: Sequence[str]) -> str:
    """One regular expression (PCRE, as Apache and nginx use) matching normalised names.

    ``acme-*`` matches acme-utils and, as names are normalised first, Acme_Web too.
    """
    alternatives = []
    for glob in globs:
        parts = re.split(r"([*?])", glob)
        regex = "".join(
            "[^/]*" if part == "*" else "[^/]" if part == "?" else re.escape(_normalise(part))
            for part in parts
        )
        alternatives.append(regex)
    return "^(?:" + "|".join(alternatives) + ")$"


def known_patterns(names: Sequence[str]) -> list[str]:
    """Regular expressions that match exactly ``names`` (normalised: letters, digits and "-",
    nothing to escape), each at most PATTERN_LENGTH long."""
    chunks: list[list[str]] = []
    length = PATTERN_LENGTH
    for name in names:
        length += len(name) + 1
        if length > PATTERN_LENGTH:
            chunks.append([])
            length = len("^(?:)$") + len(name)
        chunks[-1].append(name)
    return ["^(?:" + "|".join(chunk) + ")$" for chunk in chunks]


def _normalise(fragment: str) -> str:
    # PEP 503's rule, applied to a fragment of a name ("acme_" before a "*").
    return re.sub(r"[-_.]+", "-", fragment).lower()


def write_server_rules(
    private: Path,
    globs: Sequence[str],
    source: Path | None,
    known: Collection[str],
    access: Mapping[str, Sequence[str]],
) -> None:
    """Write the rules for Apache and nginx by which the names PRIVATE_NAMES matches and the
    ``known`` projects answer 404 when no folder of theirs is in sight, and those ``access``
    (ACCESS) keeps from other readers, when they changed."""
    names = sorted({name for name in known if is_project_name(name)})
    origin = f"PRIVATE_NAMES and ACCESS in {source}" if source else "PRIVATE_NAMES and ACCESS"
    header = (
        f"# Written by sdistmaker from {origin} and the projects it knows ({len(names)}), "
        "again when they change: then reload the web server (README.rst, Serving it).\n"
    )
    patterns = ([name_pattern(globs)] if globs else []) + known_patterns(names)
    apache = header + "".join(
        f'RewriteCond %{{ENV:SDISTMAKER_MISSING}} "{pattern}"'
        + (" [OR]\n" if number < len(patterns) else "\n")
        for number, pattern in enumerate(patterns, 1)
    )
    apache += "RewriteRule ^ - [R=404,L]\n" if patterns else ""
    nginx = header + 'set $sdistmaker_private "";\n'
    nginx += "".join(
        f'if ($sdistmaker_project ~ "{pattern}") {{\n    set $sdistmaker_private 1;\n}}\n'
        for pattern in patterns
    )
    # ACCESS for nginx: "pattern reader" pairs, the patterns unanchored (a "$" would be an
    # nginx variable), read by its Perl ($sdistmaker_served).
    readers = ";".join(f"{name_pattern(g)[1:-1]} {reader}" for reader, g in sorted(access.items()))
    nginx += f'set $sdistmaker_access "{readers}";\n'
    access_rules = header + _apache_access(access)
    for name, text in ((APACHE_RULES, apache), (NGINX_RULES, nginx), (APACHE_ACCESS, access_rules)):
        path = private / name
        if not path.exists() or path.read_text() != text:
            write_atomically(path, text.encode(), private)


def _apache_access(access: Mapping[str, Sequence[str]]) -> str:
    """ACCESS for Apache: for each reader, a URL that only it may read (asked by subrequest),
    and rules that mark a project it may read as readable, one any reader may read as
    restricted."""
    rules = []
    for number, (reader, globs) in enumerate(sorted(access.items()), 1):
        probe = f"${{SDISTMAKER_PREFIX}}/.sdistmaker-access/{number}"
        pattern = name_pattern(globs)
        rules.append(
            f'<LocationMatch "^${{SDISTMAKER_PREFIX}}/\\.sdistmaker-access/{number}$">\n'
            f"    Require user {reader}\n"
            "    <IfDefine SDISTMAKER_AUTH_GROUP_FILE>\n"
            f"        Require group {reader}\n"
            "    </IfDefine>\n"
            "</LocationMatch>\n"
            f'RewriteCond %{{ENV:SDISTMAKER_PROJECT}} "{pattern}"\n'
            "RewriteRule ^ - [E=SDISTMAKER_RESTRICTED:1]\n"
            f'RewriteCond %{{ENV:SDISTMAKER_PROJECT}} "{pattern}"\n'
            f'RewriteCond "{probe}" -U\n'
            "RewriteRule ^ - [E=SDISTMAKER_READABLE:1]\n"
        )
    return "".join(rules)


def hidden_from_others(outdir: Path) -> str:
    """Why other users, a web server's among them, cannot read ``outdir``: a folder on the way
    to it they may not search, or ``outdir`` itself they may not list; empty when they can."""
    absolute = Path(os.path.abspath(outdir))
    for folder in _on_the_way(absolute):
        try:
            mode = folder.stat().st_mode
        except OSError:  # hidden from this user too: writing there fails, and says so
            return ""
        if not mode & stat.S_IXOTH:
            return f"{outdir} is hidden from other users (a web server): {folder} lacks o+x"
    if not absolute.stat().st_mode & stat.S_IROTH:
        return f"{outdir} is hidden from other users (a web server): it lacks o+r"
    return ""


def _on_the_way(path: Path) -> list[Path]:
    """The folders a user passes to reach ``path`` (absolute), itself included: those it names,
    then those its links lead to."""
    folders: list[Path] = []
    for named in (path, path.resolve()):
        folders += [f for f in (*reversed(named.parents), named) if f not in folders]
    return folders

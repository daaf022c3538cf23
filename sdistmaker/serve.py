"""The serve stage: what the web server configurations in apache/ and nginx/ read from OUTDIR.

They serve OUTDIR as it is; sdistmaker writes them only the rules that come from the defaults
file: the names that are private, and so must never be looked up upstream even when no project
of that name is here (yet).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from sdistmaker.atomic import write_atomically

APACHE_RULES = "private-names.apache.conf"
NGINX_RULES = "private-names.nginx.conf"


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


def _normalise(fragment: str) -> str:
    # PEP 503's rule, applied to a fragment of a name ("acme_" before a "*").
    return re.sub(r"[-_.]+", "-", fragment).lower()


def write_server_rules(private: Path, globs: Sequence[str], source: Path | None) -> None:
    """Write the private-name rules for Apache and nginx, when they changed."""
    origin = f"PRIVATE_NAMES in {source}" if source else "PRIVATE_NAMES"
    header = f"# Written by sdistmaker from {origin}; reload the server after a change.\n"
    apache = header
    nginx = header + 'set $sdistmaker_private "";\n'
    if globs:
        pattern = name_pattern(globs)
        apache += (
            f'RewriteCond %{{ENV:SDISTMAKER_MISSING}} "{pattern}"\nRewriteRule ^ - [R=404,L]\n'
        )
        nginx += f'if ($sdistmaker_project ~ "{pattern}") {{\n    set $sdistmaker_private 1;\n}}\n'
    for name, text in ((APACHE_RULES, apache), (NGINX_RULES, nginx)):
        path = private / name
        if not path.exists() or path.read_text() != text:
            write_atomically(path, text.encode(), private)

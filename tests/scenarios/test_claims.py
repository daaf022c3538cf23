"""Which names the index takes from PyPI, end to end over a real svn repository, as cron runs
sdistmaker: only a project with a release tag claims its name (a page of its own, and a place in
the rules the web servers read), and one left with none that published nothing gives it back.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers.index_checks import assert_consistent, assert_links_resolve, listed
from helpers.projects import setup_py_project, write_defaults
from helpers.repositories import SvnRepository
from sdistmaker.cli import sdists_from_tags
from sdistmaker.index.rules import APACHE_RULES, NGINX_RULES
from sdistmaker.outdir.store import Store


def known_names(outdir: Path) -> list[str]:
    """The names the rules for Apache and nginx keep from PyPI, the same in both."""
    found = []
    for rules in (APACHE_RULES, NGINX_RULES):
        text = (outdir / ".sdistmaker" / rules).read_text()
        patterns = re.findall(r'"\^\(\?:([^)"]*)\)\$"', text)
        found.append(sorted(name for pattern in patterns for name in pattern.split("|")))
    assert found[0] == found[1]
    return found[0]


def served(outdir: Path) -> list[str]:
    """What OUTDIR holds for the web servers: folders and pages, none of sdistmaker's own."""
    return sorted(path.name for path in outdir.iterdir() if not path.name.startswith("."))


def run(defaults: Path, *options: str) -> int:
    return sdists_from_tags(["-q", *options, "-d", str(defaults)])


def assert_acme_utils_alone(outdir: Path) -> None:
    """OUTDIR serves acme.utils alone, and the rules keep its name alone from PyPI."""
    assert served(outdir) == ["+", "acme-utils", "index.html", "index.json"]
    assert sorted(path.name for path in (outdir / "+").iterdir()) == [
        "acme-utils.atom",
        "acme-utils.html",
        "index.atom",
        "index.html",
    ]
    assert listed(outdir) == {"acme-utils": ["acme_utils-1.0.tar.gz"]}
    assert known_names(outdir) == ["acme-utils"]
    assert_consistent(outdir)
    assert_links_resolve(outdir)


def test_a_trunk_only_folder_below_base_claims_no_name(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    """docs/website has a trunk and an empty tags folder, docs/handbook a trunk alone: neither
    is a release, and PyPI's website and handbook stay in reach. A placeholder an earlier
    version gave website retires."""
    svn_repository.add_project("libs/acme.utils", setup_py_project("acme.utils", "1.0"))
    svn_repository.tag("libs/acme.utils", "1.0")
    svn_repository.add_project("docs/website", {"index.rst": "Our website\n"})
    svn_repository.mkdir("docs/handbook/trunk")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    outdir = tmp_path / "out"
    assert run(defaults) == 0
    assert_acme_utils_alone(outdir)

    # As an earlier version claimed it: a placeholder, in the rules.
    store = Store(outdir)
    state = store.load_state()
    state.projects["website"] = f"svn:{svn_repository.url}/docs/website"
    store.save_state(state)
    assert run(defaults, "--render-only") == 0
    assert served(outdir) == ["+", "acme-utils", "index.html", "index.json", "website"]
    assert known_names(outdir) == ["acme-utils", "website"]

    # Nothing changed below BASE: the crawl recalls what it read, and the claim goes with it.
    assert run(defaults) == 0
    assert_acme_utils_alone(outdir)
    assert "website" not in store.load_state().projects


def test_a_project_left_with_no_release_tag_gives_its_name_back_unless_it_published(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    """acme.broken's only tag does not build: a placeholder keeps its name. Once that tag is
    deleted, the placeholder retires. acme.utils's tag, deleted too, published a file: its
    pages and file stay."""
    svn_repository.add_project("libs/acme.utils", setup_py_project("acme.utils", "1.0"))
    svn_repository.tag("libs/acme.utils", "1.0")
    broken = {"setup.py": "raise RuntimeError('not yet')\n"}
    svn_repository.add_project("libs/acme.broken", broken)
    svn_repository.tag("libs/acme.broken", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    outdir = tmp_path / "out"
    assert run(defaults) == 1
    assert served(outdir) == ["+", "acme-broken", "acme-utils", "index.html", "index.json"]
    assert listed(outdir) == {"acme-broken": [], "acme-utils": ["acme_utils-1.0.tar.gz"]}
    assert known_names(outdir) == ["acme-broken", "acme-utils"]
    published = (outdir / "acme-utils" / "acme_utils-1.0.tar.gz").read_bytes()

    svn_repository.delete("libs/acme.broken/tags/1.0")
    svn_repository.delete("libs/acme.utils/tags/1.0")
    assert run(defaults) == 0
    assert_acme_utils_alone(outdir)
    assert (outdir / "acme-utils" / "acme_utils-1.0.tar.gz").read_bytes() == published

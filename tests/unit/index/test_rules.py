"""What sdistmaker writes for the web servers, and the placeholder pages they rely on."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, sdist, write_defaults
from helpers.repositories import GitRepository, SvnRepository
from sdistmaker.cli import sdists_from_tags
from sdistmaker.index.rules import (
    APACHE_ACCESS,
    APACHE_RULES,
    NGINX_RULES,
    PATTERN_LENGTH,
    known_patterns,
    name_pattern,
)

MakeGit = Callable[[str], GitRepository]


@pytest.mark.parametrize(
    ("globs", "private", "public"),
    [
        (["acme-*"], ["acme-utils", "acme-", "acme-web-2"], ["acme", "not-acme-x", "acmeutils"]),
        (["Acme_*"], ["acme-utils"], ["acmeutils"]),
        (["internal", "corp.?"], ["internal", "corp-x"], ["internal-x", "corp-xy", "corp"]),
        (["a.b*c"], ["a-bxc", "a-bc"], ["abc"]),
    ],
)
def test_private_name_globs_match_normalised_names(
    globs: list[str], private: list[str], public: list[str]
) -> None:
    pattern = re.compile(name_pattern(globs))
    assert [name for name in private if pattern.match(name)] == private
    assert [name for name in public if pattern.match(name)] == []


def test_rules_for_both_servers_are_written_from_the_defaults(tmp_path: Path) -> None:
    defaults = write_defaults(tmp_path, OUTDIR="out", PRIVATE_NAMES=["acme-*"])
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    private = tmp_path / "out" / ".sdistmaker"
    apache = (private / APACHE_RULES).read_text()
    assert apache.startswith(f"# Written by sdistmaker from PRIVATE_NAMES and ACCESS in {defaults}")
    assert 'RewriteCond %{ENV:SDISTMAKER_MISSING} "^(?:acme\\-[^/]*)$"\n' in apache
    assert apache.endswith("RewriteRule ^ - [R=404,L]\n")
    assert 'if ($sdistmaker_project ~ "^(?:acme\\-[^/]*)$")' in (private / NGINX_RULES).read_text()

    defaults.write_text("OUTDIR = 'out'\n")
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert "RewriteRule" not in (private / APACHE_RULES).read_text()
    assert "if (" not in (private / NGINX_RULES).read_text()


def test_access_rules_for_both_servers_are_written_from_the_defaults(tmp_path: Path) -> None:
    access = {"team-b": ["acme-b-*"], "alice": ["acme-secret", "acme.b.Tools"]}
    defaults = write_defaults(tmp_path, OUTDIR="out", ACCESS=access)
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    private = tmp_path / "out" / ".sdistmaker"
    apache = (private / APACHE_ACCESS).read_text()
    # A URL that each reader alone may read, asked by subrequest for the projects it may read.
    assert '<LocationMatch "^${SDISTMAKER_PREFIX}/\\.sdistmaker-access/2$">\n' in apache
    assert "    Require user team-b\n" in apache
    assert "        Require group team-b\n" in apache
    assert 'RewriteCond %{ENV:SDISTMAKER_PROJECT} "^(?:acme\\-secret|acme\\-b\\-tools)$"' in apache
    assert 'RewriteCond "${SDISTMAKER_PREFIX}/.sdistmaker-access/1" -U\n' in apache
    nginx = (private / NGINX_RULES).read_text()
    assert (
        'set $sdistmaker_access "(?:acme\\-secret|acme\\-b\\-tools) alice;'
        '(?:acme\\-b\\-[^/]*) team-b";\n'
    ) in nginx

    defaults.write_text("OUTDIR = 'out'\n")
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert "Require" not in (private / APACHE_ACCESS).read_text()
    assert 'set $sdistmaker_access "";\n' in (private / NGINX_RULES).read_text()


def test_the_rules_know_every_project_sdistmaker_knows(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    """Crawled (acme.broken, released, nothing built), publishing (under a name of its own:
    the distribution tool-kit of the svn project tools), and folders put in the index by other
    means: none of them may go upstream while its folder is out of sight."""
    svn_repository.add_project("libs/acme.broken", {"setup.py": "raise SystemExit('broken')\n"})
    svn_repository.tag("libs/acme.broken", "1.0")
    svn_repository.add_project("libs/tools", hatchling_project("tool_kit", "1.0"))
    svn_repository.tag("libs/tools", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    outdir = tmp_path / "out"
    (outdir / "by-hand").mkdir(parents=True)
    sdist(
        outdir / "by-hand",
        "Metadata-Version: 2.1\nName: by-hand\nVersion: 1.0\n",
        "by_hand-1.0.tar.gz",
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0

    known = ["acme-broken", "by-hand", "tool-kit", "tools"]
    apache = (outdir / ".sdistmaker" / APACHE_RULES).read_text()
    nginx = (outdir / ".sdistmaker" / NGINX_RULES).read_text()
    pattern = "^(?:" + "|".join(known) + ")$"
    assert f"and the projects it knows ({len(known)})," in apache.splitlines()[0]
    assert f'RewriteCond %{{ENV:SDISTMAKER_MISSING}} "{pattern}"\nRewriteRule' in apache
    assert f'if ($sdistmaker_project ~ "{pattern}") {{\n    set $sdistmaker_private 1;' in nginx

    # A run with nothing new keeps them all, the index's too.
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    assert (outdir / ".sdistmaker" / APACHE_RULES).read_text() == apache


def test_known_names_are_matched_exactly_in_patterns_the_servers_take() -> None:
    names = sorted({f"team{n % 40}-lib-{n}" for n in range(12_000)} | {"a", "a-b"})
    patterns = known_patterns(names)
    assert max(len(pattern) for pattern in patterns) <= PATTERN_LENGTH < 4000
    compiled = [re.compile(pattern) for pattern in patterns]
    assert all(sum(bool(p.match(name)) for p in compiled) == 1 for name in names)
    for stranger in ("team1-lib", "team1-lib-10", "ateam1-lib-1", "b", "a-", "team1-lib-1-"):
        assert not any(p.match(stranger) for p in compiled), stranger
    assert known_patterns([]) == []


def test_a_crawled_project_with_nothing_published_gets_a_page_of_its_own(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    svn_repository.add_project("libs/acme.secret", {"setup.py": "raise SystemExit('broken')\n"})
    svn_repository.tag("libs/acme.secret", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    outdir = tmp_path / "out"
    assert "Links for" in (outdir / "acme-secret" / "index.html").read_text()
    assert (outdir / "acme-secret" / "index.json").exists()
    root = (outdir / "index.html").read_text()
    assert 'href="acme-secret/"' in root

    # Once the project publishes under another name, its placeholder goes; files never do.
    svn_repository.commit_files(
        "libs/acme.secret/tags/1.0", hatchling_project("acme-secret-lib", "1.0")
    )
    svn_repository.delete("libs/acme.secret/tags/1.0/setup.py")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    assert not (outdir / "acme-secret").exists()
    assert not (outdir / "+" / "acme-secret.html").exists()
    assert (outdir / "acme-secret-lib" / "acme_secret_lib-1.0.tar.gz").exists()

"""The defaults file and what it names: a file with an error, missing, or naming an OUTDIR inside
a repository sdistmaker reads or holding one; a template in TEMPLATES that does not compile or
fails while rendering. A wrong setting stops the run before anything is done: status 2, the file
and line to fix; a template that fails only while rendering fails the run (status 1)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from helpers.catalogue import (
    SECRET,
    Arranged,
    Case,
    Catalogue,
    Expect,
    World,
    distributions,
    run_and_check,
)
from helpers.projects import setup_py_project

bad_input = Catalogue()


def defaults_file_error(name: str, text: str, message: str) -> None:
    """Enter a case in the catalogue: a defaults file (OUTDIR, then ``text``) that stops the run
    with status 2 and one line, the file's path then ``message`` (a regular expression)."""

    def case(world: World) -> Arranged:
        world.publish()
        defaults = world.defaults_text(text)
        yield Expect(2, [re.escape(str(defaults)) + message], defaults)

    case.__name__ = name
    bad_input(case)


defaults_file_error(
    "defaults_file_with_a_syntax_error", "BASE = 'x'\nJOBS = (2,\n", ":3: syntax error: .*"
)
defaults_file_error(
    "defaults_file_with_a_misspelt_setting",
    "BLACKLST = ['.attic']\n",
    r":2: unknown setting BLACKLST; did you mean BLACKLIST\?",
)
defaults_file_error(
    "defaults_file_with_an_unknown_setting",
    "\nSVN_PASSWORD = 'x'\n",
    ":3: unknown setting SVN_PASSWORD",
)
defaults_file_error(
    "defaults_file_raising_with_control_characters",
    "raise RuntimeError('\\x1b[2Jone\\rtwo\\nthree')\n",
    ":2: RuntimeError: one\ufffdtwo\ufffdthree",
)
defaults_file_error(
    "defaults_file_with_a_setting_of_the_wrong_type",
    "JOBS = 'four'\n",
    ":2: JOBS must be a whole number from 1 up, not 'four'",
)
defaults_file_error(
    "defaults_file_raising_when_run",
    "import os\nBASE = os.environ['NO_SUCH_VARIABLE']\n",
    ":3: KeyError: 'NO_SUCH_VARIABLE'",
)
defaults_file_error(
    "defaults_file_ending_the_program", "import sys\nsys.exit(5)\n", ":3: SystemExit: 5"
)
defaults_file_error(
    "defaults_file_with_a_private_name_the_web_servers_would_misread",
    "PRIVATE_NAMES = ['acme-*', 'acme\"x']\n",
    r":2: PRIVATE_NAMES holds 'acme\"x': project names and globs take letters, digits, -_. "
    r"and the wildcards \* and \?",
)
defaults_file_error(
    "defaults_file_giving_access_to_a_reader_the_web_servers_would_misread",
    "ACCESS = {'team b': ['acme-b-*']}\n",
    r":2: ACCESS names the reader 'team b': users and groups take letters, digits and -_.@, a "
    r"letter or digit first",
)
defaults_file_error(
    "defaults_file_giving_access_to_a_glob_the_web_servers_would_misread",
    "ACCESS = {'team-b': ['acme-b-*', 'acme{b}']}\n",
    r":2: ACCESS for 'team-b' holds 'acme\{b\}': project names and globs take letters, digits, "
    r"-_. and the wildcards \* and \?",
)
defaults_file_error(
    "defaults_file_publishing_to_a_store_of_no_known_kind",
    "PUBLISH_TO = [{'url': 'gs://acme-pypi/simple'}]\n",
    r":2: PUBLISH_TO names 'gs://acme-pypi/simple': a store's url starts with s3://",
)
defaults_file_error(
    "defaults_file_publishing_to_a_store_with_credentials_in_its_entry",
    "PUBLISH_TO = [{'url': 's3://acme-pypi', 'secret_key': 'x'}]\n",
    r":2: PUBLISH_TO gives secret_key for s3://acme-pypi, which takes url, endpoint, region",
)
defaults_file_error(
    "defaults_file_publishing_to_a_bucket_no_store_can_have",
    "PUBLISH_TO = [{'url': 's3://Acme_PyPI/simple'}]\n",
    r":2: PUBLISH_TO names 's3://Acme_PyPI/simple', no bucket: s3://bucket or s3://bucket/prefix",
)
defaults_file_error(
    "defaults_file_with_the_root_folder_as_outdir",
    "OUTDIR = '/'\n",
    ":2: OUTDIR is the root folder: name a folder of its own",
)
defaults_file_error(
    "defaults_file_with_a_git_subdirectory_out_of_the_repository",
    "GIT_REPOSITORIES = [{'url': '/srv/git/mono.git', 'subdirectory': 'web/../..'}]\n",
    r":2: GIT_REPOSITORIES 'subdirectory' must be a folder inside the repository, not "
    r"'web/\.\./\.\.'",
)
defaults_file_error(
    "defaults_file_giving_a_forge_s_token_itself",
    f"GIT_REPOSITORIES = [{{'gitea': 'https://gitea.example.com', 'org': 'acme', "
    f"'token': 'ghp_{SECRET.replace('-', '_')}'}}]\n",
    r":2: GIT_REPOSITORIES 'token' must name the environment variable holding the token \(in "
    r"upper case, such as GITLAB_TOKEN\), never be the token",
)


@bad_input
def defaults_file_missing(world: World) -> Arranged:
    world.publish()
    missing = world.root / "mine.py"
    line = f"{missing}: cannot read the defaults file: [Errno 2] No such file or directory: "
    yield Expect(2, [re.escape(line) + ".*"], missing)


@bad_input
def outdir_inside_a_repository_read_for_tags(world: World) -> Arranged:
    world.publish()
    inside = world.svn.root / "out"
    defaults = world.defaults(OUTDIR=str(inside))
    line = f"{defaults}:3: OUTDIR {inside} lies inside {world.svn.root}, a repository of BASE"
    yield Expect(2, [re.escape(line)], defaults)
    assert not inside.exists()


@bad_input
def outdir_holding_a_repository_read_for_tags(world: World) -> Arranged:
    world.publish()
    served = world.outdir / "beta-sources"
    shutil.copytree(world.git.root, served)
    defaults = world.defaults(GIT_REPOSITORIES=[str(served)])
    line = (
        f"{defaults}:3: OUTDIR {world.outdir} holds {served}, a repository of GIT_REPOSITORIES: "
        "it would be served"
    )
    yield Expect(2, [re.escape(line)], defaults, index_intact=False)


def own_template(world: World, name: str, text: str) -> tuple[Path, Path]:
    """After the releases are published and alpha 1.1 is tagged, a template of one's own in
    TEMPLATES: its path, and the defaults file that names its folder."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    template = world.root / "templates" / name
    template.parent.mkdir(parents=True)
    template.write_text(text)
    return template, world.defaults(TEMPLATES=str(world.root / "templates"))


@bad_input
def template_with_a_syntax_error(world: World) -> Arranged:
    """A template in TEMPLATES that does not compile is a wrong setting, found before anything
    is built (status 2, its file and line); once it is mended, the next run builds and renders."""
    root, defaults = own_template(world, "simple/root.html", "<!DOCTYPE html>\n{% for x in %}\n")
    syntax_error = f"{root}:2: syntax error: Expected an expression, got 'end of statement block'"
    yield Expect(2, [re.escape(syntax_error)], defaults)
    assert "alpha/alpha-1.1.tar.gz" not in distributions(world.outdir)
    root.unlink()
    assert world.run(defaults).code == 0
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    assert "alpha-1.1.tar.gz" in (world.outdir / "alpha" / "index.html").read_text()


@bad_input
def template_failing_while_rendering(world: World) -> Arranged:
    """A template that fails only while rendering fails the run (status 1, its file and line);
    what the run built stays published and recorded, and the next run after the template is
    mended renders the pages this one could not."""
    row, defaults = own_template(
        world, "browse/row.html", "<tr>\n<td>{{ project.name }} {{ 1/0 }}</td></tr>\n"
    )
    yield Expect(1, [re.escape(f"{row}:2: ZeroDivisionError: division by zero")], defaults)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    state = json.loads((world.outdir / ".sdistmaker" / "state.json").read_text())
    assert state["tags"][f"svn:{world.svn_tag_url('alpha', '1.1')}"]["status"] == "built"
    assert "alpha-1.1.tar.gz" not in (world.outdir / "+" / "alpha.html").read_text()
    row.write_text("<tr><td>{{ project.name }}</td></tr>\n")
    mended = world.run(defaults)
    assert (mended.code, mended.output) == (0, "")
    assert "alpha-1.1.tar.gz" in (world.outdir / "alpha" / "index.html").read_text()
    assert "alpha-1.1.tar.gz" in (world.outdir / "+" / "alpha.html").read_text()


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

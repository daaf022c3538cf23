import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.repositories import GitRepository as Git
from helpers.repositories import SvnRepository
from sdistmaker.config import Config, load_defaults
from sdistmaker.errors import ConfigError
from sdistmaker.vcs.git import GIT_REPOSITORIES, GitRepository
from sdistmaker.vcs.svn import BASE, BASE_ON_SERVER, BLACKLIST, STOP_INDICATORS

MakeGit = Callable[[str], Git]


def defaults(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.py"
    path.write_text(text)
    return path


def test_an_empty_file_gives_1_4s_defaults(tmp_path: Path) -> None:
    config = load_defaults(defaults(tmp_path, ""))
    assert config == Config(outdir=tmp_path / "var" / "private")
    assert BLACKLIST.of(config) == (".svn", ".attic")
    assert BASE.of(config) == ""


def test_relative_outdir_is_relative_to_the_defaults_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    config = load_defaults(defaults(tmp_path, "OUTDIR = 'pkgs'\n"))
    assert config.outdir == tmp_path / "pkgs"


def test_every_setting_is_read(tmp_path: Path) -> None:
    config = load_defaults(
        defaults(
            tmp_path,
            "BASE = 'https://svn.example.com/repos'\n"
            "BASE_ON_SERVER = 'file:///srv/svn/repos'\n"
            "BLACKLIST = ['.svn', 'attic']\n"
            "STOP_INDICATORS = ['setup.py']\n"
            "OUTDIR = '/srv/pypi'\n"
            "GIT_REPOSITORIES = ['https://g/a.git', "
            "{'url': 'https://g/mono.git', 'subdirectory': 'web/', 'tags': 'web-*'}]\n"
            "BUILD_TIMEOUT = 30\n"
            "BUILD_ENVIRONMENT = {'UV_INDEX_URL': 'https://pypi.example/simple', "
            "'HTTPS_PROXY': None}\n"
            f"LEGACY_PYTHON = {sys.executable!r}\n"
            "_HELPER = 'names of ones own start with an underscore'\n"
            "import os\n",
        )
    )
    assert BASE.of(config) == "https://svn.example.com/repos"
    assert BASE_ON_SERVER.of(config) == "file:///srv/svn/repos"
    assert BLACKLIST.of(config) == (".svn", "attic")
    assert STOP_INDICATORS.of(config) == ("setup.py",)
    assert config.outdir == Path("/srv/pypi")
    assert GIT_REPOSITORIES.of(config) == (
        GitRepository("https://g/a.git"),
        GitRepository("https://g/mono.git", "web", "web-*"),
    )
    assert config.build_timeout == 30.0
    # None: the variable as sdistmaker's environment has it (a proxy's password, kept out of here).
    assert config.build_environment == {
        "UV_INDEX_URL": "https://pypi.example/simple",
        "HTTPS_PROXY": None,
    }
    assert config.legacy_python == sys.executable


def test_a_misspelt_setting_names_its_line_and_the_right_name(tmp_path: Path) -> None:
    path = defaults(tmp_path, "BASE = ''\n\nBLACKLST = ['.svn']\n")
    with pytest.raises(ConfigError) as error:
        load_defaults(path)
    assert str(error.value) == f"{path}:3: unknown setting BLACKLST; did you mean BLACKLIST?"


def test_an_unknown_setting_without_a_close_name(tmp_path: Path) -> None:
    path = defaults(tmp_path, "COLOUR = 'red'\n")
    with pytest.raises(ConfigError, match=r"mine.py:1: unknown setting COLOUR$"):
        load_defaults(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BASE = None\n", r"mine.py:1: BASE must be a string, not NoneType"),
        ("\nBLACKLIST = '.svn'\n", r"mine.py:2: BLACKLIST must be a list of strings, not str"),
        (
            "STOP_INDICATORS = ['a', 3]\n",
            r"mine.py:1: STOP_INDICATORS must be a list of strings, but holds 3",
        ),
        ("BUILD_TIMEOUT = -1\n", r"mine.py:1: BUILD_TIMEOUT must be a positive number of seconds"),
        ("BUILD_TIMEOUT = True\n", r"mine.py:1: BUILD_TIMEOUT must be a positive number"),
        ("OUTDIR = ''\n", r"mine.py:1: OUTDIR must be a non-empty path"),
        ("GIT_REPOSITORIES = 'https://g/a.git'\n", r"mine.py:1: GIT_REPOSITORIES must be a list"),
        (
            "GIT_REPOSITORIES = [{'url': 'u', 'subdir': 'x'}]\n",
            r"mine.py:1: GIT_REPOSITORIES unknown key 'subdir'",
        ),
        (
            "GIT_REPOSITORIES = [{'tags': 'x'}]\n",
            r"mine.py:1: GIT_REPOSITORIES every entry needs a 'url'",
        ),
        (
            "LEGACY_PYTHON = '/no/such/python2.7'\n",
            r"mine.py:1: LEGACY_PYTHON names no interpreter",
        ),
    ],
)
def test_a_wrong_type_names_file_line_and_setting(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_defaults(defaults(tmp_path, text))


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mine.py:2: syntax error"):
        load_defaults(defaults(tmp_path, "BASE = ''\nBLACKLIST = ['.svn'\n"))


def test_an_exception_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mine.py:3: ZeroDivisionError: division by zero"):
        load_defaults(defaults(tmp_path, "BASE = ''\n\nBUILD_TIMEOUT = 1 / 0\n"))


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nothing.py: cannot read the defaults file"):
        load_defaults(tmp_path / "nothing.py")


def test_yanked_names_and_versions_are_normalised(tmp_path: Path) -> None:
    config = load_defaults(
        defaults(tmp_path, "YANKED = {'Acme.Utils': {'1.0.0-rc1': 'bad', '2': ''}}\n")
    )
    assert config.yanked == {"acme-utils": {"1.0.0rc1": "bad", "2": ""}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("YANKED = ['p']\n", r"mine.py:1: YANKED must map project names to \{version: reason\}"),
        (
            "YANKED = {'p': {'1.0': None}}\n",
            r"mine.py:1: YANKED must map .* but 'p' holds '1.0': None",
        ),
        (
            "YANKED = {'p': {'latest': ''}}\n",
            r"mine.py:1: YANKED .*'latest' of p is no PEP 440 version",
        ),
        ("TEMPLATES = 'nowhere'\n", r"mine.py:1: TEMPLATES names no folder: .*nowhere"),
        ("WHEELS = 1\n", r"mine.py:1: WHEELS must be True or False, not 1"),
        ("JOBS = 0\n", r"mine.py:1: JOBS must be a whole number from 1 up, not 0"),
        (
            "BUILD_ENVIRONMENT = {'A': 1}\n",
            r"mine.py:1: BUILD_ENVIRONMENT must map variable names to strings or None, "
            r"not \{'A': 1\}",
        ),
        (
            "BUILD_ENVIRONMENT = {'A=B': 'x'}\n",
            r"mine.py:1: BUILD_ENVIRONMENT holds 'A=B', which no variable can be named",
        ),
        (
            "BUILD_ENVIRONMENT = {'A': 'x\\0y'}\n",
            r"mine.py:1: BUILD_ENVIRONMENT gives A a NUL character, which no variable can hold",
        ),
        (
            "BUILD_TIMEOUT = float('nan')\n",
            r"mine.py:1: BUILD_TIMEOUT must be a positive number of seconds, not nan",
        ),
        (
            "BUILD_TIMEOUT = float('inf')\n",
            r"mine.py:1: BUILD_TIMEOUT must be a positive number of seconds, not inf",
        ),
        ("OUTDIR = 'out\\0'\n", r"mine.py:1: OUTDIR holds a NUL character: 'out\\x00'"),
        ("TEMPLATES = '\\0'\n", r"mine.py:1: TEMPLATES holds a NUL character"),
        ("BASE = 'file:///x\\0'\n", r"mine.py:1: BASE holds a NUL character"),
        ("BLACKLIST = ['\\0']\n", r"mine.py:1: BLACKLIST holds a NUL character"),
        (
            "GIT_REPOSITORIES = [{'url': 'u', 'tags': '\\0'}]\n",
            r"mine.py:1: GIT_REPOSITORIES holds a NUL character",
        ),
        (
            "PRIVATE_NAMES = ['acme-*', 'acme{x}']\n",
            r"mine.py:1: PRIVATE_NAMES holds 'acme\{x\}': project names and globs take letters",
        ),
        (
            "UPLOAD_TO = 'http://'\n",
            r"mine.py:1: UPLOAD_TO must be http\(s\) upload URLs with a host",
        ),
        (
            "UPLOAD_TO = ['https://[::1/']\n",
            r"mine.py:1: UPLOAD_TO must be http\(s\) upload URLs with a host, not 'https://\[::1/'",
        ),
        ("OUTDIR = '/'\n", r"mine.py:1: OUTDIR is the root folder: name a folder of its own"),
        ("import sys\nsys.exit()\n", r"mine.py:2: SystemExit$"),
    ],
)
def test_wrong_index_settings_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_defaults(defaults(tmp_path, text))


def test_templates_are_relative_to_the_defaults_file(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    assert load_defaults(defaults(tmp_path, "TEMPLATES = 'mine'\n")).templates == tmp_path / "mine"


def test_upload_to_takes_one_url_or_several(tmp_path: Path) -> None:
    one = load_defaults(defaults(tmp_path, "UPLOAD_TO = 'https://devpi.example/acme/prod/'\n"))
    assert one.upload_to == ("https://devpi.example/acme/prod/",)
    two = load_defaults(
        defaults(tmp_path, "UPLOAD_TO = ['https://a.example/', 'http://b.example/']\n")
    )
    assert two.upload_to == ("https://a.example/", "http://b.example/")


def test_upload_to_refuses_what_is_no_upload_url_without_showing_a_password(tmp_path: Path) -> None:
    path = defaults(tmp_path, "UPLOAD_TO = 'ftp://user:hunter2@files.example/'\n")
    with pytest.raises(ConfigError) as error:
        load_defaults(path)
    assert str(error.value) == (
        f"{path}:1: UPLOAD_TO must be http(s) upload URLs with a host, not 'ftp://files.example/'"
    )


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as error:
        load_defaults(path)
    return str(error.value)


def test_an_outdir_inside_a_repository_read_for_tags_is_refused(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    base = f"{svn_repository.url}/libs"
    path = defaults(tmp_path, f"BASE = {base!r}\nOUTDIR = {str(svn_repository.root / 'out')!r}\n")
    assert refusal(path) == (
        f"{path}:2: OUTDIR {svn_repository.root / 'out'} lies inside {svn_repository.root}, "
        "a repository of BASE"
    )
    repo = make_git("work")
    path = defaults(tmp_path, f"GIT_REPOSITORIES = [{str(repo.root)!r}]\nOUTDIR = 'git'\n")
    assert refusal(path) == (
        f"{path}:2: OUTDIR {tmp_path / 'git'} holds {repo.root}, a repository of "
        "GIT_REPOSITORIES: it would be served"
    )


def test_an_outdir_beside_repositories_or_near_remote_ones_is_fine(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("work")
    text = (
        f"BASE = {svn_repository.url!r}\n"
        f"BASE_ON_SERVER = 'svn://svn.example.com{tmp_path}'\n"
        f"GIT_REPOSITORIES = [{repo.root.as_uri()!r}, 'git@example.com:{tmp_path}/x.git']\n"
        "OUTDIR = 'out'\n"
    )
    assert load_defaults(defaults(tmp_path, text)).outdir == tmp_path / "out"
    # A BASE that names no repository (yet) is the crawl's to report, not the defaults file's.
    missing = defaults(tmp_path, f"BASE = {(tmp_path / 'none').as_uri()!r}\nOUTDIR = 'out'\n")
    assert load_defaults(missing).outdir == tmp_path / "out"


@pytest.mark.parametrize("setting", ["BASE", "GIT_REPOSITORIES"])
def test_a_malformed_url_names_file_and_line_and_shows_no_password(
    tmp_path: Path, setting: str
) -> None:
    url = "http://builder:s3cret@[::1/acme.git"
    value = repr([url] if setting == "GIT_REPOSITORIES" else url)
    path = defaults(tmp_path, f"OUTDIR = 'out'\n{setting} = {value}\n")
    message = refusal(path)
    assert message.startswith(f"{path}:2: {setting} ")
    assert "is no valid URL" in message
    assert "s3cret" not in message

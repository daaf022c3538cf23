"""Tags that do not build, hang, print without end or try to get out of their sandbox (write
outside their folder, read secrets, sdistmaker's records, other repositories, files only root may
read), and build requirements that hang, would run code as they are installed, or come under a
private name from a public index. A tag that does not build is one line naming the tag, its URL
and its log, status 1, reported once."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

from helpers.catalogue import (
    QUICK,
    SECRET,
    Arranged,
    Case,
    Catalogue,
    Expect,
    World,
    distributions,
    run_and_check,
)
from helpers.projects import pyproject_setuptools_project, setup_py_project, write_tree
from helpers.repositories import GitRepository
from helpers.servers import make_wheel, silent_index, upstream_index
from helpers.system import (
    HANGING_SETUP_PY,
    SLEEPER,
    all_gone,
    require,
    require_root,
    tools_but_bubblewrap,
    unhidden_folder,
)
from sdistmaker.building.sandbox import REFUSED_AS_ROOT

bad_input = Catalogue()


@bad_input
def tag_without_setup_py_or_pyproject_toml(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/notes", {"README.txt": "no Python project here\n"})
    world.svn.tag("libs/notes", "1.0")
    url = world.svn_tag_url("notes", "1.0")
    reason = "holds no Python project: no pyproject.toml, setup.py or setup.cfg"
    yield Expect(1, [world.fails("notes", "1.0", url, reason)])
    assert world.run().code == 0  # reported once


@bad_input
def tag_whose_setup_py_raises(world: World) -> Arranged:
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": "raise RuntimeError('broken release')\n"})
    url = world.svn_tag_url("alpha", "1.1")
    reason = r"build, setuptools<58: RuntimeError: broken release"
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)])


@bad_input
def build_output_carrying_terminal_control_sequences(world: World) -> Arranged:
    """What a build prints may clear a terminal, set its title or colour it: the line reporting
    the failure shows its text without them."""
    world.publish()
    message = r"\x1b]0;owned\x07\x1b[2J\x1b[31mbroken\x1b[0m release\x08\x7f"
    world.svn.tag("libs/alpha", "1.1", {"setup.py": f"raise RuntimeError('{message}')\n"})
    url = world.svn_tag_url("alpha", "1.1")
    reason = "build, setuptools<58: RuntimeError: broken release\ufffd\ufffd"
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)])


@bad_input
def tag_whose_build_hangs_past_build_timeout(world: World) -> Arranged:
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": HANGING_SETUP_PY})
    url = world.svn_tag_url("alpha", "1.1")
    reason = r"build timed out \(build\), process tree killed"
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)], world.defaults(BUILD_TIMEOUT=2))
    assert all_gone(SLEEPER), "a process the build started still runs"


LOUD = """\
import sys
from setuptools import setup
for _ in range(40):  # 20 MB, in 40 lines
    sys.stdout.write("x" * (512 * 1024) + "\\n")
sys.stdout.flush()
setup(name="alpha", version="1.1")
"""


@bad_input
def build_printing_without_end(world: World) -> Arranged:
    """Its log keeps the first and last 4 MB of each step: the disk does not fill up."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": LOUD})
    yield Expect(0)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    log = world.log("alpha", "1.1")
    assert log.stat().st_size < 3 * 8 * 1024 * 1024
    assert "bytes of output left out here" in log.read_text()


ESCAPING = """\
import os
from pathlib import Path
from setuptools import setup
for target in [os.environ["OUTDIR"] + "/alpha/alpha-9.9.tar.gz", os.environ["HOME"] + "/.bashrc-x",
               "/tmp/escaped"]:
    Path(target).write_text("written by a build")
setup(name="alpha", version="1.1")
"""


@bad_input
def build_writing_outside_its_folder(world: World) -> Arranged:
    """Refused by the sandbox (bubblewrap: everything but the build's folders is read-only,
    the temporary folders, where OUTDIR is here, not even there)."""
    require("bwrap")
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": ESCAPING})
    url = world.svn_tag_url("alpha", "1.1")
    reason = r"build, setuptools<58: .*(Read-only file system|No such file or directory).*"
    defaults = world.defaults(BUILD_ENVIRONMENT={"OUTDIR": str(world.outdir)})
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)], defaults)
    assert not (world.outdir / "alpha" / "alpha-9.9.tar.gz").exists()
    assert not (Path.home() / ".bashrc-x").exists()
    assert not Path("/tmp/escaped").exists()


SNOOPING = """\
import os, pathlib
texts = []
for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
    try:
        texts += environ.read_bytes().decode(errors="replace").split("\\0")
    except OSError:
        pass
for path in [os.path.expanduser("~/.pypirc"), {defaults!r}]:
    try:
        texts += open(path).read().splitlines()
    except OSError:
        pass
found = sorted({{text for text in texts if "password" in text.lower()}})
from setuptools import setup
setup(name="alpha", version="1.1", description=" | ".join(found))
"""


@bad_input
def build_reading_secrets(world: World) -> Arranged:
    """A tag looks for secrets where a server keeps them and publishes what it finds in its
    metadata: sdistmaker's environment (through /proc), the home folder, the defaults file.
    It finds none of them (bubblewrap: a process namespace of its own, home and defaults
    file hidden)."""
    require("bwrap")
    world.publish()
    defaults = world.defaults()
    with open(defaults, "a") as file:
        file.write(f"# the deploy password is {SECRET}\n")
    home = world.root / "home"
    home.mkdir()
    (home / ".pypirc").write_text(f"[pypi]\npassword = {SECRET}\n")
    world.svn.tag("libs/alpha", "1.1", {"setup.py": SNOOPING.format(defaults=str(defaults))})
    cache = {"UV_CACHE_DIR": str(Path.home() / ".cache" / "uv")}  # the one filled before
    yield Expect(0, [], defaults, {"TWINE_PASSWORD": SECRET, "HOME": str(home), **cache})
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    written = [p for p in world.outdir.rglob("*") if p.is_file()]
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


HUNTING = """\
import os, subprocess, sys
from setuptools import setup

records = os.path.join({outdir!r}, ".sdistmaker")


def nonempty(found):
    if not found:
        raise OSError("nothing there")
    return found


def logs():
    folder = os.path.join(records, "logs")
    paths = [os.path.join(f, name) for f, _, names in os.walk(folder) for name in names]
    return "".join(open(path).read() for path in nonempty(paths))


def mirrors():
    git = os.path.join(records, "git")
    command = ["git", "--git-dir", "{{}}", "log", "--all", "-p"]
    return "".join(
        subprocess.run([part.format(os.path.join(git, name)) for part in command],
                       check=True, capture_output=True, text=True).stdout
        for name in nonempty(os.listdir(git))
    )


def other_environments():
    own = os.path.basename(sys.prefix)
    kept = os.listdir(os.path.join(records, "environments"))
    return nonempty([name for name in kept if name != own and not name.endswith(".lock")])


looks = {{
    "the state": lambda: open(os.path.join(records, "state.json")).read(),
    "other tags' logs": logs,
    "the git mirrors": mirrors,
    "other build environments": other_environments,
    "a repository on this machine": lambda: open({plans!r}).read(),
}}
found, unseen = [], []
for what, look in looks.items():
    try:
        found.append(what + ": " + str(look()))
    except Exception:
        unseen.append(what)
print("UNSEEN", sorted(unseen))
setup(name="alpha", version="1.1", description=" | ".join(found).replace("\\n", " "))
"""


@bad_input
def build_reading_what_sdistmaker_keeps_and_other_repositories(world: World) -> Arranged:
    """OUTDIR where servers keep it (/srv/pypi, not in a temporary folder, which builds never
    see) holds the state, every tag's log, the git mirrors of every repository with all their
    branches and other tags' build environments; another repository, with unreleased plans,
    lies on this machine's disk. A tag looks for all of it and publishes what it finds: it
    finds none of it, nor anything of its own environment but itself."""
    require("bwrap")
    with unhidden_folder() as outside:
        outside.chmod(0o755)  # as /srv is: only what sdistmaker hides is hidden
        world.outdir = outside / "out"
        gamma = GitRepository(outside / "gamma")
        files = pyproject_setuptools_project("gamma", "1.0")  # an environment of its own
        files["setup.py"] = f"print('internal: {SECRET}')\nfrom setuptools import setup\nsetup()\n"
        gamma.commit(files)
        gamma.tag("1.0")
        gamma.git("checkout", "-q", "-b", "unreleased")
        gamma.commit({"plans.txt": f"unreleased plans: {SECRET}\n"})
        defaults = world.defaults(GIT_REPOSITORIES=[world.git.url, gamma.url])
        published = world.run(defaults)
        assert (published.code, published.output) == (0, ""), published.output
        plans = gamma.root / "plans.txt"
        world.svn.tag(
            "libs/alpha",
            "1.1",
            {"setup.py": HUNTING.format(outdir=str(world.outdir), plans=str(plans))},
        )
        yield Expect(0, [], defaults)
        assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
        log = world.log("alpha", "1.1").read_text()
        unseen = [
            "a repository on this machine",
            "other build environments",
            "other tags' logs",
            "the git mirrors",
            "the state",
        ]
        assert f"UNSEEN {unseen}" in log
        written = [world.log("alpha", "1.1"), *(world.outdir / "alpha").iterdir()]
        assert not [path for path in written if SECRET.encode() in path.read_bytes()]


SEEKING = """\
import os, pathlib
texts = list(os.environ.values())
for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
    try:
        texts += environ.read_bytes().decode(errors="replace").split("\\0")
    except OSError:
        pass
found = sorted({{text.replace("\\n", " ") for text in texts if {marker!r} in text}})
from setuptools import setup
setup(name="alpha", version="1.1", description=" | ".join(found))
"""


@bad_input
def build_seeking_secrets_under_any_name(world: World) -> Arranged:
    """Secrets a service keeps in its environment under names no list of secret-looking names
    foresees: a signing key, a CI job's token, a webhook whose URL is its secret, an ssh key, a
    database's password under its tool's own name. A tag looks for them in its environment and
    sdistmaker's (/proc) and publishes what it finds: it finds none."""
    require("bwrap")
    world.publish()
    secrets = {
        "RELEASE_SIGNING_KEY": f"-----BEGIN PGP PRIVATE KEY BLOCK----- {SECRET}",
        "CI_JOB_TOKEN": SECRET,
        "DEPLOY_NOTIFICATIONS": f"https://hooks.slack.com/services/T000/B000/{SECRET}",
        "DEPLOY_SSH_KEY": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n-----END",
        "MYSQL_PWD": SECRET,
        "PGPASSWORD": SECRET,
        "LDAP_BIND_PW": SECRET,
    }
    world.svn.tag("libs/alpha", "1.1", {"setup.py": SEEKING.format(marker=SECRET)})
    yield Expect(0, [], env=secrets)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    written = [p for p in world.outdir.rglob("*") if p.is_file()]
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


ONLY_FOR_ROOT = """\
import os
from setuptools import setup
found, unread = [], []
for path in ["/etc/shadow", {key!r}]:
    try:
        found.append(open(path).read().replace("\\n", " "))
    except OSError:
        unread.append(path)
print("UNREAD", unread)
setup(name="alpha", version="1.1", description=" | ".join(found))
"""


@bad_input
def build_reading_files_only_root_may_read(world: World) -> Arranged:
    """sdistmaker runs as root (as in many a container): the tag's code runs as nobody, who
    reads neither /etc/shadow nor another service's key, kept by its permissions alone. The
    tag builds all the same, its wheel too."""
    require("bwrap")
    with unhidden_folder() as outside:
        outside.chmod(0o755)
        key = outside / "service.key"
        key.write_text(f"-----BEGIN PRIVATE KEY----- {SECRET}\n")
        key.chmod(0o600)
        world.publish()
        world.svn.tag("libs/alpha", "1.1", {"setup.py": ONLY_FOR_ROOT.format(key=str(key))})
        yield Expect(0, [], world.defaults(WHEELS=True))
    built = distributions(world.outdir)
    assert {"alpha/alpha-1.1-py3-none-any.whl", "alpha/alpha-1.1.tar.gz"} <= set(built)
    assert f"UNREAD ['/etc/shadow', '{key}']" in world.log("alpha", "1.1").read_text()
    # What it published and printed: the sdist and wheel with their metadata, its log.
    written = [world.log("alpha", "1.1"), *(world.outdir / "alpha").glob("alpha-1.1*")]
    assert not [
        p for p in written if SECRET.encode() in p.read_bytes() or b"root:" in p.read_bytes()
    ]


@bad_input
def building_as_root_where_no_sandbox_can_be_made(world: World) -> Arranged:
    """Root without bubblewrap (or setpriv): no tag's code runs, as root or as anyone. The run
    says so once, in one line (status 1), builds nothing and records no tag as failed; once a
    sandbox can be made, the next run builds what was waiting."""
    require_root()
    world.publish()
    ran = world.root / "ran"
    marking = f"try:\n    open({str(ran)!r}, 'a').close()\nexcept OSError:\n    pass\n"
    setup_py = marking + setup_py_project("alpha", "1.1")["setup.py"]
    world.svn.tag("libs/alpha", "1.1", {"setup.py": setup_py})
    without = {"PATH": tools_but_bubblewrap(world.root / "bin")}
    yield Expect(1, ["failed building: " + re.escape(REFUSED_AS_ROOT)], env=without)
    assert not ran.exists()
    assert "alpha/alpha-1.1.tar.gz" not in distributions(world.outdir)
    again = world.run(env=without)
    assert (again.code, again.output) == (0, "")  # said once
    require("bwrap")
    sandboxed = world.run()
    assert (sandboxed.code, sandboxed.output) == (0, "")
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    assert not ran.exists()  # the sandbox: its folder is the only one it writes to


# Build requirements: installed before the build, outside the sandbox, within its deadline; so
# only from the index, only as wheels, and running nothing of theirs. What the index offers goes
# in a folder of links: an administrator's BUILD_ENVIRONMENT names it as it names an index.


def project_requiring(name: str, version: str, requirement: str) -> dict[str, str]:
    """A setuptools project whose build needs ``requirement`` too."""
    files = pyproject_setuptools_project(name, version)
    needs = f'"setuptools>=61", {json.dumps(requirement)}'
    files["pyproject.toml"] = files["pyproject.toml"].replace('"setuptools>=61"', needs)
    return files


@bad_input
def build_requirements_install_hanging_past_build_timeout(world: World) -> Arranged:
    """An index that never answers: the install is part of the build, killed at BUILD_TIMEOUT
    and recorded as the tag's failure, so the next run neither waits nor says it again."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", project_requiring("alpha", "1.1", "acme-build-helper"))
    with silent_index() as index:
        defaults = world.defaults(
            BUILD_TIMEOUT=2, BUILD_ENVIRONMENT={"UV_INDEX_URL": index, "PIP_INDEX_URL": index}
        )
        reason = (
            r"build requirements \['acme-build-helper', 'setuptools>=61'\] timed out while being "
            r"installed, process tree killed"
        )
        url = world.svn_tag_url("alpha", "1.1")
        result = yield Expect(1, [world.fails("alpha", "1.1", url, reason)], defaults)
    assert result.seconds < QUICK
    again = world.run(defaults)
    assert (again.code, again.output) == (0, "")
    assert again.seconds < QUICK


def escaping_setup_py(name: str, canary: Path) -> str:
    """A setup.py that writes ``canary`` when anything runs it."""
    return (
        "from pathlib import Path\nfrom setuptools import setup\n"
        f"Path({str(canary)!r}).write_text('run outside the sandbox')\n"
        f"setup(name={name!r}, version='1.0')\n"
    )


@bad_input
def build_requirements_that_would_run_code_when_installed(world: World) -> Arranged:
    """An sdist (only) on the index, a direct reference to a folder: installing either runs its
    setup.py, so neither is installed. A wheel on the index is, and its ``.pth`` file (code each
    start of the environment's Python runs) runs only in the sandbox, with the build."""
    require("bwrap")
    world.publish()
    canaries = {kind: world.root / f"ESCAPED-{kind}" for kind in ("sdist", "direct", "pth")}
    links = world.root / "links"
    links.mkdir()
    unpacked = world.root / "unpacked" / "sdistmaker_test_escape_sdist-1.0"
    write_tree(
        unpacked,
        {
            "setup.py": escaping_setup_py("sdistmaker-test-escape-sdist", canaries["sdist"]),
            "PKG-INFO": "Metadata-Version: 1.0\nName: sdistmaker-test-escape-sdist\nVersion: 1.0\n",
        },
    )
    with tarfile.open(links / f"{unpacked.name}.tar.gz", "w:gz") as archive:
        archive.add(unpacked, unpacked.name)
    pth = f"import pathlib; pathlib.Path({str(canaries['pth'])!r}).write_text('run')\n"
    make_wheel(links, "sdistmaker-test-escape-pth", "1.0", extra_files={"escape.pth": pth})
    direct = world.root / "direct"
    write_tree(direct, {"setup.py": escaping_setup_py("escape-direct", canaries["direct"])})
    reference = f"escape-direct @ {direct.as_uri()}"

    world.svn.tag(
        "libs/alpha", "1.1", project_requiring("alpha", "1.1", "sdistmaker-test-escape-sdist")
    )
    world.svn.add_project(
        "libs/gamma", project_requiring("gamma", "1.0", "sdistmaker-test-escape-pth")
    )
    world.svn.tag("libs/gamma", "1.0")
    world.git.commit(project_requiring("beta", "1.1", reference))
    world.git.tag("1.1")
    not_a_wheel = r"could not install the build requirements \[.*'sdistmaker-test-escape-sdist'.*\]"
    direct_reference = (
        re.escape(f"build requirement {reference!r} is a direct reference (URL or path): ")
        + "build requirements are installed only from the index, as wheels"
    )
    index = {"UV_FIND_LINKS": str(links), "PIP_FIND_LINKS": str(links)}
    yield Expect(
        1,
        [
            world.fails("alpha", "1.1", world.svn_tag_url("alpha", "1.1"), not_a_wheel + ".*"),
            world.fails("beta", "1.1", f"git+{world.git.url}@1.1", direct_reference),
        ],
        world.defaults(BUILD_ENVIRONMENT=index),
    )
    assert [kind for kind, canary in canaries.items() if canary.exists()] == []
    assert "gamma/gamma-1.0.tar.gz" in distributions(world.outdir)


PLUGIN = "acme-build-plugin"
USING_PLUGIN = """\
import acme_build_plugin
print("built with the plugin", acme_build_plugin.VERSION)
from setuptools import setup
setup()
"""


@bad_input
def build_requirement_of_a_private_name_from_a_public_index(world: World) -> Arranged:
    """An in-house build plugin, provided as README advises: a wheel in a folder of find-links.
    Someone published a higher version of its name on an index the builds use, and a public
    package needing it. A tag requiring it, and one requiring that package: neither is built
    with it (each fails in one line, naming where it would have come from, and no environment
    holding it is kept). Once the plugin is published here (a project built with WHEELS), they
    are built with it, from here."""
    world.publish()
    links = world.root / "links"
    links.mkdir()
    make_wheel(links, PLUGIN, "1.0")
    public = world.root / "public"
    public.mkdir()
    wheels = {
        PLUGIN: [make_wheel(public, PLUGIN, "9.0")],
        "sdistmaker-test-wrapper": [
            make_wheel(public, "sdistmaker-test-wrapper", "1.0", requires=(PLUGIN,))
        ],
    }
    alpha = project_requiring("alpha", "1.1", PLUGIN)
    world.svn.tag("libs/alpha", "1.1", {**alpha, "setup.py": USING_PLUGIN})
    world.git.commit(
        {**project_requiring("beta", "1.1", "sdistmaker-test-wrapper"), "setup.py": USING_PLUGIN}
    )
    world.git.tag("1.1")
    with upstream_index(wheels) as index:
        places = {"FIND_LINKS": str(links), "EXTRA_INDEX_URL": index}
        environment = {f"{tool}_{name}": v for name, v in places.items() for tool in ("UV", "PIP")}
        defaults = world.defaults(
            PRIVATE_NAMES=["acme-*"], WHEELS=True, BUILD_ENVIRONMENT=environment
        )
        refused = re.escape(
            f"build requirement {PLUGIN} 9.0 is a private name (PRIVATE_NAMES, or a project of "
            f"this index) but would come from {index}/{PLUGIN}/"
            "acme_build_plugin-9.0-py3-none-any.whl: only OUTDIR and the find-links may provide it"
        )
        alpha_url = world.svn_tag_url("alpha", "1.1")
        yield Expect(
            1,
            [
                world.fails("alpha", "1.1", alpha_url, refused),
                world.fails("beta", "1.1", f"git+{world.git.url}@1.1", refused),
            ],
            defaults,
        )
        environments = world.outdir / ".sdistmaker" / "environments"
        assert not list(environments.glob("*/lib/python*/site-packages/acme_build_plugin*"))
        plugin = {
            "setup.py": "from setuptools import setup\n"
            f"setup(name={PLUGIN!r}, version='1.0', packages=['acme_build_plugin'])\n",
            "acme_build_plugin/__init__.py": "VERSION = 'built here'\n",
        }
        world.svn.add_project(f"libs/{PLUGIN}", plugin)
        world.svn.tag(f"libs/{PLUGIN}", "1.0")
        assert world.run(defaults).code == 0
        assert f"{PLUGIN}/acme_build_plugin-1.0-py3-none-any.whl" in distributions(world.outdir)
        retried = world.run(defaults, options=("--retry-failed",))
    assert (retried.code, retried.output) == (0, "")
    for project in ("alpha", "beta"):
        assert "built with the plugin built here" in world.log(project, "1.1").read_text()


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

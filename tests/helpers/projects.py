"""Real Python projects to tag, crafted sdists, and defaults files."""

from __future__ import annotations

import io
import tarfile
import textwrap
from collections.abc import Callable
from pathlib import Path


# Tiny projects, one per kind of build sdistmaker meets. Each takes a name and a version.
def setup_py_project(name: str, version: str) -> dict[str, str]:
    return {
        "setup.py": f"from setuptools import setup\nsetup(name={name!r}, version={version!r})\n",
    }


def pyproject_setuptools_project(name: str, version: str) -> dict[str, str]:
    return {
        "pyproject.toml": textwrap.dedent(f"""\
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "{name}"
            version = "{version}"
            requires-python = ">=3.8"
            [tool.setuptools]
            py-modules = []
            """),
    }


def hatchling_project(name: str, version: str) -> dict[str, str]:
    package = name.replace("-", "_").replace(".", "_").lower()
    return {
        "pyproject.toml": textwrap.dedent(f"""\
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"
            [project]
            name = "{name}"
            version = "{version}"
            [tool.hatch.build.targets.sdist]
            include = ["{package}"]
            """),
        f"{package}/__init__.py": "",
    }


def hatchling_release(name: str, version: str, extra: str = "", readme: str = "") -> dict[str, str]:
    """A hatchling project whose [project] table also holds ``extra`` (TOML lines), with a
    README.md of ``readme`` in its sdist when given."""
    files = hatchling_project(name, version)
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        f'version = "{version}"\n', f'version = "{version}"\n{extra}'
    )
    if readme:
        files["README.md"] = readme
        files["pyproject.toml"] = files["pyproject.toml"].replace(
            "[tool.hatch.build.targets.sdist]\ninclude = [",
            '[tool.hatch.build.targets.sdist]\ninclude = ["README.md", ',
        )
    return files


def scm_project(name: str, version: str) -> dict[str, str]:
    """Its version comes from the VCS; ``version`` is ignored, as in a real such project."""
    return {
        "pyproject.toml": textwrap.dedent(f"""\
            [build-system]
            requires = ["setuptools>=64", "setuptools-scm>=8"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "{name}"
            dynamic = ["version"]
            [tool.setuptools]
            py-modules = []
            [tool.setuptools_scm]
            """),
    }


ProjectKind = Callable[[str, str], dict[str, str]]


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def sdist(folder: Path, pkg_info: str, name: str = "p-1.0.tar.gz") -> Path:
    path = folder / name
    data = pkg_info.encode()
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo(f"{name.removesuffix('.tar.gz')}/PKG-INFO")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return path


CRAFTING = """\
\"\"\"What a build backend needs to write any sdist or wheel, as a tag's backend may.\"\"\"
import gzip, os, tarfile, zipfile, zlib

VERSION = os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"]  # the tag's: sdistmaker tells each build
TOP = "alpha-" + VERSION
PKG_INFO = ("Metadata-Version: 2.2\\nName: alpha\\nVersion: " + VERSION + "\\n").encode()


def get_requires_for_build_sdist(config_settings=None):
    return []


get_requires_for_build_wheel = get_requires_for_build_sdist


def member(name, data=b"", kind=tarfile.REGTYPE, linkname="", size=None):
    \"\"\"A tar member, header and content; its header claims ``size`` bytes when given.\"\"\"
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(data) if size is None else size
    return info.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512)


def write(directory, name, *parts):
    with open(os.path.join(directory, name), "wb") as file:
        file.writelines(parts)
    return name


def sdist(directory, *members, name=TOP + ".tar.gz"):
    return write(directory, name, gzip.compress(b"".join(members) + bytes(1024)))


def zeros(size):
    \"\"\"``size`` bytes of zeros (a multiple of 64 MiB), gzipped into a few kB: gzip members
    may follow one another, so one is repeated.\"\"\"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return (compressor.compress(bytes(64 << 20)) + compressor.flush()) * (size >> 26)


def good_sdist(directory):
    \"\"\"An sdist a wheel builds from.\"\"\"
    sources = ["pyproject.toml", "crafting.py", "backend.py"]
    files = [member(TOP + "/" + path, open(path, "rb").read()) for path in sources]
    return sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO), *files)


def tamper(directory, replacement):
    \"\"\"Put a link to ``replacement`` where the checked sdist may be, above ``directory``.\"\"\"
    for up in ("..", os.path.join("..", "..")):
        checked = os.path.join(directory, up, "dist", TOP + ".tar.gz")
        try:
            os.remove(checked)
            os.symlink(replacement, checked)
        except OSError:
            pass


def wheel(directory, files, name="alpha-" + VERSION + "-py3-none-any.whl"):
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name
"""


def crafted_project(sdist: str = "good_sdist(directory)", wheel: str = "") -> dict[str, str]:
    """Project alpha (of the tag's version), whose backend writes what it is told, as a tag's
    backend may: its sdist is the file that the expression ``sdist`` writes into ``directory``
    (with the helpers of CRAFTING), its wheel the one ``wheel`` writes."""
    backend = (
        "from crafting import *\n\n"
        f"def build_sdist(directory, config_settings=None):\n    return {sdist}\n\n"
        "def build_wheel(directory, config_settings=None, metadata_directory=None):\n"
        f"    return {wheel or None}\n"
    )
    return {
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        ),
        "crafting.py": CRAFTING,
        "backend.py": backend,
    }


def write_defaults(folder: Path, **settings: object) -> Path:
    lines = [f"{name} = {value!r}" for name, value in settings.items()]
    path = folder / "defaults.py"
    path.write_text("\n".join(lines) + "\n")
    return path

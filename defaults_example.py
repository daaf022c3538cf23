# Defaults for sdistmaker: where to find release tags, and where to put the sdists built from them.
#
# Print this file with ``sdists_from_tags --print-example-defaults``, save it (e.g. as
# defaults.py), adapt it, and run ``sdists_from_tags --defaults-file=defaults.py``.
#
# This is a Python file. Every UPPERCASE name must be one of the settings below (a misspelt one
# is an error); helper names of your own start with an underscore.

# Subversion URL where the search for projects starts. A folder holding ``trunk`` or ``tags`` is
# a project, and every folder in its ``tags`` is a release; other folders are searched further
# down (``group/project/trunk`` works). Empty: no Subversion crawl.
BASE = ""

# The same repository as seen on the server that runs sdistmaker, e.g. ``file:///srv/svn/repos``:
# much quicker. Used when it answers, otherwise BASE is read. Names in logs, pages and state
# always use BASE.
BASE_ON_SERVER = ""

# Folders with these names are never searched.
BLACKLIST = [
    ".svn",
    ".attic",
]

# A folder holding one of these entries has no projects further down: stop searching there.
STOP_INDICATORS = [
    # "src",
    # "setup.py",
    # "version.txt",
    # "buildout.cfg",
]

# Other repositories (or folders in them) whose content a tag's svn:externals may bring into its
# sdist. Externals from the tag's own repository are always followed; those from anywhere else
# fail the tag, naming them: they would publish what sdistmaker can read there, which the
# tag's committer may not.
SVN_EXTERNALS_FROM = [
    # "https://svn.example.com/thirdparty/",
]

# Git repositories, each a URL, or a dict for a project in a subdirectory of a repository
# (a monorepo) and/or with only some tags, e.g.
#   {"url": "https://git.example.com/mono.git", "subdirectory": "frontend", "tags": "frontend-*"}
# Tags named ``1.2``, ``v1.2`` or ``project-1.2`` are release 1.2; tags that name no PEP 440
# version (``latest``) are ignored. Credentials come from git's own helpers (never put them here:
# the URL shows up in logs and pages without its password, but it does sit in this file).
#
# A dict may name a source instead, whose repositories each run reads as they are then (see the
# README's "Repositories found, not listed"): a folder of repositories on this machine (a glob;
# its "url" says how people address the one at {path}), a GitLab group and its subgroups, a Gitea
# or Forgejo organisation, a GitHub organisation or user (its API's URL, then "org" or "user").
# A forge's "token" names the environment variable holding its token (without one, netrc's
# password for the API's host, else none): never write the token here. Archived repositories,
# forks and empty ones are skipped unless "include_archived", "include_forks" or "include_empty"
# is True. Globs in "include" and "exclude" match the repositories' paths (acme/python/app); each
# repository found takes the "subdirectory" and "tags" of its source.
GIT_REPOSITORIES = [
    # "https://git.example.com/acme/acme.utils.git",
    # {"url": "ssh://git@git.example.com/acme/mono.git", "subdirectory": "acme.web"},
    # {"folder": "/srv/git/**/*.git", "url": "https://git.example.com/{path}"},
    # {"gitlab": "https://gitlab.example.com", "group": "acme/python", "token": "GITLAB_TOKEN"},
    # {"gitea": "https://gitea.example.com", "org": "acme", "exclude": ["acme/attic-*"]},
    # {"github": "https://api.github.com", "org": "acme", "token": "GITHUB_TOKEN"},
]

# Mercurial repositories, in the shape of GIT_REPOSITORIES: a URL, or a dict with the keys url,
# subdirectory and tags. Global tags (in .hgtags) are releases; local tags and ``tip`` are not.
# Credentials go in the [auth] section of the hg configuration of the user sdistmaker runs as,
# never in a URL here.
HG_REPOSITORIES = [
    # "https://hg.example.com/acme/acme.billing",
]

# The package folder: one subfolder per project with its sdists, and sdistmaker's private state
# in ``.sdistmaker``. A relative path is relative to the folder of this file.
OUTDIR = "var/private"

# Seconds one tag's build may take, its export (with what svn:externals bring in) and installing
# its build requirements included, before its whole process tree is killed and it counts as
# failed.
BUILD_TIMEOUT = 600

# Seconds one command reading a repository (an svn listing, a git fetch, the first clone of a
# large repository) may take before it is killed and the repository counts as unreadable for
# this run; the other repositories are still read. An upload to UPLOAD_TO is given up after as
# long. A server that stops answering over http(s) or ssh is given up after a minute of silence
# whatever this says.
REPOSITORY_TIMEOUT = 600

# Names that are yours alone (globs, e.g. "acme-*"): when no project of such a name is here, the
# web server answers 404 instead of sending the installer to PyPI, where anyone could publish
# it (dependency confusion), and a build requirement of such a name is installed only from OUTDIR
# or the find-links of BUILD_ENVIRONMENT, never from another index. Projects sdistmaker has
# crawled are protected anyway.
PRIVATE_NAMES = [
    # "acme-*",
]

# Who may read which projects, when the web server lets only known readers in (README.rst, Who
# may read it): a user or a group of the server's group file -> globs of the projects it may
# read. A project some glob here matches is for those readers alone, and a 404 to anyone else;
# any other project is every reader's.
ACCESS = {
    # "team-b": ["acme-b-*"],
}

# Make the index complete: what these requirements need, resolved by uv against an upstream
# index for the environments named (every one, when none is), is downloaded once, checked
# against the index's hashes and kept beside the built files, so that installs work without the
# upstream index. Files whose names match an "exclude" glob are left out; a private name
# (PRIVATE_NAMES, or a project here) is never taken from upstream. A project with mirrored files
# is served from here alone: a newer upstream version reaches installers once a run mirrors it.
# With "private_dependencies": True, what every private release declares it needs is mirrored
# too, once a release. With "environments", a list of dicts with the keys python_version
# ("3.11") and platform ("linux"), only files that install there are mirrored.
# MIRROR = {"index": "https://pypi.org/simple/", "requirements": ["requests>=2.28"]}

# Also build a wheel from every new sdist and publish it beside it. This proves each sdist
# complete (a file missing from it fails the wheel) and spares installers a build. A wheel that
# does not build is reported; its sdist is published all the same.
WHEELS = False

# Also upload every newly built file (sdist, and wheel with WHEELS) to these package
# repositories: their upload URLs, what twine calls --repository-url (devpi, pypiserver,
# Artifactory, Nexus). Credentials come from TWINE_USERNAME and TWINE_PASSWORD or keyring, as
# for twine; never put them here. Each file is uploaded once; a failed upload makes the run exit
# 1 and is tried again on the next run.
UPLOAD_TO = [
    # "https://devpi.example.com/acme/prod/",
]

# Object storage the whole index is copied to after each run, to serve it from there (README:
# Serving from object storage): S3, or a store that speaks its protocol at "endpoint" (MinIO, R2,
# Ceph). Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role); never put them here. A run copies what
# changed, files before the pages that link them; a failed copy makes the run exit 1 and is
# completed by the next run. Needs boto3: pip install "sdistmaker[s3]".
PUBLISH_TO = [
    # {"url": "s3://acme-pypi/simple", "endpoint": "https://minio.example.com"},
]

# Releases installers should pass over unless asked for exactly (PEP 592), with the reason shown
# to users ("" for none): {"project": {"version": "reason"}}. Apply a change without a crawl
# with ``sdists_from_tags --render-only``.
YANKED = {
    # "acme.utils": {"1.0": "broken on Python 3.12, use 1.0.1"},
}

# A folder of templates that replace the shipped ones of the same name: simple/root.html and
# simple/project.html (for installers), browse/base.html, browse/index.html, browse/row.html and
# browse/project.html (for people). A relative path is relative to the folder of this file.
# TEMPLATES = "templates"

# Environment variables every build gets: where build requirements come from, a proxy,
# certificates. Builds run code from tags: of sdistmaker's own environment they get only PATH,
# HOME, LANG, LANGUAGE, LC_* and TZ (whatever its name, any other variable may hold a secret:
# a signing key, a job token, a webhook's URL), and the installers of their build requirements
# also where their caches are and which certificates they trust (UV_CACHE_DIR, PIP_CACHE_DIR,
# XDG_CACHE_HOME, SSL_CERT_FILE, SSL_CERT_DIR, PIP_CERT, REQUESTS_CA_BUNDLE, UV_NATIVE_TLS,
# UV_SYSTEM_CERTS). Everything else a build needs belongs here; None gives a variable as
# sdistmaker's environment has it, to keep a password out of this file (a proxy's, set where the
# service is started). Commit hooks and cron start sdistmaker with an (almost) empty environment.
# Build requirements are installed as wheels only, never from a URL or path: one that has no
# wheel there fails the build (put a wheel of it on that index, or in a folder named by
# UV_FIND_LINKS and PIP_FIND_LINKS). Names in PRIVATE_NAMES and of projects here come only from
# OUTDIR (looked in first) and those find-links folders.
BUILD_ENVIRONMENT = {
    # "PIP_INDEX_URL": "https://pypi.example.com/simple/",
    # "UV_INDEX_URL": "https://pypi.example.com/simple/",
    # "HTTPS_PROXY": None,  # as sdistmaker's environment has it
    # "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
}

# How many tags are built at once (default: the number of processor cores).
# JOBS = 2

# An interpreter for setup.py files from before Python 3 (e.g. "/usr/bin/python2.7"). Tried for
# a setup.py-only project after today's setuptools and then setuptools<58 failed. Empty: not tried.
LEGACY_PYTHON = ""

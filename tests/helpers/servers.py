"""Real servers for the serving tests, on 127.0.0.1 only: Apache and nginx with the shipped
configurations, and a small static index that plays PyPI."""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import html
import http.client
import http.server
import io
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.system import ROOT, require

APACHE_MODULES = Path("/usr/lib/apache2/modules")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    port: int, process: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            details = log.read_text() if log and log.exists() else ""
            raise RuntimeError(f"server exited with {process.returncode}: {details}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def served_folder() -> Path:
    """A folder the web server's own user can read (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="sdistmaker-served-"))
    folder.chmod(0o755)
    return folder


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


def fetch(port: int, path: str, method: str = "GET", **headers: str) -> Response:
    """One request, redirects not followed, as curl without -L."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            method, path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        answer = connection.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


def readme_example(introduction: str) -> str:
    """The literal block README.rst shows after the line ending in ``introduction``: the servers
    run with what a reader copies from there."""
    lines = (ROOT / "README.rst").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.endswith(introduction)) + 1
    end = next(n for n in range(start + 1, len(lines)) if lines[n][:1] not in ("", " "))
    return textwrap.dedent("\n".join(lines[start:end])).strip() + "\n"


def fill_in(example: str, values: dict[str, str]) -> str:
    """``example`` with each placeholder replaced by its value; each must be there."""
    for placeholder, value in values.items():
        assert placeholder in example, f"README's example lacks {placeholder!r}"
        example = example.replace(placeholder, value)
    return example


@contextlib.contextmanager
def apache(
    outdir: Path,
    upstream: str,
    prefix: str = "/simple",
    readers: Path | None = None,
    under: Sequence[str] = (),
) -> Iterator[int]:
    """Apache serving ``outdir`` with apache/sdistmaker.conf, set up as README.rst shows (for
    the users of the password file ``readers`` alone, when given, their groups in
    ``pypi.groups`` beside it), started by the command prefix ``under``; yields its port."""
    require("apache2")
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-apache-"))
    port = free_port()
    modules = ["mpm_event", "authz_core", "alias", "dir", "mime", "rewrite", "headers", "lua"]
    modules += ["auth_basic", "authn_core", "authn_file", "authz_user", "authz_groupfile"]
    modules += ["proxy", "proxy_http", "ssl"]
    loads = "".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so\n" for m in modules)
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    if readers is None:
        example = readme_example("A virtual host::")
        example = fill_in(example, {"SDISTMAKER_PREFIX /simple": f"SDISTMAKER_PREFIX {prefix}"})
    else:
        # The upstream is this test's: its Define goes where the first example has it.
        example = fill_in(
            readme_example("before the include::"),
            {
                "/etc/apache2/pypi.htpasswd": str(readers),
                "/etc/apache2/pypi.groups": str(readers.parent / "pypi.groups"),
                "    Include": "    Define SDISTMAKER_UPSTREAM https://pypi.org/simple\n"
                + "    Include",
            },
        )
    virtual_host = fill_in(
        example,
        {
            "*:443": f"127.0.0.1:{port}",
            "/srv/pypi": str(outdir),
            "https://pypi.org/simple": upstream,
            "/path/to/sdistmaker": str(ROOT),
        },
    )
    (work / "httpd.conf").write_text(
        f"ServerRoot {work}\nListen 127.0.0.1:{port}\n{loads}{user}"
        f"ServerName 127.0.0.1\nPidFile {work}/httpd.pid\nDefaultRuntimeDir {work}\n"
        f"ErrorLog {work}/error.log\nTypesConfig /etc/mime.types\n{virtual_host}"
    )
    command = [*under, "apache2", "-f", str(work / "httpd.conf"), "-DFOREGROUND"]
    with _running(command, port, work):
        yield port


@contextlib.contextmanager
def apache_git(root: Path) -> Iterator[str]:
    """The git repositories below ``root`` served over smart HTTP by git's own http-backend
    behind Apache, as a company's git server; yields the URL of ``root``."""
    require("apache2")
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-apache-git-"))
    port = free_port()
    modules = ["mpm_prefork", "authz_core", "alias", "env", "cgi"]
    loads = "".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so\n" for m in modules)
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    (work / "httpd.conf").write_text(
        f"ServerRoot {work}\nListen 127.0.0.1:{port}\n{loads}{user}"
        f"ServerName 127.0.0.1\nPidFile {work}/httpd.pid\nDefaultRuntimeDir {work}\n"
        f"ErrorLog {work}/error.log\n"
        f"SetEnv GIT_PROJECT_ROOT {root}\nSetEnv GIT_HTTP_EXPORT_ALL 1\n"
        # The repositories are root's, the server runs as www-data: git refuses that unless told.
        "SetEnv GIT_CONFIG_COUNT 1\nSetEnv GIT_CONFIG_KEY_0 safe.directory\n"
        "SetEnv GIT_CONFIG_VALUE_0 *\n"
        "ScriptAlias / /usr/lib/git-core/git-http-backend/\n"
        "<Location />\n    Require all granted\n</Location>\n"
    )
    with _running(["apache2", "-f", str(work / "httpd.conf"), "-DFOREGROUND"], port, work):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def nginx(
    outdir: Path, upstream: str, readers: Path | None = None, under: Sequence[str] = ()
) -> Iterator[int]:
    """nginx serving ``outdir`` with nginx/sdistmaker*.conf, set up as README.rst shows (for
    the users of the password file ``readers`` alone, when given, their groups in
    ``pypi.groups`` beside it), started by the command prefix ``under``; yields its port."""
    introduction = "negotiation)::" if readers is None else "(the same file formats)::"
    values = {"/srv/pypi": str(outdir), "https://pypi.org/simple": upstream}
    if readers is not None:
        values["/etc/nginx/pypi.htpasswd"] = str(readers)
        values["/etc/nginx/pypi.groups"] = str(readers.parent / "pypi.groups")
    with nginx_from_readme(introduction, values, under) as port:
        yield port


@contextlib.contextmanager
def nginx_from_readme(
    introduction: str, values: dict[str, str], under: Sequence[str] = ()
) -> Iterator[int]:
    """nginx configured with README.rst's example after the line ending in ``introduction``,
    each placeholder in ``values`` replaced, listening on a port of its own; yields it."""
    require("nginx")
    perl = Path("/usr/lib/nginx/modules/ngx_http_perl_module.so")
    require("libnginx-mod-http-perl", perl)
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-nginx-"))
    work.chmod(0o755)  # its workers keep proxied answers below it
    port = free_port()
    user = "user www-data;\n" if os.geteuid() == 0 else ""
    temporary = "".join(
        f"    {kind}_temp_path {work}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    http = fill_in(
        fill_in(readme_example(introduction), values),
        {
            "http {\n": f"http {{\n    access_log off;\n{temporary}",
            "server {\n": f"server {{\n        listen 127.0.0.1:{port};\n",
            "/path/to/sdistmaker": str(ROOT),
        },
    )
    (work / "nginx.conf").write_text(
        f"load_module {perl};\n{user}pid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
        f"daemon off;\nevents {{ worker_connections 64; }}\n{http}"
    )
    command = [*under, "nginx", "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")]
    with _running(command, port, work):
        yield port


@contextlib.contextmanager
def _running(command: list[str], port: int, work: Path) -> Iterator[None]:
    """Start a server that logs to ``work/error.log``, wait for ``port``; stop it, clean up."""
    process = subprocess.Popen(command, start_new_session=True)
    try:
        wait_for(port, process, work / "error.log")
        yield
    except BaseException:
        # What the server said goes into the failed test's report; the folder goes.
        log = work / "error.log"
        print(log.read_text(errors="replace")[-4000:] if log.exists() else "", file=sys.stderr)
        raise
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def make_wheel(  # noqa: PLR0913 (a wheel as an index offers it: name, version, needs, tag)
    folder: Path,
    name: str,
    version: str,
    requires: tuple[str, ...] = (),
    extra_files: dict[str, str] | None = None,
    tag: str = "py3-none-any",
) -> Path:
    """A minimal, valid wheel, for the index playing PyPI; ``extra_files`` (path in the wheel:
    text) go in beside its module; ``tag`` says where it installs (pure Python by default)."""
    module = name.replace("-", "_").replace(".", "_").lower()
    dist_info = f"{module}-{version}.dist-info"
    files = {
        **(extra_files or {}),
        f"{module}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ),
    }
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name_in_zip, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        writer.writerow([name_in_zip, f"sha256={digest.decode()}", len(text.encode())])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    path = folder / f"{module}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_in_zip, text in files.items():
            archive.writestr(name_in_zip, text)
        archive.writestr(f"{dist_info}/RECORD", record.getvalue())
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def upstream_index(
    wheels: dict[str, list[Path]],
    yanked: Mapping[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    seen: list[dict[str, str]] | None = None,
    absolute_links: bool = False,
) -> Iterator[str]:
    """A static simple index on 127.0.0.1 serving ``wheels`` per project, those named in
    ``yanked`` (file name: reason) yanked, over TLS with ``tls``, the headers of each request
    it gets added to ``seen``, its pages linking files by absolute URL with ``absolute_links``
    (as PyPI's link its file host); yields its URL."""
    folder = Path(tempfile.mkdtemp(prefix="sdistmaker-upstream-"))

    class Handler(_QuietHandler):
        def send_head(self) -> Any:
            if seen is not None:
                seen.append(dict(self.headers))
            return super().send_head()

    handler = lambda *a, **k: Handler(*a, directory=str(folder), **k)  # noqa: E731
    try:
        with http_server(handler, tls) as address:
            url = f"{'https' if tls else 'http'}://{address}/simple"
            for project, paths in wheels.items():
                base = f"{url}/{project}/" if absolute_links else ""
                _upstream_page(folder / "simple" / project, paths, base, yanked or {})
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _upstream_page(folder: Path, paths: list[Path], base: str, yanked: Mapping[str, str]) -> None:
    """A project's folder of an upstream index: its files, and a page linking them."""
    folder.mkdir(parents=True)
    links = []
    for path in paths:
        shutil.copy(path, folder / path.name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        reason = yanked.get(path.name)
        attribute = "" if reason is None else f' data-yanked="{html.escape(reason)}"'
        link = f"{base}{path.name}#sha256={digest}"
        links.append(f'<a href="{link}"{attribute}>{path.name}</a><br>')
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html><body>" + "".join(links) + "</body></html>"
    )


@contextlib.contextmanager
def silent_index() -> Iterator[str]:
    """An index on 127.0.0.1 that takes every request and answers none while in use; yields its
    URL."""
    left = threading.Event()

    class NeverAnswers(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            left.wait()

    try:
        with http_server(NeverAnswers) as address:
            yield f"http://{address}/simple/"
    finally:
        left.set()


@contextlib.contextmanager
def tarpit() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte, as a
    server whose service hangs does; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in [*held, listener]:
            connection.close()


@contextlib.contextmanager
def http_server(
    handler: Callable[..., http.server.BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 in a thread of its own (over TLS with ``tls``), stopped on
    leaving; yields host:port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    # A client that gives up between the server's select and its accept would otherwise leave
    # accept waiting for the next connection, and shutdown waiting for accept, for ever.
    server.socket.settimeout(1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def forwarding_proxy(hosts: Mapping[str, str], seen: list[str]) -> Iterator[str]:
    """An HTTP proxy on 127.0.0.1, as a company's that alone reaches the outside: it forwards
    requests for the names in ``hosts`` to the host:port each maps to and refuses all others
    (502), adding each URL asked for to ``seen``; yields its host:port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            address = urllib.parse.urlsplit(self.path)
            target = hosts.get(address.hostname or "")
            if address.scheme != "http" or target is None:
                self.send_error(502)
                return
            forwarded = {
                name: self.headers[name] for name in ("Accept", "Range") if name in self.headers
            }
            connection = http.client.HTTPConnection(target, timeout=10)
            try:
                connection.request(self.command, address.path or "/", headers=forwarded)
                answer = connection.getresponse()
                body = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for name in ("Content-Type", "Location", "Content-Range", "Accept-Ranges"):
                if answer.getheader(name):
                    self.send_header(name, answer.getheader(name, ""))
            self.send_header("Content-Length", answer.getheader("Content-Length", str(len(body))))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Handler) as address:
        yield address


@contextlib.contextmanager
def redirecting_server(target: str) -> Iterator[str]:
    """An HTTP server sending every request on to the same path at ``target`` (host:port), as
    a host does for a repository that moved; yields its host:port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(301)
            self.send_header("Location", f"http://{target}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Handler) as address:
        yield address


@dataclass
class PackageServer:
    """A real pypiserver with authentication, as a company's devpi or Nexus stands in for."""

    url: str
    packages: Path
    username: str
    password: str


@contextlib.contextmanager
def pypiserver(folder: Path, reading_too: bool = False) -> Iterator[PackageServer]:
    """``reading_too``: the password is needed to read the index and its files, not only to
    upload."""
    from passlib.apache import HtpasswdFile

    packages = folder / "packages"
    packages.mkdir(parents=True)
    passwords = HtpasswdFile(str(folder / "htpasswd"), new=True)
    passwords.set_password("uploader", "s3cret-upload")
    passwords.save()
    port = free_port()
    command = [str(Path(sys.executable).parent / "pypi-server"), "run", "-i", "127.0.0.1"]
    protected = "update,download,list" if reading_too else "update"
    command += ["-p", str(port), "-P", str(folder / "htpasswd"), "-a", protected]
    command += ["--disable-fallback", str(packages)]
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    try:
        wait_for(port, process, folder / "server.log")
        yield PackageServer(f"http://127.0.0.1:{port}/", packages, "uploader", "s3cret-upload")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


@dataclass
class GitServer:
    address: str
    """host:port"""
    exposures: list[str]
    """The command lines, seen while the server answered a request, that held the secret."""


@contextlib.contextmanager
def git_http_server(root: Path, user: str, password: str) -> Iterator[GitServer]:
    """The git repositories below ``root``, served over smart HTTP (git's own http-backend) to
    ``user`` with ``password`` and to no one else, as a company's git host.

    The secret is the password, or with none the user name (a token, as GitHub takes it). While
    the server answers, the client's git processes are alive: every request looks for the
    secret in the command line of every process, which any user of the machine can read.
    """
    expected = basic_credentials(user, password)
    exposures: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            exposures.extend(command_lines_holding(password or user))
            if not refused_without(self, expected, "git"):
                answer_with_git(self, root, user)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Handler) as address:
        yield GitServer(address, exposures)


def answer_with_git(handler: http.server.BaseHTTPRequestHandler, root: Path, user: str) -> None:
    """Answer ``handler``'s request with git's own http-backend, serving the repositories below
    ``root`` to ``user``."""
    path, _, query = handler.path.partition("?")
    body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    environment = {
        "PATH": os.environ["PATH"],
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "REQUEST_METHOD": handler.command,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
        "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
        "REMOTE_USER": user,
        "REMOTE_ADDR": "127.0.0.1",
    }
    backend = subprocess.run(
        ["git", "http-backend"], input=body, env=environment, capture_output=True
    )
    # CGI headers end at a blank line; what follows is binary (a pack) and is passed on as is.
    end = re.search(rb"\r?\n\r?\n", backend.stdout)
    assert end is not None, backend.stderr
    head, payload = backend.stdout[: end.start()], backend.stdout[end.end() :]
    status, headers = 200, []
    for line in head.decode().splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        else:
            headers.append((name, value.strip()))
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def basic_credentials(user: str, password: str) -> str:
    """The Authorization header of HTTP Basic authentication."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def refused_without(handler: http.server.BaseHTTPRequestHandler, expected: str, realm: str) -> bool:
    """Answer 401, asking for credentials, unless the request carries ``expected`` (an
    Authorization header); whether it was refused."""
    if handler.headers.get("Authorization") == expected:
        return False
    handler.send_response(401)
    handler.send_header("WWW-Authenticate", f'Basic realm="{realm}"')
    handler.send_header("Content-Length", "0")
    handler.end_headers()
    return True


@contextlib.contextmanager
def hg_serve(*arguments: str | Path) -> Iterator[str]:
    """hg's own web server (``hg serve ARGUMENTS``) on 127.0.0.1, as a company's hgweb serves
    its repositories; yields its URL."""
    require("hg")
    port = free_port()
    command = ["hg", "serve", *map(str, arguments), "-a", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


def command_lines_holding(secret: str) -> list[str]:
    """The command lines of this machine's processes that hold ``secret``, which any user of
    the machine can read."""
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            command_line = path.read_bytes()
            if secret.encode() in command_line:
                found.append(command_line.replace(b"\0", b" ").decode(errors="replace"))
    return found

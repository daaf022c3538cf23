"""W7, publishing to object storage: the requests a run makes of the store, counted.

    python bench/publish.py [--projects 100 1000] [--files 3]

For each size, makes an OUTDIR of --projects projects with --files sdists each, then counts the
requests to an S3-protocol server (moto's, on 127.0.0.1, behind a counting proxy) of: the first
publish (it grows with the files), a run with nothing new (none), and a run that publishes one
new file (the same few, whatever the index's size).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from render import BIN, make_index, write_sdist

BUCKET = "bench-pypi"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def counted_store(work: Path) -> Iterator[tuple[str, list[str]]]:
    """moto's S3 server behind a proxy that notes each request's method; yields the proxy's
    URL and the notes."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    seen: list[str] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            seen.append(self.command)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request(self.command, self.path, body, dict(self.headers))
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_HEAD = forward

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(work / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "none"),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        seen.clear()
        yield endpoint, seen
    finally:
        proxy.shutdown()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


def counts(projects: int, files: int, work: Path) -> tuple[int, int, int, int]:
    """Requests of the first publish, of a run with nothing new, of a run publishing one new
    file; and how many objects the index has."""
    outdir = work / f"index-{projects}" / "out"
    defaults = make_index(outdir, projects, files)
    with counted_store(work) as (endpoint, seen):
        store = {"url": f"s3://{BUCKET}/{projects}", "endpoint": endpoint}
        defaults.write_text(f"OUTDIR = 'out'\nPUBLISH_TO = [{store!r}]\n")
        run = [str(BIN / "sdists_from_tags"), "-q", "-d", str(defaults)]
        subprocess.run(run, check=True)
        first = len(seen)
        served = [p for p in outdir.rglob("*") if p.is_file() and ".sdistmaker" not in p.parts]
        seen.clear()
        subprocess.run(run, check=True)
        nothing = len(seen)
        seen.clear()
        name = f"project{projects // 2:05d}"
        write_sdist(outdir / name, name, "2.0")
        subprocess.run([*run[:-2], "--render-only", *run[-2:]], check=True)
        one = len(seen)
    return first, nothing, one, len(served)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--files", type=int, default=3)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-bench-publish-"))
    work.chmod(0o755)
    try:
        print("W7 requests to the store (PUT each, never a listing or a read):")
        for projects in arguments.projects:
            first, nothing, one, objects = counts(projects, arguments.files, work)
            print(
                f"  {projects:6d} projects x {arguments.files} files ({objects} objects): "
                f"first publish {first}, nothing new {nothing}, one new file {one}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Object storage for the tests: moto's server mode (from PyPI) standing in for S3, a real
S3-protocol server on 127.0.0.1, with a recording proxy in front of it that counts what a run
asks of the store and can stop answering, as a network that goes down does."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.servers import free_port, http_server, wait_for
from helpers.system import require

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "acme-pypi"
KEY_ID, SECRET = "AKIAACMETESTING", "acme-test-secret-never-shown"
"""The credentials the standard chain finds in the environment; the secret must show nowhere."""


@dataclass
class Recording:
    """What the store was asked, as ``METHOD /bucket/key`` lines; from ``refuse_after`` PUTs on
    (None: never) every request is refused, as by a network gone down."""

    seen: list[str] = field(default_factory=list)
    refuse_after: int | None = None
    after_put: Callable[[int], None] | None = None
    """Called with the number of PUTs seen, after each is answered (to kill a run midway)."""

    def puts(self) -> list[str]:
        return [line.split(" ", 1)[1] for line in self.seen if line.startswith("PUT ")]


@contextlib.contextmanager
def s3_store() -> Iterator[tuple[str, Recording]]:
    """A bucket in moto's server behind a recording proxy; yields the proxy's URL (the
    store's endpoint) and what it records. Credentials are in the environment meanwhile."""
    server = Path(sys.executable).parent / "moto_server"  # the test extras' (pyproject.toml)
    require("moto_server", server)
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-s3-"))
    port = free_port()
    log = work / "moto.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    recording = Recording()
    try:
        wait_for(port, process, log)
        with _credentials(work), _recording_proxy(port, recording) as endpoint:
            client(endpoint).create_bucket(Bucket=BUCKET)
            recording.seen.clear()
            yield endpoint, recording
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def client(endpoint: str) -> S3Client:
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1")


def readable_by_anyone(endpoint: str) -> None:
    """The bucket policy that lets a web server in front of the bucket read it unsigned."""
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    client(endpoint).put_bucket_policy(Bucket=BUCKET, Policy=policy)


def objects(endpoint: str) -> dict[str, dict[str, str]]:
    """Every object of the bucket: key -> its content type and cache header."""
    s3 = client(endpoint)
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for entry in page.get("Contents", []):
            head = s3.head_object(Bucket=BUCKET, Key=entry["Key"])
            found[entry["Key"]] = {
                "type": head.get("ContentType", ""),
                "cache": head.get("CacheControl", ""),
            }
    return found


def download(endpoint: str, prefix: str, folder: Path) -> None:
    """The bucket's objects below ``prefix`` as files below ``folder``."""
    s3 = client(endpoint)
    for key in objects(endpoint):
        if key.startswith(prefix):
            target = folder / key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


@contextlib.contextmanager
def _credentials(work: Path) -> Iterator[None]:
    """The environment of the standard AWS chain: keys, no shared files of the machine's."""
    variables = {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(work / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(work / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _recording_proxy(port: int, recording: Recording) -> Iterator[str]:
    """A reverse proxy to 127.0.0.1:``port`` that records each request; yields its URL."""
    lock = threading.Lock()

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections, answers Expect: 100-continue

        def log_message(self, format: str, *args: object) -> None:
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with lock:
                refused = recording.refuse_after is not None and (
                    len(recording.puts()) >= recording.refuse_after
                )
                recording.seen.append(f"{self.command} {self.path.split('?')[0]}")
            if refused:
                self.send_error(503, "Slow Down")
                return
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request(self.command, self.path, body, dict(self.headers))
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            if self.command == "PUT" and recording.after_put is not None:
                recording.after_put(len(recording.puts()))

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward

    with http_server(Proxy) as address:
        yield f"http://{address}"

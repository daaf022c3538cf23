"""S3 and the stores that speak its protocol (Cloudflare R2, MinIO, Ceph RGW, GCS in
interoperability mode): ``{"url": "s3://bucket/prefix", "endpoint": "https://…"}``, credentials
from the standard AWS chain (environment, shared files, instance role), never from the defaults
file, and never shown."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sdistmaker.publishing.targets import PublishError, Target, register
from sdistmaker.values import Invalid

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
"""A bucket's name, as S3 allows it (and so every store that speaks its protocol)."""
CONNECT_SECONDS, READ_SECONDS = 10, 60
"""How long a connection, and then each answer, may take: nothing waits for ever."""


class S3(Target):
    keys = ("url", "endpoint", "region")

    def __init__(self, entry: Mapping[str, str]) -> None:
        address = urlsplit(entry["url"])
        self.bucket = address.netloc
        self.prefix = address.path.strip("/")
        if not _BUCKET.fullmatch(self.bucket) or address.query or address.fragment:
            raise Invalid(f"names {entry['url']!r}, no bucket: s3://bucket or s3://bucket/prefix")
        self.url = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self.endpoint = entry.get("endpoint") or None
        if self.endpoint is not None:
            server = urlsplit(self.endpoint)
            if server.scheme not in ("http", "https") or not server.hostname or server.username:
                raise Invalid(f"gives {self.url} the endpoint {self.endpoint!r}: an http(s) URL")
        self.region = entry.get("region") or None
        if importlib.util.find_spec("boto3") is None:
            raise Invalid(f"names {self.url}, which needs boto3: pip install 'sdistmaker[s3]'")

    @functools.cached_property
    def _client(self) -> S3Client:
        # Only here: a run that publishes nothing does not load boto3.
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=CONNECT_SECONDS,
            read_timeout=READ_SECONDS,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        session = boto3.session.Session()
        return session.client(
            "s3", endpoint_url=self.endpoint, region_name=self.region, config=config
        )

    def put(self, key: str, path: Path, content_type: str, cache_control: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        full = f"{self.prefix}/{key}" if self.prefix else key
        try:
            with open(path, "rb") as body:
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=full,
                    Body=body,
                    ContentType=content_type,
                    CacheControl=cache_control,
                )
        except (BotoCoreError, ClientError) as error:
            raise PublishError(_one_line(error)) from None


def _one_line(error: Any) -> str:
    return " ".join(str(error).split())


register("s3", S3)

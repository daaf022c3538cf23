"""PUBLISH_TO as the defaults file gives it: entries checked by their kind, by URL scheme."""

from __future__ import annotations

import pytest

from sdistmaker.publishing import check, target_for
from sdistmaker.publishing.s3 import S3
from sdistmaker.values import Invalid


def test_an_s3_entry_names_its_bucket_prefix_and_endpoint() -> None:
    entries = check([{"url": "s3://acme-pypi/simple/", "endpoint": "https://minio.example.com"}])
    target = target_for(entries[0])
    assert isinstance(target, S3)
    assert (target.url, target.bucket, target.prefix) == (
        "s3://acme-pypi/simple",
        "acme-pypi",
        "simple",
    )
    assert target_for({"url": "s3://acme-pypi"}).url == "s3://acme-pypi"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("s3://acme-pypi", "must be a list of stores"),
        ([{"url": "ftp://x/y"}], "names 'ftp://x/y': a store's url starts with s3://"),
        ([{"url": "s3://acme-pypi", "region": 1}], "must hold dicts of strings"),
        ([{"url": "s3://a"}], "names 's3://a', no bucket"),
        ([{"url": "s3://acme-pypi?x=1"}], "no bucket"),
        (
            [{"url": "s3://acme-pypi", "endpoint": "https://key:secret@minio.example.com"}],
            "the endpoint 'https://key:secret@minio.example.com': an http(s) URL",
        ),
        ([{"url": "s3://acme-pypi", "aws_secret_access_key": "x"}], "gives aws_secret_access_key"),
    ],
)
def test_a_wrong_entry_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(
        Invalid, match=message.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")
    ):
        check(value)

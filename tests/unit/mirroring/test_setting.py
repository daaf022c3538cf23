"""The MIRROR setting (sdistmaker/mirroring/setting.py): what it takes, and one sentence for
what it does not."""

import re

import pytest

from sdistmaker import values
from sdistmaker.mirroring.setting import Environment, Mirror, check


def test_a_mirror_with_only_an_index_and_requirements_is_for_every_environment() -> None:
    mirror = check({"index": "https://pypi.org/simple/", "requirements": ["Requests >= 2.28"]})
    assert mirror == Mirror("https://pypi.org/simple/", ("Requests>=2.28",))
    assert mirror.environments == (Environment(),)


def test_environments_and_exclusions_are_kept() -> None:
    mirror = check(
        {
            "index": "file:///srv/upstream/simple",
            "requirements": [],
            "environments": [{"python_version": "3.11", "platform": "linux"}],
            "exclude": ["*-win_amd64.whl", "*-macosx_*"],
            "private_dependencies": True,
        }
    )
    assert mirror.environments == (Environment("3.11", "linux"),)
    assert mirror.private_dependencies
    assert mirror.excludes("acme_native-1.0-cp311-cp311-win_amd64.whl")
    assert mirror.excludes("acme_native-1.0-cp311-cp311-macosx_11_0_arm64.whl")
    assert not mirror.excludes("acme_native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://pypi.org/simple/", "must be a dict with an 'index', not str"),
        ({"requirements": []}, "needs an 'index': the upstream index's URL"),
        ({"index": "https://p/", "mirror": 1}, "unknown key 'mirror' (known: environments,"),
        ({"index": "ftp://p/"}, "'index' must be an http(s) or file URL, not 'ftp://p/'"),
        ({"index": "https://p/", "requirements": "requests"}, "must be a list of strings"),
        ({"index": "https://p/", "requirements": ["requests>"]}, "holds 'requests>', no req"),
        ({"index": "https://p/", "requirements": ["p @ https://h/p.whl"]}, "a direct reference"),
        ({"index": "https://p/", "environments": [{"os": "linux"}]}, "holds {'os': 'linux'}"),
        ({"index": "https://p/", "private_dependencies": "yes"}, "must be True or False"),
    ],
)
def test_a_wrong_mirror_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(values.Invalid, match=re.escape(message)):
        check(value)


def test_an_index_url_is_shown_without_its_password() -> None:
    with pytest.raises(values.Invalid) as error:
        check({"index": "ftp://mirror:s3cret@p.example/simple"})
    assert "s3cret" not in str(error.value)

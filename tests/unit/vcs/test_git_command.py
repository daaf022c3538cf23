"""How git is run (sdistmaker/vcs/git_command.py): what its environment tells it, checked with
git itself, and its errors in one line."""

import os
import subprocess

import pytest

from sdistmaker.vcs.git_command import environment, git_message


def credential(host: str, variables: dict[str, str]) -> str:
    """What git's credential machinery answers for ``host`` in ``variables``: the helpers as git
    runs them for a fetch, with the user's own configuration out of the way."""
    request = f"protocol=https\nhost={host}\n\n"
    done = subprocess.run(
        ["git", "credential", "fill"],
        input=request,
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1", **variables},
    )
    return done.stdout


def test_credentials_go_to_their_host_alone_by_a_helper_never_in_the_url() -> None:
    variables = environment("https://builder:s3cret@git.example.com/acme/p.git")
    configured = {
        variables[f"GIT_CONFIG_KEY_{n}"]: variables[f"GIT_CONFIG_VALUE_{n}"]
        for n in range(int(variables["GIT_CONFIG_COUNT"]))
        if variables[f"GIT_CONFIG_VALUE_{n}"]
    }
    assert configured["remote.origin.url"] == "https://git.example.com/acme/p.git"
    assert "s3cret" not in "".join(configured.values())
    answer = credential("git.example.com", variables)
    assert "username=builder\npassword=s3cret\n" in answer
    # Another host (a redirect elsewhere) gets nothing from sdistmaker's helper.
    assert "s3cret" not in credential("elsewhere.example.com", variables)


def test_a_url_without_credentials_sets_no_helper() -> None:
    variables = environment("https://git.example.com/acme/p.git")
    keys = [variables[f"GIT_CONFIG_KEY_{n}"] for n in range(int(variables["GIT_CONFIG_COUNT"]))]
    assert keys == ["remote.origin.url", "remote.origin.fetch"]
    assert "SDISTMAKER_GIT_PASSWORD" not in variables


def test_git_never_asks_and_reads_over_reading_transports_only() -> None:
    variables = environment("https://git.example.com/acme/p.git")
    assert variables["GIT_TERMINAL_PROMPT"] == "0"
    assert "BatchMode=yes" in variables["GIT_SSH_COMMAND"]
    assert variables["GIT_ALLOW_PROTOCOL"] == "file:git:http:https:ssh"
    done = subprocess.run(
        ["git", "ls-remote", "ext::sh -c touch% /tmp/sdistmaker-never"],
        capture_output=True,
        env={**os.environ, **variables},
    )
    assert done.returncode != 0
    assert b"transport 'ext' not allowed" in done.stderr


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        (
            b"ssh: connect to host h port 22: Connection refused\n"
            b"fatal: Could not read from remote repository.\n\n"
            b"Please make sure you have the correct access rights\n",
            "ssh: connect to host h port 22: Connection refused "
            "fatal: Could not read from remote repository.",
        ),
        (
            b"fatal: repository 'https://u:pw@h/p.git/' not found\n",
            "fatal: repository 'https://h/p.git/' not found",
        ),
        (b"warning: something\nlast words\n", "last words"),
        (b"", "git exited with 128"),
    ],
)
def test_an_error_is_gits_first_fatal_line_after_the_reason_without_passwords(
    errors: bytes, message: str
) -> None:
    assert git_message(errors, 128) == message

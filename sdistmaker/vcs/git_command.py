"""How git runs to read a repository: never asking anything, over transports that only read,
credentials kept off command lines and out of the mirror; its errors in one line."""

from __future__ import annotations

from sdistmaker.urls import redact, without_credentials
from sdistmaker.vcs.base import STALL_SECONDS, ssh_options

_ENVIRONMENT = {
    # Never wait for a password or a host key: unattended runs must fail, not hang.
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GCM_INTERACTIVE": "never",
    "GIT_SSH_COMMAND": f"ssh {ssh_options()}",
    # Only transports that read a repository: ``ext::`` runs a command, ``fd::`` waits on a
    # file descriptor for ever, other remote helpers are programs of their own.
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
    # A server that stops sending is given up; a slow one is not.
    "GIT_HTTP_LOW_SPEED_LIMIT": "1",
    "GIT_HTTP_LOW_SPEED_TIME": str(STALL_SECONDS),
}


def environment(url: str) -> dict[str, str]:
    """What git runs with to read the repository at ``url``, which may hold credentials.

    The remote is given in the environment (readable by this user alone), never written into
    the mirror's configuration, and without its credentials: git would put them, in the URL,
    on the command line of git-remote-http, where every user of the machine can read them. A
    credential helper gives them to git instead, from the environment, when the host asks.
    """
    address, credentials = without_credentials(url)
    configuration = [("remote.origin.url", address), ("remote.origin.fetch", "+refs/*:refs/*")]
    environment = dict(_ENVIRONMENT)
    if credentials is not None:
        # For this host alone: after a redirect to another host git asks anew, and gets none.
        # The empty helper first drops the user's own helpers for it ("store" would write the
        # credentials into a file).
        helper = f"credential.{credentials.host}.helper"
        configuration += [(helper, ""), (helper, _HELPER)]
        environment["SDISTMAKER_GIT_USERNAME"] = credentials.username
        environment["SDISTMAKER_GIT_PASSWORD"] = credentials.password
    environment["GIT_CONFIG_COUNT"] = str(len(configuration))
    for number, (key, value) in enumerate(configuration):
        environment[f"GIT_CONFIG_KEY_{number}"] = key
        environment[f"GIT_CONFIG_VALUE_{number}"] = value
    return environment


# Answers git's "get" alone ("store" and "erase" are nothing to it). With a token as the user
# name the password is empty, and git sends it so, as for such a URL.
_HELPER = (
    '!f() { test "$1" != get || printf "username=%s\\npassword=%s\\n"'
    ' "$SDISTMAKER_GIT_USERNAME" "$SDISTMAKER_GIT_PASSWORD"; }; f'
)


def git_message(errors: bytes, code: int) -> str:
    """What went wrong, in git's words: its first fatal line (advice such as "Please make sure
    you have the correct access rights" follows it), after the line before it, where the
    transport says why (ssh's "Connection refused" before git's "Could not read from remote
    repository", a server's "remote:" line before "Authentication failed")."""
    text = errors.decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    fatal = [n for n, line in enumerate(lines) if line.startswith(("fatal:", "error:"))]
    if not fatal:
        return redact(lines[-1] if lines else f"git exited with {code}")
    first = fatal[0]
    return redact(" ".join(lines[max(first - 1, 0) : first + 1]))

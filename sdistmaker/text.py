"""Text from outside (metadata, a build's output, a server's message) made fit to show."""

from __future__ import annotations

import functools
import re

REPLACEMENT = "\ufffd"


def without_controls(text: str, keep: str = "\t") -> str:
    """``text`` with every C0 and C1 control character but those in ``keep`` replaced: none
    can move a terminal's cursor or make a line pass for two, and none stands in a page (HTML
    allows none but tab and line ends)."""
    return _controls(keep).sub(REPLACEMENT, text)


@functools.cache
def _controls(keep: str) -> re.Pattern[str]:
    codes = [*range(0x20), *range(0x7F, 0xA0)]
    return re.compile("[" + re.escape("".join(chr(c) for c in codes if chr(c) not in keep)) + "]")

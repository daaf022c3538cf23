"""Text from outside made fit to show: control characters replaced, but those kept."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from sdistmaker.text import REPLACEMENT, without_controls


@given(st.text(), st.sampled_from(["\t", "\t\n\r"]))
def test_no_control_character_is_left_but_those_kept(text: str, keep: str) -> None:
    shown = without_controls(text, keep)
    assert len(shown) == len(text)
    for before, after in zip(text, shown, strict=True):
        if unicodedata.category(before) == "Cc" and before not in keep:
            assert after == REPLACEMENT
        else:
            assert after == before


def test_a_line_cannot_pass_for_two_nor_move_the_cursor() -> None:
    assert (
        without_controls("one\r\ntwo\x08\x9bthree\tfour")
        == "one\ufffd\ufffdtwo\ufffd\ufffdthree\tfour"
    )

"""The checks of a defaults file's values (sdistmaker/values.py): each value back as given, or
one sentence saying what is wrong with it."""

import pytest

from sdistmaker import values


def test_a_string_is_given_back_and_anything_else_named_by_its_type() -> None:
    assert values.string("https://svn.example.com/repos") == "https://svn.example.com/repos"
    with pytest.raises(values.Invalid, match=r"^must be a string, not int$"):
        values.string(3)


def test_a_nul_character_is_refused_where_no_path_or_url_can_hold_one() -> None:
    with pytest.raises(values.Invalid, match=r"^holds a NUL character: 'a\\x00b'$"):
        values.string("a\0b")


def test_a_url_that_cannot_be_split_is_named_without_its_password() -> None:
    assert values.url("https://h.example/p") == "https://h.example/p"
    with pytest.raises(values.Invalid) as error:
        values.url("http://builder:s3cret@[::1/p")
    assert str(error.value).startswith("is no valid URL (")
    assert "s3cret" not in str(error.value)


def test_a_list_of_strings_is_a_tuple_and_one_string_is_no_list() -> None:
    assert values.strings([".svn", "attic"]) == (".svn", "attic")
    assert values.strings(()) == ()
    with pytest.raises(values.Invalid, match=r"^must be a list of strings, not str$"):
        values.strings(".svn")
    with pytest.raises(values.Invalid, match=r"^must be a list of strings, but holds 3$"):
        values.strings(["a", 3])
    with pytest.raises(values.Invalid, match="NUL"):
        values.strings(["a\0"])


def test_a_list_of_urls_checks_each() -> None:
    assert values.url_list(["https://a.example/", "file:///srv/svn"]) == (
        "https://a.example/",
        "file:///srv/svn",
    )
    with pytest.raises(values.Invalid, match="is no valid URL"):
        values.url_list(["https://a.example/", "http://[::1"])

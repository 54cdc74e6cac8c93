"""The naming rules: one message per broken rule, sanitize, numbered copies, NFC keys."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.errors import InvalidName
from app.naming import (
    FORBIDDEN_CHARS,
    MAX_NAME_BYTES,
    name_key,
    normalize,
    numbered,
    problems,
    sanitize,
    split_extension,
    validate,
)

RESERVED_MSG = "reserved device name"


def only_problem(name: str) -> str:
    found = problems(name)
    assert len(found) == 1, found
    return found[0]


# -- each rule, its own message ------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "photo.jpg",
        "CONSOLE.txt",
        "con-fig",
        "COM0",
        "COM10.txt",
        "LPT",
        ".bashrc",
        "a b",
        "Ünïcödé",
    ],
)
def test_valid_names_have_no_problems(name: str) -> None:
    assert problems(name) == []
    assert validate(name) == name


def test_forbidden_characters_are_listed_in_the_message() -> None:
    message = only_problem("a<b>c|d.txt")
    assert message.startswith("A name cannot contain ")
    for char in "<>|":
        assert char in message
    for char in ':"?*\\/':
        assert char not in message


@pytest.mark.parametrize("char", list(FORBIDDEN_CHARS))
def test_every_forbidden_character_is_refused_alone(char: str) -> None:
    message = only_problem(f"a{char}b")
    assert message == f"A name cannot contain {char}."


def test_control_characters_have_their_own_message() -> None:
    for char in ("\t", "\n", "\x00", "\x1f", "\x7f"):
        message = only_problem(f"a{char}b")
        assert "control characters" in message
        assert "cannot contain <" not in message


def test_forbidden_and_control_characters_give_two_messages() -> None:
    found = problems("a:b\tc")
    assert len(found) == 2
    assert found[0] == "A name cannot contain :."
    assert "control characters" in found[1]


@pytest.mark.parametrize(
    "name",
    ["CON", "con", "prn.txt", "Com1.jpg", "LPT9", "lpt9.tar.gz", "AuX", "nul.", "COM5 .txt"],
)
def test_reserved_device_names_any_case_with_or_without_extension(name: str) -> None:
    found = problems(name)
    assert any(RESERVED_MSG in p for p in found), found
    stem = name.split(".", 1)[0]
    assert f'"{stem}"' in next(p for p in found if RESERVED_MSG in p)


@pytest.mark.parametrize(
    "name", ["CONSOLE.txt", "PRNT", "Com1x.jpg", "LPT10", "my CON.txt", "xCON"]
)
def test_names_that_merely_contain_a_device_name_are_fine(name: str) -> None:
    assert problems(name) == []


def test_trailing_dot_and_trailing_space_have_their_own_messages() -> None:
    assert only_problem("report.") == "A name cannot end with a dot."
    assert only_problem("report ") == "A name cannot end with a space."
    assert problems("report.txt") == []
    assert problems(" leading space") == []


def test_length_is_counted_in_utf8_bytes() -> None:
    fits = "é" * 127 + "a"  # 255 bytes, 128 characters
    assert len(fits.encode("utf-8")) == MAX_NAME_BYTES
    assert problems(fits) == []
    too_long = "é" * 128  # 256 bytes but only 128 characters
    assert len(too_long) < MAX_NAME_BYTES
    message = only_problem(too_long)
    assert "at most 255 bytes" in message
    assert "256" in message
    assert any("at most 255 bytes" in p for p in problems("😀" * 64))  # 256 bytes


def test_length_is_counted_after_nfc() -> None:
    # 128 × "e" + combining acute is 384 bytes in NFD but 256 in NFC.
    nfd = "e\u0301" * 128
    assert "256" in only_problem(nfd)


def test_empty_and_dot_names() -> None:
    assert problems("") == ["A name cannot be empty."]
    for name in (".", ".."):
        message = only_problem(name)
        assert f'"{name}"' in message
        assert "reserved" in message
    assert problems("...a") == []


def test_validate_raises_with_the_first_rule_and_a_hint() -> None:
    with pytest.raises(InvalidName) as info:
        validate("a:b.")
    assert info.value.message == "A name cannot contain :."
    assert info.value.hint
    with pytest.raises(InvalidName, match="reserved device name"):
        validate("Com1.jpg")


def test_validate_returns_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "café.txt")
    assert nfd != "café.txt"
    assert validate(nfd) == "café.txt"


# -- NFC keys ------------------------------------------------------------------


def test_nfd_and_nfc_have_the_same_key() -> None:
    nfc = "\u00e9t\u00e9.jpg"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert name_key(nfc) == name_key(nfd)
    assert name_key("ÉTÉ.JPG") == name_key(nfd)
    assert normalize(nfd) == nfc


def test_key_ignores_case_but_not_other_differences() -> None:
    assert name_key("Photo.JPG") == name_key("photo.jpg")
    assert name_key("Straße") == name_key("STRASSE")  # casefold, not lower
    assert name_key("photo.jpg") != name_key("photo.jpeg")
    assert name_key("e") != name_key("é")


# -- sanitize ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outside", "expected"),
    [
        ("bad:name.txt", "bad_name.txt"),
        ("trailing.", "trailing"),
        ("trailing  ", "trailing"),
        ("CON.txt", "CON_.txt"),
        ("lpt1", "lpt1_"),
        ("tab\there", "tab_here"),
        ("", "_"),
        (".", "_"),
        ("..", "_"),
        ("...", "_"),
        ("ok.jpg", "ok.jpg"),
    ],
)
def test_sanitize_examples(outside: str, expected: str) -> None:
    assert sanitize(outside) == expected


def test_sanitize_shortens_long_names_keeping_the_extension() -> None:
    name = "é" * 200 + ".jpeg"
    result = sanitize(name)
    assert result.endswith(".jpeg")
    assert len(result.encode("utf-8")) <= MAX_NAME_BYTES
    assert problems(result) == []


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400))
@example("COM1" + " " * 300 + ".txt")  # shortening strips the spaces and exposes COM1
@example("CON" + " " * 300 + "x")
@example("CON." + "a" * 251)  # appending "_" to the stem would make it 256 bytes
@example("nul" + "." * 300)
@example("a." + "b" * 300)
@example("😀" * 100 + "." + "é" * 20)
@example(unicodedata.normalize("NFD", "é" * 200))
def test_sanitize_always_gives_a_valid_name(text: str) -> None:
    result = sanitize(text)
    assert problems(result) == [], (text, result)
    assert validate(result) == result
    assert sanitize(result) == result  # idempotent


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_sanitize_keeps_valid_nfc_names_unchanged(text: str) -> None:
    name = normalize(text)
    if problems(name):
        return
    assert sanitize(name) == name


# -- numbered ------------------------------------------------------------------


def test_numbered_examples() -> None:
    assert numbered("a.jpg", 2) == "a (2).jpg"
    assert numbered("a (2).jpg", 3) == "a (3).jpg"
    assert numbered("a (2).jpg", 2) == "a (2).jpg"
    assert numbered("Holiday", 2) == "Holiday (2)"
    assert numbered("Holiday (7)", 8) == "Holiday (8)"
    assert numbered(".bashrc", 2) == ".bashrc (2)"
    assert numbered("archive.tar.gz", 2) == "archive.tar (2).gz"
    assert numbered("a(2).jpg", 3) == "a(2) (3).jpg"  # no space: not our suffix


def test_split_extension() -> None:
    assert split_extension("a.tar.gz") == ("a.tar", ".gz")
    assert split_extension(".bashrc") == (".bashrc", "")
    assert split_extension(".config.json") == (".config", ".json")
    assert split_extension("folder") == ("folder", "")


def test_numbered_long_names_stay_within_the_limit() -> None:
    name = "é" * 125 + ".jpg"  # 254 bytes
    result = numbered(name, 12)
    assert result.endswith(" (12).jpg")
    assert len(result.encode("utf-8")) <= MAX_NAME_BYTES
    assert problems(result) == []


valid_names = st.text(min_size=1, max_size=300).map(sanitize)


@settings(max_examples=300, deadline=None)
@given(valid_names, st.integers(min_value=2, max_value=100_000))
@example("a." + "b" * 253, 2)  # a 253-byte "extension" leaves no room for the base
@example("é" * 127 + "a", 99)
@example("x (3)", 3)
def test_numbered_of_a_valid_name_is_valid_and_different(name: str, n: int) -> None:
    result = numbered(name, n)
    assert problems(result) == [], (name, n, result)
    assert f"({n})" in result
    assert name_key(result) != name_key(name) or name == result

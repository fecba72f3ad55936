from __future__ import annotations

import pytest

from pipeline.output import mask_urls, printable


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("http://user:secret@host/p.json", "http://***@host/p.json"),
        (
            "see https://token@broker.example:8443/x and ftp://a@b",
            "see https://***@broker.example:8443/x and ftp://***@b",
        ),
        ("http://host/path@not-user-info", "http://host/path@not-user-info"),
        ("no url here: user@host", "no url here: user@host"),
    ],
)
def test_user_information_is_masked(text: str, masked: str) -> None:
    assert mask_urls(text) == masked


def test_control_characters_cannot_start_a_line_or_an_escape_sequence() -> None:
    shown = printable("consumer\n::error::boom\r\x1b[31mred\x9b\u2028end")
    assert shown == "consumer\\x0a::error::boom\\x0d\\x1b[31mred\\x9b\\u2028end"
    assert shown.isprintable()


def test_plain_text_is_unchanged() -> None:
    assert printable("a product with ID 10 exists — ünïcode") == "a product with ID 10 exists — ünïcode"

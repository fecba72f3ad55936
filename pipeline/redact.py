"""Making outside text safe to print: user information masked in URLs, control characters escaped."""

from __future__ import annotations

import re

# `scheme://user:password@host...`: everything between `//` and the last `@` before the path is user information.
USER_INFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@]*@")
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: what could end a line,
# move the cursor or start a terminal escape sequence.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def mask_urls(text: str) -> str:
    """The text with the user information of every URL in it replaced by `***`."""
    return USER_INFO.sub(r"\g<scheme>***@", text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """Outside text (a name from a pact, a URL) as one printable line: control characters escaped as
    `\\xNN`, so it can neither start a line of its own nor carry a terminal escape sequence, and URLs masked."""
    return mask_urls(CONTROL.sub(_escape, str(text)))

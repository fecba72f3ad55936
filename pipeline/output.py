"""What the pipeline prints: outside text made safe, and the verifier's own output passed through it."""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from attrs import define

# `scheme://user:password@host...`: everything between `//` and the last `@` before the path is user information.
USER_INFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@]*@")
# C0 and C1 controls, DEL, U+2028 and U+2029: what could end a line, move the cursor or start a terminal escape.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
PANIC = re.compile(r"^thread '.*' panicked at ")
PANIC_END = "Caught panic with error"
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # the verifier colours its diffs even with coloured output off


def mask_urls(text: str) -> str:
    """The text with the user information of every URL in it replaced by `***`."""
    return USER_INFO.sub(r"\g<scheme>***@", text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """Outside text (a name from a pact, a URL) as one printable line: control characters escaped, URLs masked."""
    return mask_urls(CONTROL.sub(_escape, str(text)))


def safe_line(text: str) -> str:
    """One line of output that may hold outside text: printable, never read by GitHub Actions as a command (`::`)."""
    line = printable(text)
    blanks = len(line) - len(line.lstrip())
    return line[:blanks] + "\\x3a" + line[blanks + 1 :] if line[blanks:].startswith("::") else line


@define
class Filter:
    """Reads what the verifier writes and passes it on safe; a panic's message and backtrace are held back."""

    target: int
    scrub: Callable[[str], str] = str  # credentials out of every line
    panicked: bool = False

    def pass_on(self, source: int) -> None:
        in_panic = False
        with open(source, "rb") as lines:
            for raw in lines:
                line = COLOUR.sub("", raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                if PANIC.match(line):
                    self.panicked = in_panic = True
                    os.write(self.target, b"(the verifier stopped on an internal error; its details are not shown)\n")
                elif in_panic:
                    in_panic = not line.startswith(PANIC_END)
                else:
                    os.write(self.target, (safe_line(self.scrub(line)) + "\n").encode("utf-8"))


@contextmanager
def filtered_output(scrub: Callable[[str], str] = str) -> Iterator[Filter]:
    """While the block runs, what the verifier writes to fd 1 and 2 goes through a Filter to fd 1's old target."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    read_end, write_end = os.pipe()
    passing = Filter(target=saved_out, scrub=scrub)
    reader = threading.Thread(target=passing.pass_on, args=(read_end,), name="verifier-output", daemon=True)
    reader.start()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield passing
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)  # the pipe's last write ends close: the reader sees its end
        os.dup2(saved_err, 2)
        reader.join()
        os.close(saved_out)
        os.close(saved_err)

"""Text from Zendesk, requests and files made harmless for a terminal or a log line.

A name such as ``"\\x1b]0;owned\\x07"`` or ``"\\x1b[2J"`` printed raw retitles or clears the
admin's terminal, and a carriage return or a bidi override can hide what a line really says.
:func:`clean` makes every such character visible as an escape (``\\x1b``, ``\\u202e``); JSON
output is never passed through here (``json.dumps`` escapes control characters itself, and
its bytes stay exact).

The CLI wraps standard output and standard error in :class:`SafeTextStream` for text-mode
output, so every line a command prints is cleaned even if a call site forgets; a command that
deliberately moves the cursor uses :func:`write_control`.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

# C0 controls, DEL, C1 controls (\x9b is a one-byte CSI), and the invisible Unicode marks that
# reorder or split what a terminal shows: bidi embeddings/overrides/isolates and line separators.
_MARKS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
_ANY_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_MARKS}]")
_CONTROL_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_MARKS}]")  # keeps \t and \n


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character (NUL, ESC, newline, ...): never part of a name."""
    return _ANY_CONTROL.search(text) is not None


def clean(text: object) -> str:
    """``text`` as one safe line: every control character (newline and tab too) made visible."""
    return _ANY_CONTROL.sub(_escape, str(text))


def clean_lines(text: object) -> str:
    """Like :func:`clean`, but newlines and tabs stay (for whole blocks of output)."""
    return _CONTROL_BUT_LINES.sub(_escape, str(text))


class SafeTextStream:
    """A text stream that writes :func:`clean_lines` of everything written to it."""

    def __init__(self, stream: TextIO) -> None:
        self.raw_stream = stream

    def write(self, text: str) -> int:
        self.raw_stream.write(clean_lines(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, fileno, ...
        return getattr(self.raw_stream, name)


def write_control(stream: TextIO, sequence: str) -> None:
    """Write a deliberate terminal control ``sequence`` (e.g. ``"\\r\\x1b[K"``) past the guard."""
    getattr(stream, "raw_stream", stream).write(sequence)


@contextlib.contextmanager
def guarded_streams(*, stdout: bool = True, stderr: bool = True) -> Iterator[None]:
    """Within the block, ``sys.stdout``/``sys.stderr`` (as chosen) clean what is written to them."""
    saved = sys.stdout, sys.stderr
    if stdout and not isinstance(sys.stdout, SafeTextStream):
        sys.stdout = SafeTextStream(sys.stdout)  # type: ignore[assignment]
    if stderr and not isinstance(sys.stderr, SafeTextStream):
        sys.stderr = SafeTextStream(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved

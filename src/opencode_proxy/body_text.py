"""Whether a body is JSON text in UTF-8, and how often it may spell the key `model`:
checked on bytes, whole or a chunk at a time, so that a large body, which is only
forwarded, is never held in Python whole (a copy would double what the isolate holds,
and Pyodide's heap never gives memory back)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

UTF8_BOM = b"\xef\xbb\xbf"
HAS_BOM = "starts with a byte order mark"
HAS_NUL = "is not UTF-8 (it holds NUL bytes, as UTF-16 and UTF-32 do)"
NOT_UTF8 = "is not valid UTF-8"
# A JSON string spelling "model", each letter literal or as a \u escape (either hex case).
_SPELLING = re.compile(
    rb'"(?:m|\\u006[dD])(?:o|\\u006[fF])(?:d|\\u0064)(?:e|\\u0065)(?:l|\\u006[cC])"'
)
# The longest spelling: two quotes and five six-byte escapes.
_LONGEST = 32


def spellings(data: bytes) -> int:
    """How many JSON strings in `data` decode to "model" (a few more when some sit inside
    other strings, never fewer). On UTF-8 bytes: no multi-byte character holds an ASCII
    byte, and a quote inside a JSON string is escaped, so `\\"model\\"` is not one."""
    if b"\\u" not in data:  # no escapes: only the literal spelling exists
        return data.count(b'"model"')
    return len(_SPELLING.findall(data))


def not_utf8(data: bytes) -> str | None:
    """Why `data` is not JSON text as RFC 8259 requires between systems (UTF-8, no byte
    order mark), or None. Python's parser would take UTF-16 and UTF-32 as well, and
    read a model that the runtime's parser, and the provider's, never see."""
    if data.startswith(UTF8_BOM):
        return HAS_BOM
    if b"\x00" in data:  # never in JSON text; in every UTF-16 or UTF-32 one
        return HAS_NUL
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return NOT_UTF8
    return None


@dataclass(frozen=True, slots=True)
class Scan:
    problem: str | None  # why the body is not UTF-8 JSON text, as not_utf8 says it
    spellings: int


def scan(chunks: Iterable[bytes]) -> Scan:
    """`not_utf8` and `spellings` of the bytes `chunks` hold in order, one chunk in memory
    at a time: UTF-8 is decoded incrementally (a character split between chunks is
    whole again), and each chunk is counted with the end of the one before, so a
    spelling split between them counts once."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail, count, seen = b"", 0, 0
    for chunk in chunks:
        window = tail + chunk  # all of the body so far while it is shorter than a tail
        if seen < len(UTF8_BOM) and window.startswith(UTF8_BOM):
            return Scan(HAS_BOM, count)
        seen += len(chunk)
        if b"\x00" in chunk:
            return Scan(HAS_NUL, count)
        if not chunk.isascii() or decoder.getstate()[0]:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return Scan(NOT_UTF8, count)
        count += spellings(window) - spellings(tail)
        tail = window[-(_LONGEST - 1) :]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:  # it ends inside a character
        return Scan(NOT_UTF8, count)
    return Scan(None, count)

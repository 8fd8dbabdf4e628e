"""JSON from outside, parsed only once its nesting is known to be shallow.

Python's JSON parser recurses once per level of nesting. In Pyodide a few
thousand levels overflow the runtime's own stack before Python can raise
RecursionError, and that kills the workerd process: every stream in the isolate
is cut (measured on workerd 1.20261117 / Pyodide 314: a body nested 4,000 levels
parses, 5,000 kills it). So every document from outside is measured first,
without recursion, and refused when it nests deeper than any real one of its
kind does. Bodies the runtime's own parser reads (over 8 KiB, see body.py) are
not measured: V8's JSON parser does not recurse.

The limits, from real documents (2026-12):
- Access tokens: the header is flat (1 level) and the payload 2 (`aud` is a
  list; identity-provider claims such as groups add one or two): 16.
- Request bodies: the pinned clients' real requests (their tools' JSON Schemas
  the deepest part) nest 10 levels (Claude Code), 11 (OpenCode), 12 (Codex);
  MCP tools' own schemas can add more: 128.
- Fetched and stored documents (models.dev 6 levels, the certs document 3,
  get-identity 4, the catalog and the refresh's state in KV 6): 32.
"""

from __future__ import annotations

import json
import re
from typing import Any

TOKEN_DEPTH = 16
BODY_DEPTH = 128
DOCUMENT_DEPTH = 32

# Every byte but the four brackets, deleted to leave a document's structure.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


class TooDeep(ValueError):
    """A document nested deeper than its limit, or with brackets that do not pair."""


def _structure(data: bytes) -> bytes:
    """The brackets outside strings, in order. An escaped quote never ends a string, and
    a run of backslashes pairs from its left as the parser reads it, so removing `\\\\`
    and then `\\"` leaves exactly the quotes that open and close strings."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(data.split(b'"')[::2]).translate(None, _NOT_BRACKETS)


def nesting_within(data: bytes, limit: int) -> bool:
    """Whether no bracket in `data` (outside strings) is more than `limit` levels deep,
    and its brackets pair up. Each pass removes the innermost pairs, one level."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return True  # cannot be deeper than the brackets it has
    structure = _structure(data)
    for _ in range(limit):
        if not structure:
            return True
        structure = _INNERMOST.sub(b"", structure)
    return not structure


def loads(data: str | bytes, *, max_depth: int) -> Any:
    """`json.loads` of a document from outside: bytes must be UTF-8 (RFC 8259), and the
    nesting within `max_depth`. Raises ValueError (TooDeep for the nesting)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not nesting_within(raw, max_depth):
        raise TooDeep(f"nested deeper than {max_depth} levels")
    return json.loads(data if isinstance(data, str) else data.decode("utf-8"))


def load_document(data: str | bytes) -> Any:
    """A document fetched or stored (models.dev, the certs, get-identity, KV), parsed
    within DOCUMENT_DEPTH."""
    return loads(data, max_depth=DOCUMENT_DEPTH)

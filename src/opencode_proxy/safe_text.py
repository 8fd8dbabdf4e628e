"""What text from models.dev may become: ids and names that survive every place the
Worker writes them (JSON, the Codex TOML, the page, shell commands, URL paths).

Model ids are written unquoted in commands and paths, so they keep to the
characters real ids use (`gpt-5`, `@cf/meta/llama-3.1-8b-instruct`,
`moonshotai/kimi-k2:free`), all of them safe in a shell word and a URL path.
Other text (names, families) must be printable Unicode: no control or format
character, no lone surrogate (which no UTF-8 encoder accepts), and of a length a
person reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

MAX_ID = 128
MAX_TEXT = 200
_MODEL_ID = re.compile(rf"[A-Za-z0-9@][A-Za-z0-9._:/@+-]{{0,{MAX_ID - 1}}}")


def usable_id(value: object) -> bool:
    """Whether a model id can be served and written anywhere as it is."""
    return isinstance(value, str) and _MODEL_ID.fullmatch(value) is not None


def usable_text(value: object) -> str | None:
    """`value` when it is printable text of at most MAX_TEXT characters, else None."""
    if isinstance(value, str) and len(value) <= MAX_TEXT and value.isprintable():
        return value
    return None


def shown(value: str) -> str:
    """An unusable id as a log line may quote it: ASCII, shortened."""
    return ascii(value[:60]) + ("..." if len(value) > 60 else "")


def _strings(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        yield from value.keys()
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def usable_entry(model_id: object, entry: Any) -> bool:
    """Whether a stored catalog entry, id and every text in it, is safe to serve."""
    return (
        usable_id(model_id)
        and isinstance(entry, Mapping)
        and all(isinstance(s, str) and usable_text(s) is not None for s in _strings(entry))
    )

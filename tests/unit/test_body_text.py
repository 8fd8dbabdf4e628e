"""A large body checked a chunk at a time says what the whole-body checks say: the same
problem, and never fewer spellings of `model`, wherever the chunks are cut."""

from __future__ import annotations

import json

import pytest

from opencode_proxy.body_text import HAS_BOM, HAS_NUL, NOT_UTF8, not_utf8, scan, spellings

AGENT = json.dumps(
    {
        "model": "gpt-5",
        "input": [{"role": "user", "content": 'Il a dit \\"model\\" — 東京 ✓ "model"'}] * 3,
    },
    ensure_ascii=False,
).encode()
TWICE_ESCAPED = b'{"model": "gpt-5", "input": "x", "mod\\u0065l": "gpt-4o"}'
CASES = [
    AGENT,
    TWICE_ESCAPED,
    b'{"\\u006d\\u006f\\u0064\\u0065\\u006c": "a", "model": "b"}',
    b"\xef\xbb\xbf" + AGENT,
    AGENT.replace(b"\xe6\x9d\xb1", b"\xe6\x9d"),  # a character cut short
    AGENT[:-1] + b"\xe6",  # ends inside a character
    b'{"a": "\xe6"\x9d\xb1"}',  # a character's bytes with an ASCII one between them
    AGENT + b"\x00",
    "é".encode("utf-16-le") + AGENT,
    b"\xff\xfe" + AGENT,
]


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("data", CASES)
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 31, 32, 33, 1 << 20])
def test_chunks_say_what_the_whole_says(data: bytes, size: int) -> None:
    found = scan(cut(data, size))
    assert found.problem == not_utf8(data)
    if found.problem is None:
        assert found.spellings == spellings(data)


def test_the_problems_are_named_and_in_strings_model_is_not_a_key() -> None:
    assert spellings(AGENT) == 1  # in text, a quoted "model" has escaped quotes: not a key
    assert spellings(TWICE_ESCAPED) == 2
    assert scan(cut(b"\xef\xbb\xbf{}", 1)).problem == HAS_BOM
    assert scan([b'{"a": "', b"\x00", b'"}']).problem == HAS_NUL
    assert scan([b'{"a": "\xe6\x9d', b'"}']).problem == NOT_UTF8
    assert scan([]).problem is None

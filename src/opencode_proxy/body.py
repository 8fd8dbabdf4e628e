"""The models a request body names, read so that the model checked is the model served.

The body is read once, in the runtime, and the same bytes are forwarded. A JSON
parser keeps the last of two equal keys; a hop after the Worker might keep the
first. So a body in which any object could carry two `model` keys, in any
spelling JSON allows (`"model"`, `"mod\\u0065l"`, ...), is parsed here in full and
refused when one really does: forwarding a re-encoded copy instead would change
the bytes every other request keeps. `spellings` counts every JSON string that
decodes to "model" (on the UTF-8 bytes: no multi-byte character holds an ASCII
byte), so a body where it counts one or none needs no second look: no key is
watched while it is parsed. A small body is copied into Python and parsed there; a
large one is checked a chunk at a time (body_text.scan) and its model read by the
runtime's parser, so it is never held in Python whole unless it may name `model`
twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .body_text import not_utf8, scan, spellings
from .bounded_json import BODY_DEPTH, nesting_within
from .endpoints import Endpoint
from .http import Request
from .parse_gate import ParseGate
from .ports import BodyChunks, BodyTooLarge, NativeModel, ReadBody
from .refusal import Refusal

# Bodies up to this size are read to find the models they ask for; larger ones are refused.
# Parsing one holds up to about 7 times its size for a moment (benchmarks/README.md), so
# 8 MiB keeps one within half of a 128 MB isolate; ParseGate keeps them from adding up.
BODY_LIMIT = 8 * 1024 * 1024
# Below this size Python parses the body faster than the runtime's parser and its await
# (an agent's request: level at 10 KB, 0.24 ms slower at 30 KB; benchmarks/README.md).
PYTHON_PARSE_LIMIT = 8 * 1024
MODEL_KEY = "model"
# Large bodies are checked this many bytes at a time.
CHUNK = 256 * 1024
_SEND_UTF8 = "send JSON in UTF-8 without a byte order mark"


class _Ambiguous(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if sum(1 for key, _ in pairs if key == MODEL_KEY) > 1:
        raise _Ambiguous
    return dict(pairs)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _parse(data: bytes, *, watch_keys: bool) -> Any:
    """The body as JSON (strictly: no NaN or Infinity), None when it is not; with
    `watch_keys`, raises _Ambiguous when an object has two `model` keys. The caller has
    checked that it is UTF-8 and nested within BODY_DEPTH."""
    hook = _pairs if watch_keys else None
    try:
        return json.loads(data, object_pairs_hook=hook, parse_constant=_not_json)
    except _Ambiguous:
        raise
    except (ValueError, RecursionError):
        return None


def _nested(value: Any) -> Iterator[Any]:
    """Every value of a `model` key, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if MODEL_KEY in item:
                yield item[MODEL_KEY]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _refused(prefix: str, why: str) -> Refusal:
    return Refusal(400, "model_required", f"This request to /{prefix} {why}.")


def _unreadable(prefix: str, why: str) -> Refusal:
    return Refusal(400, "bad_body", f"The body of this request to /{prefix} {why}.")


async def body_models(
    request: Request,
    endpoint: Endpoint,
    prefix: str,
    *,
    read: ReadBody,
    chunks: BodyChunks,
    native: NativeModel,
    gate: ParseGate,
) -> tuple[tuple[str, ...], Request]:
    """The models a `body` or `nested` endpoint's request names, and the request to
    forward (its body now the bytes that were read). Raises Refusal."""
    if request.body is None:
        raise _refused(prefix, "has no body; it must be a JSON object naming its model")
    declared = request.headers.get("content-length", "")
    try:
        if declared.isdigit() and int(declared) > BODY_LIMIT:
            raise BodyTooLarge(declared)
        got = await read(request.body, BODY_LIMIT)
    except BodyTooLarge:
        limit = f"{BODY_LIMIT // 2**20} MiB"
        message = (
            f"Request bodies on /{prefix} are limited to {limit}: compact the conversation "
            "(/compact in OpenCode and Claude Code) or send fewer or smaller images."
        )
        raise Refusal(413, "body_too_large", message) from None
    except OSError:  # the client went away, or sent a body that cannot be read
        raise Refusal(400, "bad_body", "The request body could not be read.") from None
    forwarded = request.with_body(got.payload)
    if got.size <= PYTHON_PARSE_LIMIT:
        return _python_models(b"".join(chunks(got.payload, CHUNK)), endpoint, prefix), forwarded
    async with gate.holding(got.size):
        if endpoint.model == "body":
            scanned = scan(chunks(got.payload, CHUNK))
            if scanned.problem is not None:
                raise _unreadable(prefix, f"{scanned.problem}: {_SEND_UTF8}")
            if scanned.spellings <= 1:
                model = await native(got.payload)
                if model is None:
                    raise _refused(prefix, "is not a JSON object with a string `model`")
                return (model,), forwarded
        # A `nested` endpoint's, or `model` maybe twice in one object: Python parses.
        data = b"".join(chunks(got.payload, CHUNK))
        return _python_models(data, endpoint, prefix), forwarded


def _python_models(data: bytes, endpoint: Endpoint, prefix: str) -> tuple[str, ...]:
    if (why := not_utf8(data)) is not None:
        raise _unreadable(prefix, f"{why}: {_SEND_UTF8}")
    # The runtime's parser is iterative; Python's recursion could crash the isolate.
    if not nesting_within(data, BODY_DEPTH):
        raise _unreadable(prefix, f"nests deeper than {BODY_DEPTH} levels")
    try:
        parsed = _parse(data, watch_keys=spellings(data) > 1)
    except _Ambiguous:
        raise Refusal(
            400,
            "ambiguous_model",
            f"This request to /{prefix} names `model` twice in one object; send it once.",
        ) from None
    if not isinstance(parsed, dict):
        raise _refused(prefix, "is not a JSON object")
    found = [parsed.get(MODEL_KEY)] if endpoint.model == "body" else list(_nested(parsed))
    models = [model for model in found if isinstance(model, str)]
    if not models or len(models) != len(found):
        raise _refused(prefix, "must name every model it uses as a string `model`")
    return tuple(dict.fromkeys(models))

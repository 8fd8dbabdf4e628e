"""The models a request body names, read so that the model checked is the model served.

The body is read once, in the runtime, and the same bytes are forwarded. A JSON
parser keeps the last of two equal keys; a hop after the Worker might keep the
first. So a body in which any object could carry two `model` keys, in any
spelling JSON allows (`"model"`, `"mod\\u0065l"`, ...), is parsed here in full and
refused when one really does: forwarding a re-encoded copy instead would change
the bytes every other request keeps. `spellings` counts every JSON string that
decodes to "model" (on the UTF-8 bytes: no multi-byte character holds an ASCII
byte), so a body where it counts one or none needs no second look: no key is
watched while it is parsed, and its model is read by Python's parser when the body
is small, by the runtime's when not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .bounded_json import BODY_DEPTH, nesting_within
from .endpoints import Endpoint
from .http import Request
from .ports import BodyTooLarge, NativeModel, ReadBody
from .refusal import Refusal

# Bodies up to this size are read to find the models they ask for; larger ones are refused.
BODY_LIMIT = 32 * 1024 * 1024
# Below this size Python parses the body faster than a second await on the runtime's parser.
PYTHON_PARSE_LIMIT = 32 * 1024
# A JSON string spelling "model", each letter literal or as a \u escape (either hex case).
_SPELLING = re.compile(
    rb'"(?:m|\\u006[dD])(?:o|\\u006[fF])(?:d|\\u0064)(?:e|\\u0065)(?:l|\\u006[cC])"'
)
MODEL_KEY = "model"
UTF8_BOM = b"\xef\xbb\xbf"


def spellings(data: bytes) -> int:
    """How many JSON strings in `data` decode to "model" (a few more when some sit inside
    other strings, never fewer)."""
    if b"\\u" not in data:  # no escapes: only the literal spelling exists
        return data.count(b'"model"')
    return len(_SPELLING.findall(data))


class _Ambiguous(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if sum(1 for key, _ in pairs if key == MODEL_KEY) > 1:
        raise _Ambiguous
    return dict(pairs)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _not_utf8(data: bytes) -> str | None:
    """Why `data` is not JSON text as RFC 8259 requires between systems (UTF-8, no byte
    order mark), or None. Python's parser would take UTF-16 and UTF-32 as well, and
    read a model that the runtime's parser, and the provider's, never see."""
    if data.startswith(UTF8_BOM):
        return "starts with a byte order mark"
    if b"\x00" in data:  # never in JSON text; in every UTF-16 or UTF-32 one
        return "is not UTF-8 (it holds NUL bytes, as UTF-16 and UTF-32 do)"
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return "is not valid UTF-8"
    return None


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
    request: Request, endpoint: Endpoint, prefix: str, *, read: ReadBody, native: NativeModel
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
        message = f"Request bodies on /{prefix} are limited to {limit}."
        raise Refusal(413, "body_too_large", message) from None
    except OSError:  # the client went away, or sent a body that cannot be read
        raise Refusal(400, "bad_body", "The request body could not be read.") from None
    forwarded = request.with_body(got.payload)
    if (why := _not_utf8(got.data)) is not None:
        raise _unreadable(prefix, f"{why}: send JSON in UTF-8 without a byte order mark")
    twice_possible = spellings(got.data) > 1
    large = endpoint.model == "body" and len(got.data) > PYTHON_PARSE_LIMIT
    if large and not twice_possible:
        model = await native(got.payload)
        if model is None:
            raise _refused(prefix, "is not a JSON object with a string `model`")
        return (model,), forwarded
    # The runtime's parser above is iterative; Python's recursion could crash the isolate.
    if not nesting_within(got.data, BODY_DEPTH):
        raise _unreadable(prefix, f"nests deeper than {BODY_DEPTH} levels")
    try:
        parsed = _parse(got.data, watch_keys=twice_possible)
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
    return tuple(dict.fromkeys(models)), forwarded

"""Provider-shaped answers for the fake AI Gateway, so real clients can talk to it.

Each responder answers the routes its provider's SDKs call, streamed (SSE) or
not, with the text `answer_text(provider, model)`, and refuses a request that
lacks the gateway metadata the proxy must add.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from devstack.gateway import Reply, Responder, Seen

USAGE_IN, USAGE_OUT = 12, 9


def answer_text(provider: str, model: str) -> str:
    return f"Hello from the local {provider} stand-in, model {model}."


def _pieces(text: str) -> Iterator[str]:
    """The answer in three deltas, so streaming is exercised."""
    third = max(1, len(text) // 3)
    yield text[:third]
    yield text[third : 2 * third]
    yield text[2 * third :]


def _sse(reply: Reply, events: Iterator[tuple[str | None, Any]]) -> None:
    reply.head(200, [("content-type", "text/event-stream"), ("cache-control", "no-cache")])
    for name, data in events:
        prefix = f"event: {name}\n" if name else ""
        payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        reply.write(f"{prefix}data: {payload}\n\n".encode())
    reply.end()


def _body(seen: Seen) -> dict[str, Any]:
    try:
        parsed = seen.json() if seen.body else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _metadata_problem(seen: Seen) -> str | None:
    try:
        metadata = json.loads(seen.header("cf-aig-metadata") or "")
    except ValueError:
        return "cf-aig-metadata is missing or not JSON"
    if not isinstance(metadata, dict) or not isinstance(metadata.get("userId"), str):
        return "cf-aig-metadata has no userId"
    return None


def anthropic(seen: Seen, reply: Reply) -> None:
    body = _body(seen)
    model = str(body.get("model", "claude"))
    if seen.rest.endswith("/count_tokens"):
        reply.json(200, {"input_tokens": USAGE_IN})
        return
    text = answer_text("anthropic", model)
    message = {
        "id": "msg_local_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "stop_sequence": None,
        "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT},
    }
    if not body.get("stream"):
        reply.json(
            200, {**message, "content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}
        )
        return

    def events() -> Iterator[tuple[str | None, Any]]:
        yield (
            "message_start",
            {"type": "message_start", "message": {**message, "content": [], "stop_reason": None}},
        )
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        yield "ping", {"type": "ping"}
        for piece in _pieces(text):
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": 0}
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": USAGE_OUT},
            },
        )
        yield "message_stop", {"type": "message_stop"}

    _sse(reply, events())


def _chat_completions(provider: str, seen: Seen, reply: Reply) -> None:
    body = _body(seen)
    model = str(body.get("model", "gpt"))
    text = answer_text(provider, model)
    created = int(time.time())
    usage = {
        "prompt_tokens": USAGE_IN,
        "completion_tokens": USAGE_OUT,
        "total_tokens": USAGE_IN + USAGE_OUT,
    }
    base = {"id": "chatcmpl-local-1", "created": created, "model": model}
    if not body.get("stream"):
        reply.json(
            200,
            {
                **base,
                "object": "chat.completion",
                "usage": usage,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
            },
        )
        return

    def events() -> Iterator[tuple[str | None, Any]]:
        chunk = {**base, "object": "chat.completion.chunk"}
        yield (
            None,
            {
                **chunk,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": None,
                        "delta": {"role": "assistant", "content": ""},
                    }
                ],
            },
        )
        for piece in _pieces(text):
            yield (
                None,
                {
                    **chunk,
                    "choices": [{"index": 0, "finish_reason": None, "delta": {"content": piece}}],
                },
            )
        yield None, {**chunk, "choices": [{"index": 0, "finish_reason": "stop", "delta": {}}]}
        yield None, {**chunk, "choices": [], "usage": usage}
        yield None, "[DONE]"

    _sse(reply, events())


def _responses(seen: Seen, reply: Reply) -> None:
    body = _body(seen)
    model = str(body.get("model", "gpt"))
    text = answer_text("openai", model)
    usage = {
        "input_tokens": USAGE_IN,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": USAGE_OUT,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": USAGE_IN + USAGE_OUT,
    }
    content = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    item = {
        "type": "message",
        "id": "msg_local_1",
        "role": "assistant",
        "status": "completed",
        "content": [content],
    }
    response = {
        "id": "resp_local_1",
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "output": [item],
        "usage": usage,
        "store": body.get("store", True),
        "service_tier": "default",
    }
    if not body.get("stream"):
        reply.json(200, response)
        return

    def events() -> Iterator[tuple[str | None, Any]]:
        sequence = iter(range(100))
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        yield (
            "response.created",
            {"type": "response.created", "response": started, "sequence_number": next(sequence)},
        )
        yield (
            "response.in_progress",
            {
                "type": "response.in_progress",
                "response": started,
                "sequence_number": next(sequence),
            },
        )
        yield (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress", "content": []},
                "sequence_number": next(sequence),
            },
        )
        yield (
            "response.content_part.added",
            {
                "type": "response.content_part.added",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "part": {**content, "text": ""},
                "sequence_number": next(sequence),
            },
        )
        for piece in _pieces(text):
            yield (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": piece,
                    "logprobs": [],
                    "sequence_number": next(sequence),
                },
            )
        yield (
            "response.output_text.done",
            {
                "type": "response.output_text.done",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "text": text,
                "logprobs": [],
                "sequence_number": next(sequence),
            },
        )
        yield (
            "response.content_part.done",
            {
                "type": "response.content_part.done",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "part": content,
                "sequence_number": next(sequence),
            },
        )
        yield (
            "response.output_item.done",
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": item,
                "sequence_number": next(sequence),
            },
        )
        yield (
            "response.completed",
            {"type": "response.completed", "response": response, "sequence_number": next(sequence)},
        )

    _sse(reply, events())


def openai(seen: Seen, reply: Reply) -> None:
    # The gateway's OpenAI route is what follows api.openai.com/v1, as in production:
    # a client path forwarded with its /v1 would reach OpenAI as /v1/v1/....
    if seen.rest.startswith("/v1/"):
        message = f"Invalid URL ({seen.method} /v1{seen.rest})"
        error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
        reply.json(404, {"error": error})
    elif seen.rest == "/responses":
        _responses(seen, reply)
    else:
        _chat_completions("openai", seen, reply)


def compat(seen: Seen, reply: Reply) -> None:
    _chat_completions("compat", seen, reply)


def google_ai_studio(seen: Seen, reply: Reply) -> None:
    if seen.rest.startswith("/v1beta/openai/"):
        _chat_completions("google-ai-studio", seen, reply)
        return
    model = seen.rest.rsplit("/", 1)[-1].split(":", 1)[0]
    text = answer_text("google-ai-studio", model)
    usage = {
        "promptTokenCount": USAGE_IN,
        "candidatesTokenCount": USAGE_OUT,
        "totalTokenCount": USAGE_IN + USAGE_OUT,
    }

    def chunk(piece: str, finish: str | None) -> dict[str, Any]:
        candidate: dict[str, Any] = {
            "content": {"parts": [{"text": piece}], "role": "model"},
            "index": 0,
        }
        if finish:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}

    if ":streamGenerateContent" in seen.rest:
        pieces = list(_pieces(text))
        _sse(
            reply,
            iter(
                [
                    (None, chunk(p, "STOP" if i == len(pieces) - 1 else None))
                    for i, p in enumerate(pieces)
                ]
            ),
        )
    else:
        reply.json(200, chunk(text, "STOP"))


def workers_ai(seen: Seen, reply: Reply) -> None:
    # Workers AI's OpenAI-compatible endpoint answers in OpenAI's shape (AI Gateway docs,
    # "Workers AI"); a model's own path in Workers AI's.
    if seen.rest == "/v1/chat/completions":
        _chat_completions("workers-ai", seen, reply)
        return
    model = seen.rest.lstrip("/")
    reply.json(
        200,
        {
            "result": {"response": answer_text("workers-ai", model)},
            "success": True,
            "errors": [],
            "messages": [],
        },
    )


def _checked(responder: Responder) -> Responder:
    def respond(seen: Seen, reply: Reply) -> None:
        problem = _metadata_problem(seen)
        if problem is not None:
            reply.json(400, {"success": False, "error": [{"code": 2010, "message": problem}]})
            return
        responder(seen, reply)

    return respond


RESPONDERS: dict[str, Responder] = {
    "anthropic": _checked(anthropic),
    "openai": _checked(openai),
    "compat": _checked(compat),
    "google-ai-studio": _checked(google_ai_studio),
    "workers-ai": _checked(workers_ai),
}

"""Where benchmark requests go, what they carry, and how the fake gateway answers them."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any

from devstack.gateway import ACCOUNT, FakeGateway, Reply, Seen

AUDIENCE = "bench-aud"
GATEWAY_TOKEN = "bench-gateway-token"  # noqa: S105 (the local fake gateway's)
WORKERS_AI_TOKEN = "bench-workers-ai-token"  # noqa: S105 (likewise)
GATEWAY_ID = "bench"
USER_ID_KEY = "bench-user-id-key"
# Requests for models the shipped config serves (the Worker refuses any other).
BODY = json.dumps({"model": "gpt-5", "input": "hello", "store": False}).encode()
STREAM_BODY = json.dumps(
    {"model": "claude-sonnet-5", "max_tokens": 64, "stream": True, "messages": []}
).encode()
SSE_EVENTS = 200
SSE_INTERVAL = 0.002  # seconds between events sent by the fake gateway


def instant(seen: Seen, reply: Reply) -> None:
    reply.json(200, {"id": "resp_bench", "status": "completed"})


def with_cookie(seen: Seen, reply: Reply) -> None:
    """An answer with a Set-Cookie, which the Worker must drop (it rebuilds the response)."""
    reply.json(200, {"id": "chat_bench"}, headers=(("set-cookie", "__cf_bm=bench; Path=/"),))


def sse(seen: Seen, reply: Reply) -> None:
    reply.head(200, [("content-type", "text/event-stream")])
    for n in range(SSE_EVENTS):
        reply.write(f'data: {{"n":{n},"delta":"token-{n:03d}"}}\n\n'.encode())
        time.sleep(SSE_INTERVAL)
    reply.end()


def sse_burst(seen: Seen, reply: Reply) -> None:
    """A streamed answer sent as fast as it goes: what passing a stream on costs in CPU."""
    reply.head(200, [("content-type", "text/event-stream")])
    for n in range(BURST_EVENTS):
        reply.write(
            f'data: {{"candidates":[{{"content":{{"parts":[{{"text":"t{n}"}}]}}}}]}}\n\n'.encode()
        )
    reply.end()


BURST_EVENTS = 50
RESPONDERS = {
    "openai": instant,
    "anthropic": sse,
    "compat": with_cookie,
    "google-ai-studio": sse_burst,
}
# A served Gemini model's streamed answer (sse_burst), as (path, body).
STREAMED = ("/google-ai-studio/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", b"{}")
# About 30 KB, shaped as a coding agent's request: a conversation and its tools, every
# message and tool an object of its own.
AGENT_BODY = json.dumps(
    {
        "model": "gpt-5",
        "input": [
            {"role": role, "content": [{"type": "input_text", "text": "x" * 400}]}
            for role in ("user", "assistant") * 30
        ],
        "tools": [
            {
                "type": "function",
                "name": f"tool_{n}",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            }
            for n in range(20)
        ],
    }
).encode()
COMPAT_BODY = json.dumps(
    {"model": "workers-ai/@cf/openai/gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}
).encode()


MIB = 2**20
# Just under the Worker's limit (opencode_proxy.body.BODY_LIMIT, 8 MiB).
EIGHT = 8 * MIB - 128 * 1024
_SOURCE = (
    "def request(text: str) -> dict:\n"
    '    """Ask the model; the answer is logged (café, naïve, 東京, ✓)."""\n'
    '    payload = {"model": "gpt-5", "input": text, "store": False}\n'
    '    return post("/v1/responses", json=payload, headers={"x-model": "model"})\n\n'
)


def agent_body(size: int) -> bytes:
    """A coding agent's request of about `size` bytes (JSON as the JS SDKs write it:
    UTF-8, no escapes beyond quotes and newlines), naming gpt-5 once at the top."""
    tools = [
        {
            "type": "function",
            "name": f"tool_{n}",
            "description": "Read a file of the repository and return its text.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        }
        for n in range(20)
    ]
    turns: list[dict[str, Any]] = [{"role": "system", "content": "You are a coding agent. " * 40}]
    body = {"model": "gpt-5", "input": turns, "tools": tools, "stream": False}
    base = len(json.dumps(body, ensure_ascii=False).encode())
    step = [
        {"type": "function_call", "call_id": "c", "name": "tool_1"},
        {"type": "function_call_output", "call_id": "c", "output": _SOURCE * 30},
        {"role": "user", "content": "Now change the next step. " * 10},
    ]
    each = len(json.dumps(step, ensure_ascii=False).encode())
    turns += step * max(0, -(-(size - base) // each))
    return json.dumps(body, ensure_ascii=False).encode()


@dataclass
class Target:
    """One way to reach the fake provider: through a Worker or straight to the gateway."""

    name: str
    port: int
    prefix: str  # path before /<provider>/<rest>
    headers: dict[str, str]

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self,
        conn: http.client.HTTPConnection,
        provider: str,
        rest: str,
        headers: dict[str, str] | None = None,
        body: bytes = BODY,
    ) -> tuple[int, float]:
        """Send one POST and read the whole answer: (status, milliseconds)."""
        started = time.perf_counter()
        conn.request(
            "POST",
            f"{self.prefix}/{provider}{rest}",
            body,
            {**self.headers, **(headers or {}), "content-type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000


def direct_target(gateway: FakeGateway) -> Target:
    """The gateway itself, sent what the Worker would send it (Workers AI's token too,
    which the other providers ignore)."""
    metadata = json.dumps({"userId": "00000000-0000-8000-8000-000000000000"})
    return Target(
        "direct",
        gateway.port,
        f"/v1/{ACCOUNT}/{GATEWAY_ID}",
        {
            "cf-aig-authorization": f"Bearer {GATEWAY_TOKEN}",
            "cf-aig-metadata": metadata,
            "authorization": f"Bearer {WORKERS_AI_TOKEN}",
        },
    )

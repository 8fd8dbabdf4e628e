"""Agent-sized bodies in the real runtime: several large bodies at once are all served
while small requests keep being answered, and a body over the limit is refused with
413 in the route's own dialect, declared or streamed, before it reaches the gateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx

from devstack.gateway import FakeGateway
from devstack.runtime import LocalWorker
from opencode_proxy.body import BODY_LIMIT

MIB = 2**20


def agent_body(size: int) -> bytes:
    """An agent's request of about `size` bytes: tool results holding code that quotes
    "model", and text that is not ASCII."""
    output = 'payload = {"model": "gpt-5"}  # café, 東京 ✓\n' * 40
    turn = {"type": "function_call_output", "call_id": "c", "output": output}
    count = size // len(json.dumps(turn, ensure_ascii=False).encode())
    body = {"model": "gpt-5", "input": [turn] * count}
    return json.dumps(body, ensure_ascii=False).encode()


def test_four_large_bodies_at_once_are_served_and_small_requests_keep_answering(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    big = agent_body(BODY_LIMIT - MIB)
    headers = {"cf-access-token": token, "content-type": "application/json"}
    big_statuses: list[int] = []
    small_statuses: list[int] = []
    done = threading.Event()

    def send_big() -> None:
        with httpx.Client(base_url=worker.url, headers=headers, timeout=120) as own:
            big_statuses.append(own.post("/openai/v1/responses", content=big).status_code)

    def send_small() -> None:
        with httpx.Client(base_url=worker.url, headers=headers, timeout=60) as own:
            while not done.is_set() or not small_statuses:
                body = b'{"model":"gpt-5","input":"hi"}'
                small_statuses.append(own.post("/openai/v1/responses", content=body).status_code)

    side = threading.Thread(target=send_small)
    side.start()
    senders = [threading.Thread(target=send_big) for _ in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    done.set()
    side.join()
    assert big_statuses == [200] * 4
    assert small_statuses
    assert set(small_statuses) == {200}
    assert sorted(s.body_length for s in gateway.seen if s.body_length > MIB) == [len(big)] * 4


def _streamed(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), MIB):
        yield data[start : start + MIB]


def test_a_body_over_the_limit_is_refused_in_the_routes_dialect_declared_or_streamed(
    client: httpx.Client, gateway: FakeGateway
) -> None:
    over = agent_body(BODY_LIMIT + MIB)
    assert len(over) > BODY_LIMIT
    declared = client.post("/openai/v1/responses", content=over)
    streamed = client.post("/anthropic/v1/messages", content=_streamed(over))
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert declared.json()["error"]["code"] == "body_too_large"
    error = streamed.json()["error"]
    assert error["type"] == "request_too_large"  # Anthropic's own type for a 413
    assert f"limited to {BODY_LIMIT // MIB} MiB" in error["message"]
    assert "/compact" in error["message"]
    assert gateway.seen == []
    assert client.post("/openai/v1/responses", content=b'{"model":"gpt-5"}').status_code == 200

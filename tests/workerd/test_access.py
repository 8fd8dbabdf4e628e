"""Access authentication inside workerd: WebCrypto signatures, KV key cache, user map."""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

import access_vectors
import users
from devstack.access import LocalAccess, SigningKey, access_claims
from devstack.kv import LocalNamespace
from devstack.runtime import LocalWorker
from opencode_proxy.identity import anonymous_id
from opencode_proxy.keys import REFETCH_INTERVAL_SECONDS
from support import cpython

KEYS = access_vectors.load_keys()


@pytest.fixture(scope="module")
def vectors(access: LocalAccess) -> list[access_vectors.Vector]:
    return access_vectors.build(access.origin, cpython.AUDIENCE, KEYS)


def test_vectors_give_the_same_verdicts_in_workerd_and_cpython(
    worker: LocalWorker, access: LocalAccess, vectors: list[access_vectors.Vector]
) -> None:
    # The same team origin, served in-process, for the CPython core.
    twin = LocalAccess(published=list(access.published), team_origin=access.origin)
    app = cpython.make_app(twin)
    mismatches = []
    with httpx.Client(base_url=worker.url, timeout=30) as client:
        for vector in vectors:
            response = client.get("/whoami", headers=vector.headers)
            in_workerd = access_vectors.verdict(response.status_code, response.json())
            local = cpython.call(app, "GET", f"{worker.url}/whoami", vector.headers)
            in_cpython = access_vectors.verdict(local.status, json.loads(local.body))
            if not in_workerd == in_cpython == vector.expect:
                mismatches.append((vector.name, vector.expect, in_workerd, in_cpython))
            assert "engineer@example.com" not in response.text.lower()
    assert mismatches == []


def test_the_id_is_stable_and_recorded_for_operators(
    worker: LocalWorker, access: LocalAccess
) -> None:
    key = KEYS["access-1"]
    ids = set()
    for email in ("Dev.Person@Example.com", " dev.person@example.com "):
        token = key.sign(access_claims(access.origin, cpython.AUDIENCE, email=email))
        response = httpx.get(f"{worker.url}/whoami", headers={"cf-access-token": token})
        assert response.status_code == 200
        assert "dev.person" not in response.text.lower()
        ids.add(response.json()["user_id"])
    assert ids == {anonymous_id(cpython.USER_ID_KEY, "dev.person@example.com")}


def test_a_first_seen_user_is_recorded_without_a_runtime_error(
    worker: LocalWorker, access: LocalAccess
) -> None:
    # The deferred USERS write once logged "This borrowed proxy was automatically
    # destroyed at the end of a function call" for every new person.
    email = "first.seen@example.com"
    token = KEYS["access-1"].sign(access_claims(access.origin, cpython.AUDIENCE, email=email))
    logged_before = len(worker.log_text())
    response = httpx.get(f"{worker.url}/whoami", headers={"cf-access-token": token})
    assert response.status_code == 200
    user_id = response.json()["user_id"]
    assert _wait_for_record(worker, user_id) == email
    written = worker.log_text()[logged_before:]
    assert "Uncaught" not in written
    assert "borrowed proxy" not in written


def _wait_for_record(worker: LocalWorker, user_id: str) -> str | None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        value = asyncio.run(LocalNamespace(worker.workdir, "USERS").get(user_id))
        if value is not None:
            return value
        time.sleep(0.05)
    return None


def test_key_rotation_then_a_burst_of_unknown_kids(
    worker: LocalWorker, access: LocalAccess
) -> None:
    old, new = KEYS["access-1"], KEYS["access-2"]
    warm = old.sign(access_claims(access.origin, cpython.AUDIENCE))
    assert httpx.get(f"{worker.url}/whoami", headers={"cf-access-token": warm}).status_code == 200

    # Earlier tests' unknown kids may have used this isolate's refetch allowance.
    time.sleep(
        max(0.0, REFETCH_INTERVAL_SECONDS + 0.5 - (time.monotonic() - access.last_request_at))
    )
    access.published = [old, new]
    before = access.certs_requests
    rotated = new.sign(access_claims(access.origin, cpython.AUDIENCE))
    response = httpx.get(f"{worker.url}/whoami", headers={"cf-access-token": rotated})
    assert response.status_code == 200, response.text
    assert access.certs_requests <= before + 1

    after_rotation = access.certs_requests
    forged = [
        SigningKey(f"flood-{n}", KEYS["stranger"].private_key).sign(
            access_claims(access.origin, cpython.AUDIENCE)
        )
        for n in range(40)
    ]

    def send(token: str) -> int:
        return httpx.get(
            f"{worker.url}/whoami", headers={"cf-access-token": token}, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, forged))
    assert statuses == [401] * len(forged)
    assert access.certs_requests <= after_rotation + 1


def test_an_operator_can_look_up_who_an_id_belongs_to(
    worker: LocalWorker, access: LocalAccess, capsys: pytest.CaptureFixture[str]
) -> None:
    token = KEYS["access-1"].sign(
        access_claims(access.origin, cpython.AUDIENCE, email="Lookup.Me@Example.com")
    )
    response = httpx.get(f"{worker.url}/whoami", headers={"cf-access-token": token})
    user_id = response.json()["user_id"]

    os.environ["USER_ID_KEY"] = cpython.USER_ID_KEY
    try:
        assert users.main(["id", "lookup.me@example.com"]) == 0
    finally:
        del os.environ["USER_ID_KEY"]
    assert capsys.readouterr().out.strip() == user_id

    # The map is written after the response (waitUntil); give it a moment.
    for _ in range(20):
        if users.main(["email", user_id, "--local", str(worker.workdir)]) == 0:
            break
        time.sleep(0.25)
    assert capsys.readouterr().out.strip() == "lookup.me@example.com"
    assert (
        users.main(
            ["email", "00000000-0000-8000-8000-000000000000", "--local", str(worker.workdir)]
        )
        == 1
    )

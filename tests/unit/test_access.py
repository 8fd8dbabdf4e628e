"""Access authentication on CPython: the token vectors, keys, caching and answers."""

from __future__ import annotations

import json

import pytest

import access_vectors
from devstack.access import LocalAccess, SigningKey, access_claims
from opencode_proxy.http import Response
from opencode_proxy.identity import anonymous_id
from opencode_proxy.settings import SettingError, Settings
from support.cpython import AUDIENCE, USER_ID_KEY, Clock, MemoryKV, call, make_app

URL = "https://ai.example.com/whoami"
KEYS = access_vectors.load_keys()


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEYS["access-1"]])


def body(response: Response) -> dict[str, object]:
    parsed = json.loads(response.body)
    assert isinstance(parsed, dict)
    return parsed


def whoami(app: object, headers: dict[str, str]) -> Response:
    return call(app, "GET", URL, headers)  # type: ignore[arg-type]


VECTORS = access_vectors.build(LocalAccess().origin, AUDIENCE, KEYS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_token_vector(access: LocalAccess, vector: access_vectors.Vector) -> None:
    response = whoami(make_app(access), vector.headers)
    assert access_vectors.verdict(response.status, body(response)) == vector.expect


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_no_answer_echoes_the_token_or_the_email(
    access: LocalAccess, vector: access_vectors.Vector
) -> None:
    response = whoami(make_app(access), vector.headers)
    text = response.body.decode() + repr(response.headers)
    for value in vector.headers.values():
        token = value.split()[-1] if value.strip() else ""
        if len(token) > 8:
            assert token not in text
    assert "example.com" not in text.replace("ai.example.com", "")


def test_the_id_is_the_keyed_hash_of_the_normalised_email(access: LocalAccess) -> None:
    key = KEYS["access-1"]
    app = make_app(access)
    ids = {
        body(
            whoami(
                app,
                {"cf-access-token": key.sign(access_claims(access.origin, AUDIENCE, email=email))},
            )
        )["user_id"]
        for email in ("engineer@example.com", " Engineer@Example.COM", "ENGINEER@example.com\t")
    }
    assert ids == {anonymous_id(USER_ID_KEY, "engineer@example.com")}


def test_service_tokens_get_an_id_when_allowed(access: LocalAccess) -> None:
    settings = {
        "ACCESS_TEAM_DOMAIN": access.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
        "ALLOW_SERVICE_TOKENS": "true",
    }
    token = KEYS["access-1"].sign(
        access_claims(access.origin, AUDIENCE, email=None, sub="", common_name="ci-bot.access")
    )
    response = whoami(make_app(access, settings=settings), {"cf-access-token": token})
    assert response.status == 200
    assert body(response) == {
        "user_id": anonymous_id(USER_ID_KEY, "service-token:ci-bot.access"),
        "kind": "service",
    }


def test_the_user_map_is_written_once_per_isolate(access: LocalAccess) -> None:
    users = MemoryKV()
    app = make_app(access, users=users)
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    for _ in range(3):
        assert whoami(app, {"cf-access-token": token}).status == 200
    user_id = anonymous_id(USER_ID_KEY, "engineer@example.com")
    assert users.puts == [(user_id, "engineer@example.com")]


def test_a_verified_token_is_not_verified_again(access: LocalAccess) -> None:
    app = make_app(access)
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    calls = 0
    verify = app.services.platform.rs256.verify

    async def counting(key: object, data: bytes, signature: bytes) -> bool:
        nonlocal calls
        calls += 1
        return await verify(key, data, signature)

    object.__setattr__(app.services.platform.rs256, "verify", counting)
    for _ in range(5):
        assert whoami(app, {"cf-access-token": token}).status == 200
    assert calls == 1
    other = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE, email="b@example.com"))
    assert whoami(app, {"cf-access-token": other}).status == 200
    assert calls == 2


def test_a_cached_token_is_refused_once_it_expires(access: LocalAccess) -> None:
    clock = Clock()
    app = make_app(access, clock=clock)
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE, lifetime=60))
    assert whoami(app, {"cf-access-token": token}).status == 200
    clock.now += 3600
    response = whoami(app, {"cf-access-token": token})
    assert response.status == 401
    assert body(response)["error"]["reason"] == "expired"  # type: ignore[index]


def test_key_rotation_accepts_a_newly_published_key(access: LocalAccess) -> None:
    clock = Clock()
    app = make_app(access, clock=clock)
    old, new = KEYS["access-1"], KEYS["access-2"]
    assert (
        whoami(app, {"cf-access-token": old.sign(access_claims(access.origin, AUDIENCE))}).status
        == 200
    )
    access.published = [old, new]
    token = new.sign(access_claims(access.origin, AUDIENCE))
    assert whoami(app, {"cf-access-token": token}).status == 200
    assert access.certs_requests == 2


def test_unknown_kids_refetch_at_most_once_per_interval(access: LocalAccess) -> None:
    clock = Clock()
    app = make_app(access, clock=clock)
    valid = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    assert whoami(app, {"cf-access-token": valid}).status == 200
    assert access.certs_requests == 1
    for n in range(50):
        forged = SigningKey(f"random-{n}", KEYS["stranger"].private_key)
        token = forged.sign(access_claims(access.origin, AUDIENCE))
        assert whoami(app, {"cf-access-token": token}).status == 401
    assert access.certs_requests == 2
    clock.now += 11
    whoami(
        app,
        {
            "cf-access-token": SigningKey("later", KEYS["stranger"].private_key).sign(
                access_claims(access.origin, AUDIENCE)
            )
        },
    )
    assert access.certs_requests == 3


@pytest.mark.parametrize("failure", ["down", "junk", 500, 404])
def test_a_broken_certs_endpoint_keeps_working_keys(access: LocalAccess, failure: object) -> None:
    clock = Clock()
    app = make_app(access, clock=clock)
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    assert whoami(app, {"cf-access-token": token}).status == 200
    access.failure = failure  # type: ignore[assignment]
    clock.now += 3601  # keys are stale: a refresh is attempted and fails
    fresh = KEYS["access-1"].sign(
        access_claims(access.origin, AUDIENCE, email="c@example.com", lifetime=7200)
    )
    assert whoami(app, {"cf-access-token": fresh}).status == 200
    assert access.certs_requests == 2


def test_no_keys_at_all_is_a_503_that_says_try_again(access: LocalAccess) -> None:
    access.failure = "down"
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    response = whoami(make_app(access), {"cf-access-token": token})
    assert response.status == 503
    assert body(response)["error"] == {
        "type": "access_unavailable",
        "message": "Cannot read Cloudflare Access signing keys right now; try again shortly.",
    }


def test_a_new_isolate_reads_keys_from_kv_without_fetching(access: LocalAccess) -> None:
    cache = MemoryKV()
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    assert whoami(make_app(access, cache=cache), {"cf-access-token": token}).status == 200
    assert access.certs_requests == 1
    assert whoami(make_app(access, cache=cache), {"cf-access-token": token}).status == 200
    assert access.certs_requests == 1


def test_missing_token_says_which_header_and_how_to_get_one(access: LocalAccess) -> None:
    response = whoami(make_app(access), {})
    assert response.status == 401
    message = body(response)["error"]["message"]  # type: ignore[index]
    assert "cf-access-token" in message
    assert "cloudflared access login --no-verbose -app=https://ai.example.com" in message
    assert dict(response.headers)["www-authenticate"] == 'Bearer realm="opencode-proxy"'


@pytest.mark.parametrize(
    ("agent", "told"),
    [
        ("opencode/1.18.33 ai-sdk/provider-utils/3.0", "then restart OpenCode"),
        ("claude-cli/2.1.328 (external, cli)", "Claude Code runs its apiKeyHelper"),
        ("codex_cli_rs/0.169.0 (Debian 12; x86_64)", "Codex runs its auth command"),
        ("python-httpx/0.28.1", "send it in the cf-access-token header"),
    ],
)
def test_a_401_tells_each_client_how_it_signs_in_again(
    access: LocalAccess, agent: str, told: str
) -> None:
    now = access_claims(access.origin, AUDIENCE)["iat"]
    expired = KEYS["access-1"].sign(
        access_claims(access.origin, AUDIENCE, exp=now - 600, iat=now - 900, nbf=now - 900)
    )
    for headers in ({}, {"cf-access-token": expired}):
        response = whoami(make_app(access), {**headers, "user-agent": agent})
        assert response.status == 401
        message = str(body(response)["error"]["message"])  # type: ignore[index]
        assert told in message
        if "OpenCode" in told:
            assert "opencode auth login https://ai.example.com" in message


def test_expired_token_says_so_in_words(access: LocalAccess) -> None:
    now = access_claims(access.origin, AUDIENCE)["iat"]
    token = KEYS["access-1"].sign(
        access_claims(access.origin, AUDIENCE, exp=now - 600, iat=now - 900, nbf=now - 900)
    )
    response = whoami(make_app(access), {"cf-access-token": token})
    assert body(response)["error"]["message"].startswith("The token has expired.")  # type: ignore[index]


@pytest.mark.parametrize("missing", ["ACCESS_TEAM_DOMAIN", "ACCESS_AUD", "USER_ID_KEY"])
def test_a_missing_setting_is_named_in_a_500(access: LocalAccess, missing: str) -> None:
    settings = {
        "ACCESS_TEAM_DOMAIN": access.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
    }
    del settings[missing]
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    response = whoami(make_app(access, settings=settings), {"cf-access-token": token})
    assert response.status == 500
    error = body(response)["error"]
    assert error["type"] == "config_error"  # type: ignore[index]
    assert missing in error["message"]  # type: ignore[index]
    assert USER_ID_KEY not in response.body.decode()


@pytest.mark.parametrize(
    "team", ["http://team.cloudflareaccess.com", "https://team.example.com/path", "not a domain"]
)
def test_an_unusable_team_domain_is_refused(access: LocalAccess, team: str) -> None:
    settings = {"ACCESS_TEAM_DOMAIN": team, "ACCESS_AUD": AUDIENCE, "USER_ID_KEY": USER_ID_KEY}
    response = whoami(make_app(access, settings=settings), {"cf-access-token": "x.y.z"})
    assert response.status == 500
    assert "ACCESS_TEAM_DOMAIN" in body(response)["error"]["message"]  # type: ignore[index]


def test_discovery_and_health_stay_public(access: LocalAccess) -> None:
    app = make_app(access, settings={})
    assert call(app, "GET", "https://ai.example.com/.well-known/opencode").status == 200
    assert call(app, "GET", "https://ai.example.com/healthz").status == 200


def test_settings_keep_only_known_non_empty_values() -> None:
    found = {"ACCESS_AUD": "  aud  ", "USER_ID_KEY": "", "UNRELATED": "x", "GATEWAY_TOKEN": 7}
    settings = Settings.from_lookup(found.get)
    assert settings.values == {"ACCESS_AUD": "aud"}
    with pytest.raises(SettingError, match="run `npx wrangler secret put USER_ID_KEY`"):
        settings.require("USER_ID_KEY")


def test_cached_keys_of_another_team_are_not_used(access: LocalAccess) -> None:
    cache = MemoryKV()
    token = KEYS["access-1"].sign(access_claims(access.origin, AUDIENCE))
    assert whoami(make_app(access, cache=cache), {"cf-access-token": token}).status == 200
    # The other team happens to use the same kid for a different key.
    same_kid = SigningKey("access-1", KEYS["access-2"].private_key)
    other = LocalAccess(published=[same_kid], team_origin="https://other.example.com")
    settings = {
        "ACCESS_TEAM_DOMAIN": other.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
    }
    app = make_app(other, settings=settings, cache=cache)
    fresh = same_kid.sign(access_claims(other.origin, AUDIENCE))
    assert whoami(app, {"cf-access-token": fresh}).status == 200
    assert other.certs_requests == 1

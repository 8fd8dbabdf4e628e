"""The header rewrite: credentials out, gateway credentials in, everything else untouched."""

from __future__ import annotations

import json

import pytest

from opencode_proxy.headers import gateway_metadata, outbound_headers, outbound_query

CLIENT = {
    "authorization": "Bearer sk-client-openai",
    "cf-access-token": "eyJ.access.token",
    "cf-access-jwt-assertion": "eyJ.assertion",
    "cf-access-client-id": "id.access",
    "cf-access-client-secret": "secret",
    "cookie": "CF_Authorization=eyJ",
    "x-api-key": "sk-ant-client",
    "x-goog-api-key": "AIza-client",
    "api-key": "azure-client",
    "host": "ai.example.com",
    "connection": "keep-alive, x-hop",
    "x-hop": "named by connection",
    "keep-alive": "timeout=5",
    "transfer-encoding": "chunked",
    "content-length": "17",
    "cf-aig-metadata": '{"userId":"spoofed"}',
    "cf-aig-authorization": "Bearer spoofed",
    "cf-aig-skip-cache": "true",
    "cf-connecting-ip": "203.0.113.7",
    "x-forwarded-for": "203.0.113.7",
    "cf-ipcountry": "PT",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "prompt-caching-2024-07-31,interleaved-thinking-2025-05-14",
    "openai-beta": "assistants=v2",
    "x-goog-api-client": "genai-js/1.0",
    "content-type": "application/json",
    "accept": "text/event-stream",
    "user-agent": "opencode/1.0 ai-sdk/anthropic",
    "x-session-id": "ses_123",
}
KEPT = {
    "anthropic-version",
    "anthropic-beta",
    "openai-beta",
    "x-goog-api-client",
    "content-type",
    "accept",
    "user-agent",
    "x-session-id",
}


def rewrite(headers: dict[str, str]) -> dict[str, str]:
    out = outbound_headers(headers, gateway_token="gw-secret", metadata='{"userId":"u"}')
    assert len({name for name, _ in out}) == len(out), "no header is sent twice"
    return dict(out)


def test_only_provider_headers_survive_and_gateway_ones_are_added() -> None:
    out = rewrite(CLIENT)
    assert set(out) == KEPT | {"cf-aig-authorization", "cf-aig-metadata"}
    for name in KEPT:
        assert out[name] == CLIENT[name]
    assert out["cf-aig-authorization"] == "Bearer gw-secret"
    assert out["cf-aig-metadata"] == '{"userId":"u"}'


def test_header_values_with_line_breaks_are_dropped() -> None:
    out = rewrite({"x-evil": "a\r\nhost: evil.example", "accept": "*/*"})
    assert "x-evil" not in out
    assert out["accept"] == "*/*"


def test_metadata_is_flat_json_with_the_user_id_first() -> None:
    text = gateway_metadata({"userId": "1234", "client": "opencode", "n": 2, "ok": True})
    assert text == '{"userId":"1234","client":"opencode","n":2,"ok":true}'
    assert next(iter(json.loads(text))) == "userId"


@pytest.mark.parametrize(
    "entries",
    [
        {f"k{n}": n for n in range(6)},
        {"cf.reserved": "x"},
        {"nested": {"a": 1}},
        {"list": [1]},
    ],
)
def test_metadata_refuses_what_ai_gateway_would_reject(entries: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="cf-aig-metadata"):
        gateway_metadata(entries)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("alt=sse&key=AIza", "alt=sse"),
        ("KEY=a&Api_Key=b&api-key=c&apikey=d&access_token=e&token=f&x-goog-api-key=g", ""),
        ("%6Bey=encoded-name&alt=sse", "alt=sse"),
        ("keys=kept&monkey=kept&key", "keys=kept&monkey=kept"),
        ("a=%2F%20b&&c", "a=%2F%20b&&c"),
        ("", ""),
    ],
)
def test_credential_query_parameters_are_removed_and_the_rest_is_untouched(
    query: str, sent: str
) -> None:
    assert outbound_query(query) == sent


@pytest.mark.parametrize(
    "name",
    [
        "cf_aig_authorization",
        "CF_AIG_METADATA",
        "Cf-Aig_Skip-Cache",
        "x-cf-aig-authorization",
        "x_cf_aig_metadata",
        "x_api_key",
        "X_Goog_Api_Key",
        "cf_access_token",
        "cf_access_client_secret",
        "x_forwarded_for",
        "x-client-ip",
        "x_client_ip",
        "x-cluster-client-ip",
        "x-real_ip",
        "true_client_ip",
        "origin",
        "referer",
        "sec-fetch-site",
        "sec_fetch_mode",
    ],
)
def test_look_alikes_of_dropped_headers_are_dropped_too(name: str) -> None:
    # Some hops fold `_` into `-` or compare names loosely; a look-alike must not pass
    # a credential, a gateway setting or the engineer's address on.
    sent = rewrite({name: "smuggled", "content-type": "application/json"})
    assert "smuggled" not in sent.values()
    assert set(sent) == {"content-type", "cf-aig-authorization", "cf-aig-metadata"}


def test_names_that_only_resemble_nothing_dropped_pass() -> None:
    sent = rewrite({"x-goog-api-client": "a", "anthropic_beta": "b", "x-stainless-os": "c"})
    assert {name: sent[name] for name in ("x-goog-api-client", "anthropic_beta")} == {
        "x-goog-api-client": "a",
        "anthropic_beta": "b",
    }


@pytest.mark.parametrize(
    "name",
    [
        "x-original-forwarded-for",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-forwarded-server",
        "x-forwarded-client-cert",
        "forwarded",
        "x-forwarded",
        "forwarded-for",
        "true-client-ip",
        "x-real-ip",
        "x-client-ip",
        "cf-connecting-ipv6",
        "x-remote-addr",
        "x-original-remote-addr",
        "x-envoy-external-address",
        "x-appengine-user-ip",
    ],
)
def test_every_forwarded_address_header_is_dropped(name: str) -> None:
    sent = rewrite({name: "203.0.113.7", "content-type": "application/json"})
    assert "203.0.113.7" not in sent.values()
    assert sent["content-type"] == "application/json"


def test_provider_headers_that_merely_look_like_address_words_pass() -> None:
    kept = {"x-stainless-arch": "x64", "anthropic-dangerous-direct-browser-access": "true"}
    assert {name: rewrite(kept)[name] for name in kept} == kept

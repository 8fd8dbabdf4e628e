"""One id per person, different ids for different people, and old ids still found."""

from __future__ import annotations

import asyncio
import unicodedata

import pytest

from opencode_proxy.identity import (
    NotAnAddress,
    UserMap,
    anonymous_id,
    legacy_normalise_email,
    normalise_email,
    user_identity,
)
from support.cpython import MemoryKV

KEY = "identity-test-key"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (" Dev.Person@Example.COM ", "dev.person@example.com"),
        (
            unicodedata.normalize("NFD", "josé@example.com"),
            unicodedata.normalize("NFC", "josé@example.com"),
        ),
        ("user@bücher.example", "user@xn--bcher-kva.example"),
        ("user@BÜCHER.example", "user@bücher.example"),
        ("user@example.com.", "user@example.com"),
    ],
)
def test_spellings_of_one_address_give_one_id(one: str, other: str) -> None:
    assert user_identity(KEY, one).user_id == user_identity(KEY, other).user_id


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("josé@example.com", "jose@example.com"),
        ("Ǆ@example.com", "ǆ@example.com"),  # distinct letters outside ASCII keep their case
        ("ﬃ@example.com", "ffi@example.com"),
    ],
)
def test_different_addresses_give_different_ids(one: str, other: str) -> None:
    assert user_identity(KEY, one).user_id != user_identity(KEY, other).user_id


@pytest.mark.parametrize(
    "email",
    [
        "@",
        "someone@",
        "@example.com",
        "no-at-sign",
        "two words@example.com",
        "k\u212aelvin@example.com",  # the Kelvin sign would become "K"
        "user@-bad-.example",
        "user@exa mple.com",
        "user@a..b",
        "x" * 65 + "@example.com",
    ],
)
def test_what_is_not_an_address_is_refused(email: str) -> None:
    with pytest.raises(NotAnAddress):
        normalise_email(email)


def test_ascii_addresses_keep_the_ids_they_had() -> None:
    email = " Dev.Person@Example.COM "
    assert user_identity(KEY, email).user_id == anonymous_id(KEY, legacy_normalise_email(email))
    assert user_identity(KEY, email).legacy_id is None


def test_a_re_keyed_person_stays_reachable_from_the_old_id() -> None:
    email = "JOSÉ@bücher.example"
    identity = user_identity(KEY, email)
    old = anonymous_id(KEY, legacy_normalise_email(email))
    assert identity.legacy_id == old != identity.user_id
    users = MemoryKV()
    asyncio.run(UserMap(users).write(identity))
    assert users.data[identity.user_id] == "josÉ@xn--bcher-kva.example"
    assert users.data[old] == f"josÉ@xn--bcher-kva.example (now {identity.user_id})"

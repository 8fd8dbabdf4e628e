"""Groups: who gets which models beyond (or instead of) the default menu.

config-src/groups/<name>.toml names its members (Access group names, emails, email
domains) and, per provider, patterns of models to serve and to hide. A person's
menu follows one rule:

1. start from the default menu, or from nothing when any of their groups says
   `replace_default`;
2. add every model (config-src's or the catalog's) that any of their groups serves;
3. take away every model that any of their groups hides: a hide always wins.

Someone in no group, or whose groups cannot be learned, gets the default menu, so
the default should be what everyone may use, and groups should add to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any


def _matches(patterns: Iterable[str], model_id: str) -> bool:
    return any(fnmatchcase(model_id, pattern) for pattern in patterns)


@dataclass(frozen=True, slots=True)
class Grant:
    """One group's patterns for one provider."""

    serve: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    access_groups: frozenset[str] = frozenset()
    # Normalised addresses (identity.normalise_email) and ASCII domains, lower case.
    emails: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    replace_default: bool = False
    providers: Mapping[str, Grant] = field(default_factory=dict)

    @classmethod
    def from_json(cls, name: str, value: Mapping[str, Any]) -> Group:
        return cls(
            name,
            frozenset(value.get("access_groups", ())),
            frozenset(value.get("emails", ())),
            frozenset(value.get("email_domains", ())),
            bool(value.get("replace_default", False)),
            {
                pid: Grant(tuple(g.get("serve", ())), tuple(g.get("hide", ())))
                for pid, g in value.get("providers", {}).items()
            },
        )

    def includes(self, email: str | None, access_groups: frozenset[str]) -> bool:
        if self.access_groups & access_groups:
            return True
        if email is None:
            return False
        return email in self.emails or email.rpartition("@")[2] in self.email_domains


@dataclass(frozen=True, slots=True)
class Groups:
    """config-src's groups, in name order (the order a person's groups are listed in)."""

    groups: tuple[Group, ...] = ()

    @classmethod
    def from_json(cls, value: Mapping[str, Mapping[str, Any]]) -> Groups:
        return cls(tuple(Group.from_json(name, value[name]) for name in sorted(value)))

    @property
    def need_access_groups(self) -> bool:
        """Whether membership depends on Access (IdP) groups, which must be looked up."""
        return any(group.access_groups for group in self.groups)

    def of(self, email: str | None, access_groups: Iterable[str] = ()) -> tuple[str, ...]:
        """The names of the groups a person with this address and these Access groups is
        in, in name order."""
        found = frozenset(access_groups)
        return tuple(g.name for g in self.groups if g.includes(email, found))

    def menu_ids(
        self,
        provider_id: str,
        names: Iterable[str],
        default: Iterable[str],
        candidates: Iterable[str],
    ) -> list[str]:
        """The model ids the members of `names` get from a provider: the rule above,
        applied to its default ids and to every id it could serve (`candidates`)."""
        members_of = set(names)
        chosen = [g for g in self.groups if g.name in members_of]
        grants = [g.providers.get(provider_id, Grant()) for g in chosen]
        start = [] if any(g.replace_default for g in chosen) else list(default)
        added = [m for m in candidates if any(_matches(g.serve, m) for g in grants)]
        ids = list(dict.fromkeys([*start, *added]))
        return [m for m in ids if not any(_matches(g.hide, m) for g in grants)]

"""wrangler.toml, edited in place: only the values provisioning owns change, every other
line (comments, tables, the operator's own settings) stays as it is."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping

_TABLE = re.compile(r"\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"(\s*)([A-Za-z0-9_-]+)(\s*=\s*)\"([^\"]*)\"(.*)$")


def _keys(lines: list[str]) -> list[tuple[int, int, str, str]]:
    """(line, block, table, key) of every `key = "string"` line, by the table it is in;
    `block` tells the tables of one `[[array]]` apart."""
    found, table, block = [], "", 0
    for index, line in enumerate(lines):
        header = _TABLE.match(line)
        if header:
            table, block = header.group(1), index
            continue
        key = _KEY.match(line.rstrip("\n"))
        if key:
            found.append((index, block, table, key.group(2)))
    return found


def updated(text: str, *, kv_ids: Mapping[str, str], variables: Mapping[str, str]) -> str:
    """`text` with each `[[kv_namespaces]]` binding's `id` and each named `[vars]` value
    set; raises ValueError when a binding or variable has no line to set."""
    lines = text.splitlines(keepends=True)
    keys = _keys(lines)
    targets: dict[int, str] = {}
    for binding, value in kv_ids.items():
        blocks = {
            block
            for index, block, table, key in keys
            if table == "kv_namespaces" and key == "binding" and _value(lines[index]) == binding
        }
        ids = [i for i, block, table, key in keys if block in blocks and key == "id"]
        if len(ids) != 1:
            raise ValueError(f"wrangler.toml has no single [[kv_namespaces]] id for {binding}")
        targets[ids[0]] = value
    for name, value in variables.items():
        at = [i for i, _, table, key in keys if table == "vars" and key == name]
        if len(at) != 1:
            raise ValueError(f"wrangler.toml's [vars] has no single line for {name}")
        targets[at[0]] = value
    for index, value in targets.items():
        key = _KEY.match(lines[index].rstrip("\n"))
        assert key is not None
        ending = "\n" if lines[index].endswith("\n") else ""
        lines[index] = (
            f"{key.group(1)}{key.group(2)}{key.group(3)}{json.dumps(value)}{key.group(5)}{ending}"
        )
    result = "".join(lines)
    tomllib.loads(result)  # still valid TOML
    return result


def _value(line: str) -> str | None:
    key = _KEY.match(line.rstrip("\n"))
    return key.group(4) if key else None

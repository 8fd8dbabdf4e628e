"""Read and write the Worker's KV namespaces from a laptop, for the operator scripts.

Production goes through wrangler 4 with `--remote` (needs `wrangler login` or
CLOUDFLARE_API_TOKEN). A local stack's namespaces are read from its state folder.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.kv import PERSIST, LocalNamespace
from opencode_proxy.ports import KeyValue
from toolkit.worker_files import ROOT

NODE22 = ROOT / "node_modules" / ".bin" / "node"
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"
NOT_FOUND = "Value not found"


class KvCommandError(Exception):
    """wrangler failed; the message carries the end of its output."""


@dataclass(frozen=True)
class WranglerKv:
    """The `KeyValue` port on one namespace, by binding name, via the wrangler CLI."""

    binding: str

    def command(self, *args: str) -> list[str]:
        return [
            str(NODE22),
            str(WRANGLER),
            "kv",
            "key",
            *args,
            "--binding",
            self.binding,
            "--remote",
        ]

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            self.command(*args),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "CI": "true", "WRANGLER_SEND_METRICS": "false", "NO_COLOR": "1"},
        )
        if result.returncode != 0 and NOT_FOUND not in result.stdout + result.stderr:
            raise KvCommandError((result.stderr or result.stdout).strip()[-2000:])
        return result.stdout

    async def get(self, key: str) -> str | None:
        output = self._run("get", key, "--text")
        value = output.rstrip("\n")
        return None if not value or value.endswith(NOT_FOUND) else value

    async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        args = ["put", key, value]
        if ttl_seconds is not None:
            args += ["--ttl", str(ttl_seconds)]
        self._run(*args)


def namespace(binding: str, local_state: Path | None) -> KeyValue:
    """The namespace bound as `binding`: production's, or a local stack's (its state folder)."""
    if local_state is None:
        return WranglerKv(binding)
    if not (local_state / PERSIST).is_dir():
        raise KvCommandError(
            f"{local_state / PERSIST} does not exist: is {local_state} a local stack's "
            "state folder (scripts/dev makes .local/dev)?"
        )
    return LocalNamespace(local_state, binding)

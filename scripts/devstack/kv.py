"""The local stack's KV, as miniflare persists it in the state folder.

The operator scripts (`--local`) and the tests read and write it with miniflare's
own KV (kv.mjs), so they see exactly what the running Worker sees. A running stack
and these calls share the state folder safely: miniflare keeps it in SQLite.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from toolkit.worker_files import ROOT

NODE = ROOT / "node_modules" / ".bin" / "node"
HELPER = Path(__file__).with_name("kv.mjs")
# Under the state folder: where miniflare persists KV and the other simulators' state.
PERSIST = "miniflare"
MISSING = 3


def namespace_id(binding: str) -> str:
    """The local id of the namespace bound as `binding` (the same for every local run)."""
    return binding.lower()


class LocalKvError(Exception):
    """The local KV could not be read or written; the message says why."""


@dataclass(frozen=True)
class LocalNamespace:
    """The `KeyValue` port on one namespace of a local stack's state folder."""

    state: Path
    binding: str

    def _run(self, *args: str, value: str | None = None) -> subprocess.CompletedProcess[bytes]:
        persist = self.state / PERSIST
        done = subprocess.run(
            [str(NODE), str(HELPER), str(persist), namespace_id(self.binding), *args],
            input=None if value is None else value.encode(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode not in (0, MISSING):
            raise LocalKvError(done.stderr.decode(errors="replace").strip()[-2000:])
        return done

    async def get(self, key: str) -> str | None:
        done = self._run("get", key)
        return None if done.returncode == MISSING else done.stdout.decode()

    async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        self._run("put", key, value=value)

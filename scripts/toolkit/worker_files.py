"""Lay out the files a Worker upload consists of: its code, its config, its vendored packages.

The deploy build (`scripts/build.py`) and the local runtime use the same layout,
so what runs locally is what is uploaded:

    <worker>/entry.py, workers_*.py, opencode_proxy/          the Worker's code (from src/)
    <worker>/opencode.json                                    the compiled config
    <python_modules>/jwt/, workers/, ...                      the locked runtime packages

The runtime packages are `[project] dependencies` as locked in uv.lock, copied
file by file from the installed distributions (pure-Python wheels install the
same files on CPython as on Pyodide).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
# The Worker's code: the modules at the top of src/ (entry and adapter) and the core.
CORE = "opencode_proxy"
CONFIG_NAME = "opencode.json"


class StagingError(Exception):
    """The Worker's files could not be laid out; the message says what to run."""


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` in one step, so a failed or concurrent write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def stage_code(worker: Path, compiled: bytes, *, src: Path = SRC) -> None:
    """Replace `worker` with the Worker's code (from `src`, the project's own by default)
    and the compiled config."""
    if worker.exists():
        shutil.rmtree(worker)
    worker.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for module in sorted(src.glob("*.py")):
        shutil.copy2(module, worker / module.name)
    shutil.copytree(src / CORE, worker / CORE, ignore=ignore)
    (worker / CONFIG_NAME).write_bytes(compiled)


def locked_runtime_packages() -> list[tuple[str, str]]:
    """(name, version) of every runtime dependency in uv.lock, transitive ones included."""
    try:
        exported = subprocess.run(
            [
                "uv",
                "export",
                "--frozen",
                "--no-default-groups",
                "--no-emit-project",
                "--no-hashes",
                "--no-header",
                "--no-annotate",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise StagingError(f"`uv export` failed: {exc}") from None
    packages = []
    for line in exported.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if ";" in line:
            raise StagingError(
                f"runtime dependency {line!r} depends on the Python version; "
                "keep [project] dependencies unconditional"
            )
        name, _, version = line.partition("==")
        packages.append((name, version))
    return packages


def vendor(target: Path) -> list[str]:
    """Replace `target` with the locked runtime packages; returns their `name==version`."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    vendored = []
    for name, version in locked_runtime_packages():
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise StagingError(f"{name} is not installed: run `uv sync --frozen`") from None
        if dist.version != version:
            raise StagingError(
                f"{name} {dist.version} is installed but uv.lock has {version}: "
                "run `uv sync --frozen`"
            )
        for file in dist.files or ():
            if file.suffix == ".pyc" or file.parts[0] in ("..", "bin"):
                continue
            destination = target / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(file.locate())), destination)
        vendored.append(f"{name}=={version}")
    return vendored

"""The core never imports the platform; only the adapter and the entry do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PLATFORM = {"js", "pyodide", "workers", "_pyodide_entrypoint_helper", "_cloudflare_compat_flags"}
CORE_FILES = sorted((SRC / "opencode_proxy").rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in {"import_module", "__import__"}
        ):
            roots.update(
                arg.value.split(".")[0]
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return roots


def test_the_core_has_modules_to_check() -> None:
    assert len(CORE_FILES) >= 4


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_does_not_import_the_platform(path: Path) -> None:
    assert not imported_roots(path) & PLATFORM


def test_the_checker_sees_platform_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import pyodide.ffi\nfrom js import fetch\nimport importlib\n"
        "importlib.import_module('workers')\n"
    )
    assert imported_roots(sample) == {"pyodide", "js", "importlib", "workers"}


def test_only_the_adapter_and_entry_touch_the_platform() -> None:
    touching = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "build" not in path.parts and imported_roots(path) & PLATFORM
    }
    assert touching == {"entry.py", "workers_adapter.py", "workers_body.py"}

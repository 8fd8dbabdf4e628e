"""Shared fixtures: the project's paths and a compiled copy of the example config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config_src(tmp_path: Path) -> Path:
    """A writable copy of the shipped config-src/ to break in a test."""
    target = tmp_path / "config-src"
    shutil.copytree(ROOT / "config-src", target)
    return target
